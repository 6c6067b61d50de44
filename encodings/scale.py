"""Affine encodings: `raw` (identity), `minmax` (to [0, 1]) and `standard` (zero mean, unit variance)."""

import torch

from .base import TensorTransformer


class Identity(TensorTransformer):
    """`raw`: the inputs as drawn, the question's starting point."""

    def _fit(self, X):
        pass

    def _transform(self, X):
        return X

    _inverse = _transform

    def _names_out(self, names):
        return names


class Affine(TensorTransformer):
    """z = (x − shift_) / scale_ per column; a constant column gets scale 1."""

    def _transform(self, X):
        return (X - self._state("shift_", X.device)) / self._state("scale_", X.device)

    def _inverse(self, Z):
        return Z * self._state("scale_", Z.device) + self._state("shift_", Z.device)


class MinMax(Affine):
    """`minmax`: maps the training range of each column to [0, 1]."""

    def _fit(self, X):
        low, high = X.min(dim=0).values, X.max(dim=0).values
        self.shift_ = low.cpu()
        self.scale_ = torch.where(high > low, high - low, torch.ones_like(low)).cpu()


class Standard(Affine):
    """`standard`: zero mean and unit variance on the training split."""

    def _fit(self, X):
        std = X.std(dim=0, correction=0)
        self.shift_ = X.mean(dim=0).cpu()
        self.scale_ = torch.where(std > 0, std, torch.ones_like(std)).cpu()

"""Log-space encodings: `log` (log magnitude + sign channel, standardized) and `asinh` (signed log).

Both are finite for every finite input, zeros and both signs included, so a network never sees NaN/inf.
"""

import torch

from .base import TensorTransformer


class SignedLog(TensorTransformer):
    """`log`: z = standardize(log |x|) per column, plus sign(x) for columns not positive on train.

    Zeros take log floor_, the smallest non-zero |x| seen in training, so z is finite for every finite x;
    the sign channel (−1, 0, +1) restores the sign and exact zeros on the way back.
    """

    def _fit(self, X):
        magnitude = X.abs()
        nonzero = torch.where(magnitude > 0, magnitude, torch.full_like(magnitude, torch.inf))
        floor = nonzero.min(dim=0).values
        self.floor_ = torch.where(torch.isfinite(floor), floor, torch.ones_like(floor)).cpu()
        self.signed_ = (X <= 0).any(dim=0).cpu()
        logs = self._logs(X)
        std = logs.std(dim=0, correction=0)
        self.mean_ = logs.mean(dim=0).cpu()
        self.std_ = torch.where(std > 0, std, torch.ones_like(std)).cpu()

    def _logs(self, X):
        return torch.log(torch.where(X != 0, X.abs(), self._state("floor_", X.device)))

    def _transform(self, X):
        z = (self._logs(X) - self._state("mean_", X.device)) / self._state("std_", X.device)
        signs = torch.sign(X[:, self._state("signed_", X.device)])
        return torch.cat([z, signs], dim=1)

    def _inverse(self, Z):
        d = self.n_features_in_
        X = torch.exp(Z[:, :d] * self._state("std_", Z.device) + self._state("mean_", Z.device))
        signed = self._state("signed_", Z.device)
        X[:, signed] = X[:, signed] * Z[:, d:]
        return X

    def _names_out(self, names):
        return [f"log|{n}|" for n in names] + [f"sign({n})" for n, s in zip(names, self.signed_) if s]


class Asinh(TensorTransformer):
    """`asinh`: z = standardize(asinh(x / scale_)), scale_ = median |x| on train: a log that keeps the sign.

    Near 0 it is linear, far from it ±log(2|x|/scale_); one column in, one column out, exactly invertible.
    Used for inputs and, on y, as the `asinh` target encoding.
    """

    def _fit(self, X):
        scale = X.abs().median(dim=0).values
        self.scale_ = torch.where(scale > 0, scale, torch.ones_like(scale)).cpu()
        z = torch.asinh(X / self.scale_.to(X.device))
        std = z.std(dim=0, correction=0)
        self.mean_ = z.mean(dim=0).cpu()
        self.std_ = torch.where(std > 0, std, torch.ones_like(std)).cpu()

    def _transform(self, X):
        z = torch.asinh(X / self._state("scale_", X.device))
        return (z - self._state("mean_", X.device)) / self._state("std_", X.device)

    def _inverse(self, Z):
        z = Z * self._state("std_", Z.device) + self._state("mean_", Z.device)
        return torch.sinh(z) * self._state("scale_", Z.device)

"""The base of every encoder: scikit-learn's estimator API over float64 torch tensors on any device.

Tensors in give tensors out on the same device (the Torch path); numpy arrays in give numpy out, so the
same objects work inside a scikit-learn Pipeline or TransformedTargetRegressor (the baselines). Numpy input
is validated by scikit-learn itself (shape, feature count, dtype, empty, sparse), so the encoders keep its
estimator contract; tensors get the same checks in torch, without leaving their device.
"""

import numpy as np
import torch
from sklearn.base import BaseEstimator, TransformerMixin
from sklearn.utils.validation import check_array, check_is_fitted, validate_data


def as_tensor(X, where, finite=True):
    """A tensor X as a 2-D float64 tensor on its device; a clear ValueError for the wrong shape or (if `finite`)
    NaN/inf."""
    T = X.to(torch.float64)
    if T.ndim != 2:
        raise ValueError(f"{where}: expected a 2-D array (n_samples, n_features), got shape {tuple(T.shape)}")
    if finite and not bool(torch.isfinite(T).all()):
        raise ValueError(f"{where}: input contains NaN or inf; drop or repair those rows first")
    return T


class TensorTransformer(TransformerMixin, BaseEstimator):
    """Subclasses implement `_fit(X)`, `_transform(X)` and, where it exists, `_inverse(Z)` on tensors."""

    def fit(self, X, y=None):
        self._fit(self._validate(X, "fit", reset=True))
        return self

    def transform(self, X):
        check_is_fitted(self)
        return _like(self._transform(self._validate(X, "transform")), X)

    def inverse_transform(self, Z):
        check_is_fitted(self)
        # a diverged model's NaN predictions must reach the metrics as NaN, not stop the decoding
        where = f"{type(self).__name__}.inverse_transform"
        T = as_tensor(Z, where, finite=False) if torch.is_tensor(Z) else _from_numpy(
            check_array(Z, dtype=np.float64, ensure_all_finite=False, input_name="Z"))
        return _like(self._inverse(T), Z)

    def _validate(self, X, method, reset=False):
        """X as a 2-D float64 tensor: scikit-learn validates numpy input (and sets or checks n_features_in_),
        torch the tensors, on their device."""
        if not torch.is_tensor(X):
            return _from_numpy(validate_data(self, X, reset=reset, dtype=np.float64))
        T = as_tensor(X, f"{type(self).__name__}.{method}")
        if reset:
            self.n_features_in_ = T.shape[1]
        elif T.shape[1] != self.n_features_in_:
            raise ValueError(f"{type(self).__name__}.{method}: got {T.shape[1]} features, fitted on {self.n_features_in_}")
        return T

    def get_feature_names_out(self, input_features=None):
        check_is_fitted(self)
        names = input_features if input_features is not None else self._input_names()
        return np.asarray(self._names_out(list(names)), dtype=object)

    def _input_names(self):
        return [f"x{i}" for i in range(self.n_features_in_)]

    def _names_out(self, names):
        return [f"{type(self).__name__.lower()}({n})" for n in names]

    def _state(self, name, device):
        """A learned tensor moved to `device` (learned state is kept on the CPU)."""
        return getattr(self, name).to(device)


class Appending(TensorTransformer):
    """An encoder that appends columns computed from the inputs as drawn (products, edges, differences, angles):
    its inverse drops them. `declared` names the leading input columns, where the encoder knows them."""

    def _inverse(self, Z):
        return Z[:, : self.n_features_in_]

    def _input_names(self):
        names = super()._input_names()
        declared = list(self._declared())
        return declared + names[len(declared):] if len(declared) <= len(names) else names

    def _declared(self):
        return ()


def _from_numpy(array):
    """A tensor sharing the array's memory; a read-only array (a memmap) is copied first, as torch needs."""
    return torch.as_tensor(np.require(array, requirements="W"))


def _like(T, reference):
    return T if torch.is_tensor(reference) else T.cpu().numpy()

"""The base of every encoder: scikit-learn's estimator API over float64 torch tensors on any device.

Tensors in give tensors out on the same device (the Torch path); numpy arrays in give numpy out, so the
same objects work inside a scikit-learn Pipeline or TransformedTargetRegressor (the baselines).
"""

import numpy as np
import torch
from sklearn.base import BaseEstimator, TransformerMixin
from sklearn.utils.validation import check_is_fitted


def as_tensor(X, where, finite=True):
    """X as a 2-D float64 tensor; a clear ValueError for the wrong shape or (if `finite`) NaN/inf."""
    T = X if torch.is_tensor(X) else torch.as_tensor(np.asarray(X, dtype=np.float64))
    T = T.to(torch.float64)
    if T.ndim != 2:
        raise ValueError(f"{where}: expected a 2-D array (n_samples, n_features), got shape {tuple(T.shape)}")
    if finite and not bool(torch.isfinite(T).all()):
        raise ValueError(f"{where}: input contains NaN or inf; drop or repair those rows first")
    return T


class TensorTransformer(TransformerMixin, BaseEstimator):
    """Subclasses implement `_fit(X)`, `_transform(X)` and, where it exists, `_inverse(Z)` on tensors."""

    def fit(self, X, y=None):
        X = as_tensor(X, f"{type(self).__name__}.fit")
        self.n_features_in_ = X.shape[1]
        self._fit(X)
        return self

    def transform(self, X):
        check_is_fitted(self)
        T = as_tensor(X, f"{type(self).__name__}.transform")
        if T.shape[1] != self.n_features_in_:
            raise ValueError(f"{type(self).__name__}.transform: got {T.shape[1]} features, "
                             f"fitted on {self.n_features_in_}")
        return _like(self._transform(T), X)

    def inverse_transform(self, Z):
        check_is_fitted(self)
        # a diverged model's NaN predictions must reach the metrics as NaN, not stop the decoding
        return _like(self._inverse(as_tensor(Z, f"{type(self).__name__}.inverse_transform", finite=False)), Z)

    def get_feature_names_out(self, input_features=None):
        check_is_fitted(self)
        names = input_features if input_features is not None else [f"x{i}" for i in range(self.n_features_in_)]
        return np.asarray(self._names_out(list(names)), dtype=object)

    def _names_out(self, names):
        return [f"{type(self).__name__.lower()}({n})" for n in names]

    def _state(self, name, device):
        """A learned tensor moved to `device` (learned state is kept on the CPU)."""
        return getattr(self, name).to(device)


def _like(T, reference):
    return T if torch.is_tensor(reference) else T.cpu().numpy()

"""Distribution-shaping encodings from scikit-learn: `quantile` (to a normal) and `power` (Yeo-Johnson).

scikit-learn fits and applies them on the CPU; tensors make a round trip through numpy (encoding happens
once per training pool, not per step, so this costs nothing in the training loop).
"""

import torch
from sklearn.preprocessing import PowerTransformer, QuantileTransformer

from .base import TensorTransformer


class SklearnBacked(TensorTransformer):
    """Delegates to a fitted scikit-learn transformer in `transformer_`."""

    def _make(self):
        raise NotImplementedError

    def _fit(self, X):
        self.transformer_ = self._make().fit(X.cpu().numpy())

    def _transform(self, X):
        return torch.as_tensor(self.transformer_.transform(X.cpu().numpy()), device=X.device)

    def _inverse(self, Z):
        return torch.as_tensor(self.transformer_.inverse_transform(Z.cpu().numpy()), device=Z.device)


class Quantile(SklearnBacked):
    """`quantile`: each column through its training CDF to a standard normal (exact inverse inside the range)."""

    def __init__(self, n_quantiles=1000, random_state=0):
        self.n_quantiles = n_quantiles
        self.random_state = random_state

    def _make(self):
        return QuantileTransformer(n_quantiles=self.n_quantiles, output_distribution="normal",
                                   subsample=200_000, random_state=self.random_state)


class Power(SklearnBacked):
    """`power`: Yeo-Johnson with a fitted λ per column, then standardized.

    Columns are divided by their training median |x| first: λ's optimizer overflows on raw values like 5e4.
    """

    def _make(self):
        return PowerTransformer(method="yeo-johnson", standardize=True)

    def _fit(self, X):
        scale = X.abs().median(dim=0).values
        self.scale_ = torch.where(scale > 0, scale, torch.ones_like(scale)).cpu()
        super()._fit(X / self.scale_.to(X.device))

    def _transform(self, X):
        return super()._transform(X / self._state("scale_", X.device))

    def _inverse(self, Z):
        out = super()._inverse(Z) * self._state("scale_", Z.device)
        return torch.nan_to_num(out)  # outputs beyond the transform's range have no preimage



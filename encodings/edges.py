"""`edges`: the inputs plus each uniformly drawn input's distance to the ends of its declared range.

A pole or a zero at the end of a range (1/(γ − 1) with γ drawn from [1, 2]; 1 − α² with α up to 1) is a
power of that distance, so `edges+log` turns it into a linear term. A log-uniform input needs no such
column: its log already measures its distance to both ends. An end at 0 adds nothing the log lacks either.
"""

import torch

from .base import TensorTransformer
from .product import FLOAT32_MAX


class Edges(TensorTransformer):
    """Appends |x| − low and high − |x| (clamped at 0) for each uniform input whose end is not 0 on train.

    `target` gives the bounds, which may depend on earlier inputs (`Target.bounds`); columns beyond its
    variables pass through. The inverse drops the added columns.
    """

    def __init__(self, target=None):
        self.target = target

    def _fit(self, X):
        if self.target is None:
            raise ValueError("Edges: no target to read the ranges from; build it with Edges(target)")
        declared = len(self.target.variables)
        if X.shape[1] < declared:
            raise ValueError(f"Edges: got {X.shape[1]} feature(s) for {declared} declared variable(s); fit it on the "
                             "target's inputs, one column per declared variable")
        low, high = self._bounds(X)
        uniform = torch.tensor([v.dist == "uniform" for v in self.target.variables], device=X.device)
        self.low_columns_ = (uniform & (low != 0).any(dim=0)).nonzero()[:, 0].tolist()
        self.high_columns_ = (uniform & (high != 0).any(dim=0)).nonzero()[:, 0].tolist()

    def _bounds(self, X):
        return self.target.bounds(X[:, : len(self.target.variables)])

    def _transform(self, X):
        low, high = self._bounds(X)
        magnitude = X.abs()
        distances = [magnitude[:, self.low_columns_] - low[:, self.low_columns_],
                     high[:, self.high_columns_] - magnitude[:, self.high_columns_]]
        # a bound written as an expression may be NaN or inf on rows drawn beyond the domain: keep every value finite
        extra = torch.nan_to_num(torch.cat(distances, dim=1).clamp(min=0), nan=0.0, posinf=FLOAT32_MAX)
        return torch.cat([X, extra], dim=1)

    def _inverse(self, Z):
        return Z[:, : self.n_features_in_]

    def _input_names(self):
        names = super()._input_names()
        return self.target.names + names[len(self.target.names):] if self.target is not None else names

    def _names_out(self, names):
        return (names + [f"|{names[i]}|−low" for i in self.low_columns_]
                + [f"high−|{names[i]}|" for i in self.high_columns_])

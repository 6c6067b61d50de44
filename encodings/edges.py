"""`edges`: the inputs plus each uniformly drawn input's distance to the ends of its range.

A pole or a zero at the end of a range (1/(γ − 1) with γ drawn from [1, 2]; 1 − α² with α up to 1) is a
power of that distance, so `edges+log` turns it into a linear term. A log-uniform input needs no such
column: its log already measures its distance to both ends. An end at 0 adds nothing the log lacks either.
"""

import sympy
import torch

from bench.formula import compile_formula, parse_formula

from .base import Appending
from .product import FLOAT32_MAX


class Edges(Appending):
    """Appends |x| − low and high − |x| (clamped at 0) for each uniform input whose end is not 0 on train.

    `ranges` declares the ranges as plain data, one (name, low, high, dist) per leading input column: a bound
    is a number or a formula of earlier names (the target's own, `Target.ranges()`). Without `ranges` (a
    user's data file), every column's range is learnt on the training rows: the least and the largest |x|.
    Columns beyond the declared ones pass through; the inverse drops the added columns.
    """

    def __init__(self, ranges=None):
        self.ranges = ranges

    def _fit(self, X):
        declared = len(self.ranges) if self.ranges is not None else X.shape[1]
        if X.shape[1] < declared:
            raise ValueError(f"Edges: got {X.shape[1]} feature(s) for {declared} declared variable(s); fit it on the "
                             "target's inputs, one column per declared variable")
        if self.ranges is None:
            magnitude = X.abs()
            self.low_, self.high_ = magnitude.min(dim=0).values.cpu(), magnitude.max(dim=0).values.cpu()
        low, high = self._bounds(X)
        uniform = torch.tensor([dist == "uniform" for *_, dist in self.ranges] if self.ranges is not None
                               else [True] * declared, device=X.device)
        self.low_columns_ = (uniform & (low != 0).any(dim=0)).nonzero()[:, 0].tolist()
        self.high_columns_ = (uniform & (high != 0).any(dim=0)).nonzero()[:, 0].tolist()

    def _bounds(self, X):
        """(low, high), each (n, declared): the range each row's |x_j| was drawn from."""
        if self.ranges is None:
            return (bound.to(X.device).expand(X.shape[0], -1) for bound in (self.low_, self.high_))
        names = [name for name, *_ in self.ranges]
        symbols = [sympy.Symbol(name) for name in names]
        columns, n = list(X.T), X.shape[0]
        bounds = []
        for which in (1, 2):  # low, high
            values = []
            for j, (name, *bound, _) in enumerate(self.ranges):
                fn = compile_formula(parse_formula(bound[which - 1], f"Edges: {name}'s range", names[:j]), symbols[:j])
                value = fn(*columns[:j])
                values.append(torch.as_tensor(value, dtype=torch.float64, device=X.device).expand(n))
            bounds.append(torch.stack(values, dim=1))
        return bounds

    def _transform(self, X):
        low, high = self._bounds(X)
        magnitude = X.abs()
        distances = [magnitude[:, self.low_columns_] - low[:, self.low_columns_],
                     high[:, self.high_columns_] - magnitude[:, self.high_columns_]]
        # a bound written as an expression may be NaN or inf on rows drawn beyond the domain: keep every value finite
        extra = torch.nan_to_num(torch.cat(distances, dim=1).clamp(min=0), nan=0.0, posinf=FLOAT32_MAX)
        return torch.cat([X, extra], dim=1)

    def _declared(self):
        return [name for name, *_ in self.ranges or ()]

    def _names_out(self, names):
        return (names + [f"|{names[i]}|−low" for i in self.low_columns_]
                + [f"high−|{names[i]}|" for i in self.high_columns_])

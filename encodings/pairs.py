"""`diff`: the inputs plus xi − xj and xi + xj for every pair of comparable inputs.

A pole or a peak where two inputs of the same kind meet (1/(ω0² − ω²), ((x2 − x1)² + …), (θ − θ1)/σ) is a power
of their difference and sum, since ω0² − ω² = (ω0 − ω)(ω0 + ω); so `diff+log` turns it into a linear term, as `log`
does for products. Both columns keep their sign: `log` after it adds the sign channel where they change sign.

Which pairs are comparable is one rule (`comparable_pairs`): two inputs whose ranges of |x| nearly coincide. The
ranges are the declared ones where a target declares them as numbers, else the training rows' own.
"""

import math

import sympy
import torch

from .base import Appending

MAX_PAIRS = 16  # at most 32 added columns, whatever the width: six coordinates of one kind give 15 pairs
SAME_RANGE = 0.9  # comparable: the two ranges overlap on at least this share of their union


def magnitude_range(low, high):
    """The range of |x| for x in [low, high]."""
    if low >= 0:
        return low, high
    if high <= 0:
        return -high, -low
    return 0.0, max(-low, high)


def overlap(a, b):
    """The share of the union of two ranges of |x| that both cover: on log|x| where both stay above 0, else on
    |x|; 0 for a constant column, which has no partner."""
    scale = math.log if a[0] > 0 and b[0] > 0 else float
    (a0, a1), (b0, b1) = (tuple(map(scale, r)) for r in (a, b))
    union = max(a1, b1) - min(a0, b0)
    if a1 <= a0 or b1 <= b0 or union <= 0:
        return 0.0
    return max(min(a1, b1) - max(a0, b0), 0.0) / union


def comparable_pairs(ranges, max_pairs=MAX_PAIRS):
    """Pairs (i, j), i < j, of columns whose ranges of |x| overlap on at least SAME_RANGE of their union; beyond
    `max_pairs`, the closest ranges first, ties in column order. `ranges` is one (low, high) of |x| per column,
    and an optional kind (a declared dist) that must match."""
    scored = []
    for i, a in enumerate(ranges):
        for j in range(i + 1, len(ranges)):
            b = ranges[j]
            share = overlap(a[:2], b[:2])
            if a[2:] == b[2:] and share >= SAME_RANGE:
                scored.append((-share, i, j))
    return sorted((i, j) for _, i, j in sorted(scored)[:max_pairs])


def declared_range(low, high, dist):
    """(low, high, dist) of |x| for a declared variable whose bounds are numbers; None for bounds that are
    formulas of other variables (their range is learnt from the rows)."""
    try:
        bounds = float(sympy.sympify(low)), float(sympy.sympify(high))
    except (TypeError, ValueError):
        return None
    return (*magnitude_range(*bounds), dist)


class Differences(Appending):
    """Appends xi − xj, then xi + xj, for each comparable pair; the inverse drops the added columns.

    `ranges` declares the target's variables as plain data, one (name, low, high, dist) per leading input column
    (`Target.ranges()`); without it (a data file) every column's range is the training rows' range of |x|.
    Columns beyond the declared ones pass through without partners.
    """

    def __init__(self, ranges=None, max_pairs=MAX_PAIRS):
        self.ranges = ranges
        self.max_pairs = max_pairs

    def _fit(self, X):
        declared = len(self.ranges) if self.ranges is not None else X.shape[1]
        if X.shape[1] < declared:
            raise ValueError(f"Differences: got {X.shape[1]} feature(s) for {declared} declared variable(s); fit it on "
                             "the target's inputs, one column per declared variable")
        magnitude = X[:, :declared].abs()
        learnt = zip(magnitude.min(dim=0).values.tolist(), magnitude.max(dim=0).values.tolist())
        ranges = list(learnt) if self.ranges is None else [
            declared_range(low, high, dist) or (*seen, dist) for (_, low, high, dist), seen in zip(self.ranges, learnt)]
        self.pairs_ = comparable_pairs(ranges, self.max_pairs)

    def _transform(self, X):
        if not self.pairs_:
            return X
        i, j = (torch.tensor(side, device=X.device) for side in zip(*self.pairs_))
        return torch.cat([X, X[:, i] - X[:, j], X[:, i] + X[:, j]], dim=1)

    def _declared(self):
        return [name for name, *_ in self.ranges or ()]

    def _names_out(self, names):
        return (names + [f"{names[i]}−{names[j]}" for i, j in self.pairs_]
                + [f"{names[i]}+{names[j]}" for i, j in self.pairs_])

"""What the signomial sees: the features of its input encoding (`raw`, or `diff`'s differences and sums) as
magnitudes, and y divided by a sign rule, so that inputs and features of both signs are no bar where y's sign
follows theirs.

A signomial is a sum of powers of |x|. Where y's sign is the product of some features' signs (q·E/(m·(ω0 − ω)(ω0 +
ω)) changes sign with q, ω0 − ω and ω0 + ω), y / S(x), S the product of those signs, is a signomial of the
magnitudes; the rule is found on the training rows by Gaussian elimination over GF(2) (y's sign bit as a sum of
the features' sign bits) and holds on every row or not at all. Where none holds (y = x1²x2 − 3x1/x2 changes sign
with the inputs' sizes, not their signs), S is 1 and the terms' coefficients carry y's sign, as before. The
formula read back writes sign(f)·|f|^w as f^w wherever the exponent allows it.
"""

import numpy as np
import sympy
import torch
from bench.encodings.pairs import Differences
from bench.encodings.scale import Identity


def sign_rule(F, y):
    """The columns of F (n, d) whose signs multiply to y's sign on every row where none of them is 0 (a tuple of
    indices, the fewest free choices), or None where no product of signs does."""
    varying = [j for j in range(F.shape[1]) if (F[:, j] < 0).any() and (F[:, j] > 0).any()]
    rows = (y != 0) & (F[:, varying] != 0).all(axis=1)
    A = np.concatenate([F[rows][:, varying] < 0, (y[rows] < 0)[:, None]], axis=1).astype(np.uint8)
    pivots, r = [], 0
    for j in range(len(varying)):
        below = np.nonzero(A[r:, j])[0]
        if len(below) == 0:
            continue
        A[[r, r + below[0]]] = A[[r + below[0], r]]
        A[(A[:, j] == 1) & (np.arange(len(A)) != r)] ^= A[r]
        pivots.append(j)
        r += 1
        if r == len(A):
            break
    if A[r:, -1].any():  # a row 0 = 1: no subset of signs gives y's sign
        return None
    return tuple(varying[j] for i, j in enumerate(pivots) if A[i, -1])


def rule_signs(F, rule):
    """The product of the signs of F's columns `rule`, per row (torch or numpy, as given); 1 for no rule."""
    lib = torch if torch.is_tensor(F) else np
    return lib.prod(lib.sign(F[:, list(rule)]), 1) if rule else lib.ones_like(F[:, 0])


class FeatureView:
    """The target as the signomial fits it: rows mapped through the fitted input encoder to |features|, y divided
    by the sign rule. It draws fresh batches as a formula target does, or, for a data file (no formula to draw
    from), batches of its training rows `F`, `y` (`sample`); `expression` writes terms back in the target's
    variables."""

    def __init__(self, target, encoder, F, y):
        F, y = np.asarray(F, np.float64), np.asarray(y, np.float64)
        self.target, self.encoder = target, encoder
        found = sign_rule(F, y)
        self.rule = found or ()  # none found (y = x1 + x2 of both signs): terms of mixed signs must carry y's sign
        self.rule_found = found is not None
        self.constant_sign = np.where((F >= 0).all(axis=0), 1, np.where((F <= 0).all(axis=0), -1, 0))
        symbols = [sympy.Symbol(name) for name in target.names]
        self.features = feature_expressions(encoder, symbols)
        self.names = [str(e) for e in self.features]
        self.scale = None
        self.pool = None if target.formula is not None else (torch.from_numpy(np.abs(F)),
                                                              torch.from_numpy(y * self.signs(F)))

    def signs(self, F):
        """S(F): the product of the rule's features' signs, per row (torch or numpy, as given)."""
        return rule_signs(F, self.rule)

    def sample(self, n, seed, device="cpu"):
        """Rows of the target as the signomial fits them, (|F|, y / S(F), rejected share): fresh ones from a
        formula, else n training rows drawn with replacement."""
        if self.pool is not None:
            F, y = self.pool
            rows = torch.randint(len(y), (n,), generator=torch.Generator().manual_seed(seed))
            return F[rows].to(device), y[rows].to(device), 0.0
        X, y, rejected = self.target.sample(n, seed, device)
        F = self.encoder.transform(X)
        return F.abs(), y * self.signs(F), rejected

    def evaluate_scale(self, X):
        return None

    def expression(self, terms, number):
        """S · Σ_k c_k Π |f_i|^w_ki in the target's variables: |f| is f (or −f) where f keeps one sign, and
        sign(f)·|f|^w is f^w for an odd integer w (|f|^w alone for an even one); `number` makes sympy numbers."""
        parts = []
        for row, c in zip(terms.exponents, terms.coefficients):
            factors, signs = [], set(self.rule)
            for i, w in enumerate(row):
                if not w:
                    continue
                f, power = self.features[i], number(w, 4)
                if self.constant_sign[i]:
                    factors.append((int(self.constant_sign[i]) * f) ** power)
                elif power.is_integer and (power % 2 == 0 or i in signs):
                    factors.append(f ** power)
                    signs -= {i} if power % 2 else set()
                else:
                    factors.append(sympy.Abs(f) ** power)
            parts.append(number(c, 6) * sympy.Mul(*factors) * sympy.Mul(*(sympy.sign(self.features[i]) for i in signs)))
        return sympy.Add(*parts)


def feature_expressions(encoder, symbols):
    """The features an input encoding the signomial takes computes, as sympy expressions of the inputs."""
    if isinstance(encoder, Identity):
        return list(symbols)
    if isinstance(encoder, Differences):
        return (list(symbols) + [symbols[i] - symbols[j] for i, j in encoder.pairs_]
                + [symbols[i] + symbols[j] for i, j in encoder.pairs_])
    raise ValueError(f"the signomial takes raw or diff inputs, not {type(encoder).__name__}")

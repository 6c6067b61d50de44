"""A signomial's terms as data: y = sum_k c_k prod_i |x_i|^w_ki, with numpy in float64.

Merging near-duplicate terms, refitting coefficients by least squares, refining exponents and coefficients
together by Levenberg-Marquardt, pruning on validation, snapping exponents to simple fractions, and printing the
formula with sympy. Every choice is scored by `score` on validation data.
"""

from dataclasses import dataclass
from fractions import Fraction

import numpy as np
import sympy
from scipy.optimize import least_squares

from bench.metrics import validation_error

ROUND_OFF = 1e-12  # validation errors this close are equal (float64 round-off of an exact form)
MAX_EVALUATIONS = 200  # Levenberg-Marquardt residual evaluations: a good start converges in a few dozen
# Levenberg-Marquardt refines forms of at most this many parameters (exponents and coefficients): each of its
# iterations factors a rows x parameters Jacobian, so its cost grows with the square of their number. 16 terms on
# diff's 40 features of I.9.18 are 656 parameters, and its refinements took 908 of a 942 s run; a larger form keeps
# its L-BFGS polish.
MAX_REFINED = 256


@dataclass(frozen=True)
class Terms:
    exponents: np.ndarray  # (K, d); a zero row is a constant term
    coefficients: np.ndarray  # (K,)

    def predict(self, X):
        return basis(self.exponents, X) @ self.coefficients

    def score(self, X, y):
        """The validation error on (X, y) (bench.metrics.validation_error): what every choice here compares."""
        return validation_error(self.predict(X), y)

    def sizes(self, log_centre):
        """|c_k| prod |x_i|^w_ki at the data's centre (exp of the mean log|x|): how much each term weighs."""
        return np.abs(self.coefficients) * np.exp(self.exponents @ log_centre)

    def as_json(self, names):
        return [{"coefficient": json_number(c), "exponents": {n: json_number(w) for n, w in zip(names, row)}}
                for row, c in zip(self.exponents, self.coefficients)]


def json_number(value):
    """A float for JSON, None where it is NaN or infinite (records never hold bare NaN/Infinity)."""
    return float(value) if np.isfinite(value) else None


def basis(exponents, X):
    """(n, K): prod_i |x_i|^w_ki for each row of X and each term."""
    with np.errstate(over="ignore", divide="ignore"):
        return np.exp(np.log(np.abs(X)) @ exponents.T)


def refit(exponents, X, y):
    """Terms with these exponents and the coefficients that minimize the squared relative error on (X, y)."""
    exponents = np.unique(exponents, axis=0)  # duplicated exponents are one term
    keep = y != 0
    B = basis(exponents, X[keep]) / np.abs(y[keep])[:, None]
    norms = np.linalg.norm(B, axis=0)
    norms = np.where((norms > 0) & np.isfinite(norms), norms, 1.0)
    coefficients, *_ = np.linalg.lstsq(np.nan_to_num(B / norms), np.sign(y[keep]), rcond=None)
    return Terms(exponents, coefficients / norms)


def refine(terms, X, y):
    """Exponents and coefficients fitted together by Levenberg-Marquardt (scipy) on the relative residuals
    (sum_k c_k prod |x_i|^w_ki - y) / |y|, in float64, logs centred for conditioning; a second-order polish of a
    compact form. `terms` unchanged where it has more than MAX_REFINED parameters, or the start or the fit is not
    finite."""
    keep = y != 0
    logs, target = np.log(np.abs(X[keep])), y[keep]
    centre = logs.mean(axis=0)
    logs = logs - centre
    K, d = terms.exponents.shape

    def values(p):
        with np.errstate(over="ignore", invalid="ignore"):
            return np.exp(logs @ p[: K * d].reshape(K, d).T) / np.abs(target)[:, None]

    def residuals(p):
        with np.errstate(over="ignore", invalid="ignore"):
            return values(p) @ p[K * d:] - np.sign(target)

    def jacobian(p):
        B = values(p)
        return np.hstack([((B * p[K * d:])[:, :, None] * logs[:, None, :]).reshape(len(target), -1), B])

    start = np.concatenate([terms.exponents.ravel(), terms.coefficients * np.exp(terms.exponents @ centre)])
    if len(start) > MAX_REFINED or len(target) <= len(start) or not np.isfinite(residuals(start)).all():
        return terms
    fit = least_squares(residuals, start, jac=jacobian, method="lm", xtol=1e-15, ftol=1e-15, gtol=1e-15,
                        max_nfev=MAX_EVALUATIONS)
    exponents = fit.x[: K * d].reshape(K, d)
    with np.errstate(over="ignore"):  # a fit that overflows here is refused just below
        coefficients = fit.x[K * d:] * np.exp(-exponents @ centre)
    return Terms(exponents, coefficients) if np.isfinite(fit.x).all() and np.isfinite(coefficients).all() else terms


def merge_close(terms, log_centre, distance):
    """One term per group of terms whose exponents are within `distance` of the group's largest (max norm):
    exponents averaged by weight, coefficient set so the group's value at the centre is kept; zero terms left out."""
    order = np.argsort(-terms.sizes(log_centre))
    groups = []
    for k in order:
        home = next((g for g in groups if np.abs(terms.exponents[k] - terms.exponents[g[0]]).max() < distance), None)
        if home is None:
            groups.append([k])
        else:
            home.append(k)
    exponents, coefficients = [], []
    for group in groups:
        values = terms.coefficients[group] * np.exp(terms.exponents[group] @ log_centre)
        if not np.abs(values).sum() > 0:
            continue  # terms that are exactly zero
        w = np.abs(values) / np.abs(values).sum() @ terms.exponents[group]
        exponents.append(w)
        coefficients.append(values.sum() / np.exp(w @ log_centre))
    return Terms(np.array(exponents), np.array(coefficients))


def prune(terms, refit_terms, val, log_centre, tolerance):
    """Backward elimination down to one term (drop the smallest, refit the rest with `refit_terms`), then the form
    with the fewest terms whose error on `val` is within a factor 1 + tolerance (or ROUND_OFF) of the path's best."""
    path = [terms]
    while len(path[-1].coefficients) > 1:
        current = path[-1]
        smallest = np.argmin(current.sizes(log_centre))
        path.append(refit_terms(Terms(np.delete(current.exponents, smallest, axis=0),
                                      np.delete(current.coefficients, smallest))))
    scores = [form.score(*val) for form in path]
    limit = min(scores) * (1 + tolerance) + ROUND_OFF
    return next(form for form, score in zip(reversed(path), reversed(scores)) if score <= limit)


def snap(terms, max_denominator, train):
    """Exponents rounded to the nearest fractions with denominators up to `max_denominator`, coefficients refit."""
    rounded = np.vectorize(lambda w: float(Fraction(w).limit_denominator(max_denominator)))(terms.exponents)
    return refit(rounded, *train)


def simple_number(value, digits):
    """A sympy number: a small fraction when `value` is one to a relative 1e-9, else a float with `digits` digits."""
    fraction = Fraction(value).limit_denominator(12)
    if abs(fraction - value) <= 1e-9 * abs(value):
        return sympy.Rational(fraction.numerator, fraction.denominator)
    return sympy.Float(value, digits)

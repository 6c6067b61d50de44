"""Statistics for errors that span decades: geometric means with t-intervals on log10, paired comparisons
over the same seeds, and rank agreement between budgets (Kendall's tau)."""

import numpy as np
from scipy import stats

FLOOR = 1e-16  # errors below float64 round-off count as 1e-16, so that their log is finite
TIE_P = 0.05  # a paired difference with p at or above this is called a tie


def log10_errors(values):
    values = np.asarray(values, dtype=float)
    return np.log10(np.maximum(values[~np.isnan(values)], FLOOR))


def mean_interval(values, confidence=0.95):
    """Mean of the non-NaN values and its t-interval; NaN bounds with fewer than two values."""
    values = np.asarray(values, dtype=float)
    values = values[~np.isnan(values)]
    if len(values) == 0:
        return np.nan, np.nan, np.nan
    mean = values.mean()
    if len(values) < 2:
        return mean, np.nan, np.nan
    half = stats.t.ppf((1 + confidence) / 2, len(values) - 1) * stats.sem(values)
    return mean, mean - half, mean + half


def geometric_interval(values, confidence=0.95):
    """Geometric mean of positive errors and its 95 % interval (a t-interval on log10, transformed back)."""
    logs = log10_errors(values)
    with np.errstate(over="ignore"):  # an interval reaching past float64 is inf
        return tuple(10 ** v if not np.isnan(v) else np.nan for v in mean_interval(logs, confidence))


def geometric_mean(values):
    """The geometric mean of non-negative values, inf when one is inf (a failure), NaN when none is known."""
    values = np.asarray(values, dtype=float)
    values = values[~np.isnan(values)]
    if len(values) == 0:
        return np.nan
    if np.isinf(values).any():
        return np.inf
    return float(10 ** np.mean(np.log10(np.maximum(values, FLOOR))))


def paired_comparison(best, other):
    """`other` against `best`, both Series of errors indexed by seed: (factor, p, n) where factor is the
    geometric mean of other/best over their common seeds and p a paired t-test's on log10 (NaN below 2 seeds)."""
    common = best.index.intersection(other.index)
    if len(common) == 0:
        return np.nan, np.nan, 0
    difference = log10_errors(other[common].to_numpy()) - log10_errors(best[common].to_numpy())
    factor = 10 ** difference.mean()
    if len(common) < 2 or np.allclose(difference, difference[0]):
        return factor, (np.nan if len(common) < 2 else 0.0 if difference[0] != 0 else 1.0), len(common)
    return factor, float(stats.ttest_1samp(difference, 0.0).pvalue), len(common)


def verdict(factor, p, n):
    """'best', 'tie' (p ≥ TIE_P), 'worse', or 'n=1' when there is nothing to test."""
    if factor == 1 and p == 1.0:
        return "best"
    if n < 2 or np.isnan(p):
        return f"n={n}"
    return "tie" if p >= TIE_P else ("worse" if factor > 1 else "better")


MIN_AGREEMENT = 4  # Kendall's tau over fewer pipelines says nothing (over 2 it is ±1 with p = 1)


def rank_agreement(small, large):
    """Kendall's tau between two Series of errors indexed by pipeline (their common pipelines), with its p and n;
    NaN below MIN_AGREEMENT common pipelines."""
    common = small.index.intersection(large.index)
    if len(common) < MIN_AGREEMENT:
        return np.nan, np.nan, len(common)
    tau, p = stats.kendalltau(small[common].to_numpy(), large[common].to_numpy())
    return float(tau), float(p), len(common)

"""Accuracy metrics on y in float64 (after the inverse target transform). Names are a contract."""

import numpy as np

SOLVED_R2 = 0.999  # SRBench's threshold for "solved"
# The choice metric's floor: a point's |y| counts as at least this share of the set's typical |y| (its median, or
# its mean where most of y is 0), so points where y crosses zero cannot decide a choice by dividing by almost nothing.
FLOOR_SHARE = 0.01
# Probabilities at which records keep quantiles of the per-point relative error (dense in the tails).
QUANTILE_LEVELS = (0.001, 0.005, 0.01, *(round(0.02 * k, 2) for k in range(1, 50)), 0.99, 0.995, 0.999)


def relative_errors(y_pred, y_true, floor=0.0):
    """r = |ŷ − y| / max(|y|, floor) per point (inf where the denominator is 0 and ŷ ≠ y; quantiles stay robust
    to it)."""
    y_pred, y_true = np.asarray(y_pred, np.float64), np.asarray(y_true, np.float64)
    with np.errstate(divide="ignore", invalid="ignore", over="ignore"):
        r = np.abs(y_pred - y_true) / np.maximum(np.abs(y_true), floor)
    return np.where(np.isnan(r), np.where(y_pred == y_true, 0.0, np.inf), r)


def quantiles(r, levels):
    """np.quantile that keeps infinities infinite (plain np.quantile interpolates inf into NaN)."""
    huge = np.finfo(np.float64).max
    return [float(q) if q < huge else np.inf for q in np.quantile(np.minimum(r, huge), levels)]


def floored_relative_errors(y_pred, y_true):
    """|ŷ − y| / max(|y|, FLOOR_SHARE · median|y|) per point: the relative error, except that no point's |y|
    counts as less than a hundredth of the typical one (equal to the relative error wherever |y| is above that;
    where most of y is 0 the typical |y| is its mean, and 1 where every y is 0)."""
    size = np.abs(np.asarray(y_true, np.float64))
    return relative_errors(y_pred, y_true, FLOOR_SHARE * (np.median(size) or np.mean(size) or 1.0))


def validation_error(y_pred, y_true):
    """The score every choice is made on (tuning, kept steps, finalists, the suite's recipe, the best run): the
    mean floored relative error on the validation set; inf if a prediction is not finite. A mean, so every
    point counts, as in R² (a model wild on a tenth of the points cannot win on its median); relative, so every
    decade of y counts alike; floored, so where y crosses zero a point counts on y's typical scale instead of
    dividing by almost nothing."""
    y_pred = np.asarray(y_pred, np.float64)
    if not np.isfinite(y_pred).all():
        return float("inf")
    return float(np.mean(floored_relative_errors(y_pred, y_true)))


def validation_point(y_pred, y_true):
    """A learning curve's scores on validation: the choice metric (`val_error`) and the reported median
    relative error (`median_rel_err`, what convergence speed is measured on)."""
    y_pred = np.asarray(y_pred, np.float64)
    finite = np.isfinite(y_pred).all()
    return {"val_error": validation_error(y_pred, y_true),
            "median_rel_err": float(np.median(relative_errors(y_pred, y_true))) if finite else float("inf")}


def rel_err_quantiles(y_pred, y_true):
    """The per-point relative errors' quantiles at QUANTILE_LEVELS: their distribution in a few hundred bytes."""
    return {"levels": list(QUANTILE_LEVELS), "rel_err": quantiles(relative_errors(y_pred, y_true), QUANTILE_LEVELS)}


def regression_metrics(y_pred, y_true, scale=None):
    """median/p90/p99 relative error, r2, acc_1pct, solved, nonfinite_share and, given the target's scale, norm_l1.
    A prediction that is not finite counts as infinitely wrong: its relative error is inf and R² is −inf."""
    y_pred, y_true = np.asarray(y_pred, np.float64), np.asarray(y_true, np.float64)
    nonfinite = ~np.isfinite(y_pred)
    y_pred = np.where(nonfinite, np.inf, y_pred)
    r = relative_errors(y_pred, y_true)
    median, p90, p99 = quantiles(r, [0.5, 0.9, 0.99])
    with np.errstate(over="ignore", invalid="ignore"):  # a wild prediction: R² = -inf, not a warning
        residual = np.sum((y_pred - y_true) ** 2)
        total = np.sum((y_true - y_true.mean()) ** 2)
    r2 = float(1 - residual / total) if total > 0 else float("nan")
    metrics = {
        "median_rel_err": float(median),
        "p90_rel_err": float(p90),
        "p99_rel_err": float(p99),
        "r2": r2,  # NaN when y is constant (undefined), -inf when predictions are
        "acc_1pct": float(np.mean(r <= 0.01)),
        "solved": bool(r2 > SOLVED_R2),
        "nonfinite_share": float(np.mean(nonfinite)),  # above 0: the run failed on its test set (TEST_FAILURE)
    }
    if scale is not None:
        metrics["norm_l1"] = float(np.mean(np.abs(y_pred - y_true) / np.abs(np.asarray(scale, np.float64))))
    return metrics


TEST_FAILURE = "test predictions are NaN/inf"  # the error of an ok run that fails on its test set


def outcome(prediction, y_true, scale=None, diverged_at=None, val_error=0.0):
    """A finished run's status, from training and validation alone, and its test scores.

    `diverged` when its loss went NaN/inf at step `diverged_at` or its validation error `val_error` is not finite;
    else `ok`, scored on the test set whatever its predictions there: a test prediction that is not finite makes
    the run a failure on that set (R² = −inf, not solved, `nonfinite_share` above 0, `error` says so), never a
    status that would keep a choice made on validation from it."""
    if diverged_at is not None:
        return {"status": "diverged", "error": f"loss became NaN/inf at step {diverged_at}",
                "diverged_at_step": diverged_at, "metrics": None}
    if not val_error < np.inf:
        return {"status": "diverged", "error": "validation error is not finite (predictions on validation are NaN/inf)",
                "metrics": None}
    result = {"status": "ok", "metrics": regression_metrics(prediction, y_true, scale),
              "rel_err_quantiles": rel_err_quantiles(prediction, y_true)}
    share = result["metrics"]["nonfinite_share"]
    if share > 0:
        result["error"] = f"{share:.2%} of its {TEST_FAILURE}: counted as a failure on the test set"
    return result


def steps_to(curve, threshold):
    """The first curve point whose median relative error is ≤ threshold: (step, seconds), or (None, None)."""
    for point in curve:
        if point["median_rel_err"] <= threshold:
            return point["step"], point["seconds"]
    return None, None


def convergence(curve):
    s10, t10 = steps_to(curve, 0.10)
    s1, t1 = steps_to(curve, 0.01)
    return {"steps_to_10pct": s10, "seconds_to_10pct": t10, "steps_to_1pct": s1, "seconds_to_1pct": t1}

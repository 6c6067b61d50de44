"""Metrics on hand-computed cases."""

import numpy as np
import pytest

from bench.metrics import (
    convergence,
    floored_relative_errors,
    regression_metrics,
    relative_errors,
    validation_error,
    validation_point,
)


def test_relative_errors_by_hand():
    r = relative_errors([1.1, -2.0, 0.0, 5.0], [1.0, -1.0, 0.0, 0.0])
    np.testing.assert_allclose(r, [0.1, 1.0, 0.0, np.inf])


def test_metrics_by_hand():
    y = np.array([1.0, 2.0, 4.0, 8.0, 10.0])
    y_hat = y * np.array([1.0, 1.005, 1.02, 0.9, 1.5])  # r = 0, 0.005, 0.02, 0.1, 0.5
    m = regression_metrics(y_hat, y, scale=np.full(5, 2.0))
    assert m["median_rel_err"] == pytest.approx(0.02)
    assert m["p90_rel_err"] == pytest.approx(0.1 + 0.6 * 0.4)  # linear interpolation between 0.1 and 0.5
    assert m["acc_1pct"] == pytest.approx(0.4)
    residual = np.sum((y_hat - y) ** 2)
    assert m["r2"] == pytest.approx(1 - residual / np.sum((y - y.mean()) ** 2))
    assert m["norm_l1"] == pytest.approx(np.mean(np.abs(y_hat - y)) / 2)
    assert m["solved"] is False


def test_perfect_fit_is_solved_and_non_finite_predictions_are_worst_case():
    y = np.linspace(1, 2, 11)
    assert regression_metrics(y, y)["solved"] is True and "norm_l1" not in regression_metrics(y, y)
    bad = regression_metrics(np.full(11, np.nan), y)
    assert bad["median_rel_err"] == np.inf and bad["acc_1pct"] == 0 and bad["r2"] == -np.inf


def test_convergence_takes_the_first_point_below_each_threshold():
    curve = [{"step": s, "seconds": s / 10, "median_rel_err": e} for s, e in [(10, 0.5), (20, 0.08), (30, 0.009)]]
    assert convergence(curve) == {"steps_to_10pct": 20, "seconds_to_10pct": 2.0,
                                  "steps_to_1pct": 30, "seconds_to_1pct": 3.0}
    assert convergence(curve[:1])["steps_to_10pct"] is None


def test_rel_err_quantiles_keep_the_distribution_and_infinities():
    from bench.metrics import QUANTILE_LEVELS, rel_err_quantiles

    y = np.ones(1001)
    y_hat = 1 + np.linspace(0, 1, 1001)  # r uniform on [0, 1]
    q = rel_err_quantiles(y_hat, y)
    assert q["levels"] == list(QUANTILE_LEVELS) and q["levels"] == sorted(q["levels"])
    np.testing.assert_allclose(q["rel_err"], QUANTILE_LEVELS, atol=1e-12)
    assert rel_err_quantiles(np.full(3, np.nan), np.ones(3))["rel_err"][-1] == np.inf



def test_the_floored_relative_error_by_hand():
    y = np.array([-2.0, 0.0, 1e-4, 1.0, 4.0])  # median |y| = 1, so the floor is 0.01
    y_pred = y + 0.01
    assert floored_relative_errors(y_pred, y) == pytest.approx([0.005, 1.0, 1.0, 0.01, 0.0025])
    assert validation_error(y_pred, y) == pytest.approx((0.005 + 1 + 1 + 0.01 + 0.0025) / 5)
    assert validation_error(np.array([np.nan, 0, 0, 0, 0]), y) == np.inf


def test_the_choice_metric_counts_every_point_and_holds_where_y_crosses_zero():
    y = np.linspace(-1, 1, 2001)  # crosses zero: |y| near 0 on many points
    wild_on_a_tenth = np.where(np.abs(y) > 0.9, 3 * y, y * 1.0001)  # best median, R² far below 0.999
    close_everywhere = y + 0.002  # a small absolute error: relative error ~ 0.002/|y|, huge near zero
    assert np.median(relative_errors(wild_on_a_tenth, y)) < np.median(relative_errors(close_everywhere, y))
    assert np.mean(relative_errors(close_everywhere, y)) == np.inf  # y = 0 is one of the points
    assert validation_error(close_everywhere, y) < validation_error(wild_on_a_tenth, y)  # the choice R² agrees with
    point = validation_point(close_everywhere, y)
    assert point["val_error"] == validation_error(close_everywhere, y)
    assert point["median_rel_err"] == pytest.approx(np.median(relative_errors(close_everywhere, y)))


def test_where_most_of_y_is_zero_the_floor_is_the_mean_magnitude():
    y = np.array([0.0, 0.0, 0.0, 1.0, 2.0])  # median |y| = 0: the floor is 0.01 · mean|y| = 0.006
    assert validation_error(y + 1e-9, y) < 1e-6
    assert validation_error(np.full(3, 1e-9), np.zeros(3)) == pytest.approx(1e-7)  # all zero: floor 0.01

"""Rates over equations (bench.report.rates) and precision tiers (bench.report.precision) against float64
references: Wilson's interval with one run per equation, a seeded bootstrap over equations with several seeds
(never the (equation, seed) pairs as independent draws), tier counts, the profile and the main report's tiers."""

import math

import numpy as np
import pandas as pd
import pytest
from scipy.stats import norm

from bench.report.precision import TIERS, profile, runs_tiers, tier_cells, tier_table
from bench.report.rates import BOOTSTRAP_DRAWS, BOOTSTRAP_SEED, per_seed, rate_over_equations

Z = norm.ppf(0.975)


def wilson(k, n, z=Z):
    """Wilson's score interval, written out in float64."""
    p = k / n
    centre = (p + z * z / (2 * n)) / (1 + z * z / n)
    half = z / (1 + z * z / n) * math.sqrt(p * (1 - p) / n + z * z / (4 * n * n))
    return centre - half, centre + half


def test_one_run_per_equation_gives_wilsons_interval():
    hits = [True] * 7 + [False] * 13
    rate = rate_over_equations(hits, [f"eq{i}" for i in range(20)])
    assert (rate["hits"], rate["runs"], rate["equations"], rate["interval"]) == (7, 20, 20, "Wilson")
    assert rate["rate"] == pytest.approx(0.35)
    assert (rate["ci_low"], rate["ci_high"]) == pytest.approx(wilson(7, 20), abs=1e-12)


def test_several_seeds_bootstrap_over_equations_not_over_pairs():
    rng = np.random.default_rng(3)
    easy = rng.random(30) < 0.6  # an equation solved on one seed is solved on every seed
    units = np.repeat(np.arange(30), 3)
    hits = np.repeat(easy, 3)
    rate = rate_over_equations(hits, units)
    assert rate["interval"] == "bootstrap over equations" and rate["equations"] == 30 and rate["runs"] == 90
    shares = easy.astype(float)  # the reference: per-equation shares resampled with the same generator
    means = shares[np.random.default_rng(BOOTSTRAP_SEED).integers(0, 30, size=(BOOTSTRAP_DRAWS, 30))].mean(axis=1)
    assert (rate["ci_low"], rate["ci_high"]) == pytest.approx(tuple(np.quantile(means, [0.025, 0.975])), abs=1e-12)
    pairs_low, pairs_high = wilson(int(hits.sum()), 90)  # what counting 90 pairs as independent draws would claim
    assert rate["ci_high"] - rate["ci_low"] > 1.4 * (pairs_high - pairs_low)
    assert rate_over_equations(hits, units) == rate  # seeded: the same interval on every render


def test_per_seed_counts_and_an_empty_rate_is_refused():
    assert per_seed([True, False, True, True], [0, 0, 1, 1]) == {0: (1, 2), 1: (2, 2)}
    with pytest.raises(ValueError, match="at least one run"):
        rate_over_equations([], [])


def test_tiers_count_at_or_below_each_epsilon_and_failures_reach_none():
    frame = pd.DataFrame({"pipeline": "p", "target": list("abcde"),
                          "median_rel_err": [1e-3, 2e-4, 1e-6, 1e-8, math.inf]})
    table = tier_table(frame, ["pipeline"], "target").set_index("tier")
    assert table["hits"].tolist() == [4, 2, 1]
    assert (table.loc["≤ 1e-5", "ci_low"], table.loc["≤ 1e-5", "ci_high"]) == pytest.approx(wilson(2, 5), abs=1e-12)
    cells = tier_cells(tier_table(frame, ["pipeline"], "target"), ["pipeline"])
    assert cells.columns.tolist() == ["pipeline", "≤ 1e-3", "≤ 1e-5", "≤ 1e-7"]
    assert cells.loc[0, "≤ 1e-3"].startswith("4/5 (80%, ")


def test_profile_is_the_share_at_or_below_epsilon():
    matrix = pd.DataFrame({"a": [1e-2, 1e-6, np.inf], "b": [1e-9, 1e-9, 1e-9]})
    shares = profile(matrix, np.array([1e-10, 1e-6, 1e-2, 1.0]))
    assert shares["a"].tolist() == pytest.approx([0, 1 / 3, 2 / 3, 2 / 3])
    assert shares["b"].tolist() == [0, 1, 1, 1]


def test_main_report_tiers_treat_each_seed_as_a_unit():
    runs = pd.DataFrame({"target": "seed", "model": "mlp", "budget": "800 steps", "seed": range(5),
                         "median_rel_err": [5e-4, 5e-4, 5e-6, 2e-3, 1.0]})
    table = runs_tiers(runs, ["target", "model", "budget"])
    first = table[table["tier"] == "≤ 1e-3"].iloc[0]
    assert (first["hits"], first["runs"], first["seeds"], first["interval"]) == (3, 5, 5, "Wilson")
    assert len(table) == len(TIERS)

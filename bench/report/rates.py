"""Rates over equations: the share of equations where something holds (solved, a precision tier), with a 95 %
interval that treats the equation as the unit.

With one run per equation the share is k of n and the interval Wilson's. With several seeds per equation, the
(equation, seed) pairs are not independent draws (an equation hard on one seed is hard on the next), so each
equation contributes the share of its seeds, the rate is the mean of those shares, and the interval is a
percentile bootstrap over equations (resampled with replacement, seeded).
"""

import numpy as np
import pandas as pd
from scipy.stats import binomtest

BOOTSTRAP_DRAWS = 10_000
BOOTSTRAP_SEED = 0  # fixes every resample, so a re-render writes the same interval


def rate_over_equations(hits, units, draws=BOOTSTRAP_DRAWS, seed=BOOTSTRAP_SEED):
    """{hits, runs, equations, rate, ci_low, ci_high, interval} for boolean `hits` with one row per run and
    `units` naming each run's equation: Wilson's interval when every equation has one run, else a bootstrap over
    equations of the mean per-equation share."""
    hits = pd.Series(np.asarray(hits, dtype=bool))
    shares = hits.groupby(np.asarray(units), sort=True).mean()
    count, runs, equations = int(hits.sum()), len(hits), len(shares)
    if runs == 0:
        raise ValueError("a rate needs at least one run")
    if runs == equations:
        low, high = binomtest(count, runs).proportion_ci(method="wilson")
        return {"hits": count, "runs": runs, "equations": equations, "rate": count / runs, "ci_low": low,
                "ci_high": high, "interval": "Wilson"}
    values = shares.to_numpy()
    resampled = values[np.random.default_rng(seed).integers(0, equations, size=(draws, equations))].mean(axis=1)
    low, high = np.quantile(resampled, [0.025, 0.975])
    return {"hits": count, "runs": runs, "equations": equations, "rate": float(values.mean()), "ci_low": float(low),
            "ci_high": float(high), "interval": "bootstrap over equations"}


def per_seed(hits, seeds):
    """{seed: (hits, runs)} of boolean `hits`, one row per run, by each run's seed."""
    frame = pd.DataFrame({"hit": np.asarray(hits, dtype=bool), "seed": np.asarray(seeds)})
    return {seed: (int(group["hit"].sum()), len(group)) for seed, group in frame.groupby("seed", sort=True)}


def per_seed_text(counts):
    """'seed 0: 105/120, seed 1: 103/120' for per_seed's counts."""
    return ", ".join(f"seed {seed}: {hit}/{runs}" for seed, (hit, runs) in counts.items())

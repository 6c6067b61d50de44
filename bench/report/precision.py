"""Precision tiers: the share of equations (or seeds) whose test median relative error is at or below 1e-3, 1e-5
and 1e-7, with 95 % intervals (bench.report.rates), and the precision profile: that share against ε.

R² > 0.999 holds on a smooth power law at a 1 % error; the tiers say how close a pipeline gets. A run that
diverged or failed, or whose test predictions are not finite, carries an infinite (or, in the main report,
FAILURE_RULE's worst) error: it reaches no tier. The suite report and the main report both use this module.
"""

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402
import pandas as pd  # noqa: E402

from bench.report.markdown import markdown_table  # noqa: E402
from bench.report.rates import rate_over_equations  # noqa: E402

TIERS = (1e-3, 1e-5, 1e-7)
PROFILE_EPSILONS = np.logspace(-16, 0, 321)


def tier_name(epsilon):
    """'≤ 1e-5' for 1e-5."""
    return f"≤ 1e{round(np.log10(epsilon))}"


def tier_table(frame, by, unit):
    """One row per group of `frame` by the columns `by` and per tier: the runs whose median_rel_err is at or below
    it, as a rate over `unit` (the column naming each run's equation; `seed` where each run is its own unit)."""
    rows = []
    for key, group in frame.groupby(by, sort=False):
        key = key if isinstance(key, tuple) else (key,)
        for epsilon in TIERS:
            rows.append({**dict(zip(by, key)), "tier": tier_name(epsilon), "epsilon": epsilon,
                         **rate_over_equations(group["median_rel_err"] <= epsilon, group[unit])})
    return pd.DataFrame(rows)


def tier_cells(table, by):
    """The tier table as one row per group of `by`, one column per tier: 'k/n (rate, low to high)'."""
    cells = table.assign(cell=[f"{hit}/{runs} ({rate:.0%}, {low:.0%} to {high:.0%})" for hit, runs, rate, low, high in
                               zip(table["hits"], table["runs"], table["rate"], table["ci_low"], table["ci_high"])])
    wide = cells.pivot_table(index=by, columns="tier", values="cell", aggfunc="first", sort=False)
    return wide[[tier_name(e) for e in TIERS if tier_name(e) in wide.columns]].reset_index()


def profile(matrix, epsilons=PROFILE_EPSILONS):
    """Per column of `matrix` (rows: equations or (equation, seed); values: median relative errors), the share of
    rows at or below each ε, as a frame indexed by ε."""
    values = matrix.to_numpy(dtype=float)
    return pd.DataFrame({column: (values[:, j, None] <= epsilons[None, :]).mean(axis=0)
                         for j, column in enumerate(matrix.columns)}, index=epsilons)


def plot_profile(matrix, path, highlight=None):
    """The precision profile of `matrix` (see profile) as a figure at `path`: one line per pipeline (`highlight`
    in black, thicker), ε on a log axis, the tiers marked."""
    shares = profile(matrix)
    colours = plt.get_cmap("tab20").colors
    figure, axis = plt.subplots(figsize=(9, 4.5))
    for i, column in enumerate(shares.columns):
        axis.step(shares.index, shares[column], where="post", label=column,
                  **({"color": "black", "linewidth": 2.2} if column == highlight else {"color": colours[i % 20]}))
    for epsilon in TIERS:
        axis.axvline(epsilon, color="grey", linewidth=0.6, linestyle=":")
    axis.set(xscale="log", xlabel="ε (test median relative error)", ylabel="share of equations at or below ε",
             ylim=(0, 1.02), title="Precision profile")
    axis.legend(fontsize=7, loc="upper left", bbox_to_anchor=(1.01, 1))
    figure.savefig(path, dpi=120, bbox_inches="tight", metadata={"Software": None})
    plt.close(figure)


def runs_tiers(runs, by):
    """The main report's tiers: per pipeline and budget (`by`, e.g. tables.RANKED) of the runs frame (failures
    counted), the share of seeds at or below each tier; each seed is its own unit, so the interval is Wilson's."""
    return tier_table(runs, by, "seed").rename(columns={"equations": "seeds"})


def runs_tiers_markdown(table, by):
    """The main report's precision page body: per target, one row per pipeline and budget."""
    shown = tier_cells(table, by).rename(columns={"target_encoding": "target enc."})
    lines = ["Seeds whose test median relative error is at or below each tier (k of n, share, Wilson 95 % interval); "
             "a run that diverged or failed, or whose test predictions are not finite, reaches none."]
    for target, part in shown.groupby("target", sort=False):
        part = part.drop(columns=[c for c in ("target", "device_type", "settings_key") if c in part])
        lines += ["", f"## {target}", "", markdown_table(part)]
    return "\n".join(lines)

"""The suite's leaderboard: one row per method, all measured on the same equations, rows and seeds — the recipe,
its best single fixed pipeline, and every other model the suite ran (LightGBM, the signomial, Operon, KAN,
gplearn, ...): R² > 0.999 rate, median relative error ≤ 1e-3 and ≤ 1e-5 rates, symbolic solution rate, median
seconds per equation and the device (with its thread count).

Solution rate and R² accuracy are never one column: a symbolic solution is the found formula (SRBench's rule,
bench/solution.py), R² > 0.999 is held-out accuracy.
"""

import numpy as np
import pandas as pd

from bench.metrics import SOLVED_R2
from bench.report.frames import MLP, joined
from bench.report.rates import rate_over_equations

RECIPE_LABEL = "recipe (chosen on validation)"
RECIPE_ROLES = ("reference", "candidate", "finalist")  # the runs the recipe chooses among
SLOT = ["target", "seed"]  # one equation on one seed


def full_coverage(frame, pipelines):
    """The `pipelines` run on every (target, seed) of `frame`."""
    slots = frame[SLOT].drop_duplicates().shape[0]
    counts = frame[frame["pipeline"].isin(pipelines)].drop_duplicates(SLOT + ["pipeline"]).groupby("pipeline").size()
    return sorted(p for p, n in counts.items() if n == slots)


def best_fixed_pipeline(frame):
    """(pipeline, how it was picked): the fixed reference polished as long as a finalist where the suite ran one;
    else the shared mlp's reference pipeline, run on every equation, whose validation error ranks best on average
    over the equations (a choice on validation, never on test); (None, '') when there is none."""
    fixed = full_coverage(frame, frame.loc[frame["role"] == "fixed reference", "pipeline"].unique())
    pool = fixed or full_coverage(frame, frame.loc[(frame["role"] == "reference") & (frame["model"] == MLP),
                                                   "pipeline"].unique())
    if not pool:
        return None, ""
    errors = frame[frame["pipeline"].isin(pool)].pivot_table(index=SLOT, columns="pipeline", values="val_error",
                                                             aggfunc="first")
    ranks = errors.rank(axis=1, method="average").mean().sort_index()  # inf (a failure) ranks last
    best = ranks.idxmin()
    how = ("the fixed reference, polished as long as a finalist" if fixed else
           "the shared mlp's fixed pipeline with the best mean validation rank")
    return best, how


def methods(everything, best_fixed):
    """[(method, pipeline)]: the recipe, its best fixed pipeline, then each pipeline of a model other than the
    shared mlp (references and other methods; never a candidate or a finalist)."""
    rows = [("the recipe", RECIPE_LABEL)] + ([("its best single fixed pipeline", best_fixed)] if best_fixed else [])
    others = everything[everything["role"].isin(["reference", "other method"]) & (everything["model"] != MLP)]
    return rows + [(model, pipeline) for model, pipeline in
                   others[["model", "pipeline"]].drop_duplicates().sort_values(["model", "pipeline"]).itertuples(index=False)]


def common_seeds(everything, pipelines):
    """The seeds every one of `pipelines` ran on: the leaderboard's, so that each method is scored on the same
    (equation, seed) pairs even where the outside references ran on fewer seeds than the recipe."""
    return sorted(set.intersection(*(set(everything.loc[everything["pipeline"] == p, "seed"]) for p in pipelines)))


def recipe_seconds(frame):
    """Per (target, seed), the seconds of every run the recipe chose among (each run once)."""
    runs = frame[frame["role"].isin(RECIPE_ROLES)].drop_duplicates("key")
    return runs.groupby(SLOT)["seconds"].sum()


def symbolic_counts(group, recipe):
    """(symbolic solutions, runs counted), or (NaN, NaN) where no run returns a formula. For the recipe every
    equation counts, one whose chosen run returns no formula as no solution; for a model, the runs it checked."""
    values = group["symbolic_solution"]
    if values.isna().all():
        return np.nan, np.nan
    return int(values.map(lambda v: v is True).sum()), len(group) if recipe else int(values.notna().sum())


def leaderboard(everything, frame, best_fixed):
    """One row per method (see methods) over `everything` (the per-equation frame with the recipe's rows), on the
    seeds every method ran (`seeds`, in every row)."""
    listed = methods(everything, best_fixed)
    seeds = common_seeds(everything, [pipeline for _, pipeline in listed])
    everything, frame = everything[everything["seed"].isin(seeds)], frame[frame["seed"].isin(seeds)]
    slots = frame[SLOT].drop_duplicates().shape[0]
    seconds = recipe_seconds(frame)
    rows = []
    for method, pipeline in listed:
        group = everything[everything["pipeline"] == pipeline].drop_duplicates(SLOT)
        recipe = pipeline == RECIPE_LABEL
        rates = {name: rate_over_equations(hits, group["target"]) for name, hits in (
            ("R² > 0.999", group["r2"] > SOLVED_R2), ("≤ 1e-3", group["median_rel_err"] <= 1e-3),
            ("≤ 1e-5", group["median_rel_err"] <= 1e-5))}
        spent = seconds if recipe else group.set_index(SLOT)["seconds"]
        rows.append({"method": method, "pipeline": pipeline, "runs": len(group), "of": slots,
                     **{name: rate["rate"] for name, rate in rates.items()},
                     **{f"{name} hits": rate["hits"] for name, rate in rates.items()},
                     **dict(zip(["symbolic hits", "symbolic runs"], symbolic_counts(group, recipe))),
                     "median seconds per equation": float(np.median(spent)) if len(spent) else np.nan,
                     "device": "; ".join(sorted(group["device"].dropna().unique())), "seeds": joined(seeds)})
    table = pd.DataFrame(rows)
    complete = table["runs"] == table["of"]
    table["rank"] = table["R² > 0.999"].where(complete).rank(ascending=False, method="min").astype("Int64")
    return table.sort_values(["rank", "R² > 0.999"], ascending=[True, False], na_position="last").reset_index(drop=True)


def leaderboard_markdown_frame(table):
    """The leaderboard as the summary shows it."""
    def rate(name):
        return [f"{r:.0%} ({h}/{n})" for r, h, n in zip(table[name], table[f"{name} hits"], table["runs"])]

    return pd.DataFrame({"rank": table["rank"].map(lambda r: "–" if pd.isna(r) else str(r)), "method": table["method"],
                         "pipeline": table["pipeline"], "runs": [f"{r} of {n}" for r, n in zip(table["runs"], table["of"])],
                         "R² > 0.999": rate("R² > 0.999"), "median rel. err ≤ 1e-3": rate("≤ 1e-3"),
                         "median rel. err ≤ 1e-5": rate("≤ 1e-5"),
                         "symbolic solutions": ["" if pd.isna(n) else f"{h / n:.0%} ({h:.0f}/{n:.0f})"
                                                for h, n in zip(table["symbolic hits"], table["symbolic runs"])],
                         "median s per equation": table["median seconds per equation"].map("{:,.1f}".format),
                         "device (threads)": table["device"]})


def ordinal(n):
    return f"{n}{'th' if 10 <= n % 100 <= 20 else {1: 'st', 2: 'nd', 3: 'rd'}.get(n % 10, 'th')}"


def place_sentence(table):
    """Where the recipe stands: its rank by R² > 0.999 rate and by the ≤ 1e-5 rate among the methods run on every
    equation, and the method ranked just after or before it."""
    complete = table[table["runs"] == table["of"]]
    if len(complete) < 2 or RECIPE_LABEL not in set(complete["pipeline"]):
        return ""
    recipe = complete[complete["pipeline"] == RECIPE_LABEL].iloc[0]
    by_precision = int(complete["≤ 1e-5"].rank(ascending=False, method="min")[recipe.name])
    rival = complete[complete["pipeline"] != RECIPE_LABEL].iloc[0]  # the table is sorted by rank
    return (f"On the leaderboard (seed(s) {recipe['seeds']}, those every method ran) the recipe ranks "
            f"{ordinal(int(recipe['rank']))} of {len(complete)} methods run on every equation by R² > 0.999 rate "
            f"({recipe['R² > 0.999']:.0%}; the best other method, {rival['pipeline']}, {rival['R² > 0.999']:.0%}) "
            f"and {ordinal(by_precision)} by the share at a median relative error ≤ 1e-5 ({recipe['≤ 1e-5']:.0%}).")

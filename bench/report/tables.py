"""Aggregation: pure functions of the runs frame (rankings, headlines, convergence, throughput, environment)."""

import numpy as np
import pandas as pd

from bench.report.frames import PIPELINE
from bench.report.stats import geometric_interval, geometric_mean, paired_comparison, verdict

RANKED = PIPELINE + ["budget", "settings_key"]  # ranked within its budget; other settings are another row
TIE_BREAK = ["encoding", "target_encoding", "model", "settings_key"]  # equal validation errors: by name, never by test


def ranking(runs):
    """One row per pipeline and budget, from runs whose failures are counted (frames.FAILURE_RULE):
    its runs, ok and not-ok counts (`failed` counts the runs that failed, on training or on their test set
    alone: frames.is_failure), the geometric mean over seeds of each error (median relative error with a
    95 % interval on log10), mean R², ≤ 1 % share and solved share, the geometric mean validation error, its
    tuned settings; its integer rank within (target, budget) by test error (1 = lowest); `chosen`: the one
    pipeline per (target, budget) with the lowest validation error (the report's only definition of best);
    and a paired comparison with it over their common seeds (factor, p, verdict)."""
    rows = []
    for key, group in runs.groupby(RANKED, sort=False):
        ok = group[~group["failure"]]
        diverged = int((group["status"] == "diverged").sum())
        mean, low, high = geometric_interval(group["median_rel_err"])
        rows.append({**dict(zip(RANKED, key)), "runs": len(group), "ok": len(ok), "diverged": diverged,
                     "failed": len(group) - len(ok) - diverged, "median_rel_err": mean, "ci_low": low,
                     "ci_high": high, **{m: geometric_interval(group[m])[0] for m in ("p90_rel_err", "p99_rel_err")},
                     **{m: group[m].mean() for m in ("r2", "acc_1pct", "solved", "norm_l1")},
                     "val_error": geometric_mean(group["val_error"]),
                     "steps": group["steps"].iloc[0], "lbfgs_iters": group["lbfgs_iters"].iloc[0],
                     "tuned_settings": group["tuned_settings"].iloc[0],
                     "device": ", ".join(sorted((ok if len(ok) else group)["device"].dropna().unique()))})
    table = pd.DataFrame(rows)
    table["not_ok"] = table["diverged"] + table["failed"]
    within = table.groupby(["target", "budget"])
    table["rank"] = within["median_rel_err"].rank(method="min").astype("Int64")
    table["chosen"] = False
    table.loc[chosen_index(table, ["target", "budget"]), "chosen"] = True
    table = table.sort_values(["target", "steps", "budget", "median_rel_err"], na_position="first",
                              kind="stable").reset_index(drop=True)
    return compare_with_chosen(table, runs)


def by_validation(table):
    """The rows of `table` with a finite validation error, lowest first (ties: by name, never by test error; by the
    TIE_BREAK columns `table` has)."""
    return table[table["val_error"] < np.inf].sort_values(["val_error", *(c for c in TIE_BREAK if c in table)])


def chosen_index(table, by):
    """Per group of `table` by `by`: the index of the row with the lowest validation error; a group whose every
    validation error is missing or infinite has none."""
    return by_validation(table).groupby(by, sort=False).head(1).index


def errors_by_seed(runs):
    """{(pipeline..., budget, settings): Series of each seed's median relative error (failures counted)}."""
    return {key: group.set_index("seed")["median_rel_err"]
            for key, group in runs.groupby(RANKED, sort=False)}


def compare_with_chosen(table, runs):
    """Add vs_best_factor, vs_best_p and vs_best (best, tie, worse, better or n=k) per pipeline, against the
    chosen pipeline of its (target, budget), over their common seeds."""
    by_seed = errors_by_seed(runs)
    comparisons = []
    for row in table.itertuples(index=False):
        best = table[(table["target"] == row.target) & (table["budget"] == row.budget) & table["chosen"]]
        if best.empty or pd.isna(row.median_rel_err):
            comparisons.append((np.nan, np.nan, "–"))
            continue
        best_key = tuple(best.iloc[0][RANKED])
        key = tuple(getattr(row, k) for k in RANKED)
        factor, p, n = (1.0, 1.0, len(by_seed[key])) if key == best_key else paired_comparison(
            by_seed[best_key], by_seed[key])
        comparisons.append((factor, p, verdict(factor, p, n)))
    table[["vs_best_factor", "vs_best_p", "vs_best"]] = pd.DataFrame(comparisons, index=table.index)
    return table


def tuning_table(runs):
    """One row per tuned pipeline: its search (trials, steps per trial, best validation error, seconds) and the
    settings it chose."""
    columns = PIPELINE + ["trials", "search_steps", "val_error", "seconds", "tuned_settings"]
    if "tuning.trials" not in runs:
        return pd.DataFrame(columns=columns)
    tuned = runs[runs["tuning.trials"].notna()].drop_duplicates(PIPELINE)
    search = {k: tuned[f"tuning.{k}"] for k in ("trials", "search_steps", "val_error", "seconds")}
    table = tuned[PIPELINE].assign(**search, tuned_settings=tuned["tuned_settings"])
    return table[columns].astype({"trials": int}).reset_index(drop=True)


def convergence_table(runs, ranked):
    """Per pipeline with a learning curve: mean steps and seconds to a median relative error of 10 % and 1 %,
    over the ok seeds that got there, and how many got there; in ranking order."""
    rows = []
    curved = runs[(runs["status"] == "ok") & runs["has_curve"]]
    for key, group in curved.groupby(RANKED, sort=False):
        row = {**dict(zip(RANKED, key)), "ok": len(group)}
        for level in ("10pct", "1pct"):
            reached = group[group[f"steps_to_{level}"].notna()]
            row |= {f"reached_{level}": len(reached), f"steps_to_{level}": reached[f"steps_to_{level}"].mean(),
                    f"seconds_to_{level}": reached[f"seconds_to_{level}"].mean()}
        rows.append(row)
    columns = RANKED + ["ok"] + [f"{k}_{level}" for level in ("10pct", "1pct")
                                 for k in ("reached", "steps_to", "seconds_to")]
    table = pd.DataFrame(rows, columns=columns)
    order = ranked[RANKED].reset_index().rename(columns={"index": "order"})
    return table.merge(order, on=RANKED).sort_values("order").drop(columns="order").reset_index(drop=True)


def throughput_table(runs):
    """Per model, device and ensemble size: mean training and inference samples/s per model, the ensemble's
    training samples/s (one batched pass trains all its members) and training GFLOP/s where recorded."""
    measured = runs[runs["train_samples_per_s"].notna()]
    table = (measured.groupby(["model", "device", "ensemble_size"], sort=False)
             .agg(runs=("seed", "size"), train_samples_per_s=("train_samples_per_s", "mean"),
                  infer_samples_per_s=("infer_samples_per_s", "mean"), train_gflops=("train_gflops", "mean"))
             .reset_index())
    table["ensemble_train_samples_per_s"] = table["train_samples_per_s"] * table["ensemble_size"]
    return table.sort_values("train_samples_per_s", ascending=False).reset_index(drop=True)


def not_ok_table(runs):
    """The runs that failed (frames.is_failure: diverged, failed, or failed on their test set alone), with their
    error messages."""
    columns = PIPELINE + ["seed", "status", "error"]
    return runs.loc[runs["failure"], columns].sort_values(columns[:5]).reset_index(drop=True)


def environment_table(runs):
    """Each environment field with the distinct values the records carry, and the dates the runs finished."""
    fields = [c for c in runs.columns if c.startswith("env.")]
    rows = [{"field": c.removeprefix("env."), "value": ", ".join(sorted(runs[c].dropna().astype(str).unique()))}
            for c in fields]
    finished = runs["finished"].dropna().astype(str)
    if not finished.empty:
        first, last = finished.min()[:10], finished.max()[:10]
        rows.append({"field": "finished", "value": first if first == last else f"{first} to {last}"})
    return pd.DataFrame(rows, columns=["field", "value"])


def is_cpu(device):
    return isinstance(device, str) and device.lower().startswith("cpu")


def pipeline_text(encoding, target_encoding, model):
    return f"{model}, {encoding} inputs, target encoding {target_encoding}"


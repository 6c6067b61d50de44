"""Aggregation: pure functions of the runs frame (rankings, headlines, convergence, throughput, environment)."""

import numpy as np
import pandas as pd

from bench.report.frames import ASKER, MLP, PIPELINE
from bench.report.stats import geometric_interval, paired_comparison, verdict


def ranking(runs):
    """One row per pipeline: its runs, ok and not-ok counts, the geometric mean over ok seeds of each error
    (median relative error with a 95 % interval on log10), mean R², ≤ 1 % share and solved share, its budget
    and tuned settings, its integer rank within the target (1 = lowest; pipelines without ok runs last), and
    a paired comparison with the target's best pipeline over their common seeds (factor, p, verdict)."""
    rows = []
    for key, group in runs.groupby(PIPELINE, sort=False):
        ok = group[group["status"] == "ok"]
        mean, low, high = geometric_interval(ok["median_rel_err"])
        rows.append({**dict(zip(PIPELINE, key)), "runs": len(group), "ok": len(ok),
                     "diverged": int((group["status"] == "diverged").sum()),
                     "failed": int((group["status"] == "failed").sum()), "median_rel_err": mean, "ci_low": low,
                     "ci_high": high, **{m: geometric_interval(ok[m])[0] for m in ("p90_rel_err", "p99_rel_err")},
                     **{m: ok[m].mean() for m in ("r2", "acc_1pct", "solved", "norm_l1")},
                     "steps": group["steps"].iloc[0], "lbfgs_iters": group["lbfgs_iters"].iloc[0],
                     "tuned_settings": group["tuned_settings"].iloc[0],
                     "device": ", ".join(sorted((ok if len(ok) else group)["device"].dropna().unique()))})
    table = pd.DataFrame(rows)
    table["not_ok"] = table["diverged"] + table["failed"]
    table["rank"] = table.groupby("target")["median_rel_err"].rank(method="min").astype("Int64")
    table = table.sort_values(["target", "median_rel_err"], na_position="last", kind="stable").reset_index(drop=True)
    return compare_with_best(table, runs)


def compare_with_best(table, runs):
    """Add vs_best_factor, vs_best_p and vs_best (best, tie, worse or n=k) per pipeline of each target."""
    by_seed = {key: group[group["status"] == "ok"].set_index("seed")["median_rel_err"]
               for key, group in runs.groupby(PIPELINE, sort=False)}
    comparisons = []
    for row in table.itertuples(index=False):
        best = table[(table["target"] == row.target) & table["median_rel_err"].notna()]
        if best.empty or pd.isna(row.median_rel_err):
            comparisons.append((np.nan, np.nan, "–"))
            continue
        best_key = tuple(best.iloc[0][PIPELINE])
        key = tuple(getattr(row, k) for k in PIPELINE)
        factor, p, n = (1.0, 1.0, len(by_seed[key])) if key == best_key else paired_comparison(
            by_seed[best_key], by_seed[key])
        comparisons.append((factor, p, verdict(factor, p, n)))
    table[["vs_best_factor", "vs_best_p", "vs_best"]] = pd.DataFrame(comparisons, index=table.index)
    return table


HEADLINE_FIELDS = ["encoding", "target_encoding", "model", "ok", "median_rel_err", "ci_low", "ci_high", "steps",
                   "lbfgs_iters", "tuned_settings", "device"]


def headlines(ranked):
    """Per target: the best pipeline; the best pipeline of the shared `mlp` (when the best is another model);
    and, as rivals with the factor by which they are worse, the best raw-input pipeline of the best model (of
    `mlp`, when that is the best `mlp`'s rival) and the best seed-asker pipeline."""
    rows = []
    for target, table in ranked.groupby("target", sort=False):
        table = table.dropna(subset=["median_rel_err"])
        if table.empty:
            continue
        complete = table[table["ok"] == table["runs"]]  # a pipeline that diverged on some seeds cannot win
        candidates = (complete if len(complete) else table).sort_values("median_rel_err")
        best = candidates.iloc[0]
        row = {"target": target, **{k: best[k] for k in HEADLINE_FIELDS}}
        mlps = candidates[candidates["model"] == MLP]
        shared = mlps.iloc[0] if best["model"] != MLP and len(mlps) else None
        row |= {f"mlp_{k}": None if shared is None else shared[k] for k in HEADLINE_FIELDS}
        lead = best if shared is None else shared
        raw = table[(table["model"] == lead["model"]) & (table["encoding"] == "raw")]
        for name, rivals, than in (("raw", raw if lead["encoding"] != "raw" else raw.iloc[:0], lead),
                                   ("asker", table[table["model"] == ASKER], best)):
            rival = rivals.loc[rivals["median_rel_err"].idxmin()] if not rivals.empty else None
            row |= {f"{name}_encoding": None if rival is None else rival["encoding"],
                    f"{name}_target_encoding": None if rival is None else rival["target_encoding"],
                    f"{name}_median_rel_err": np.nan if rival is None else rival["median_rel_err"],
                    f"factor_vs_{name}": np.nan if rival is None else rival["median_rel_err"] / than["median_rel_err"]}
        rows.append(row)
    return pd.DataFrame(rows)


def tuning_table(runs):
    """One row per tuned pipeline: its search (trials, steps per trial, best validation error, seconds) and the
    settings it chose."""
    columns = PIPELINE + ["trials", "search_steps", "val_median_rel_err", "seconds", "tuned_settings"]
    if "tuning.trials" not in runs:
        return pd.DataFrame(columns=columns)
    tuned = runs[runs["tuning.trials"].notna()].drop_duplicates(PIPELINE)
    search = {k: tuned[f"tuning.{k}"] for k in ("trials", "search_steps", "val_median_rel_err", "seconds")}
    table = tuned[PIPELINE].assign(**search, tuned_settings=tuned["tuned_settings"])
    return table[columns].astype({"trials": int}).reset_index(drop=True)


def convergence_table(runs, ranked):
    """Per pipeline with a learning curve: mean steps and seconds to a median relative error of 10 % and 1 %,
    over the ok seeds that got there, and how many got there; in ranking order."""
    rows = []
    curved = runs[(runs["status"] == "ok") & runs["has_curve"]]
    for key, group in curved.groupby(PIPELINE, sort=False):
        row = {**dict(zip(PIPELINE, key)), "ok": len(group)}
        for level in ("10pct", "1pct"):
            reached = group[group[f"steps_to_{level}"].notna()]
            row |= {f"reached_{level}": len(reached), f"steps_to_{level}": reached[f"steps_to_{level}"].mean(),
                    f"seconds_to_{level}": reached[f"seconds_to_{level}"].mean()}
        rows.append(row)
    columns = PIPELINE + ["ok"] + [f"{k}_{level}" for level in ("10pct", "1pct")
                                   for k in ("reached", "steps_to", "seconds_to")]
    table = pd.DataFrame(rows, columns=columns)
    order = ranked[PIPELINE].reset_index().rename(columns={"index": "order"})
    return table.merge(order, on=PIPELINE).sort_values("order").drop(columns="order").reset_index(drop=True)


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
    """The runs that diverged or failed, with their error messages."""
    columns = PIPELINE + ["seed", "status", "error"]
    return runs.loc[runs["status"] != "ok", columns].sort_values(columns[:5]).reset_index(drop=True)


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


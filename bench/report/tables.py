"""Aggregation: pure functions of the runs frame (rankings, headlines, convergence, throughput, environment)."""

import numpy as np
import pandas as pd
from scipy import stats

from bench.report.frames import ASKER, METRICS, PIPELINE


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


def status_note(statuses):
    """'1 diverged, 2 failed' for the runs that are not ok; '' when all are."""
    counts = statuses[statuses != "ok"].value_counts().sort_index()
    return ", ".join(f"{n} {status}" for status, n in counts.items())


def ranking(runs):
    """One row per pipeline: runs, ok runs, mean metrics over ok seeds with a 95 % interval of the median
    relative error, and its rank within the target (1 = lowest mean; pipelines without ok runs last)."""
    rows = []
    for key, group in runs.groupby(PIPELINE, sort=False):
        ok = group[group["status"] == "ok"]
        mean, low, high = mean_interval(ok["median_rel_err"])
        rows.append({**dict(zip(PIPELINE, key)), "runs": len(group), "ok": len(ok),
                     "not_ok": status_note(group["status"]), "median_rel_err": mean, "ci_low": low,
                     "ci_high": high, **{m: ok[m].mean() for m in METRICS[1:]},
                     "device": ", ".join(sorted((ok if len(ok) else group)["device"].dropna().unique()))})
    table = pd.DataFrame(rows)
    table["rank"] = table.groupby("target")["median_rel_err"].rank(method="min")
    return table.sort_values(["target", "median_rel_err"], na_position="last", kind="stable").reset_index(drop=True)


def headlines(ranked):
    """Per target: the best pipeline; the best raw-input pipeline of the same model and the best seed-asker
    pipeline, each with the factor by which the best one's error is lower."""
    rows = []
    for target, table in ranked.groupby("target", sort=False):
        table = table.dropna(subset=["median_rel_err"])
        if table.empty:
            continue
        complete = table[table["ok"] == table["runs"]]  # a pipeline that diverged on some seeds cannot win
        best = (complete if len(complete) else table).sort_values("median_rel_err").iloc[0]
        row = {"target": target, **{k: best[k] for k in ["encoding", "target_encoding", "model", "ok",
                                                         "median_rel_err", "ci_low", "ci_high", "device"]}}
        for name, rivals in (("raw", table[(table["model"] == best["model"]) & (table["encoding"] == "raw")]),
                             ("asker", table[table["model"] == ASKER])):
            rival = rivals.loc[rivals["median_rel_err"].idxmin()] if not rivals.empty else None
            row |= {f"{name}_encoding": None if rival is None else rival["encoding"],
                    f"{name}_target_encoding": None if rival is None else rival["target_encoding"],
                    f"{name}_median_rel_err": np.nan if rival is None else rival["median_rel_err"],
                    f"factor_vs_{name}": np.nan if rival is None else rival["median_rel_err"] / best["median_rel_err"]}
        rows.append(row)
    return pd.DataFrame(rows)


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


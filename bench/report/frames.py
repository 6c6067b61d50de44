"""Records to pandas frames: one row per run, per learning-curve point, per error quantile."""

import json
from collections import Counter

import numpy as np
import pandas as pd

from bench.encodings import DEFAULT_INPUT_ENCODINGS, INPUT_ENCODINGS
from bench.records import load_frame

PIPELINE = ["target", "encoding", "target_encoding", "model", "device_type"]  # CPU and GPU runs never pool
METRICS = ["median_rel_err", "p90_rel_err", "p99_rel_err", "r2", "acc_1pct", "solved", "norm_l1"]
CONVERGENCE = ["steps_to_10pct", "seconds_to_10pct", "steps_to_1pct", "seconds_to_1pct"]
THROUGHPUT = ["ensemble_size", "train_samples_per_s", "infer_samples_per_s", "train_gflops", "train_seconds"]
ASKER = "seed-asker"  # the question's own recipe: the reference the headline compares against
MLP = "mlp"  # the shared regressor: the headline names its best pipeline too
ENCODING_ORDER = DEFAULT_INPUT_ENCODINGS + [e for e in INPUT_ENCODINGS if e not in DEFAULT_INPUT_ENCODINGS]
REL_ERR = "relative error |ŷ − y| / |y|"
FLOAT_FORMAT = "%.6g"  # every CSV float: a fixed format, so a re-render on another machine writes the same bytes


def pipeline_of(record):
    """A record's pipeline: PIPELINE's values (the device type from its config; CPU for older records)."""
    return {k: record["config"].get("device_type", "cpu") if k == "device_type" else record[k] for k in PIPELINE}


def runs_frame(records):
    """One row per run: pipeline, seed, status, error, metrics, convergence, throughput, device, has_curve."""
    frame = load_frame(records)
    prefixes = ("metrics.", "convergence.", "throughput.")
    frame = frame.rename(columns={c: c.split(".", 1)[1] for c in frame.columns if c.startswith(prefixes)})
    frame = frame.drop(columns=[c for c in ("metrics", "convergence", "throughput") if c in frame])
    for column in METRICS + CONVERGENCE + THROUGHPUT:
        if column not in frame:
            frame[column] = np.nan
    if "kept_step" not in frame:
        frame["kept_step"] = np.nan
    for column in ("device", "env.device", "error", "finished"):
        if column not in frame:
            frame[column] = pd.Series(None, index=frame.index, dtype=object)
    frame["solved"] = frame["solved"].astype(float)
    frame["device"] = frame["device"].fillna(frame["env.device"])
    frame["has_curve"] = [bool(r.get("curve")) for r in records]
    frame["device_type"] = [pipeline_of(r)["device_type"] for r in records]
    not_ok = frame["status"] != "ok"
    frame.loc[not_ok, "error"] = frame.loc[not_ok, "error"].fillna("(no message recorded)")
    frame["steps"] = [budget(r) for r in records]
    frame["lbfgs_iters"] = [lbfgs_iters(r) for r in records]
    frame["tuned"] = ["tuned" in r["config"] for r in records]
    frame["tuned_settings"] = [tuned_settings(r) for r in records]
    return frame


def tuned_settings(record):
    """'lr=0.0031, width=128, ...': the searched settings a tuned run uses ('' for an untuned run)."""
    searched = (record.get("tuning") or {}).get("params", {})
    settings = record["config"]["settings"]
    return ", ".join(f"{k}={settings[k]:.3g}" if isinstance(settings[k], float) else f"{k}={settings[k]}"
                     for k in searched if k in settings)


def curves_frame(records):
    """The learning curves of the ok runs, one row per evaluation point."""
    rows = [{**pipeline_of(r), "seed": r["seed"], **point}
            for r in records if r["status"] == "ok" for point in r.get("curve") or []]
    return pd.DataFrame(rows, columns=PIPELINE + ["seed", "step", "seconds", "samples", "median_rel_err"])


def quantiles_frame(records):
    """The stored quantiles of per-point relative error (record key rel_err_quantiles), one row per level."""
    rows = [{**pipeline_of(r), "seed": r["seed"], "level": level, "rel_err": value}
            for r in records if r["status"] == "ok" and r.get("rel_err_quantiles")
            for level, value in zip(r["rel_err_quantiles"]["levels"], r["rel_err_quantiles"]["rel_err"])]
    return pd.DataFrame(rows, columns=PIPELINE + ["seed", "level", "rel_err"])



def lbfgs_iters(record):
    """A run's L-BFGS polish iterations (0: not polished)."""
    return record.get("config", {}).get("settings", {}).get("lbfgs_iters", 0)


def budget(record):
    """A run's training budget in optimizer updates: steps, plus L-BFGS polish iterations for a polished mlp
    (None for models without steps)."""
    steps = record.get("config", {}).get("settings", {}).get("steps")
    return None if steps is None else steps + lbfgs_iters(record)


def budget_key(record):
    """(updates, L-BFGS iterations): what tells two budgets apart, ordered by size (0 for no steps)."""
    return budget(record) or 0, lbfgs_iters(record)


def best_budget(records):
    """Per pipeline, the runs at the budget whose validation error is lowest (geometric mean over its ok runs;
    the larger budget on a tie) and, among those, of its most common settings (runs under other settings are
    not more seeds of the same pipeline); and how many runs were left out. The budget is chosen on
    validation like every other choice: a longer run is not always better (its settings may have been tuned
    for a shorter one)."""
    def settings(record):
        return json.dumps(record.get("config", {}).get("settings"), sort_keys=True)

    def pipeline(record):
        return tuple(pipeline_of(record).values())

    errors = {}
    for r in records:
        error = r.get("val_median_rel_err") if r.get("status") == "ok" else None
        errors.setdefault((pipeline(r), budget_key(r)), []).append(np.inf if error is None else max(error, 1e-300))
    chosen_budget = {}
    for (key, steps), values in sorted(errors.items(), key=lambda item: item[0][1], reverse=True):
        score = float(np.exp(np.mean(np.log(values))))
        if key not in chosen_budget or score < chosen_budget[key][1]:
            chosen_budget[key] = (steps, score)
    at_budget = [r for r in records if budget_key(r) == chosen_budget[pipeline(r)][0]]
    chosen = {}
    for (key, setting), _ in Counter((pipeline(r), settings(r)) for r in at_budget).most_common():
        chosen.setdefault(key, setting)
    kept = [r for r in at_budget if chosen[pipeline(r)] == settings(r)]
    return kept, len(records) - len(kept)


def ordered(values, preferred):
    """The distinct values, those in `preferred` first and in its order, then the rest sorted."""
    values = set(values)
    return [v for v in preferred if v in values] + sorted(values - set(preferred))

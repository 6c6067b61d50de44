"""Records to pandas frames: one row per run, per learning-curve point, per error quantile."""

import numpy as np
import pandas as pd

from bench.encodings import DEFAULT_INPUT_ENCODINGS, INPUT_ENCODINGS
from bench.errors import UserError
from bench.records import config_key, load_frame

PIPELINE = ["target", "encoding", "target_encoding", "model", "device_type"]  # CPU and GPU runs never pool
METRICS = ["median_rel_err", "p90_rel_err", "p99_rel_err", "r2", "acc_1pct", "solved", "norm_l1", "nonfinite_share"]
CONVERGENCE = ["steps_to_10pct", "seconds_to_10pct", "steps_to_1pct", "seconds_to_1pct"]
THROUGHPUT = ["ensemble_size", "train_samples_per_s", "infer_samples_per_s", "train_gflops", "train_seconds"]
ASKER = "seed-asker"  # the question's own recipe: the reference the headline compares against
MLP = "mlp"  # the shared regressor: the headline names its best pipeline too
ENCODING_ORDER = DEFAULT_INPUT_ENCODINGS + [e for e in INPUT_ENCODINGS if e not in DEFAULT_INPUT_ENCODINGS]
REL_ERR = "relative error |ŷ − y| / |y|"
FLOAT_FORMAT = "%.6g"  # every CSV float: a fixed format, so a re-render on another machine writes the same bytes


def fmt(value, digits=3):
    """A number to `digits` significant digits for the pages; '–' for a missing one."""
    return "–" if value is None or pd.isna(value) else f"{value:.{digits}g}"


def joined(items):
    """'a', 'a and b', 'a, b and c'."""
    items = [str(i) for i in items]
    return items[0] if len(items) == 1 else ", ".join(items[:-1]) + " and " + items[-1]


def pipeline_of(record):
    """A record's pipeline: PIPELINE's values (the device type from its config; CPU for older records)."""
    return {k: record["config"].get("device_type", "cpu") if k == "device_type" else record[k] for k in PIPELINE}


def runs_frame(records):
    """One row per run: pipeline, seed, status, error, metrics, convergence, throughput, device, has_curve,
    failure; a failure carries the metrics FAILURE_RULE gives it (its status still says what happened)."""
    frame = load_frame(records)
    prefixes = ("metrics.", "convergence.", "throughput.")
    frame = frame.rename(columns={c: c.split(".", 1)[1] for c in frame.columns if c.startswith(prefixes)})
    frame = frame.drop(columns=[c for c in ("metrics", "convergence", "throughput") if c in frame])
    for column in METRICS + CONVERGENCE + THROUGHPUT:
        if column not in frame:
            frame[column] = np.nan
    if "kept_step" not in frame:
        frame["kept_step"] = np.nan
    frame["val_error"] = [validation_of(r) for r in records]
    for column in ("device", "env.device", "error", "finished"):
        if column not in frame:
            frame[column] = pd.Series(None, index=frame.index, dtype=object)
    frame["solved"] = frame["solved"].astype(float)
    frame["device"] = frame["device"].fillna(frame["env.device"])
    frame["has_curve"] = [bool(r.get("curve")) for r in records]
    frame["device_type"] = [pipeline_of(r)["device_type"] for r in records]
    frame["failure"] = is_failure(frame)
    frame.loc[frame["failure"], "error"] = frame.loc[frame["failure"], "error"].fillna("(no message recorded)")
    frame["steps"] = [budget(r) for r in records]
    frame["budget"] = [record_budget(r) for r in records]
    frame["settings_key"] = [settings_key(r) for r in records]
    frame["lbfgs_iters"] = [lbfgs_iters(r) for r in records]
    frame["tuned"] = ["tuned" in r["config"] for r in records]
    frame["tuned_settings"] = [tuned_settings(r) for r in records]
    return with_failures_counted(frame)


def is_failure(frame):
    """Per run (a frame with `status` and `nonfinite_share`): it diverged or failed, or it is ok (its training and
    validation went well, so it can be chosen) but a test prediction is not finite. Records made before
    `nonfinite_share` have none: an ok one then had every test prediction finite."""
    share = frame["nonfinite_share"].fillna(0) if "nonfinite_share" in frame else 0
    return (frame["status"] != "ok") | (share > 0)


def validation_of(record):
    """A run's validation error: inf when it was not finite (JSON keeps it as null), NaN for a record made before
    records kept it (no `val_error` key: never chosen either)."""
    if "val_error" not in record:
        return np.nan
    return np.inf if record["val_error"] is None else record["val_error"]


def require_validation(records):
    """One line (UserError) when an ok record predates `val_error`: choices on its folder cannot be made."""
    stale = next((r for r in records if r["status"] == "ok" and "val_error" not in r), None)
    if stale is not None:
        raise UserError(f"a record of {stale['target']} holds no validation error (`val_error`, recorded since the "
                        "choice metric changed): rerun its sweep into a new folder to compare on validation")


def settings_key(record):
    """A short hash of a run's settings: runs of one pipeline and budget under other settings are not seeds of it."""
    return config_key(record.get("config", {}).get("settings", {}))[:8]


def tuned_settings(record):
    """'lr=0.0031, width=128, ...': the searched settings a tuned run uses ('' for an untuned run)."""
    searched = (record.get("tuning") or {}).get("params", {})
    settings = record["config"]["settings"]
    return ", ".join(f"{k}={settings[k]:.3g}" if isinstance(settings[k], float) else f"{k}={settings[k]}"
                     for k in searched if k in settings)


def curves_frame(records):
    """The learning curves of the ok runs, one row per evaluation point."""
    rows = [{**pipeline_of(r), "budget": record_budget(r), "seed": r["seed"], **point}
            for r in records if r["status"] == "ok" for point in r.get("curve") or []]
    return pd.DataFrame(rows, columns=PIPELINE + ["budget", "seed", "step", "seconds", "samples", "median_rel_err"])


def quantiles_frame(records):
    """The stored quantiles of per-point relative error (record key rel_err_quantiles), one row per level."""
    rows = [{**pipeline_of(r), "budget": record_budget(r), "seed": r["seed"], "level": level, "rel_err": value}
            for r in records if r["status"] == "ok" and r.get("rel_err_quantiles")
            for level, value in zip(r["rel_err_quantiles"]["levels"], r["rel_err_quantiles"]["rel_err"])]
    return pd.DataFrame(rows, columns=PIPELINE + ["budget", "seed", "level", "rel_err"])



def lbfgs_iters(record):
    """A run's L-BFGS iterations after Adam (the mlp's `lbfgs_iters`, the question recipes' `polish_iters`; 0:
    not polished)."""
    settings = record.get("config", {}).get("settings", {})
    return settings.get("lbfgs_iters") or settings.get("polish_iters") or 0


def budget(record):
    """A run's training budget in optimizer updates: steps, plus L-BFGS polish iterations for a polished mlp
    (None for models without steps)."""
    steps = record.get("config", {}).get("settings", {}).get("steps")
    return None if steps is None else steps + lbfgs_iters(record)


OWN_BUDGET = "own budget"  # models without training steps (trees, Operon, ...): each at its authors' budget


def budget_label(steps, lbfgs=0):
    """'800 steps', '4,000 steps + 3,000 L-BFGS' (`steps` counts both), or OWN_BUDGET without steps. Pipelines
    are compared and ranked only within one budget."""
    if steps is None or pd.isna(steps):
        return OWN_BUDGET
    polish = 0 if lbfgs is None or pd.isna(lbfgs) else int(lbfgs)
    return f"{steps - polish:,.0f} steps" + (f" + {polish:,.0f} L-BFGS" if polish else "")


def record_budget(record):
    return budget_label(budget(record), lbfgs_iters(record))


# How a failure enters means, ranks and paired tests (with_failures_counted).
FAILURE_RULE = ("A run that diverged or failed, or whose test predictions are not finite, counts as a failure, never "
                "dropped: the worst relative error of any run on its target (at least 1, what predicting 0 scores), "
                "R² = −inf, not solved. Its status comes from training and validation alone: a run that diverged or "
                "failed has an infinite validation error (never chosen), while one that failed on its test set only "
                "keeps its validation error, so a choice made on validation stands and the pipeline chosen is "
                "charged with the failure.")
WORST_IS_HIGH = ["median_rel_err", "p90_rel_err", "p99_rel_err", "norm_l1"]


def with_failures_counted(runs, by=("target",)):
    """The runs (a frame with `status` and the metrics it has) with every failure's (is_failure) metrics set by
    FAILURE_RULE, the worst taken over the runs that are not failures and share its values of `by`."""
    runs = runs.copy()
    failed = is_failure(runs)
    for _, group in runs.groupby(list(by), sort=False, dropna=False):
        rows = group.index[failed[group.index]]
        done = group[~failed[group.index]]
        for metric in (m for m in WORST_IS_HIGH if m in runs):
            worst = done[metric].max()
            runs.loc[rows, metric] = max(1.0, worst) if pd.notna(worst) else (np.nan if metric == "norm_l1" else 1.0)
        runs.loc[rows, "r2"] = -np.inf
        runs.loc[rows, [c for c in ("acc_1pct", "solved") if c in runs]] = 0.0
    if "val_error" in runs:
        runs.loc[runs["status"] != "ok", "val_error"] = np.inf
    return runs


def common_budget(runs):
    """{(target, model): the budget most of the model's pipelines ran at (the larger on a tie)}: where a
    model's pipelines compare at equal budgets (figures and the equal-budget factor use it)."""
    chosen = {}
    for (target, model), group in runs.drop_duplicates(PIPELINE + ["budget"]).groupby(["target", "model"], sort=False):
        counts = group.groupby("budget").agg(pipelines=("encoding", "size"), steps=("steps", "max"))
        chosen[target, model] = counts.sort_values(["pipelines", "steps"], na_position="first").index[-1]
    return chosen


def at_common_budget(frame, budgets=None):
    """The rows of `frame` (runs, curve points, ...) at their model's common budget (`budgets`, from
    common_budget; by default the frame's own)."""
    budgets = common_budget(frame) if budgets is None else budgets
    keep = [budgets.get((t, m)) == b for t, m, b in zip(frame["target"], frame["model"], frame["budget"])]
    return frame[np.array(keep, dtype=bool)]


def ordered(values, preferred):
    """The distinct values, those in `preferred` first and in its order, then the rest sorted."""
    values = set(values)
    return [v for v in preferred if v in values] + sorted(values - set(preferred))

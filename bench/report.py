"""python -m bench.report: tables, plots and summary.md from the run records in <out>/runs.

It reads records only. When the folder has none yet, it first runs a sweep (the default one, or a smaller
one with --quick) through bench.run, then reports on what that sweep wrote.
"""

import json
import os
import shlex
import sys
from collections import Counter
from dataclasses import dataclass
from pathlib import Path

import matplotlib
import matplotlib.pyplot as plt
import numpy as np
import pandas as pd
import seaborn as sns
from matplotlib.colors import LogNorm
from matplotlib.ticker import FormatStrFormatter, LogLocator, NullLocator
from scipy import stats

from bench import cli
from bench.encodings import INPUT_ENCODINGS, TARGET_ENCODINGS
from bench.errors import UserError
from bench.records import ensure_writable, load_frame, load_records, runs_dir
from bench.registry import MODELS
from bench.run import DEFAULT_ENCODINGS

matplotlib.use("Agg")  # files only, never a window


@dataclass(frozen=True)
class Sweep:
    """bench.run command lines (without --out) that fill an empty results folder, and their cost."""

    name: str
    commands: tuple  # each a tuple of bench.run arguments
    minutes: int  # about how long on 2 CPU cores


TARGETS = ("--targets", "seed,seed-coded")
# The default sweep: every input encoding x every target encoding on the shared mlp (one batched ensemble per
# target and seed), the question's two recipes, and the fast scikit-learn baselines; 3 seeds throughout.
DEFAULT_SWEEP = Sweep("default", (
    (*TARGETS, "--encodings", "raw,minmax,standard,log,asinh,product+log,quantile,power,ple,periodic",
     "--target-encodings", "none,standard,asinh,quantile", "--models", "mlp", "--seeds", "3", "--steps", "2000"),
    (*TARGETS, "--encodings", "raw,standard", "--target-encodings", "none", "--models", "seed-asker,seed-answer",
     "--seeds", "3", "--steps", "2000"),
    (*TARGETS, "--encodings", "raw,log", "--target-encodings", "none,asinh", "--models", "linear,ridge,hgb,knn",
     "--seeds", "3", "--train-size", "20000"),
), minutes=10)
QUICK_SWEEP = Sweep("quick", (
    (*TARGETS, "--encodings", "raw,standard,log", "--target-encodings", "none,asinh",
     "--models", "mlp,seed-asker,linear,hgb", "--seeds", "2", "--steps", "1500", "--train-size", "20000",
     "--test-size", "20000"),
), minutes=1)

PIPELINE = ["target", "encoding", "target_encoding", "model"]
METRICS = ["median_rel_err", "p90_rel_err", "p99_rel_err", "r2", "acc_1pct", "solved", "norm_l1"]
CONVERGENCE = ["steps_to_10pct", "seconds_to_10pct", "steps_to_1pct", "seconds_to_1pct"]
THROUGHPUT = ["ensemble_size", "train_samples_per_s", "infer_samples_per_s", "train_gflops"]
ASKER = "seed-asker"  # the question's own recipe: the reference the headline compares against
ENCODING_ORDER = DEFAULT_ENCODINGS + [e for e in INPUT_ENCODINGS if e not in DEFAULT_ENCODINGS]
REL_ERR = "relative error |ŷ − y| / |y|"


# ---------------------------------------------------------------------------------------------------------
# Records -> frames


def runs_frame(records):
    """One row per run: pipeline, seed, status, error, metrics, convergence, throughput, device, has_curve."""
    frame = load_frame(records)
    prefixes = ("metrics.", "convergence.", "throughput.")
    frame = frame.rename(columns={c: c.split(".", 1)[1] for c in frame.columns if c.startswith(prefixes)})
    frame = frame.drop(columns=[c for c in ("metrics", "convergence", "throughput") if c in frame])
    for column in METRICS + CONVERGENCE + THROUGHPUT:
        if column not in frame:
            frame[column] = np.nan
    for column in ("device", "env.device", "error", "finished"):
        if column not in frame:
            frame[column] = pd.Series(None, index=frame.index, dtype=object)
    frame["solved"] = frame["solved"].astype(float)
    frame["device"] = frame["device"].fillna(frame["env.device"])
    frame["has_curve"] = [bool(r.get("curve")) for r in records]
    not_ok = frame["status"] != "ok"
    frame.loc[not_ok, "error"] = frame.loc[not_ok, "error"].fillna("(no message recorded)")
    return frame


def curves_frame(records):
    """The learning curves of the ok runs, one row per evaluation point."""
    rows = [{**{k: r[k] for k in PIPELINE + ["seed"]}, **point}
            for r in records if r["status"] == "ok" for point in r.get("curve") or []]
    return pd.DataFrame(rows, columns=PIPELINE + ["seed", "step", "seconds", "samples", "median_rel_err"])


def quantiles_frame(records):
    """The stored quantiles of per-point relative error (record key rel_err_quantiles), one row per level."""
    rows = [{**{k: r[k] for k in PIPELINE + ["seed"]}, "level": level, "rel_err": value}
            for r in records if r["status"] == "ok" and r.get("rel_err_quantiles")
            for level, value in zip(r["rel_err_quantiles"]["levels"], r["rel_err_quantiles"]["rel_err"])]
    return pd.DataFrame(rows, columns=PIPELINE + ["seed", "level", "rel_err"])


# ---------------------------------------------------------------------------------------------------------
# Aggregation: pure functions of the runs frame


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


# ---------------------------------------------------------------------------------------------------------
# The command that reproduces the records


def ordered(values, preferred):
    """The distinct values, those in `preferred` first and in its order, then the rest sorted."""
    values = set(values)
    return [v for v in preferred if v in values] + sorted(values - set(preferred))


def default_train_size(model):
    """The training draws a model uses when the sweep does not set them."""
    from bench.train import TrainConfig

    return MODELS[model].settings(TrainConfig(), None)["train_size"] if model in MODELS else None


def sweep_arguments(records):
    """bench.run arguments (without --out) rebuilt from the records' configs."""
    from bench.train import TrainConfig

    configs = [r["config"] for r in records]
    argv = ["--targets", ",".join(ordered([c["target"] for c in configs], [])),
            "--encodings", ",".join(ordered([c["encoding"] for c in configs], ENCODING_ORDER)),
            "--target-encodings", ",".join(ordered([c["target_encoding"] for c in configs], TARGET_ENCODINGS)),
            "--models", ",".join(ordered([c["model"] for c in configs], MODELS)),
            "--seeds", str(max(c["seed"] for c in configs) + 1)]
    settings = {}
    for config in configs:
        for key, value in config["settings"].items():
            settings.setdefault(key, set()).add(value)
    for key in ("steps", "test_size"):
        if len(settings.get(key, ())) == 1:
            argv += [f"--{key.replace('_', '-')}", str(next(iter(settings[key])))]
    defaults = TrainConfig()
    for key in TrainConfig.field_names():
        values = settings.get(key, set())
        if key not in ("steps", "test_size", "train_size") and len(values) == 1 and values != {getattr(defaults, key)}:
            argv += ["--set", f"{key}={next(iter(values))}"]
    sizes = {c["settings"].get("train_size") for c in configs}
    if len(sizes) == 1 and any(c["settings"].get("train_size") != default_train_size(c["model"]) for c in configs):
        argv += ["--train-size", str(sizes.pop())]
    else:
        mlp = {c["settings"].get("train_size") for c in configs if c["model"] == "mlp"}
        if len(mlp) == 1 and mlp != {defaults.train_size}:
            argv += ["--set", f"train_size={mlp.pop()}"]
    return argv


def planned_keys(argv, device="cpu"):
    """The record keys that `python -m bench.run ARGV` plans on `device`; None when it cannot plan them
    (targets that are not built in, models or encodings this version does not know)."""
    from bench.run import parser, train_config
    from bench.sweep import plan
    from bench.targets import load_targets

    try:
        args = parser().parse_args(argv)
        targets = load_targets(args.targets_file)
        cells, _ = plan([targets[n] for n in args.targets], args.encodings, args.target_encodings, args.models,
                        args.seeds, train_config(args), args.train_size, device)
    except (UserError, KeyError, SystemExit):
        return None
    return {c.key for c in cells}


def sweep_keys(sweep, device="cpu"):
    """Every record key a built-in sweep plans."""
    return set().union(*(planned_keys(list(command), device) or set() for command in sweep.commands))


def reproduction(records, out):
    """Markdown lines: the commands that reproduce the records (a built-in sweep's when they are exactly its
    runs, else one rebuilt from the configs), the report command, and how exactly they match."""
    recorded = {r["key"] for r in records}
    device = records[0]["config"].get("device_type", "cpu")
    for sweep in (DEFAULT_SWEEP, QUICK_SWEEP):
        if sweep_keys(sweep, device) == recorded:
            flag = " --quick" if sweep is QUICK_SWEEP else ""
            return ["```", *(f"python -m bench.run {shlex.join([*command, '--out', str(out)])}"
                             for command in sweep.commands),
                    f"python -m bench.report --out {shlex.quote(str(out))}", "```", "",
                    f"These are the {sweep.name} sweep's {len(recorded)} runs: `python -m bench.report{flag}` runs "
                    "exactly these commands when the results folder has no records."]
    argv = sweep_arguments(records) + (["--device", "cuda"] if device == "cuda" else [])
    planned = planned_keys(argv, device)
    if planned is None:
        note = ("This version cannot plan these runs again (targets that are not built in need --targets-file "
                "FILE; or a model or encoding is no longer registered).")
    elif planned == recorded:
        note = f"It plans exactly the {len(recorded)} runs recorded here (finished runs are skipped, not redone)."
    elif recorded <= planned:
        note = f"It plans {len(planned)} runs; {len(recorded)} of them are recorded here."
    else:
        note = (f"The records come from more than one sweep: this command plans {len(planned & recorded)} of the "
                f"{len(recorded)} recorded runs; the others used other settings (see config in each record).")
    return ["```", f"python -m bench.run {shlex.join(argv + ['--out', str(out)])}",
            f"python -m bench.report --out {shlex.quote(str(out))}", "```", "", note]


# ---------------------------------------------------------------------------------------------------------
# Plots: each returns a matplotlib figure, or None when the records hold nothing to draw

FIGURES = {"learning_curves": "learning curves of mlp per encoding and target encoding",
           "final_error": "final median relative error per encoding and target encoding",
           "heatmap": "median relative error per encoding and model",
           "ecdf": "ECDF of per-point relative error (from the error quantiles each record stores)",
           "throughput": "training and inference throughput"}


def log_ticks(axis, values):
    """Label a log axis at 1, 2, 5 × 10^k when the values span under three decades, else at decades."""
    values = values[values > 0]
    narrow = len(values) and np.log10(values.max() / values.min()) < 3
    axis.set_major_locator(LogLocator(subs=(1, 2, 5) if narrow else (1,)))
    axis.set_minor_locator(NullLocator())
    axis.set_major_formatter(FormatStrFormatter("%g"))


def legend_below(grid, title):
    """Move a FacetGrid's legend under its panels, in one row."""
    sns.move_legend(grid, "upper center", bbox_to_anchor=(0.5, 0), ncol=len(grid.legend.texts), title=title,
                    frameon=False)


def plot_learning_curves(curves, model="mlp", ceiling=1e3):
    """Median relative error vs training step, one line per encoding, a facet per target and target encoding;
    the y axis stops at `ceiling` so that early blow-ups do not flatten the rest."""
    data = curves[curves["model"] == model]
    if data.empty:
        return None
    grid = sns.relplot(data=data, x="step", y="median_rel_err", kind="line", errorbar=("pi", 100),
                       hue="encoding", hue_order=ordered(data["encoding"], ENCODING_ORDER),
                       row="target", row_order=sorted(data["target"].unique()),
                       col="target_encoding", col_order=ordered(data["target_encoding"], TARGET_ENCODINGS),
                       height=3, aspect=1.3, facet_kws={"margin_titles": True})
    grid.set(yscale="log")
    cut = data["median_rel_err"].max() > ceiling
    for ax in grid.axes.flat:
        for level in (0.1, 0.01):
            ax.axhline(level, color="grey", linestyle=":", linewidth=1)
        if cut:
            ax.set_ylim(top=ceiling)
    grid.set_axis_labels("training step", "median relative error")
    grid.set_titles(row_template="target {row_name}", col_template="target encoding {col_name}")
    legend_below(grid, "input encoding")
    grid.figure.suptitle(f"{model}: median {REL_ERR} on held-out points while training\n"
                         f"line: mean over {data['seed'].nunique()} seeds, band: min–max; dotted: 10 % and 1 %"
                         + (f"; y axis cut at {ceiling:g}" if cut else ""), y=1.0, va="bottom")
    return grid.figure


def plot_final_error(runs):
    """Final median relative error per encoding and target encoding, a row per model, a column per target."""
    data = runs[runs["status"] == "ok"]
    if data.empty:
        return None
    grid = sns.catplot(data=data, x="encoding", order=ordered(data["encoding"], ENCODING_ORDER),
                       y="median_rel_err", hue="target_encoding",
                       hue_order=ordered(data["target_encoding"], TARGET_ENCODINGS),
                       row="model", row_order=ordered(data["model"], MODELS), col="target",
                       col_order=sorted(data["target"].unique()), kind="point",
                       errorbar=("pi", 100), dodge=0.4 if data["target_encoding"].nunique() > 1 else False,
                       linestyle="none", height=2.4, aspect=2,
                       margin_titles=True)
    grid.set(yscale="log")
    for ax in grid.axes.flat:
        log_ticks(ax.yaxis, data["median_rel_err"])
        plt.setp(ax.get_xticklabels(), rotation=35, ha="right", rotation_mode="anchor")
    grid.set_axis_labels("input encoding", "median rel. error")
    grid.set_titles(row_template="{row_name}", col_template="target {col_name}")
    sns.move_legend(grid, "upper left", bbox_to_anchor=(1.0, 0.98), title="target encoding", frameon=False)
    grid.figure.suptitle(f"Final median {REL_ERR} on the test set\npoint: mean over seeds, bar: min–max",
                         y=1.0, va="bottom")
    return grid.figure


def plot_heatmap(ranked):
    """Mean median relative error per encoding × model (best target encoding), one panel per target."""
    data = ranked[ranked["median_rel_err"] > 0]
    if data.empty:
        return None
    best = data.groupby(["target", "encoding", "model"])["median_rel_err"].min().reset_index()
    targets = sorted(best["target"].unique())
    encodings, models = ordered(best["encoding"], ENCODING_ORDER), ordered(best["model"], MODELS)
    low, high = best["median_rel_err"].min(), best["median_rel_err"].max()
    norm = LogNorm(low, high if high > low else low * 10)
    fig, axes = plt.subplots(1, len(targets), figsize=(1.1 * len(models) * len(targets) + 2.5, 0.55 * len(encodings) + 2),
                             squeeze=False, constrained_layout=True)
    for i, (ax, target) in enumerate(zip(axes[0], targets)):
        table = (best[best["target"] == target].pivot(index="encoding", columns="model", values="median_rel_err")
                 .reindex(index=encodings, columns=models))
        last = i == len(targets) - 1
        sns.heatmap(table, ax=ax, norm=norm, cmap="viridis", annot=True, fmt=".2g", linewidths=0.5,
                    cbar=last, cbar_kws={"label": "median rel. error (log colour)"} if last else None)
        ax.grid(False)
        if last:
            log_ticks(ax.collections[0].colorbar.ax.yaxis, best["median_rel_err"])
        ax.set(title=f"target {target}", xlabel="model", ylabel="input encoding" if i == 0 else "")
        ax.tick_params(axis="x", rotation=30)
        ax.tick_params(axis="y", rotation=0)
    fig.suptitle(f"Mean median {REL_ERR}, best target encoding per cell\nblank: not run, or no ok run")
    return fig


def ecdf_lines(quantiles, heads):
    """Per target, the quantile curves to draw: the best pipeline, raw inputs on its model, and seed-asker
    (each pipeline once), as the median over seeds of each quantile (a Vincent average)."""
    parts = []
    for head in heads.to_dict("records"):
        roles = {}
        for role, prefix, model in (("best", "", head["model"]), ("raw inputs", "raw_", head["model"]),
                                    (ASKER, "asker_", ASKER)):
            pipeline = (head[f"{prefix}encoding"], head[f"{prefix}target_encoding"], model)
            if not pd.isna(pipeline[0]):
                roles.setdefault(pipeline, role)
        for (encoding, target_encoding, model), role in roles.items():
            chosen = quantiles[(quantiles["target"] == head["target"]) & (quantiles["encoding"] == encoding)
                               & (quantiles["target_encoding"] == target_encoding) & (quantiles["model"] == model)]
            line = chosen.groupby("level")["rel_err"].median().reset_index()
            parts.append(line.assign(target=head["target"], label=f"{role}: {pipeline_text(encoding, target_encoding, model)}"))
    lines = pd.concat(parts, ignore_index=True) if parts else pd.DataFrame()
    return None if lines.empty else lines


def plot_ecdf(quantiles, heads):
    """ECDF of per-point relative error (from stored quantiles): best pipeline vs raw inputs vs seed-asker."""
    lines = ecdf_lines(quantiles, heads)
    if lines is None:
        return None
    targets = sorted(lines["target"].unique())
    fig, axes = plt.subplots(1, len(targets), figsize=(max(7, 5.2 * len(targets)), 4.8), squeeze=False,
                             constrained_layout=True)
    for ax, target in zip(axes[0], targets):
        data = lines[(lines["target"] == target) & (lines["rel_err"] > 0) & np.isfinite(lines["rel_err"])]
        sns.lineplot(data=data, x="rel_err", y="level", hue="label", ax=ax, estimator=None, sort=True)
        ax.set(xscale="log", xlabel=REL_ERR, ylabel="share of test points with error ≤ x",
               title=f"target {target}", ylim=(0, 1))
        for level in (0.01, 0.1):
            ax.axvline(level, color="grey", linestyle=":", linewidth=1)
        ax.legend(title=None, loc="upper center", bbox_to_anchor=(0.5, -0.16), frameon=False)
    fig.suptitle("Distribution of the per-point relative error on the test set\n"
                 "median over seeds of each stored quantile; dotted: 1 % and 10 %")
    return fig


def short_rate(value):
    """1234567 -> '1.2M'."""
    for factor, suffix in ((1e9, "G"), (1e6, "M"), (1e3, "k")):
        if value >= factor:
            return f"{value / factor:.3g}{suffix}"
    return f"{value:.3g}"


def plot_throughput(table):
    """Training and inference samples/s of each model's job (log axis): an ensemble counts the samples of all
    its members, since one batched pass serves them all; labelled with device and ensemble size."""
    if table.empty:
        return None
    labels = [f"{r.model}\n{r.device}" + (f", ensemble of {r.ensemble_size:.0f}" if r.ensemble_size > 1 else "")
              for r in table.itertuples()]
    data = (table.assign(label=labels, training=table["train_samples_per_s"] * table["ensemble_size"],
                         inference=table["infer_samples_per_s"] * table["ensemble_size"])
            .melt(id_vars="label", value_vars=["training", "inference"], var_name="phase", value_name="rate"))
    fig, ax = plt.subplots(figsize=(8, 0.75 * len(table) + 1.5), constrained_layout=True)
    sns.barplot(data=data, y="label", x="rate", hue="phase", ax=ax, orient="h")
    ax.set_xscale("log")  # after drawing: barplot's own log_scale draws no bars with matplotlib 3.11
    for bars in ax.containers:
        ax.bar_label(bars, labels=[short_rate(bar.get_width()) for bar in bars], padding=3, fontsize="small")
    ax.set_xlim(right=ax.get_xlim()[1] * 3)  # room for the labels
    ax.set(xlabel="model-samples per second (log scale; an ensemble's members counted together)", ylabel="",
           title="Throughput per model family and device")
    sns.move_legend(ax, "upper left", bbox_to_anchor=(1.01, 1), title=None, frameon=False)
    return fig


# ---------------------------------------------------------------------------------------------------------
# summary.md


def fmt(value, digits=3):
    """A number to `digits` significant digits; '–' for a missing one."""
    return "–" if value is None or pd.isna(value) else f"{value:.{digits}g}"


def fmt_rate(value):
    return "–" if pd.isna(value) else f"{value:,.0f}"


def fmt_interval(low, high, n):
    if n < 2:
        return "–" if n == 0 else "n=1, no interval"
    return f"95 % interval {fmt(low)} to {fmt(high)}, n={n:.0f}"


def markdown_table(frame):
    """A GitHub markdown table of the frame's cells as text."""
    cells = frame.astype(str).map(lambda text: text.replace("|", "\\|").replace("\n", " "))
    lines = ["| " + " | ".join(frame.columns) + " |", "|" + "---|" * len(frame.columns)]
    return "\n".join(lines + ["| " + " | ".join(row) + " |" for row in cells.itertuples(index=False)])


def headline_text(head):
    """One paragraph: the best pipeline with its interval, and the factors over raw inputs and seed-asker."""
    text = (f"**Best: {pipeline_text(head['encoding'], head['target_encoding'], head['model'])}**, median "
            f"relative error **{fmt(head['median_rel_err'])}** "
            f"({fmt_interval(head['ci_low'], head['ci_high'], head['ok'])}).")
    if pd.notna(head["raw_median_rel_err"]):
        text += (f" {fmt(head['factor_vs_raw'])}× lower than raw inputs "
                 f"({pipeline_text('raw', head['raw_target_encoding'], head['model'])}: "
                 f"{fmt(head['raw_median_rel_err'])}).")
    if pd.notna(head["asker_median_rel_err"]):
        text += f" {fmt(head['factor_vs_asker'])}× lower than {ASKER} ({fmt(head['asker_median_rel_err'])})."
    if is_cpu(head["device"]):
        text += f" CPU result ({head['device']})."
    return text


def ranking_markdown(ranked):
    show = pd.DataFrame({
        "rank": ranked["rank"].map(lambda r: "–" if pd.isna(r) else f"{r:.0f}"),
        "encoding": ranked["encoding"], "target enc.": ranked["target_encoding"], "model": ranked["model"],
        "ok runs": [f"{ok}/{n}" + (f" ({note})" if note else "")
                    for ok, n, note in zip(ranked["ok"], ranked["runs"], ranked["not_ok"])],
        "median rel. err (mean)": ranked["median_rel_err"].map(fmt),
        "95 % interval": [fmt_interval(lo, hi, n).removeprefix("95 % interval ")
                          for lo, hi, n in zip(ranked["ci_low"], ranked["ci_high"], ranked["ok"])],
        "p90": ranked["p90_rel_err"].map(fmt), "p99": ranked["p99_rel_err"].map(fmt), "R²": ranked["r2"].map(fmt),
        "≤ 1 %": ranked["acc_1pct"].map(fmt), "solved": ranked["solved"].map(fmt)})
    if ranked["norm_l1"].notna().any():
        show["norm. L1"] = ranked["norm_l1"].map(fmt)
    return markdown_table(show.assign(device=ranked["device"]))


def convergence_markdown(table):
    def reached(level):
        return [f"{fmt_rate(steps)} steps, {fmt(seconds)} s ({k}/{n})" if k else f"not reached (0/{n})"
                for steps, seconds, k, n in zip(table[f"steps_to_{level}"], table[f"seconds_to_{level}"],
                                                table[f"reached_{level}"], table["ok"])]

    return markdown_table(pd.DataFrame({"target": table["target"], "encoding": table["encoding"],
                                        "target enc.": table["target_encoding"],
                                        "model": table["model"], "to 10 %": reached("10pct"),
                                        "to 1 %": reached("1pct")}))


def throughput_markdown(table):
    return markdown_table(pd.DataFrame({
        "model": table["model"], "device": table["device"], "ensemble size": table["ensemble_size"].map(fmt_rate),
        "runs": table["runs"], "training samples/s per model": table["train_samples_per_s"].map(fmt_rate),
        "training samples/s, whole ensemble": table["ensemble_train_samples_per_s"].map(fmt_rate),
        "inference samples/s per model": table["infer_samples_per_s"].map(fmt_rate),
        "training GFLOP/s": table["train_gflops"].map(fmt)}))


def markdown_table_or(table, render, empty):
    return render(table) if not table.empty else empty


RANKING_NOTE = (
    "Pipelines by mean median relative error over seeds. `ok runs`: runs that neither diverged nor failed; "
    "p90, p99: mean 90th and 99th percentiles of the relative error; `≤ 1 %`: mean share of test points within "
    "1 %; `solved`: share of seeds with R² > 0.999. With few seeds the t-interval is wide (t = 12.7 for two) "
    "and may reach below zero. Tree models (hgb, rf) are invariant to monotone input encodings, so their "
    "raw, standard and log rows tie.")
CONVERGENCE_NOTE = (
    "Training steps and seconds until the median relative error on held-out points first reached 10 % and 1 % "
    "(mean over the seeds that reached it; k/n of the ok seeds did). For `mlp` the seconds are those of its "
    "whole batched ensemble.")
THROUGHPUT_NOTE = (
    "Training samples/s: samples through the optimizer per second for the Torch models, training rows over fit "
    "time for scikit-learn; a batched `mlp` ensemble trains all its members in one pass. The device's "
    "matmul ceiling, and the share of it the ensemble reaches, are in `throughput-<device>.csv` "
    "(`python -m bench.throughput`).")


def summary_markdown(runs, tables, heads, figures, broken, reproduce, other_budgets=0):
    """The whole summary.md, top to bottom."""
    counts = runs["status"].value_counts()
    devices = sorted(runs["device"].dropna().unique())
    lines = ["# Feature-encoding benchmark: results", "",
             f"{len(runs)} runs: " + ", ".join(f"{counts.get(s, 0)} {s}" for s in ("ok", "diverged", "failed"))
             + ". Errors are relative errors |ŷ − y| / |y| on held-out test points; means and 95 % t-intervals "
               "are over seeds (ok runs only)."]
    if devices and all(is_cpu(d) for d in devices):
        lines += ["", f"**CPU results**: every run was measured on CPU ({'; '.join(devices)}); "
                      + "times and throughput are not GPU numbers."]
    if broken:
        lines += ["", f"**{len(broken)} record file(s) could not be read** and are left out: {', '.join(broken)}."]
    if other_budgets:
        lines += ["", f"**{other_budgets} run(s) with other settings are left out**: per target and model this "
                      "report keeps the most common settings (steps, sizes, ...); report the others from their own "
                      "--out folder."]
    lines += ["", "## Headlines", ""]
    lines += [f"- **{h['target']}**: {headline_text(h)}" for h in heads.to_dict("records")] or ["No ok runs."]
    lines += ["", "## Ranking", "", RANKING_NOTE, ""]
    for target, table in tables["ranking"].groupby("target", sort=False):
        lines += [f"### {target}", "", ranking_markdown(table), ""]
    lines += ["## Convergence", "", CONVERGENCE_NOTE, ""]
    lines += [markdown_table_or(tables["convergence"], convergence_markdown, "No ok run recorded a learning curve."), ""]
    lines += ["## Throughput", "", THROUGHPUT_NOTE, "", markdown_table_or(tables["throughput"], throughput_markdown,
                                                     "No run recorded throughput."), ""]
    lines += ["## Runs not ok", ""]
    not_ok = tables["not_ok"]
    lines += [markdown_table(not_ok.rename(columns={"target_encoding": "target enc."})) if not not_ok.empty
              else "Every run finished ok.", ""]
    lines += ["## Figures", ""] + [f"![{title}]({name}.png)" for name, title in figures.items()]
    missing = [title for name, title in FIGURES.items() if name not in figures]
    if missing:
        lines += ["", "Not drawn (nothing to draw in these records): " + "; ".join(missing) + "."]
    lines += ["", "## Environment", "", markdown_table(tables["environment"]), "", "## Reproduce", "",
              *reproduce, ""]
    return "\n".join(lines)


# ---------------------------------------------------------------------------------------------------------
# Command line


def parser():
    p = cli.Parser(prog="python -m bench.report", description=__doc__.strip().splitlines()[0])
    p.add_argument("--out", default="results",
                   help="results folder: reads <out>/runs, writes summary.md, *.csv, *.png (default: results)")
    p.add_argument("--quick", action="store_true",
                   help=f"when <out> has no records: run the {QUICK_SWEEP.name} sweep (about {QUICK_SWEEP.minutes} "
                        f"min on 2 CPU cores) instead of the {DEFAULT_SWEEP.name} one (about {DEFAULT_SWEEP.minutes} min)")
    return p


def check_out(out):
    """Fail in one line, before any work, when `out` cannot be read or written."""
    if out.exists() and not out.is_dir():
        raise UserError(f"--out {out} is a file, not a folder; choose a folder")
    runs = runs_dir(out)
    if runs.exists() and not (runs.is_dir() and os.access(runs, os.R_OK | os.X_OK)):
        raise UserError(f"cannot read the records in {runs}; check its permissions or choose another --out")
    ensure_writable(out, "the report")


def run_sweep(sweep, out):
    """Run `sweep` into `out` through bench.run (its finished runs are skipped, so this also resumes it)."""
    from bench import run

    commands = [[*command, "--out", str(out)] for command in sweep.commands]
    print(f"{runs_dir(out)} does not hold the whole {sweep.name} sweep: running it first (about {sweep.minutes} "
          "min on 2 CPU cores from scratch; finished runs are skipped):\n"
          + "\n".join(f"  python -m bench.run {shlex.join(argv)}" for argv in commands), file=sys.stderr)
    for argv in commands:
        run.sweep(run.parser().parse_args(argv))


def one_budget(records):
    """Per target and model, the runs of its most common settings (runs under another budget are not more
    seeds of the same pipeline), and how many were left out."""
    def budget(record):
        return json.dumps(record.get("config", {}).get("settings"), sort_keys=True)

    counts = Counter((r["target"], r["model"], budget(r)) for r in records)
    chosen = {}
    for (target, model, settings), _ in counts.most_common():
        chosen.setdefault((target, model), settings)
    kept = [r for r in records if chosen[(r["target"], r["model"])] == budget(r)]
    return kept, len(records) - len(kept)


def write_report(records, broken, out):
    """Write the CSV tables, the PNG figures and summary.md into `out`; returns the file names written."""
    records, other_budgets = one_budget(records)
    runs = runs_frame(records)
    ranked = ranking(runs)
    heads = headlines(ranked)
    tables = {"ranking": ranked, "headlines": heads, "convergence": convergence_table(runs, ranked),
              "throughput": throughput_table(runs), "not_ok": not_ok_table(runs), "environment": environment_table(runs)}
    written = []
    for name, table in tables.items():
        table.to_csv(out / f"{name}.csv", index=False)
        written.append(f"{name}.csv")
    sns.set_theme(style="whitegrid", context="notebook")
    drawn = {"learning_curves": plot_learning_curves(curves_frame(records)), "final_error": plot_final_error(runs),
             "heatmap": plot_heatmap(ranked), "ecdf": plot_ecdf(quantiles_frame(records), heads),
             "throughput": plot_throughput(tables["throughput"])}
    figures = {}
    for name, figure in drawn.items():
        path = out / f"{name}.png"
        if figure is None:
            path.unlink(missing_ok=True)  # no stale figure from an earlier report
            continue
        figure.savefig(path, dpi=120, bbox_inches="tight")
        plt.close(figure)
        figures[name] = FIGURES[name]
        written.append(path.name)
    summary = summary_markdown(runs, tables, heads, figures, broken, reproduction(records, out), other_budgets)
    (out / "summary.md").write_text(summary)
    return written + ["summary.md"]


def main(argv=None):
    args = parser().parse_args(argv)
    out = Path(args.out)
    check_out(out)
    records, broken = load_records(out)
    sweep = QUICK_SWEEP if args.quick else DEFAULT_SWEEP
    recorded = {r.get("key") for r in records}
    if not broken and recorded < sweep_keys(sweep):  # empty, or a built-in sweep that was interrupted
        run_sweep(sweep, out)
        records, broken = load_records(out)
    for name in broken:
        print(f"warning: {runs_dir(out) / name} is not a readable record; left out of the report", file=sys.stderr)
    if not records:
        raise UserError(f"no readable records in {runs_dir(out)}; remove the broken files or choose another --out")
    written = write_report(records, broken, out)
    print(f"wrote {len(written)} files to {out}: {', '.join(written)}", file=sys.stderr)
    return 0


if __name__ == "__main__":
    sys.exit(cli.main_guard(main))

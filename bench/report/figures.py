"""Figures: each function returns a matplotlib figure, or None when the records hold nothing to draw."""

import matplotlib
import matplotlib.pyplot as plt
import numpy as np
import pandas as pd
import seaborn as sns
from matplotlib.colors import LogNorm
from matplotlib.ticker import FormatStrFormatter, LogLocator, NullLocator

from bench.encodings import TARGET_ENCODINGS
from bench.registry import MODELS
from bench.report.frames import ASKER, ENCODING_ORDER, REL_ERR, at_common_budget, ordered
from bench.report.tables import chosen_index, pipeline_text

matplotlib.use("Agg")  # files only, never a window

FIGURES = {"learning_curves": "learning curves of mlp per encoding and target encoding",
           "final_error": "final median relative error per encoding and target encoding",
           "heatmap": "median relative error per encoding and model",
           "ecdf": "ECDF of per-point relative error (from the error quantiles each record stores)",
           "throughput": "training and inference throughput",
           "budget_ladder": "budget ladder: tuned pipelines' error against training steps",
           "asker_ladder": "what fixes the asker's network: error after each change, one point per seed"}


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


def heatmap_cells(ranked):
    """Per (target, encoding, model) at the model's common budget, the row of the target encoding with the lower
    validation error, whatever test shows; a cell whose chosen pipeline has no ok run is left out (blank)."""
    data = at_common_budget(ranked)
    best = data.loc[chosen_index(data, ["target", "encoding", "model"])]
    return best[(best["median_rel_err"] > 0) & (best["ok"] > 0)]


def plot_heatmap(ranked):
    """Test median relative error per encoding × model at the model's common budget, the target encoding of
    each cell chosen on validation; one panel per target."""
    best = heatmap_cells(ranked)
    if best.empty:
        return None
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
    fig.suptitle(f"Geometric mean over seeds of the median {REL_ERR}, each model at its common budget;\n"
                 "per cell the target encoding with the lower validation error (failures counted); blank: not run, or no ok run")
    return fig


def ecdf_lines(quantiles, heads):
    """Per target, the quantile curves to draw: the best pipeline and the verdict's rivals (raw inputs, the
    question's network), each at its budget and once, as the median over seeds of each quantile (a Vincent
    average)."""
    parts = []
    for head in heads.to_dict("records"):
        roles = {}
        for role, prefix in (("best", ""), ("raw inputs", "raw_rival_"), (ASKER, "asker_rival_")):
            pipeline = tuple(head.get(f"{prefix}{k}") for k in ("encoding", "target_encoding", "model", "budget"))
            if pipeline[0] is not None and not pd.isna(pipeline[0]):
                roles.setdefault(pipeline, role)
        for (encoding, target_encoding, model, budget), role in roles.items():
            chosen = quantiles[(quantiles["target"] == head["target"]) & (quantiles["encoding"] == encoding)
                               & (quantiles["target_encoding"] == target_encoding) & (quantiles["model"] == model)
                               & (quantiles["budget"] == budget)]
            line = chosen.groupby("level")["rel_err"].median().reset_index()
            label = f"{role}: {pipeline_text(encoding, target_encoding, model)}, {budget}"
            parts.append(line.assign(target=head["target"], label=label))
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


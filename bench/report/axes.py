"""The data-condition axes (training rows, noise, extrapolation, irrelevant inputs): tables, figures, markdown.

A record belongs to an axis when its conditions differ from the clean benchmark only in that axis's fields; a
clean record is every axis's baseline (the whole pool, no noise, test inside the domain, no extra inputs).
Errors are the test median relative error, geometric means over seeds, with every failure counted
(frames.FAILURE_RULE, the worst taken per target and conditions); each level's winner is the pipeline with the
lowest validation error (geometric mean over seeds), and the reference pipeline (log inputs, asinh target) is
compared with it by the paired test of `stats` on their test errors.
"""

import json
from dataclasses import dataclass

import matplotlib.pyplot as plt
import numpy as np
import pandas as pd
import seaborn as sns

from bench.conditions import Conditions
from bench.report.frames import FAILURE_RULE, FLOAT_FORMAT, is_failure, validation_of, with_failures_counted
from bench.report.stats import geometric_interval, geometric_mean, paired_comparison, verdict

REFERENCE = "log → asinh"  # the pipeline the question's answer recommends (a pipeline_label): does it stay the winner?
SETUP = "the shared mlp (untuned, 3,000 steps, early stopping on validation)"  # bench/axes.py's BASE, in words
CHOICE = ("At each level the winner (**chosen**) is the pipeline with the lowest validation error (geometric mean "
          "over seeds), never the lowest test error; the reference is compared with it by a paired t-test on their "
          f"test errors. {FAILURE_RULE} The worst is taken per target and data conditions.")
THRESHOLDS = {"n_to_10pct": 0.1, "n_to_1pct": 0.01}  # the size axis names the smallest n reaching each error


@dataclass(frozen=True)
class Axis:
    title: str
    fields: tuple  # the Conditions fields it varies
    x_label: str
    note: str


AXES = {
    "size": Axis("Training-set size", ("train_rows",), "training rows n",
                 "The model sees only the first n rows of its training pool (epochs over them, not fresh draws) and "
                 "holds out n/4 rows for validation (at least 64); the step kept is the best on validation. The "
                 "largest n is the clean benchmark's whole pool."),
    "noise": Axis("Noise", ("noise", "noise_kind"), "noise level (kind)",
                  "Noise on the training and validation targets only; the test targets stay exact. `rms` is "
                  "SRBench's convention (σ = level × RMS(y), one absolute scale for every point); `relative` is "
                  "y·(1 + level·ε). With y spanning decades, `rms` noise swamps the small-|y| points, so the "
                  "median relative error can stay high even at level 0.001."),
    "extrapolate": Axis("Extrapolation", ("extrapolate",), "test-range factor",
                        "Test points drawn from each variable's range widened by the factor about its centre (in "
                        "log space for log-uniform variables; a positive range keeps its sign), keeping only points "
                        "outside the training domain; factor 1 is the in-domain test set. Encoders are fitted on the "
                        "training split: `minmax` maps beyond [0, 1] linearly, `quantile` saturates (every input "
                        "beyond the training range maps to the same value)."),
    "extra-features": Axis("Irrelevant inputs", ("extra_features",), "irrelevant inputs K",
                           "K extra inputs, log-uniform over 1e-3..1e3, that the formula does not use, appended to "
                           "X; encoders and the network see them like the real ones."),
}


def conditions_of(record):
    return Conditions(**record["config"].get("conditions", {}))


def axis_of(record):
    """The axis a record's conditions move ('' when clean, None when they move two at once)."""
    changed = set(conditions_of(record).changed()) - {"noise_kind"}
    if not changed:
        return ""
    return next((name for name, axis in AXES.items() if changed <= set(axis.fields)), None)


def axes_frame(records):
    """One row per run (runs that move two axes at once belong to none and are left out): target, pipeline,
    seed, its axis ('' if clean), level, status, test errors with failures counted (FAILURE_RULE, the worst
    taken per target and conditions) and validation errors (`val_error`, NaN in records made before it, and
    `val_median_rel_err`; inf for a run that diverged or failed)."""
    rows = []
    for r in records:
        axis, c = axis_of(r), conditions_of(r)
        if axis is None:
            continue  # a run that moves two axes at once belongs to none
        metrics = r.get("metrics") or {}
        rows.append({"target": r["target"], "pipeline": pipeline_label(r), "seed": r["seed"], "axis": axis,
                     "conditions": json.dumps(r["config"].get("conditions", {}), sort_keys=True),
                     "status": r["status"], "median_rel_err": metrics.get("median_rel_err", np.nan),
                     "r2": metrics.get("r2", np.nan), "nonfinite_share": metrics.get("nonfinite_share", 0.0),
                     "val_error": validation_of(r), "val_median_rel_err": validation_median(r),
                     "train_rows": c.train_rows or r["config"]["settings"]["train_size"],
                     "noise": c.noise, "noise_kind": c.noise_kind if c.noise else "", "extrapolate": c.extrapolate,
                     "extra_features": c.extra_features})
    if not rows:
        return pd.DataFrame(rows)
    frame = with_failures_counted(pd.DataFrame(rows), by=("target", "conditions"))
    frame.loc[frame["status"] != "ok", "val_median_rel_err"] = np.inf
    return frame


def validation_median(record):
    """A run's validation median relative error (the choice metric of records made before `val_error`): inf when
    it was not finite, NaN where not recorded."""
    if "val_median_rel_err" not in record:
        return np.nan
    return np.inf if record["val_median_rel_err"] is None else record["val_median_rel_err"]


def pipeline_label(record):
    label = f"{record['encoding']} → {record['target_encoding']}"
    return label if record["model"] == "mlp" else f"{record['model']}: {label}"


def level_of(row, axis):
    """The level's label and its sort key on `axis`."""
    if axis == "size":
        return f"{int(row.train_rows):,}", row.train_rows
    if axis == "noise":
        return ("0" if not row.noise else f"{row.noise:g} {row.noise_kind}"), (row.noise_kind, row.noise)
    if axis == "extrapolate":
        return f"{row.extrapolate:g}×", row.extrapolate
    return str(row.extra_features), row.extra_features


def axis_runs(frame, axis):
    """The runs on `axis` and their clean baselines (only the pipelines the axis moves, per target), with
    `level` and `order` columns."""
    moved = set(zip(*(frame.loc[frame["axis"] == axis, c] for c in ("target", "pipeline"))))
    pairs = pd.Series([p in moved for p in zip(frame["target"], frame["pipeline"])], index=frame.index)
    runs = frame[frame["axis"].isin(["", axis]) & pairs].copy()
    if runs.empty:
        return runs
    levels = [level_of(row, axis) for row in runs.itertuples()]
    runs["level"] = [label for label, _ in levels]
    keys = sorted({key for _, key in levels}, key=lambda k: (str(k[0]), k[1]) if isinstance(k, tuple) else (0, k))
    runs["order"] = [keys.index(key) for _, key in levels]
    if axis == "noise":  # the clean level 0 first, then each kind's levels
        runs.loc[runs["level"] == "0", "order"] = -1
    return runs


def axis_table(runs):
    """Per target, pipeline and level: geometric mean test error with its interval, seeds, failures, mean R², the
    geometric mean validation error (`validation`, on `chosen_on`: `val_error` where every run of the level has
    one, else `val_median_rel_err`) and whether it is the level's winner (the lowest validation error; ties:
    by name, never by test error)."""
    recorded = runs.groupby(["target", "order"])["val_error"].transform(lambda v: v.notna().all()).astype(bool)
    runs = runs.assign(validation=runs["val_error"].where(recorded, runs["val_median_rel_err"]),
                       chosen_on=np.where(recorded, "val_error", "val_median_rel_err"))
    rows = []
    for (target, level, order, pipeline), group in runs.groupby(["target", "level", "order", "pipeline"]):
        mean, low, high = geometric_interval(group["median_rel_err"])
        rows.append({"target": target, "level": level, "order": order, "pipeline": pipeline, "median_rel_err": mean,
                     "low": low, "high": high, "seeds": len(group), "failed": int(is_failure(group).sum()),
                     "r2": group["r2"].mean(), "validation": geometric_mean(group["validation"]),
                     "chosen_on": group["chosen_on"].iloc[0]})
    table = pd.DataFrame(rows).sort_values(["target", "order", "median_rel_err"]).reset_index(drop=True)
    table["winner"] = False
    ranked = table[table["validation"] < np.inf].sort_values(["validation", "pipeline"])
    table.loc[ranked.groupby(["target", "order"]).head(1).index, "winner"] = True
    return table


def reference_verdicts(runs, table):
    """Per target with several seeds and per level: the winner (chosen on validation), and the reference
    pipeline paired against it on their test errors, failures counted."""
    rows = []
    for (target, order), level_table in table.groupby(["target", "order"]):
        level_runs = runs[(runs["target"] == target) & (runs["order"] == order)]
        chosen = level_table[level_table["winner"]]
        if level_runs["seed"].nunique() < 2 or REFERENCE not in set(level_table["pipeline"]) or chosen.empty:
            continue
        winner = chosen["pipeline"].iloc[0]
        errors = {p: g.set_index("seed")["median_rel_err"] for p, g in level_runs.groupby("pipeline")}
        factor, p, n = paired_comparison(errors[winner], errors[REFERENCE])
        rows.append({"target": target, "level": level_table["level"].iloc[0], "order": order, "winner": winner,
                     "winner_err": chosen["median_rel_err"].iloc[0], "reference_factor": factor, "p": p,
                     "verdict": "best" if winner == REFERENCE else verdict(factor, p, n)})
    return pd.DataFrame(rows, columns=["target", "level", "order", "winner", "winner_err", "reference_factor", "p",
                                       "verdict"])


def smallest_sizes(table):
    """Per target and pipeline: the smallest n whose geometric mean error reaches each threshold (None: never)."""
    rows = []
    for (target, pipeline), group in table.groupby(["target", "pipeline"]):
        sizes = group.assign(n=group["level"].str.replace(",", "").astype(int)).sort_values("n")
        rows.append({"target": target, "pipeline": pipeline} | {
            column: next((int(n) for n, e in zip(sizes["n"], sizes["median_rel_err"]) if e <= t), None)
            for column, t in THRESHOLDS.items()})
    return pd.DataFrame(rows)


def plot_axis(table, axis):
    """Error against level per pipeline, one panel per target (log y)."""
    targets = list(dict.fromkeys(sorted(table["target"], key=lambda t: (not t.startswith("seed"), t))))
    order = table.drop_duplicates("level").sort_values("order")["level"].tolist()
    grid = sns.catplot(data=table, x="level", y="median_rel_err", hue="pipeline", col="target", col_order=targets,
                       order=order, kind="point", col_wrap=min(4, len(targets)), height=2.8, aspect=1.2,
                       sharey=False, markersize=4, linewidth=1.2)
    grid.set(yscale="log")
    grid.set_axis_labels(AXES[axis].x_label, "median relative error")
    grid.set_titles("{col_name}")
    for ax in grid.axes.flat:
        ax.tick_params(axis="x", labelrotation=45)
    grid.figure.suptitle(f"{AXES[axis].title}: test median relative error (geometric mean over seeds)", y=1.02)
    return grid.figure


def dev_summary(table):
    """For targets run with one seed (a development set): per level and pipeline, the equations it wins, how many
    reach R² > 0.999, and the median error over equations."""
    single = table[table["seeds"] == 1]
    if single.empty:
        return single
    summary = single.groupby(["order", "level", "pipeline"]).agg(
        equations=("target", "nunique"), wins=("winner", "sum"), solved=("r2", lambda r: int((r > 0.999).sum())),
        median_of_errors=("median_rel_err", "median")).reset_index()
    return summary.sort_values(["order", "median_of_errors"])


def axis_markdown(axis, table, verdicts, sizes, figure_name):
    """One axis's section: its note, the per-level table for targets with seeds, the reference's verdicts, the
    dev-set summary and the figure."""
    lines = [f"### {AXES[axis].title}", "", AXES[axis].note, ""]
    seeded = table[table["seeds"] > 1]
    for target, group in seeded.groupby("target"):
        wide = group.assign(text=[f"{e:.3g}" + (" **chosen**" if w else "") for e, w in zip(group["median_rel_err"],
                                                                                           group["winner"])])
        order = group.drop_duplicates("level").sort_values("order")["level"].tolist()
        wide = wide.pivot(index="pipeline", columns="level", values="text")[order]
        lines += [f"**{target}** (geometric mean over {int(group['seeds'].max())} seeds):", "",
                  "| pipeline | " + " | ".join(order) + " |", "|---|" + "---|" * len(order)]
        lines += [f"| {p} | " + " | ".join(row.fillna("—")) + " |" for p, row in wide.iterrows()] + [""]
        for row in verdicts[verdicts["target"] == target].itertuples():
            lines.append(f"- {row.level}: {verdict_sentence(row)}")
        lines.append("")
    if axis == "size" and not sizes.empty:
        shown = sizes[sizes["target"].isin(seeded["target"].unique())]
        if not shown.empty:
            lines += ["Smallest n whose error reaches 10 % and 1 % (— : not within the sizes run):", "",
                      "| target | pipeline | n for 10 % | n for 1 % |", "|---|---|---|---|"]
            lines += [f"| {r.target} | {r.pipeline} | {fmt_n(r.n_to_10pct)} | {fmt_n(r.n_to_1pct)} |"
                      for r in shown.itertuples()] + [""]
    summary = dev_summary(table)
    if not summary.empty:
        lines += [f"Over the {summary['equations'].max()} equations run with one seed (the development set): per "
                  "level, the equations each pipeline wins, those it brings to R² > 0.999, and its median error "
                  "over equations.", "", "| level | pipeline | wins | R² > 0.999 | median error |", "|---|---|---|---|---|"]
        lines += [f"| {r.level} | {r.pipeline} | {r.wins} | {r.solved} | {r.median_of_errors:.3g} |"
                  for r in summary.itertuples()] + [""]
    lines += [f"![{AXES[axis].title}]({figure_name})", ""]
    return "\n".join(lines)


def fmt_n(value):
    return "—" if value is None or (isinstance(value, float) and np.isnan(value)) else f"{int(value):,}"


def verdict_sentence(row):
    if row.verdict == "best":
        return f"{REFERENCE} stays the winner ({row.winner_err:.3g})."
    detail = f"{row.reference_factor:.2g}× the winner's error, paired p = {row.p:.2g}"
    outcome = {"tie": "ties with", "worse": "loses to"}.get(row.verdict, f"({row.verdict}) vs")
    return f"{REFERENCE} {outcome} {row.winner} ({row.winner_err:.3g}): {detail}."


def headline_sentences(verdicts):
    """One sentence per axis and target where the reference stops being the winner (not a tie)."""
    return [f"{axis} on {row.target}, at {row.level}: {verdict_sentence(row)}"
            for axis, table in verdicts.items() for row in table.itertuples() if row.verdict == "worse"]


def write_axes(records, out, link_prefix=""):
    """The axes present in `records`: <out>/axis_<name>.csv and .png, and the markdown sections (figures linked
    as link_prefix + file name) with the headline sentences; returns (markdown, sentences, files written)."""
    frame = axes_frame(records)
    sections, verdicts, written = [], {}, []
    if frame.empty or not (frame["axis"] != "").any():
        return "", [], written
    sns.set_theme(style="whitegrid", context="notebook")
    for axis in AXES:
        if not (frame["axis"] == axis).any():
            continue
        runs = axis_runs(frame, axis)
        table = axis_table(runs)
        verdicts[axis] = reference_verdicts(runs, table)
        sizes = smallest_sizes(table) if axis == "size" else pd.DataFrame()
        name = f"axis_{axis.replace('-', '_')}"
        table.drop(columns="order").to_csv(out / f"{name}.csv", index=False, float_format=FLOAT_FORMAT)
        if not sizes.empty:
            sizes.to_csv(out / f"{name}_smallest_n.csv", index=False, float_format=FLOAT_FORMAT)
            written.append(f"{name}_smallest_n.csv")
        figure = plot_axis(table, axis)
        figure.savefig(out / f"{name}.png", dpi=110, bbox_inches="tight")
        plt.close(figure)
        written += [f"{name}.csv", f"{name}.png"]
        sections.append(axis_markdown(axis, table, verdicts[axis], sizes, f"{link_prefix}{name}.png"))
    return "\n".join([CHOICE, "", *sections]), headline_sentences(verdicts), written


def axes_summary(records, out, reproduce):
    """<out>/summary.md for an axes folder (the sections, their headline sentences, the commands in
    `reproduce`) and the files beside it; returns the file names written."""
    sections, sentences, written = write_axes(records, out)
    if not sections:
        return written
    if not sentences:
        sentences = [f"On the targets run with several seeds, {REFERENCE} wins or ties at every level recorded here."]
    lines = ["# Data conditions: does the verdict hold?", "",
             "Each number is the test median relative error |ŷ − y| / |y|, geometric mean over seeds, of "
             f"{SETUP}. CPU runs.", "",
             *(f"- {s}" for s in sentences), "", sections, "## Reproduce", "", "```bash", *reproduce, "```", ""]
    (out / "summary.md").write_text("\n".join(lines))
    return written + ["summary.md"]


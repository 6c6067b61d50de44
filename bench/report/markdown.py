"""summary.md: number formatting, markdown tables and the summary, top to bottom."""

import pandas as pd

from bench.report.figures import FIGURES
from bench.report.frames import ASKER
from bench.report.tables import is_cpu, pipeline_text


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


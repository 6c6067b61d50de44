"""summary.md: number formatting, markdown tables and the summary, top to bottom."""

import pandas as pd

from bench.report.axes import REFERENCE, SETUP
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


def budget_label(steps, lbfgs_iters=0, words=False):
    """A budget (`steps` counts Adam steps and L-BFGS iterations): '4,000 + 3,000 L-BFGS', or with `words`
    '4,000 Adam steps + 3,000 L-BFGS iterations'; '–' for a model without steps."""
    if pd.isna(steps):
        return "–"
    polish = lbfgs_iters if pd.notna(lbfgs_iters) else 0
    if words:
        return f"{steps - polish:,.0f} Adam steps + {polish:,.0f} L-BFGS iterations" if polish else f"{steps:,.0f} steps"
    return f"{steps - polish:,.0f} + {polish:,.0f} L-BFGS" if polish else f"{steps:,.0f}"


def budget_text(steps, tuned_settings, lbfgs_iters=0):
    """'4,000 Adam steps + 3,000 L-BFGS iterations; tuned: lr=…, width=…' for a run's budget and tuned
    settings ('' when neither applies)."""
    parts = ([budget_label(steps, lbfgs_iters, words=True)] if pd.notna(steps) else []) + (
        [f"tuned: {tuned_settings}"] if tuned_settings else [])
    return "; ".join(parts)


def pipeline_result(head, prefix=""):
    """'mlp, log inputs, target encoding asinh (4,000 steps; tuned: …), median relative error 0.01 (…)'."""
    budget = budget_text(head[f"{prefix}steps"], head[f"{prefix}tuned_settings"], head.get(f"{prefix}lbfgs_iters", 0))
    return (f"{pipeline_text(head[f'{prefix}encoding'], head[f'{prefix}target_encoding'], head[f'{prefix}model'])}"
            + (f" ({budget})" if budget else "") + f", median relative error **{fmt(head[f'{prefix}median_rel_err'])}** "
            f"(geometric mean, {fmt_interval(head[f'{prefix}ci_low'], head[f'{prefix}ci_high'], head[f'{prefix}ok'])})")


def headline_text(head):
    """One paragraph: the best pipeline, the shared mlp's best, and the factors over raw inputs and seed-asker."""
    text = f"**Best: {pipeline_result(head)}**."
    if pd.notna(head.get("mlp_model")):
        text += f" Best shared `mlp`: {pipeline_result(head, 'mlp_')}."
    lead = "mlp_" if pd.notna(head.get("mlp_model")) else ""
    if pd.notna(head["raw_median_rel_err"]):
        text += (f" That is {fmt(head['factor_vs_raw'])}× lower than raw inputs "
                 f"({pipeline_text('raw', head['raw_target_encoding'], head[f'{lead}model'])}: "
                 f"{fmt(head['raw_median_rel_err'])}).")
    if pd.notna(head["asker_median_rel_err"]):
        text += f" The best is {fmt(head['factor_vs_asker'])}× lower than {ASKER} ({fmt(head['asker_median_rel_err'])})."
    if is_cpu(head["device"]):
        text += f" CPU result ({head['device']})."
    return text


def not_ok_note(diverged, failed):
    return ", ".join(f"{n} {what}" for n, what in ((diverged, "diverged"), (failed, "failed")) if n)


def versus_best(factor, p, verdict):
    if verdict in ("best", "–") or pd.isna(factor):
        return verdict
    return f"{verdict} ({fmt(factor)}×" + ("" if pd.isna(p) else f", p={fmt(p, 2)}") + ")"


def ranking_markdown(ranked):
    show = pd.DataFrame({
        "rank": ranked["rank"].map(lambda r: "–" if pd.isna(r) else f"{r}"),
        "encoding": ranked["encoding"], "target enc.": ranked["target_encoding"], "model": ranked["model"],
        "budget": [budget_label(s, k) for s, k in zip(ranked["steps"], ranked["lbfgs_iters"])],
        "ok runs": [f"{ok}/{n}" + (f" ({not_ok_note(d, f)})" if d or f else "")
                    for ok, n, d, f in zip(ranked["ok"], ranked["runs"], ranked["diverged"], ranked["failed"])],
        "median rel. err (geo. mean)": ranked["median_rel_err"].map(fmt),
        "95 % interval": [fmt_interval(lo, hi, n).removeprefix("95 % interval ")
                          for lo, hi, n in zip(ranked["ci_low"], ranked["ci_high"], ranked["ok"])],
        "vs best (paired)": [versus_best(f, p, v) for f, p, v in
                             zip(ranked["vs_best_factor"], ranked["vs_best_p"], ranked["vs_best"])],
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
    "Pipelines by the geometric mean over seeds of the median relative error on the test set (relative errors "
    "span decades, so means and 95 % t-intervals are taken on log10), each at the budget (`steps`) whose "
    "validation error is lowest. `vs best`: a paired t-test on log10 errors against the target's best pipeline over the same "
    "seeds (same data, same test points): `tie` when p ≥ 0.05, else `worse`, with the geometric mean factor. "
    "`ok runs`: runs that neither diverged nor failed; p90, p99: geometric means of the 90th and 99th "
    "percentiles; `≤ 1 %`: mean share of test points within 1 %; `solved`: share of seeds with R² > 0.999. "
    "Tree models (hgb, rf) are invariant to monotone input encodings, so their raw, standard and log rows tie.")
TUNING_NOTE = (
    "Each tuned pipeline's settings come from an Optuna search (TPE) on the validation set of seed 0 (the test "
    "set is never drawn in a search); the runs above then train those settings on every seed. `val error`: "
    "the best trial's median relative error on validation; `seconds`: the search's share of wall time.")
LADDER_NOTE = (
    "The finalists of each search retrained with the same tuned settings at larger budgets (geometric means "
    "over seeds, test set). A budget `4,000 + 3,000 L-BFGS` is 4,000 Adam steps, then up to 3,000 full-batch "
    "L-BFGS iterations per member, stopped after `lbfgs_patience` evaluations in a row without a better "
    "validation error; each member keeps its best weights (`bench/polish.py`). With `rollback`, a member whose "
    "validation error collapses during Adam goes back to its best weights at half its learning rate. Agreement: "
    "Kendall's tau between the pipelines' errors at the smallest budget and the largest that more than one "
    "pipeline reached, over the pipelines run at both; a tau near 1 says a quick sweep ranks like a long one.")
CONVERGENCE_NOTE = (
    "Training steps and seconds until the median relative error on held-out points first reached 10 % and 1 % "
    "(mean over the seeds that reached it; k/n of the ok seeds did). For `mlp` the seconds are those of its "
    "whole batched ensemble.")
THROUGHPUT_NOTE = (
    "Training samples/s: samples through the optimizer per second for the Torch models, training rows over fit "
    "time for scikit-learn; a batched `mlp` ensemble trains all its members in one pass. The device's "
    "matmul ceiling, and the share of it the ensemble reaches, are in `throughput-<device>.csv` "
    "(`python -m bench.throughput`).")


def tuning_markdown(table):
    return markdown_table(pd.DataFrame({
        "target": table["target"], "encoding": table["encoding"], "target enc.": table["target_encoding"],
        "model": table["model"], "trials": table["trials"], "search steps": table["search_steps"].map(fmt_rate),
        "val error": table["val_median_rel_err"].map(fmt), "tuned settings": table["tuned_settings"],
        "seconds": table["seconds"].map(lambda v: fmt(v, 2))}))


def ladder_markdown(ladder, agreement):
    rows = pd.DataFrame({
        "target": ladder["target"], "encoding": ladder["encoding"], "target enc.": ladder["target_encoding"],
        "model": ladder["model"], "budget": [budget_label(s, k) for s, k in zip(ladder["steps"], ladder["lbfgs_iters"])],
        "ok runs": ladder["ok"],
        "median rel. err (geo. mean)": ladder["median_rel_err"].map(fmt),
        "95 % interval": [fmt_interval(lo, hi, n).removeprefix("95 % interval ")
                          for lo, hi, n in zip(ladder["ci_low"], ladder["ci_high"], ladder["ok"])],
        "training s": ladder["train_seconds"].map(lambda v: fmt(v, 3)), "kept step (mean)": ladder["kept_step"].map(fmt_rate)})
    lines = [markdown_table(rows), ""]
    for row in agreement.itertuples(index=False):
        lines.append(f"- **{row.target}**, {row.model}: from {row.small_steps:,.0f} to {row.large_steps:,.0f} steps, "
                     f"Kendall's tau = {fmt(row.kendall_tau, 2)} over {row.pipelines} pipelines (p = {fmt(row.p, 2)}); "
                     + (f"the winner stays {row.winner_large}." if row.same_winner
                        else f"the winner changes from {row.winner_small} to {row.winner_large}."))
    return "\n".join(lines)


ASKER_NOTE = (
    "The asker's own network (log → Linear → Linear → exp → Linear: a sum of 16 terms c·Πxᵢ^wᵢ) can represent "
    "the formula exactly; its training failed. Each row below applies one more change to the posted recipe "
    "(rows 1 to 5), and the `fixed −` rows take one change back out of the fully fixed recipe, so the table "
    "says which changes are necessary and which are sufficient. Median relative error on the test set, mean and "
    "worst over seeds.")


CONDITIONS_NOTE = (
    "From `python -m bench.axes` (records in `axes/runs`, its own summary in `axes/summary.md`): "
    f"{SETUP}, on `seed` with 3 seeds and on the SRSD development set with one, as each condition moves away from "
    f"the clean benchmark. The headline gains a sentence only where {REFERENCE} loses beyond a tie.")


def summary_markdown(runs, tables, heads, figures, broken, reproduce, other_budgets=0, asker_section="",
                     conditions_section="", condition_headlines=()):
    """The whole summary.md, top to bottom."""
    counts = runs["status"].value_counts()
    devices = sorted(runs["device"].dropna().unique())
    lines = ["# Feature-encoding benchmark: results", "",
             f"{len(runs)} runs: " + ", ".join(f"{counts.get(s, 0)} {s}" for s in ("ok", "diverged", "failed"))
             + ". Errors are relative errors |ŷ − y| / |y| on held-out test points; geometric means and 95 % "
               "t-intervals (on log10) are over seeds (ok runs only). Every choice (tuned settings, the step "
               "kept, finalists) was made on a separate validation set."]
    if devices and all(is_cpu(d) for d in devices):
        lines += ["", f"**CPU results**: every run was measured on CPU ({'; '.join(devices)}); "
                      + "times and throughput are not GPU numbers."]
    if broken:
        lines += ["", f"**{len(broken)} record file(s) could not be read** and are left out: {', '.join(broken)}."]
    if other_budgets:
        lines += ["", f"**{other_budgets} run(s) at other budgets or with other settings are left out of the "
                      "ranking**: per pipeline it keeps the runs at the budget with the lowest validation error (all "
                      "budgets of tuned pipelines are in the budget ladder below); report other settings from their "
                      "own --out folder."]
    lines += ["", "## Headlines", ""]
    lines += [f"- **{h['target']}**: {headline_text(h)}" for h in heads.to_dict("records")] or ["No ok runs."]
    lines += [f"- **Data conditions**: {sentence}" for sentence in condition_headlines]
    if asker_section:
        lines += ["", "## What fixes the asker's network", "", ASKER_NOTE, "", asker_section]
    if conditions_section:
        lines += ["", "## Data conditions: scarce, noisy, extrapolated, irrelevant inputs", "", CONDITIONS_NOTE, "",
                  conditions_section]
    lines += ["", "## Ranking", "", RANKING_NOTE, ""]
    for target, table in tables["ranking"].groupby("target", sort=False):
        lines += [f"### {target}", "", ranking_markdown(table), ""]
    if not tables["tuning"].empty:
        lines += ["## Tuning", "", TUNING_NOTE, "", tuning_markdown(tables["tuning"]), ""]
    if not tables["budget_ladder"].empty:
        lines += ["## Budget ladder", "", LADDER_NOTE, "",
                  ladder_markdown(tables["budget_ladder"], tables["budget_agreement"]), ""]
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


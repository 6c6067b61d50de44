"""summary.md: number formatting, markdown tables and the summary, top to bottom."""

import pandas as pd

from bench.report.axes import REFERENCE, SETUP
from bench.report.figures import FIGURES
from bench.report.frames import FAILURE_RULE, budget_label, fmt
from bench.report.stats import MIN_AGREEMENT
from bench.report.tables import is_cpu
from bench.report.verdict import verdict_text


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
        "chosen": ranked["chosen"].map({True: "✓", False: ""}),
        "ok runs": [f"{ok}/{n}" + (f" ({not_ok_note(d, f)})" if d or f else "")
                    for ok, n, d, f in zip(ranked["ok"], ranked["runs"], ranked["diverged"], ranked["failed"])],
        "val. error": ranked["val_error"].map(fmt),
        "median rel. err (geo. mean)": ranked["median_rel_err"].map(fmt),
        "95 % interval": [fmt_interval(lo, hi, n).removeprefix("95 % interval ")
                          for lo, hi, n in zip(ranked["ci_low"], ranked["ci_high"], ranked["runs"])],
        "vs chosen (paired)": [versus_best(f, p, v) for f, p, v in
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
    "Pipelines ranked within each budget (Adam steps + L-BFGS iterations; `own budget`: models without steps, "
    "each at its authors' settings) by the geometric mean over seeds of the median relative error on the test "
    "set (relative errors span decades, so means and 95 % t-intervals are taken on log10). `chosen` (✓): the "
    "pipeline with the lowest validation error in its budget, the report's one definition of best. `val. error`: "
    "geometric mean over seeds of the choice metric (mean floored relative error on validation, "
    "bench/metrics.py). `vs chosen`: a paired t-test on log10 errors against the chosen pipeline over the same "
    "seeds (same data, same test points): `tie` when p ≥ 0.05, else `worse` or `better`, with the geometric mean "
    "factor. `ok runs`: runs that neither diverged nor failed; the others count as failures (" + FAILURE_RULE[
        FAILURE_RULE.index(":") + 2:].rstrip(".") + "). p90, p99: geometric means of the 90th and 99th "
    "percentiles; `≤ 1 %`: mean share of test points within 1 %; `solved`: share of seeds with R² > 0.999. "
    "Tree models (hgb) are invariant to monotone input encodings: their raw and log rows differ only by the "
    "tuning each got.")
TUNING_NOTE = (
    "Each tuned pipeline's settings come from an Optuna search (TPE) on the tuning split: a training pool and a "
    "validation set drawn with their own seed, which no reported run uses (the test set is never drawn in a "
    "search); the runs then train those settings on every seed. `val error`: the best trial's validation error "
    "(the choice metric); `seconds`: the search's share of wall time.")
LADDER_NOTE = (
    "The finalists of each search retrained with the same tuned settings at larger budgets (geometric means "
    "over seeds, test set). A budget `4,000 + 3,000 L-BFGS` is 4,000 Adam steps, then up to 3,000 full-batch "
    "L-BFGS iterations per member, stopped after `lbfgs_patience` evaluations in a row without a better "
    "validation error; each member keeps its best weights (`bench/polish.py`). With `rollback`, a member whose "
    "validation error collapses during Adam goes back to its best weights at half its learning rate. Agreement: "
    "Kendall's tau between the pipelines' errors at the smallest budget and the largest that at least "
    f"{MIN_AGREEMENT} pipelines reached, over the pipelines run at both (given only there: over fewer it says "
    "nothing); a tau near 1 says a quick sweep ranks like a long one.")
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
        "val error": table["val_error"].map(fmt), "tuned settings": table["tuned_settings"],
        "seconds": table["seconds"].map(lambda v: fmt(v, 2))}))


def ladder_markdown(ladder, agreement):
    rows = pd.DataFrame({
        "target": ladder["target"], "encoding": ladder["encoding"], "target enc.": ladder["target_encoding"],
        "model": ladder["model"], "budget": [budget_label(s, k) for s, k in zip(ladder["steps"], ladder["lbfgs_iters"])],
        "ok runs": ladder["ok"],
        "median rel. err (geo. mean)": ladder["median_rel_err"].map(fmt),
        "95 % interval": [fmt_interval(lo, hi, n).removeprefix("95 % interval ")
                          for lo, hi, n in zip(ladder["ci_low"], ladder["ci_high"], ladder["runs"])],
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


PAGES = {"ranking": "Ranking per budget", "precision": "Precision tiers: median relative error ≤ 1e-3, 1e-5, 1e-7",
         "asker": "What fixes the asker's network",
         "conditions": "Data conditions: scarce, noisy, extrapolated, irrelevant inputs", "tuning": "Tuning",
         "budget_ladder": "Budget ladder", "convergence": "Convergence", "throughput": "Throughput",
         "not_ok": "Runs not ok", "figures": "Figures", "environment": "Environment and how to reproduce"}
RULES = (
    "How to read it: errors are relative errors |ŷ − y| / |y| on held-out test points, geometric means over "
    "seeds drawn independently of the tuning split. Every choice (tuned settings, the step kept, finalists, "
    "\"best\") is made on validation error, never on test; every factor compares two pipelines at one budget "
    "by a paired t-test over the seeds both ran. " + FAILURE_RULE)


def page(name, body):
    return "\n".join([f"# {PAGES[name]}", "", body.strip(), "", "[← the verdict](summary.md)", ""])


def pages_markdown(tables, figures, asker_section, conditions_section, reproduce):
    """{name: markdown} for every section page beside summary.md (a page says so when it has nothing)."""
    ranking = [RANKING_NOTE, ""]
    for target, table in tables["ranking"].groupby("target", sort=False):
        ranking += [f"## {target}", ""]
        for budget, part in table.groupby("budget", sort=False):
            ranking += [f"### {target} at {budget}", "", ranking_markdown(part), ""]
    missing = [title for name, title in FIGURES.items() if name not in figures]
    bodies = {
        "ranking": "\n".join(ranking),
        "asker": ASKER_NOTE + "\n\n" + asker_section if asker_section else "No run of the question's ladder.",
        "conditions": CONDITIONS_NOTE + "\n\n" + conditions_section if conditions_section else
        "No run under data conditions (`python -m bench.axes`).",
        "tuning": TUNING_NOTE + "\n\n" + markdown_table_or(tables["tuning"], tuning_markdown, "No tuned run."),
        "budget_ladder": LADDER_NOTE + "\n\n" + markdown_table_or(
            tables["budget_ladder"], lambda t: ladder_markdown(t, tables["budget_agreement"]),
            "No tuned pipeline ran at more than one budget."),
        "convergence": CONVERGENCE_NOTE + "\n\n" + markdown_table_or(tables["convergence"], convergence_markdown,
                                                                     "No ok run recorded a learning curve."),
        "throughput": THROUGHPUT_NOTE + "\n\n" + markdown_table_or(tables["throughput"], throughput_markdown,
                                                                   "No run recorded throughput."),
        "not_ok": FAILURE_RULE + "\n\n" + (markdown_table(tables["not_ok"].rename(columns={
            "target_encoding": "target enc."})) if not tables["not_ok"].empty else "Every run finished ok."),
        "figures": "\n\n".join([f"![{title}]({name}.png)" for name, title in figures.items()] + (
            ["Not drawn (nothing to draw in these records): " + "; ".join(missing) + "."] if missing else [])),
        "environment": markdown_table(tables["environment"]) + "\n\n## Reproduce\n\n" + "\n".join(reproduce),
    }
    return {name: page(name, body) for name, body in bodies.items()}


def verdict_lines(heads, condition_headlines=()):
    """The verdict, one bullet per target (and one per data condition that changes it)."""
    lines = [f"- **{h['target']}**: {verdict_text(h)}" for h in heads.to_dict("records")] or ["No run to judge."]
    return lines + [f"- **Data conditions**: {sentence}" for sentence in condition_headlines]


def summary_markdown(runs, heads, broken, condition_headlines=()):
    """summary.md: the verdict per target on its first screen, then how to read it and the pages."""
    counts = runs["status"].value_counts()
    devices = sorted(runs["device"].dropna().unique())
    lines = ["# Feature-encoding benchmark: the verdict", "", *verdict_lines(heads, condition_headlines)]
    test_failures = int((runs["failure"] & (runs["status"] == "ok")).sum())
    lines += ["", f"{len(runs)} runs: " + ", ".join(f"{counts.get(s, 0)} {s}" for s in ("ok", "diverged", "failed"))
              + (f" ({test_failures} of the ok failed on their test set alone, counted as failures)" if test_failures else "")
              + (f"; every run on CPU ({'; '.join(devices)}), so times are not GPU numbers" if devices and all(
                  is_cpu(d) for d in devices) else f"; devices: {'; '.join(devices)}") + ".", "", RULES]
    if broken:
        lines += ["", f"**{len(broken)} record file(s) could not be read** and are left out: {', '.join(broken)}."]
    lines += ["", "## Pages", ""] + [f"- [{title}]({name}.md)" for name, title in PAGES.items()]
    return "\n".join(lines) + "\n"

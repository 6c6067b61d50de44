"""The verdict per target: what wins (chosen on validation), by how much at equal budgets, and how sure.

Every "best" here is the pipeline with the lowest validation error (ranking's `chosen`); every factor compares
two pipelines at one budget, over the seeds both ran, by a paired t-test on log10 of their test errors, with
failures counted (frames.FAILURE_RULE)."""

import numpy as np
import pandas as pd

from bench.report.frames import ASKER, MLP, common_budget, fmt
from bench.report.stats import paired_comparison, verdict
from bench.report.tables import RANKED, by_validation, errors_by_seed, is_cpu

PICKED = ["budget", "encoding", "target_encoding", "model", "ok", "runs", "median_rel_err", "ci_low", "ci_high",
          "tuned_settings", "device"]


def picked(prefix, row):
    return {f"{prefix}{k}": (None if row is None else row[k]) for k in PICKED}


def lowest_validation(table):
    """The row of `table` with the lowest validation error (tables.by_validation), or None."""
    scored = by_validation(table)
    return None if scored.empty else scored.iloc[0]


def factor(by_seed, lead, rival):
    """How many times `rival`'s test error is `lead`'s, over their common seeds: (factor, p, n, verdict)."""
    ratio, p, n = paired_comparison(by_seed[tuple(lead[RANKED])], by_seed[tuple(rival[RANKED])])
    return {"factor": ratio, "p": p, "n": n, "verdict": verdict(ratio, p, n) if n else "–"}


def comparison(prefix, by_seed, lead, rival):
    """Columns for one equal-budget comparison (lead against rival), all missing when either is."""
    fields = picked(f"{prefix}lead_", lead) | picked(f"{prefix}rival_", rival)
    measured = factor(by_seed, lead, rival) if lead is not None and rival is not None else {}
    return fields | {f"{prefix}{k}": measured.get(k, np.nan) for k in ("factor", "p", "n", "verdict")}


def verdicts(ranked, runs):
    """One row per target: the best pipeline over every budget and the best shared `mlp` (both chosen on
    validation); at the mlp's common budget, its best pipeline against its best raw-input one; at the budget
    the question's network ran, the best mlp pipeline against it."""
    by_seed = errors_by_seed(runs)
    budgets = common_budget(runs)
    rows = []
    for target, table in ranked.groupby("target", sort=False):
        best = lowest_validation(table)
        if best is None:
            continue
        mlps = table[table["model"] == MLP]
        row = {"target": target, "candidates": len(table)} | picked("", best) | picked("mlp_", lowest_validation(mlps))
        equal = mlps[mlps["budget"] == budgets.get((target, MLP))]
        lead = lowest_validation(equal)
        raw = lowest_validation(equal[equal["encoding"] == "raw"]) if lead is not None and lead["encoding"] != "raw" else None
        row |= {"raw_pipelines": len(equal)} | comparison("raw_", by_seed, lead, raw)
        asker = table[table["model"] == ASKER]
        question = lowest_validation(asker)
        rival_budget = None if question is None else question["budget"]
        row |= comparison("asker_", by_seed, lowest_validation(mlps[mlps["budget"] == rival_budget]), question)
        rows.append(row)
    return pd.DataFrame(rows)


def pipeline_words(row, prefix):
    return f"`{row[f'{prefix}model']}` {row[f'{prefix}encoding']} → {row[f'{prefix}target_encoding']}"


def result_words(row, prefix):
    """'8.8e-15 (geometric mean over 5 seeds, 95 % interval 1e-15 to 6e-14)' with the failures if any."""
    runs, ok = row[f"{prefix}runs"], row[f"{prefix}ok"]
    interval = (f", 95 % interval {fmt(row[f'{prefix}ci_low'])} to {fmt(row[f'{prefix}ci_high'])}"
                if runs >= 2 and pd.notna(row[f"{prefix}ci_low"]) else "")
    failures = f"; {runs - ok} of {runs} failed, counted as failures" if ok < runs else ""
    return f"**{fmt(row[f'{prefix}median_rel_err'])}** (geometric mean over {runs:.0f} seeds{interval}{failures})"


def factor_words(row, prefix, what):
    """'log → asinh is 58× lower than raw → asinh (paired t-test on log10 over 5 seeds, p = 2e-05)'."""
    if pd.isna(row[f"{prefix}factor"]):
        return None
    ratio, p, n = row[f"{prefix}factor"], row[f"{prefix}p"], row[f"{prefix}n"]
    size = f"{fmt(ratio)}× lower than" if ratio >= 1 else f"{fmt(1 / ratio)}× higher than"
    sure = (f"a tie at p = {fmt(p, 2)}" if row[f"{prefix}verdict"] == "tie" else f"p = {fmt(p, 2)}") if pd.notna(p) else "no test"
    return (f"At {row[f'{prefix}lead_budget']} ({what}): {pipeline_words(row, f'{prefix}lead_')} is {size} "
            f"{pipeline_words(row, f'{prefix}rival_')} ({fmt(row[f'{prefix}lead_median_rel_err'])} against "
            f"{fmt(row[f'{prefix}rival_median_rel_err'])}; paired t-test on log10 over {n:.0f} seeds, {sure}).")


def verdict_text(row):
    """The verdict for one target, a few sentences."""
    parts = [f"Best of {row['candidates']} pipelines × budgets (chosen on validation): {pipeline_words(row, '')} at "
             f"{row['budget']}, test median relative error {result_words(row, '')}."]
    if pd.notna(row.get("mlp_model")) and (row["mlp_model"], row["mlp_encoding"], row["mlp_budget"]) != (
            row["model"], row["encoding"], row["budget"]):
        tuned = f" (tuned: {row['mlp_tuned_settings']})" if row["mlp_tuned_settings"] else ""
        parts.append(f"Best shared mlp: {pipeline_words(row, 'mlp_')} at {row['mlp_budget']}{tuned}: "
                     f"{result_words(row, 'mlp_')}.")
    parts.append(factor_words(row, "raw_", f"the budget {row['raw_pipelines']:.0f} mlp pipelines ran"))
    parts.append(factor_words(row, "asker_", "the question's network at its budget"))
    if is_cpu(row["device"]):
        parts.append("Measured on CPU.")
    return " ".join(p for p in parts if p)

"""Published symbolic-regression rates, for scale only (other data, other budgets): SRSD's per method and
difficulty (published_srsd.csv) and SRBench 2021's Feynman rates (published_srbench.csv), each row with its source.
A rate that could not be found is left empty in its CSV, and the page says so instead of quoting it."""

from pathlib import Path

import pandas as pd

from bench.report.markdown import markdown_table

SRBENCH = Path(__file__).with_name("published_srbench.csv")
SRSD = Path(__file__).with_name("published_srsd.csv")
RATES = ["r2_above_0999_pct", "symbolic_solution_pct"]
NOT_COMPARABLE = ("R² > 0.999 on held-out data is our accuracy criterion too; a symbolic solution rate is a "
                  "different metric (the model is the formula, up to a constant), never to be read as an R² rate.")


def srsd_markdown(path=SRSD):
    """SRSD's published rates per method and difficulty, or what was looked for and not found."""
    table = pd.read_csv(path, dtype=str, keep_default_na=False)
    found = table[(table[RATES] != "").any(axis=1)]
    missing = table[(table[RATES] == "").any(axis=1)]
    parts = [markdown_table(found.drop(columns="note"))] if not found.empty else []
    if not missing.empty:
        methods = ", ".join(dict.fromkeys(missing["algorithm"]))
        sources = "; ".join(dict.fromkeys(missing["source"]))
        notes = "; ".join(dict.fromkeys(missing["note"]))
        parts.append(f"Not quoted: SRSD's rates for {methods} ({sources}) — {notes} "
                     f"([`published_srsd.csv`](../../bench/report/published_srsd.csv)).")
    return "\n\n".join(parts)


def srbench_markdown(path=SRBENCH):
    return markdown_table(pd.read_csv(path))


def published_markdown():
    """The section below the leaderboard: SRSD's rates, then SRBench's, then what they can and cannot be set beside."""
    return "\n".join(["### SRSD-Feynman (Matsubara et al., DMLR 2024): per method and difficulty", "", srsd_markdown(), "",
                      "### SRBench 2021, Feynman problems", "", srbench_markdown(), "", NOT_COMPARABLE])

"""Published symbolic-regression rates, for scale only (other budgets; SRBench's also other data): SRSD's per method
and difficulty (published_srsd.csv) and SRBench 2021's Feynman rates (published_srbench.csv), each row with its
source. A rate that could not be found is left empty in its CSV, and the page says so instead of quoting it."""

from pathlib import Path

import pandas as pd

from bench.report.markdown import markdown_table

SRBENCH = Path(__file__).with_name("published_srbench.csv")
SRSD = Path(__file__).with_name("published_srsd.csv")
RATES = ["r2_above_0999_pct", "symbolic_solution_pct"]
RATE_NAMES = {"r2_above_0999_pct": "SRSD's R² > 0.999 rate", "symbolic_solution_pct": "SRSD's solution rate"}
NOT_COMPARABLE = ("R² > 0.999 on held-out data is our accuracy criterion too; a symbolic solution rate is a "
                  "different metric (the model is the formula, up to a constant), never to be read as an R² rate.")


def srsd_markdown(path=SRSD):
    """SRSD's published rates, one table per rate found (a row per method, a column per difficulty), their sources,
    then the rates that could not be found."""
    table = pd.read_csv(path, dtype=str, keep_default_na=False)
    table["set"] = table["difficulty"] + " (" + table["problems"] + ")"
    parts, absent = [], []
    for rate in RATES:
        found, missing = table[table[rate] != ""], table[table[rate] == ""]
        if not found.empty:
            wide = found.pivot(index="algorithm", columns="set", values=rate)
            wide = wide[list(dict.fromkeys(found["set"]))].loc[list(dict.fromkeys(found["algorithm"]))]
            parts += [f"{RATE_NAMES[rate]}, % of problems (source: {'; '.join(dict.fromkeys(found['source']))}):",
                      markdown_table(wide.reset_index().rename(columns={"algorithm": "method"}))]
        if not missing.empty:
            absent.append(f"Not quoted: {RATE_NAMES[rate]} of {', '.join(dict.fromkeys(missing['algorithm']))} — "
                         f"{'; '.join(dict.fromkeys(missing['note']))} "
                         "([`published_srsd.csv`](../../bench/report/published_srsd.csv)).")
    return "\n\n".join(parts + absent)


def srbench_markdown(path=SRBENCH):
    return markdown_table(pd.read_csv(path))


def published_markdown():
    """The section below the leaderboard: SRSD's rates, then SRBench's, then what they can and cannot be set beside."""
    return "\n".join(["### SRSD-Feynman (Matsubara et al., DMLR 2024): per method and difficulty", "", srsd_markdown(), "",
                      "### SRBench 2021, Feynman problems", "", srbench_markdown(), "", NOT_COMPARABLE])

"""The suite's summary.md, top to bottom: the verdict, the leaderboard and published rates, solve rates,
precision tiers, wins, ranks, the profiles, where the recipe fails and where the time goes."""

from dataclasses import dataclass

import pandas as pd

from bench.report.leaderboard import leaderboard_markdown_frame
from bench.report.markdown import markdown_table
from bench.report.precision import tier_cells
from bench.report.published import published_markdown
from bench.report.stage_time import stage_markdown

FAILURES = ("A run that diverged or failed, or whose test predictions are not finite, counts as its pipeline's "
            "failure (unsolved, reaching no tier); every choice, the recipe's included, is made on validation.")
LEADERBOARD_NOTE = (
    "One row per method, every rate over the same equations and seeds (the seeds every method ran: {seeds}; the "
    "tables below cover every seed each pipeline ran), scored on the same test rows of each (equation, seed). "
    "`rank`: by R² > 0.999 rate among the methods run on every equation. The recipe's seconds are the sum of every "
    "run it chooses among on an equation (references, signomial, candidates, finalist); another method's are its own "
    "run's. `symbolic solutions`: the records' symbolic check (SRBench's rule, bench/solution.py), empty for a model "
    "that returns no formula; for the recipe, an equation whose chosen run returns no formula counts as none. Rates "
    "with intervals are in the tables below.")
RATES_NOTE = (
    "Rates are over equations: with one seed, solved of run with Wilson's 95 % interval; with several seeds, the mean "
    "over equations of each equation's share of seeds, with a bootstrap over equations (an equation's seeds are not "
    "independent draws), and the count per seed. Candidates (polished by the short L-BFGS round) and finalists "
    "(the candidate that validated best, polished long) are the recipe's own runs, never references.")


@dataclass
class SummaryParts:
    """What summary.md shows, computed by bench.report.suite."""

    sentence: str
    place: str
    spent: str
    board: pd.DataFrame
    rates: pd.DataFrame
    tiers: pd.DataFrame
    precise: str  # which models the recipe's chosen runs at ≤ 1e-5 are
    won: dict
    cd: str
    failed: pd.DataFrame
    stage_time: pd.DataFrame  # bench.report.stage_time's minutes per stage and seed


def rates_markdown(rates):
    seeds = rates["per_seed"].str.contains(",").any()
    shown = rates.assign(rate=rates["rate"].map("{:.0%}".format),
                         interval=[f"{lo:.0%} to {hi:.0%}" for lo, hi in zip(rates["ci_low"], rates["ci_high"])])
    return markdown_table(shown[["pipeline", "difficulty", "solved", "runs", "rate", "interval"]
                                + (["per_seed"] if seeds else [])].rename(columns={"per_seed": "per seed"}))


def summary_markdown(parts):
    """summary.md's text."""
    wins = pd.DataFrame([{"pipeline": p, "wins": len(t), "equations": ", ".join(t)}
                         for p, t in sorted(parts.won.items(), key=lambda kv: -len(kv[1]))])
    drawn = "Friedman test p" in parts.cd
    lines = ["# Suite results", "", " ".join(p for p in (parts.sentence, parts.place) if p) + " " + FAILURES
             + parts.spent + (" ([`wall_times.csv`](wall_times.csv))" if parts.spent else ""), "",
             "## Leaderboard", "", markdown_table(leaderboard_markdown_frame(parts.board)), "",
             LEADERBOARD_NOTE.format(seeds=parts.board["seeds"].iloc[0]), "",
             "## Published symbolic-regression rates (for scale; other data, other budgets)", "", published_markdown(), "",
             "## Solve rate (R² > 0.999) per pipeline", "", RATES_NOTE, "", rates_markdown(parts.rates), "",
             "## Precision: median relative error at or below 1e-3, 1e-5, 1e-7", "",
             "Equations at or below each tier (share and 95 % interval, as for the solve rates).", "",
             markdown_table(tier_cells(parts.tiers, ["pipeline", "difficulty"])), "", parts.precise, "",
             "![precision profile](precision_profile.png)", "",
             "## Wins (lowest test error per equation, among the pipelines run on every equation)", "",
             markdown_table(wins), "", "## Ranks", "", parts.cd, "",
             "![critical difference](critical_difference.png)" if drawn else "", "",
             "## Performance profile", "", "![performance profile](performance_profile.png)", "",
             "## Where the recipe fails", "",
             markdown_table(parts.failed) if not parts.failed.empty else "It solves every equation.", "",
             "## Where the time goes", "", stage_markdown(parts.stage_time), "",
             "Per equation and pipeline: [`per_equation.csv`](per_equation.csv); solve rates: "
             "[`solve_rates.csv`](solve_rates.csv); precision tiers: [`precision_tiers.csv`](precision_tiers.csv); "
             "leaderboard: [`leaderboard.csv`](leaderboard.csv)."]
    return "\n".join(lines) + "\n"

"""Where a suite's time goes: minutes of one worker per stage and seed, read from the runs' own records.

wall_times.csv logs invocations, and a suite resumed in parts spreads one seed over several of them; the records
say what each run cost wherever it ran. A run's cost is its share of its job's seconds (a batched job's seconds
split evenly over its runs), each run counted once: a finalist that is also the fixed reference (the same
configuration, run once) is the recipe's, since the recipe would run it without the comparison.
"""

import numpy as np
import pandas as pd

from bench.report.frames import joined
from bench.report.markdown import markdown_table

# The stages in the order bench.suite runs them: the recipe's (what it chooses among), then the comparisons.
RECIPE_STAGES = ("mlp at one budget", "lightgbm", "signomial", "candidates", "finalists")
REFERENCE_MODELS = {"mlp": "mlp at one budget"}  # a reference run's stage by its model; other models name their own
ROLE_STAGES = {"candidate": "candidates", "finalist": "finalists", "fixed reference": "fixed reference"}
FIRST_ROLES = ("finalist", "candidate", "reference")  # a run in two roles counts in the first of them
RECIPE_TOTAL = "the recipe (the stages above)"
NOTE = ("Minutes of one worker (one thread) per stage and seed, summed over the runs' records: each run's share of "
        "its job's seconds, every run counted once. With `--jobs 2` a stage takes about half as long, more where "
        "one long run holds a worker at its end. The fixed reference and the outside methods are comparisons, "
        "not part of the recipe.")


def stage_minutes(frame):
    """(stage × seed) minutes of one worker, the recipe's total after its stages; empty where `frame` is."""
    if frame.empty:
        return pd.DataFrame()
    first = frame["role"].map({role: i for i, role in enumerate(FIRST_ROLES)}).fillna(len(FIRST_ROLES))
    runs = frame.assign(first=first).sort_values("first", kind="stable").drop_duplicates("key")
    stage = np.where(runs["role"].eq("reference"), runs["model"].map(REFERENCE_MODELS).fillna(runs["model"]),
                     runs["role"].map(ROLE_STAGES).fillna(runs["model"]))
    table = runs.assign(stage=stage).pivot_table(index="stage", columns="seed", values="seconds", aggfunc="sum") / 60
    order = [s for s in RECIPE_STAGES if s in table.index]
    total = table.loc[order].sum().rename(RECIPE_TOTAL)
    table = pd.concat([table.loc[order], total.to_frame().T, table.drop(index=order)])
    table.columns = [f"seed {seed}" for seed in table.columns]
    return table.rename_axis("stage").reset_index()


def stage_markdown(table):
    """The table with minutes to one decimal (a stage a seed did not run: –), and its note."""
    shown = table.copy()
    for column in shown.columns[1:]:
        shown[column] = shown[column].map(lambda m: "–" if pd.isna(m) else f"{m:.1f}")
    return NOTE + "\n\n" + markdown_table(shown)


def recipe_minutes(table):
    """' The recipe's runs took …' per seed, for the headline's wall-time part; '' for an empty table."""
    if table.empty:
        return ""
    total = table.set_index("stage").loc[RECIPE_TOTAL]
    seeds = [column.removeprefix("seed ") for column in total.index]
    return (f" Per seed, the recipe's runs took {joined(f'{m:.1f}' for m in total)} minutes of one worker (seed(s) "
            f"{joined(seeds)}; at best half that on 2 workers; the summary's \"Where the time goes\").")

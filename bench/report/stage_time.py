"""Where a suite's time goes: minutes of one worker per stage and seed, read from the runs' own records.

wall_times.csv logs invocations, and a suite resumed in parts spreads one seed over several of them; the records
say what each run cost wherever it ran. A run's cost is its share of its job's seconds (a batched job's seconds
split evenly over its runs), each run counted once: a finalist that is also the fixed reference (the same
configuration, run once) is the recipe's, since the recipe would run it without the comparison.
"""

import pandas as pd

from bench.report.frames import joined
from bench.report.leaderboard import RECIPE_ROLES
from bench.report.markdown import markdown_table

# The recipe's stages in the order bench.suite runs them; a comparison's stage is its pipeline.
RECIPE_STAGES = ("mlp at one budget", "lightgbm", "signomial", "candidates", "finalists")
ROLE_STAGES = {"candidate": "candidates", "finalist": "finalists"}  # a reference's stage is its model's
REFERENCE_MODELS = {"mlp": "mlp at one budget"}
RECIPE_TOTAL = "the recipe (the stages above)"
NOTE = ("Minutes of one worker (one thread) per stage and seed, summed over the runs' records: each run's share of "
        "its job's seconds, every run counted once. With `--jobs 2` a stage takes at best half as long, more where "
        "one long run holds a worker at its end. The fixed reference and the outside methods are comparisons, "
        "not part of the recipe.")


def stage_minutes(frame):
    """(stage × seed) minutes of one worker, columns the seeds in order, the recipe's total after its stages (NaN
    for a seed missing any of the stages its other seeds ran)."""
    runs = frame.assign(comparison=~frame["role"].isin(RECIPE_ROLES))
    runs = runs.sort_values("comparison", kind="stable").drop_duplicates("key")
    stage = (runs["pipeline"].where(runs["comparison"])
             .mask(runs["role"].eq("fixed reference"), "fixed reference, " + runs["pipeline"])
             .fillna(runs["role"].map(ROLE_STAGES)).fillna(runs["model"].replace(REFERENCE_MODELS)))
    table = runs.assign(stage=stage).pivot_table(index="stage", columns="seed", values="seconds", aggfunc="sum") / 60
    order = [s for s in RECIPE_STAGES if s in table.index]
    total = table.loc[order].sum(skipna=False).rename(RECIPE_TOTAL)
    return pd.concat([table.loc[order], total.to_frame().T, table.drop(index=order)]).sort_index(axis=1)


def stage_markdown(table):
    """The note and the table, minutes to one decimal (a stage a seed did not run: –)."""
    shown = table.map(lambda m: "–" if pd.isna(m) else f"{m:.1f}")
    shown.columns = [f"seed {seed}" for seed in shown.columns]
    return NOTE + "\n\n" + markdown_table(shown.rename_axis("stage").reset_index())


def recipe_minutes(table):
    """' Per seed, the recipe's runs took …' for the headline's wall-time part; '' where a seed's total is
    unknown (a stage missing)."""
    total = table.loc[RECIPE_TOTAL]
    if total.isna().any():
        return ""
    return (f" Per seed, the recipe's runs took {joined(f'{m:.1f}' for m in total)} minutes of one worker (seed(s) "
            f"{joined(total.index)}; at best half that on 2 workers; the summary's \"Where the time goes\").")

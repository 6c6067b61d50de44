"""The table of the models users would pick instead (TabM, RealMLP, boosting libraries): per target and model,
the pipeline chosen on validation and its test median relative error and R².

`write_sota_table(out, dest, command)` reads the records in <out>/runs and writes <dest>.md and <dest>.csv.
"""

from pathlib import Path

import pandas as pd

from bench.records import load_frame, load_records

COLUMNS = ["target", "model", "encoding", "target_encoding", "val_median_rel_err", "median_rel_err", "r2", "solved"]


def best_per_model(records):
    """One row per (target, model): among its ok runs, the one with the lowest validation error."""
    frame = load_frame([r for r in records if r["status"] == "ok"])
    if frame.empty:
        return pd.DataFrame(columns=COLUMNS)
    frame = frame.rename(columns={"metrics.median_rel_err": "median_rel_err", "metrics.r2": "r2",
                                  "metrics.solved": "solved"})
    best = frame.sort_values("val_median_rel_err").groupby(["target", "model"], as_index=False).first()
    return best[COLUMNS].sort_values(["target", "model"]).reset_index(drop=True)


def sota_markdown(best, command, environment):
    """A wide table (targets × models: median relative error, R²) and the count of targets with R² > 0.999."""
    models = sorted(best["model"].unique())
    cell = best.assign(text=[f"{m:.3g} ({r:.4f})" for m, r in zip(best["median_rel_err"], best["r2"])])
    wide = cell.pivot(index="target", columns="model", values="text").reindex(columns=models).fillna("—")
    solved = best.groupby("model")["solved"].sum().reindex(models).astype(int)
    lines = ["# TabM, RealMLP and gradient boosting on the dev set", "",
             "Per target and model: the test median relative error |ŷ − y| / |y| and, in brackets, R² of the "
             "pipeline (input encoding × target encoding) with the lowest validation median relative error. "
             "Chosen pipelines are in the CSV beside this file.", "",
             "| target | " + " | ".join(models) + " |", "| --- |" + " --- |" * len(models)]
    lines += [f"| {target} | " + " | ".join(row) + " |" for target, row in wide.iterrows()]
    lines += [f"| **R² > 0.999** (of {wide.shape[0]}) | " + " | ".join(str(n) for n in solved) + " |", "",
              f"{environment}. Produced by:", "", "```bash", command, "```", ""]
    return "\n".join(lines)


def write_sota_table(out, dest, command, environment="CPU run, 2 cores"):
    """Write <dest>.md and <dest>.csv from the records in <out>/runs; returns the table."""
    records, _ = load_records(out)
    best = best_per_model(records)
    dest = Path(dest)
    best.to_csv(dest.with_suffix(".csv"), index=False)
    dest.with_suffix(".md").write_text(sota_markdown(best, command, environment))
    return best

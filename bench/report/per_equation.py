"""Per equation and model: the pipeline chosen on validation, with its test median relative error and R².

For a sweep over many equations (the SRSD dev set): `python -m bench.report.per_equation DIR --title TEXT
--command TEXT` reads the records in DIR/runs and writes DIR.md and DIR.csv beside the folder.
"""

import sys
from pathlib import Path

import numpy as np
import pandas as pd

from bench import cli
from bench.errors import UserError
from bench.records import load_frame, load_records
from bench.report.frames import FLOAT_FORMAT, is_failure, require_validation, validation_of

COLUMNS = ["target", "model", "encoding", "target_encoding", "steps", "lbfgs_iters", "status", "failed", "val_error",
           "median_rel_err", "r2", "solved"]


def best_per_model(records):
    """One row per (target, model) with a record: of all its runs, the one with the lowest validation error (a
    run that diverged or failed has an infinite one: never chosen, never dropped). The row is that model's
    failure on the equation (`failed`: R² = −inf, not solved; no test error unless it has test predictions) when
    none of its runs is ok, or when the chosen run's test predictions are not finite (frames.is_failure)."""
    if not records:
        return pd.DataFrame(columns=COLUMNS)
    require_validation(records)
    frame = load_frame(records).assign(val_error=[validation_of(r) if r["status"] == "ok" else np.inf for r in records])
    frame = frame.rename(columns={"metrics.median_rel_err": "median_rel_err", "metrics.r2": "r2",
                                  "metrics.solved": "solved", "metrics.nonfinite_share": "nonfinite_share",
                                  "config.settings.steps": "steps", "config.settings.lbfgs_iters": "lbfgs_iters"})
    for column in ("steps", "median_rel_err", "r2", "solved", "nonfinite_share"):
        if column not in frame:
            frame[column] = np.nan
    frame["lbfgs_iters"] = frame["lbfgs_iters"].fillna(0).astype(int) if "lbfgs_iters" in frame else 0
    best = frame.sort_values("val_error", kind="stable").groupby(["target", "model"]).head(1).copy()  # whole runs
    best["failed"] = is_failure(best)
    best.loc[best["status"] != "ok", "median_rel_err"] = np.inf
    best.loc[best["failed"], "r2"] = -np.inf
    best["solved"] = best["solved"].fillna(False).astype(bool) & ~best["failed"]
    return best[COLUMNS].sort_values(["target", "model"]).reset_index(drop=True)


def cell_text(row):
    """A table cell: 'median (R²)', or 'failed' where the model has no ok run on the equation."""
    return "failed" if row.status != "ok" else f"{row.median_rel_err:.3g} ({row.r2:.4f})"


def per_equation_markdown(best, title, command, environment):
    """A wide table (equations × models: median relative error, R²), the count of equations with R² > 0.999 and
    the count of failures (each an equation the model does not solve, never left out of the count)."""
    models = sorted(best["model"].unique())
    cell = best.assign(text=[cell_text(row) for row in best.itertuples()])
    wide = cell.pivot(index="target", columns="model", values="text").reindex(columns=models).fillna("—")
    solved = best.groupby("model")["solved"].sum().reindex(models).astype(int)
    failed = best.groupby("model")["failed"].sum().reindex(models).astype(int)
    lines = [f"# {title}", "",
             "Per equation and model: the test median relative error |ŷ − y| / |y| and, in brackets, R² of the "
             "run (input encoding × target encoding, and budget where there are several) with the lowest "
             "validation error (bench/metrics.py). A run that diverged or failed is never chosen; a model with no "
             "ok run on an equation, or whose chosen run predicts a NaN/inf on the test set, fails there (R² = −inf, "
             "unsolved, counted below; — : not run). The chosen runs are in the CSV beside this file.", "",
             "| equation | " + " | ".join(models) + " |", "| --- |" + " --- |" * len(models)]
    lines += [f"| {target} | " + " | ".join(row) + " |" for target, row in wide.iterrows()]
    lines += [f"| **R² > 0.999** (of {wide.shape[0]}) | " + " | ".join(str(n) for n in solved) + " |",
              "| **failed** | " + " | ".join(str(n) for n in failed) + " |", "",
              f"Measured on {environment}. Produced by:", "", "```bash", command, "```", ""]
    return "\n".join(lines)


def write_table(out, title, command):
    """Write <out>.md and <out>.csv beside the folder `out` from the records in <out>/runs; returns the table."""
    records, _ = load_records(out)
    environment = "; ".join(sorted({r.get("env", {}).get("device") or "an unrecorded device" for r in records}))
    best = best_per_model(records)
    if best.empty:
        raise UserError(f"no records in {Path(out) / 'runs'}; run the sweep first")
    out = Path(out)
    best.to_csv(out.parent / f"{out.name}.csv", index=False, float_format=FLOAT_FORMAT)
    (out.parent / f"{out.name}.md").write_text(per_equation_markdown(best, title, command, environment))
    return best


def main(argv=None):
    parser = cli.Parser(prog="python -m bench.report.per_equation", description=__doc__.strip().splitlines()[0])
    parser.add_argument("folder", help="a results folder holding runs/, e.g. results/dev-mlp")
    parser.add_argument("--title", default="Per-equation results", help="the table's heading")
    parser.add_argument("--command", default="(not given)", help="the bench.run command(s) that made the records")
    args = parser.parse_args(argv)
    write_table(args.folder, args.title, args.command)
    print(f"wrote {args.folder}.md and {args.folder}.csv", file=sys.stderr)
    return 0


if __name__ == "__main__":
    sys.exit(cli.main_guard(main))

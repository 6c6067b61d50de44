"""Per equation and model: the pipeline chosen on validation, with its test median relative error and R².

For a sweep over many equations (the SRSD dev set): `python -m bench.report.per_equation DIR --title TEXT
--command TEXT` reads the records in DIR/runs and writes DIR.md and DIR.csv beside the folder.
"""

import sys
from pathlib import Path

import pandas as pd

from bench import cli
from bench.errors import UserError
from bench.records import load_frame, load_records
from bench.report.frames import FLOAT_FORMAT, require_validation, validation_of

COLUMNS = ["target", "model", "encoding", "target_encoding", "steps", "lbfgs_iters", "val_error",
           "median_rel_err", "r2", "solved"]


def best_per_model(records):
    """One row per (target, model): among its ok runs, the one with the lowest validation error."""
    ok = [r for r in records if r["status"] == "ok"]
    if not ok:
        return pd.DataFrame(columns=COLUMNS)
    require_validation(ok)
    frame = load_frame(ok).assign(val_error=[validation_of(r) for r in ok])  # not finite: inf, never chosen
    frame = frame.rename(columns={"metrics.median_rel_err": "median_rel_err", "metrics.r2": "r2",
                                  "metrics.solved": "solved", "config.settings.steps": "steps",
                                  "config.settings.lbfgs_iters": "lbfgs_iters"})
    if "steps" not in frame:
        frame["steps"] = None
    frame["lbfgs_iters"] = frame["lbfgs_iters"].fillna(0).astype(int) if "lbfgs_iters" in frame else 0
    best = frame.sort_values("val_error", kind="stable").groupby(["target", "model"]).head(1)  # one whole run each
    return best[COLUMNS].sort_values(["target", "model"]).reset_index(drop=True)


def per_equation_markdown(best, title, command, environment):
    """A wide table (equations × models: median relative error, R²) and the count of equations with R² > 0.999."""
    models = sorted(best["model"].unique())
    cell = best.assign(text=[f"{m:.3g} ({r:.4f})" for m, r in zip(best["median_rel_err"], best["r2"])])
    wide = cell.pivot(index="target", columns="model", values="text").reindex(columns=models).fillna("—")
    solved = best.groupby("model")["solved"].sum().reindex(models).astype(int)
    lines = [f"# {title}", "",
             "Per equation and model: the test median relative error |ŷ − y| / |y| and, in brackets, R² of the "
             "run (input encoding × target encoding, and budget where there are several) with the lowest "
             "validation error (bench/metrics.py). The chosen runs are in the CSV beside this file.", "",
             "| equation | " + " | ".join(models) + " |", "| --- |" + " --- |" * len(models)]
    lines += [f"| {target} | " + " | ".join(row) + " |" for target, row in wide.iterrows()]
    lines += [f"| **R² > 0.999** (of {wide.shape[0]}) | " + " | ".join(str(n) for n in solved) + " |", "",
              f"Measured on {environment}. Produced by:", "", "```bash", command, "```", ""]
    return "\n".join(lines)


def write_table(out, title, command):
    """Write <out>.md and <out>.csv beside the folder `out` from the records in <out>/runs; returns the table."""
    records, _ = load_records(out)
    environment = "; ".join(sorted({r.get("env", {}).get("device") or "an unrecorded device" for r in records}))
    best = best_per_model(records)
    if best.empty:
        raise UserError(f"no ok records in {Path(out) / 'runs'}; run the sweep first")
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

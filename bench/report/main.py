"""python -m bench.report: tables, plots and summary.md from the run records in <out>/runs.

It reads records only. When the folder has none yet, it first runs a sweep (the default one, or a smaller
one with --quick) through bench.run, then reports on what that sweep wrote.
"""

import os
import shlex
import sys
from pathlib import Path

import matplotlib.pyplot as plt
import seaborn as sns

from bench import cli
from bench.errors import UserError
from bench.records import ensure_writable, load_records, runs_dir
from bench.report import asker
from bench.report.axes import write_axes
from bench.report.figures import FIGURES, plot_ecdf, plot_final_error, plot_heatmap, plot_learning_curves, plot_throughput
from bench.report.frames import best_budget, curves_frame, quantiles_frame, runs_frame
from bench.report.ladder import agreement_table, ladder_table, plot_ladder
from bench.report.markdown import summary_markdown
from bench.report.sweeps import DEFAULT_SWEEP, QUICK_SWEEP, reproduction, unfinished
from bench.report.tables import (
    convergence_table,
    environment_table,
    headlines,
    not_ok_table,
    ranking,
    throughput_table,
    tuning_table,
)

AXES_FOLDER = "axes"  # where python -m bench.axes writes by default, inside the results folder


def parser():
    p = cli.Parser(prog="python -m bench.report", description=__doc__.strip().splitlines()[0])
    p.add_argument("--out", default="results",
                   help="results folder: reads <out>/runs, writes summary.md, *.csv, *.png (default: results)")
    p.add_argument("--quick", action="store_true",
                   help=f"when <out> has no records: run the {QUICK_SWEEP.name} sweep (about {QUICK_SWEEP.minutes} "
                        f"min on 2 CPU cores) instead of the {DEFAULT_SWEEP.name} one (about {DEFAULT_SWEEP.minutes} min)")
    return p


def check_out(out):
    """Fail in one line, before any work, when `out` cannot be read or written."""
    if out.exists() and not out.is_dir():
        raise UserError(f"--out {out} is a file, not a folder; choose a folder")
    runs = runs_dir(out)
    if runs.exists() and not (runs.is_dir() and os.access(runs, os.R_OK | os.X_OK)):
        raise UserError(f"cannot read the records in {runs}; check its permissions or choose another --out")
    ensure_writable(out, "the report")


def run_sweep(sweep, out):
    """Run `sweep` into `out` through bench.run (its finished runs are skipped, so this also resumes it)."""
    from bench import run

    commands = [[*command, "--out", str(out)] for command in sweep.commands]
    print(f"{runs_dir(out)} does not hold the whole {sweep.name} sweep: running it first (about {sweep.minutes} "
          "min on 2 CPU cores from scratch; finished runs are skipped):\n"
          + "\n".join(f"  python -m bench.run {shlex.join(argv)}" for argv in commands), file=sys.stderr)
    for argv in commands:
        run.sweep(run.parser().parse_args(argv))


def write_report(records, broken, out):
    """Write the CSV tables, the PNG figures and summary.md into `out`; returns the file names written. Runs
    under data conditions are reported by axis (with this folder's clean runs as baselines), never ranked."""
    conditioned = any("conditions" in r["config"] for r in records)
    conditions = conditions_section(out, records if conditioned else None)
    records = [r for r in records if "conditions" not in r["config"]]
    if not records:
        raise UserError(f"every run in {runs_dir(out)} is under data conditions; python -m bench.axes --out {out} "
                        "reports them (add clean runs to rank pipelines)")
    everything = records
    ladder = ladder_table(runs_frame(records))
    records, other_budgets = best_budget(records)
    runs = runs_frame(records)
    ranked = ranking(runs)
    heads = headlines(ranked)
    tables = {"ranking": ranked, "headlines": heads, "tuning": tuning_table(runs), "budget_ladder": ladder,
              "budget_agreement": agreement_table(ladder), "convergence": convergence_table(runs, ranked),
              "throughput": throughput_table(runs), "not_ok": not_ok_table(runs), "environment": environment_table(runs)}
    written = []
    for name, table in tables.items():
        table.to_csv(out / f"{name}.csv", index=False)
        written.append(f"{name}.csv")
    sns.set_theme(style="whitegrid", context="notebook")
    drawn = {"learning_curves": plot_learning_curves(curves_frame(records)), "final_error": plot_final_error(runs),
             "heatmap": plot_heatmap(ranked), "ecdf": plot_ecdf(quantiles_frame(records), heads),
             "throughput": plot_throughput(tables["throughput"]), "budget_ladder": plot_ladder(ladder),
             "asker_ladder": asker.plot_ladder(records)}
    figures = {}
    for name, figure in drawn.items():
        path = out / f"{name}.png"
        if figure is None:
            path.unlink(missing_ok=True)  # no stale figure from an earlier report
            continue
        figure.savefig(path, dpi=120, bbox_inches="tight")
        plt.close(figure)
        figures[name] = FIGURES[name]
        written.append(path.name)
    asker_section = "\n\n".join(part for part in (asker.ladder_markdown(records), asker.symbolic_markdown(records)) if part)
    summary = summary_markdown(runs, tables, heads, figures, broken, reproduction(everything, out), other_budgets,
                               asker_section, *conditions)
    (out / "summary.md").write_text(summary)
    return written + ["summary.md"]


def conditions_section(out, records=None):
    """The data-condition axes in `records` (figures written to `out`), or else those recorded in <out>/axes
    (python -m bench.axes): their markdown and headline sentences; ('', []) when there are none."""
    if records is not None:
        sections, sentences, _ = write_axes(records, out)
        return sections, sentences
    folder = out / AXES_FOLDER
    if not runs_dir(folder).is_dir():
        return "", []
    records, _ = load_records(folder)
    sections, sentences, _ = write_axes(records, folder, link_prefix=f"{AXES_FOLDER}/")
    return sections, sentences


def main(argv=None):
    args = parser().parse_args(argv)
    out = Path(args.out)
    check_out(out)
    records, broken = load_records(out)
    sweep = QUICK_SWEEP if args.quick else DEFAULT_SWEEP
    if not broken and unfinished(sweep, records, out):  # empty, or a built-in sweep that was interrupted
        run_sweep(sweep, out)
        records, broken = load_records(out)
    for name in broken:
        print(f"warning: {runs_dir(out) / name} is not a readable record; left out of the report", file=sys.stderr)
    if not records:
        raise UserError(f"no readable records in {runs_dir(out)}; remove the broken files or choose another --out")
    written = write_report(records, broken, out)
    print(f"wrote {len(written)} files to {out}: {', '.join(written)}", file=sys.stderr)
    return 0

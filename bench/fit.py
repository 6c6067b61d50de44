"""python -m bench.fit: the suite's recipe on a data file's rows, chosen on validation and saved for bench.load.

    python -m bench.fit --data FILE --target COLUMN --to DIR [--budget quick|default] [--seeds N] [--jobs N]
                        [--products F*G,...] [--angles C,...]

It runs every stage `python -m bench.suite` runs on a formula (bench.suite.stages: the references, LightGBM, the
signomial where no feature column holds 0, the recipe's candidates polished, its finalist polished longer; the last
two only where no earlier run is exact) on the file's rows, split as `bench.run --data` splits them
(bench/datafile.py: the test rows are the same for every seed and no choice reads them). It keeps the run with the
lowest validation error among all of them, prints a leaderboard (each run's validation error, test error and
seconds), and exports that run to DIR as `bench.export` does (model.safetensors and pipeline.json; an mlp pipeline,
LightGBM's trees or the signomial's formula), with DIR/leaderboard.csv. Records go to DIR/records (or --work): the
same command resumes where it stopped and never trains a finished run again.
"""

import json
import math
import sys
from pathlib import Path

import pandas as pd

import bench.cli as cli
from bench.errors import UserError
from bench.export import check_destination, export_run
from bench.exported import PIPELINE
from bench.records import load_records, prepare_out
from bench.report.frames import validation_of
from bench.resources import check_memory
from bench.suite import BUDGETS, stages
from bench.sweep import backend, execute, pending
from bench.tabletarget import TableTarget

WORK, LEADERBOARD = "records", "leaderboard.csv"  # what DIR holds beside the export


def parser():
    p = cli.Parser(prog="python -m bench.fit", description="the suite's recipe on a data file's rows: every candidate "
                   "run, the one with the lowest validation error exported for bench.load")
    data = p.add_argument_group("the data file")
    cli.data_arguments(data, required=True)
    cli.feature_arguments(data)
    p.add_argument("--to", required=True, metavar="DIR", help="the folder to export the chosen pipeline to (new, or one "
                   "an earlier bench.fit wrote)")
    p.add_argument("--budget", choices=list(BUDGETS), default="default",
                   help="the suite's budgets (bench.suite --help); quick for a first look (default: default)")
    p.add_argument("--seeds", type=cli.positive_int, default=1, help="seeds 0..N-1: each redraws the training and "
                   "validation rows and the initial weights; the best run over all seeds is chosen (default: 1)")
    p.add_argument("--jobs", type=cli.positive_int, default=1, help="local worker processes (default: 1)")
    p.add_argument("--device", default="auto", help="auto (CUDA when present), cpu or cuda[:N]")
    p.add_argument("--work", metavar="FOLDER", help=f"where the runs' records go (default: DIR/{WORK})")
    return p


def run_recipe(target, budget, seeds, device, work, jobs=1, command=(), progress=True):
    """Run every stage of the suite's recipe on `target` into `work` (resumable); returns the records of the runs
    planned, those of this budget and these seeds only."""
    planned = set()
    for name, cells in stages([target], budget, seeds, device, str(work)):
        planned |= {cell.key for cell in cells}
        todo, done = pending(cells, work)
        if progress:
            print(f"{name}: {len(cells)} runs, {done} already recorded, {len(todo)} to run", file=sys.stderr)
        if todo:
            execute(todo, work, device, backend(jobs), list(command), progress=progress)
    return [record for record in load_records(work)[0] if record["key"] in planned]


def label(record):
    """A run's pipeline in words: model, input encoding → target encoding, and its polish."""
    polish = record["config"]["settings"].get("lbfgs_iters")
    return f"{record['model']} {record['encoding']} → {record['target_encoding']}" + (
        f" + {polish:,} L-BFGS" if polish else "")


def choose(records, where):
    """The run with the lowest validation error among those that finished (ties: by key); UserError when none has
    a finite one."""
    scored = [record for record in records if record["status"] == "ok" and math.isfinite(validation_of(record))]
    if not scored:
        raise UserError(f"no run finished with a finite validation error (see the records in {where}); check the data, "
                        "or try --budget default")
    return min(scored, key=lambda record: (validation_of(record), record["key"]))


def leaderboard(records, best):
    """One row per run, by validation error: pipeline, seed, validation error, test median relative error and R²,
    training seconds, status; `chosen` marks `best`."""
    rows = [{"pipeline": label(r), "seed": r["seed"], "val_error": validation_of(r),
             "test_median_rel_err": (r.get("metrics") or {}).get("median_rel_err"),
             "test_r2": (r.get("metrics") or {}).get("r2"),
             "seconds": (r.get("throughput") or {}).get("train_seconds"), "status": r["status"],
             "chosen": r["key"] == best["key"], "key": r["key"]} for r in records]
    frame = pd.DataFrame(rows)
    return frame.sort_values(["val_error", "key"], na_position="last", ignore_index=True)


def printed(board):
    """The leaderboard as the command prints it."""
    shown = board.assign(pipeline=[("* " if chosen else "  ") + name for name, chosen in zip(board.pipeline, board.chosen)])
    return shown[["pipeline", "seed", "val_error", "test_median_rel_err", "test_r2", "seconds"]].to_string(
        index=False, float_format=lambda x: f"{x:.3g}")


def load_target(args):
    """The data file as a target, checked whole (every seed's split included) before anything is written."""
    target = TableTarget.load(args.data, args.target, args.features, args.drop_missing, args.split_column,
                              args.products or (), angles=args.angles or ())
    for seed in range(args.seeds):
        target.table.split(seed)
    target.check()
    return target


def already_exported(folder, record):
    """Whether `folder` holds the export of `record` (a rerun then trains nothing again)."""
    try:
        return json.loads((folder / PIPELINE).read_text())["run"]["key"] == record["key"]
    except (OSError, ValueError, KeyError, TypeError):
        return False


def main(argv=None):
    args = parser().parse_args(argv)
    target = load_target(args)
    folder = Path(args.to)
    work = Path(args.work) if args.work else folder / WORK
    check_destination(folder, allowed=(WORK, LEADERBOARD))
    budget, device = BUDGETS[args.budget], cli.resolve_device(args.device)
    # every stage planned before any work (a model whose extra is missing stops here); the candidates' and the
    # finalists' stages are planned from the records once the stages before them have run (here: all candidates)
    planned = [cell for _, cells in stages([target], budget, args.seeds, device, str(work)) for cell in cells]
    check_memory(planned, device, args.jobs)
    if target.table.ignored_note():
        print(target.table.ignored_note(), file=sys.stderr)
    if target.table.dropped:
        print(f"note: dropped {target.table.dropped} row(s) of {args.data} with NaN, infinite or empty values "
              "(--drop-missing)", file=sys.stderr)
    prepare_out(work)
    command = ["python", "-m", "bench.fit", *(sys.argv[1:] if argv is None else argv)]
    records = run_recipe(target, budget, args.seeds, device, work, args.jobs, command)
    best = choose(records, work)
    board = leaderboard(records, best)
    print(printed(board))
    if already_exported(folder, best):
        print(f"{folder} already holds this run's export; nothing retrained", file=sys.stderr)
    else:
        export_run(work, load_records(work)[0], best, folder, data=args.data)
    board.to_csv(folder / LEADERBOARD, index=False)
    print(f"chose {label(best)} (seed {best['seed']}) on validation: validation error {validation_of(best):.4g}, test "
          f"median relative error {best['metrics']['median_rel_err']:.4g} on {len(target.table.split(0)[2])} held-out "
          f"rows; exported to {folder} (bench.load({str(folder)!r}))", file=sys.stderr)
    return 0


if __name__ == "__main__":
    sys.exit(cli.main_guard(main))

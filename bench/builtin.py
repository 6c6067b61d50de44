"""`python -m bench.report`: render the report from a results folder's records (bench/report/ reads records only);
with --sweep, first fill the folder with a built-in sweep when it holds none (or part) of one.

A record's key says whether a built-in sweep planned it; a tuned command's runs are claimed by their pipeline,
seed, budget and search (their settings depend on searches that may not be stored yet). Finished runs are
never redone, so running a sweep again resumes it.
"""

import os
import shlex
import sys
from functools import cache
from pathlib import Path

from bench import cli
from bench.errors import UserError
from bench.records import ensure_writable, load_records, runs_dir
from bench.report.main import write_report
from bench.report.sweeps import DEFAULT_SWEEP, QUICK_SWEEP
from bench.run import parser as run_parser
from bench.run import sweep as run
from bench.run import train_config, tuning_space
from bench.sweep import plan
from bench.targets import load_targets
from bench.train import RUN_ONLY_SETTINGS, TrainConfig, run_only_setting
from bench.tune import tuned_cells


def run_only(record):
    """The run-only settings (polish, rollback) of an mlp record's run. Other models have none: they get the
    defaults, so they group with the mlp runs of a command that leaves these settings alone."""
    settings = record["config"]["settings"]
    return [run_only_setting(settings, k) if record["model"] == "mlp" else getattr(TrainConfig, k)
            for k in RUN_ONLY_SETTINGS]


def planned_keys(argv, out, device="cpu"):
    """The record keys that `python -m bench.run ARGV --out OUT` plans on `device`; None when it cannot plan
    them (targets that are not built in, models or encodings this version does not know, or a tuned command
    whose searches are not stored in OUT yet)."""
    try:
        args = run_parser().parse_args(argv)
        targets = load_targets(args.targets_file)
        config = train_config(args)
        cells, _ = plan([targets[n] for n in args.targets], args.encodings, args.target_encodings, args.models,
                        args.seeds, config, args.train_size, device)
        if args.tune:
            cells = tuned_cells(cells, args.tune, args.tune_steps or config.steps, tuning_space(args), out, device,
                                finalists=args.finalists, run_missing=False, shared_architecture=args.shared_architecture)
    except (UserError, KeyError, SystemExit):
        return None
    return None if cells is None else {c.key for c in cells}


def sweep_keys(sweep, out, device="cpu"):
    """Every record key a built-in sweep plans, or None while some of its searches are not stored in `out`."""
    planned = [planned_keys(list(command), out, device) for command in sweep.commands]
    return None if None in planned else set().union(*planned)


TUNING_FLAGS = ("--tune", "--tune-steps", "--finalists", "--space")  # each followed by its value
TUNING_SWITCHES = ("--shared-architecture",)


def without_tuning(command):
    """The command without its tuning flags: it plans the untuned runs (a tuned command's untunable models')."""
    kept, skip = [], False
    for word in command:
        if skip:
            skip = False
        elif word in TUNING_FLAGS:
            skip = True
        elif word not in TUNING_SWITCHES:
            kept.append(word)
    return kept


@cache
def parsed(command):
    """A built-in sweep's command (a tuple) as bench.run's parsed arguments."""
    return run_parser().parse_args(list(command))


@cache
def command_run_only(command):
    """The run-only settings (polish, rollback) of a built-in sweep's command, in RUN_ONLY_SETTINGS order."""
    config = train_config(parsed(command))
    return [getattr(config, k) for k in RUN_ONLY_SETTINGS]


def made_by(record, sweep, untuned_keys):
    """Whether `sweep` plans this record: its key for untuned commands; for tuned ones (whose settings depend
    on searches that may not be stored yet) the same pipeline, seed, budget and search."""
    tuned = record["config"].get("tuned")
    if tuned is None:
        return record.get("key") in untuned_keys
    settings = record["config"]["settings"]
    for command in sweep.commands:
        args = parsed(command)
        if (args.tune == tuned["trials"] and (args.tune_steps or args.steps) == tuned["search_steps"]
                and args.shared_architecture == ("architecture" in tuned)
                and settings.get("steps") == args.steps
                and (record["model"] != "mlp" or run_only(record) == command_run_only(command))
                and record["target"] in args.targets
                and record["model"] in args.models and record["encoding"] in args.encodings
                and record["target_encoding"] in args.target_encodings and record["seed"] < args.seeds):
            return True
    return False


def unfinished(sweep, records, out, device="cpu"):
    """True when `out` holds only runs of `sweep` but not all of them (an empty folder included)."""
    untuned = [planned_keys(without_tuning(c), out, device) for c in sweep.commands]
    untuned_keys = set().union(*(keys or set() for keys in untuned))
    if not all(made_by(r, sweep, untuned_keys) for r in records):
        return False
    planned = sweep_keys(sweep, out, device)
    return planned is None or {r.get("key") for r in records} != planned


def parser():
    p = cli.Parser(prog="python -m bench.report", description="Tables, plots and summary.md from the run records in "
                   "<out>/runs (it never retrains what is recorded); with --sweep, a folder without the whole built-in "
                   "sweep first gets it.")
    p.add_argument("--out", default="results", metavar="FOLDER",
                   help="results folder: reads <out>/runs, writes summary.md, *.csv, *.png (default: results, the "
                        "committed records, re-rendered)")
    p.add_argument("--sweep", action="store_true",
                   help=f"first run the built-in sweep into <out>, or finish it there: the {DEFAULT_SWEEP.name} one, "
                        f"about {DEFAULT_SWEEP.minutes} min on 2 CPU cores with the [sota,sr] extras (finished runs are "
                        "skipped, so this also resumes it)")
    p.add_argument("--quick", action="store_true",
                   help=f"with --sweep: the {QUICK_SWEEP.name} sweep instead (about {QUICK_SWEEP.minutes} min on 2 CPU "
                        "cores, tuning included)")
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
    """Run `sweep` into `out` through bench.run (its finished runs are skipped, so this also resumes it); into the
    committed results only because bench.report, their regeneration command, was asked to (--sweep)."""
    commands = [cli.regenerating([*command, "--out", str(out)]) for command in sweep.commands]
    print(f"{runs_dir(out)} does not hold the whole {sweep.name} sweep: running it first (about {sweep.minutes} "
          "min on 2 CPU cores from scratch; finished runs are skipped):\n"
          + "\n".join(f"  python -m bench.run {shlex.join(argv)}" for argv in commands), file=sys.stderr)
    for argv in commands:
        run(run_parser().parse_args(argv), command=["python", "-m", "bench.run", *argv])


def main(argv=None):
    args = parser().parse_args(argv)
    out = Path(args.out)
    if args.quick and not args.sweep:
        raise UserError("--quick chooses the sweep that --sweep runs; add --sweep")
    sweep = QUICK_SWEEP if args.quick else DEFAULT_SWEEP
    if not args.sweep and not out.is_file() and not any(runs_dir(out).glob("*.json")):  # a mistyped --out, too
        raise UserError(f"no records in {runs_dir(out)}: check --out, or add --sweep to run the {sweep.name} sweep "
                        f"there first (about {sweep.minutes} min on 2 CPU cores)")
    check_out(out)
    records, broken = load_records(out)
    if not broken and unfinished(sweep, records, out):  # empty, or a built-in sweep that was interrupted
        if args.sweep:
            run_sweep(sweep, out)
            records, broken = load_records(out)
        else:
            print(f"note: {runs_dir(out)} holds part of the {sweep.name} sweep; add --sweep to finish it",
                  file=sys.stderr)
    for name in broken:
        print(f"warning: {runs_dir(out) / name} is not a readable record; left out of the report", file=sys.stderr)
    if not records:
        raise UserError(f"no readable records in {runs_dir(out)}; remove the broken files or choose another --out")
    written = write_report(records, broken, out)
    print(f"wrote {len(written)} files to {out}: {', '.join(written)}", file=sys.stderr)
    return 0

"""python -m bench.run: run a sweep of targets × encodings × target encodings × models × seeds.

Finished runs (same full config) are never redone unless --redo; each run is one JSON record in <out>/runs.
"""

import math
import sys
import time
from dataclasses import fields

from bench import cli
from bench.conditions import MIN_VAL_ROWS, NOISE_KINDS, grid, parse_axis
from bench.encodings import DEFAULT_INPUT_ENCODINGS, INPUT_ENCODINGS, TARGET_ENCODINGS
from bench.errors import UserError
from bench.records import prepare_out
from bench.registry import MODELS
from bench.resources import check_memory
from bench.space import parse_override
from bench.sweep import backend, execute, pending, plan
from bench.tabletarget import TableTarget
from bench.targets import load_targets
from bench.train import TrainConfig
from bench.tune import tuned_cells

DEFAULT_OUT = "runs/sweep"


def parser():
    p = cli.Parser(prog="python -m bench.run", description=cli.summary(__doc__))
    p.add_argument("--targets", type=cli.names, help="comma-separated target names (default: all)")
    p.add_argument("--targets-file", action="append", default=[], metavar="FILE",
                   help="a TOML file of your own targets; repeat the flag for several files")
    p.add_argument("--encodings", type=cli.names, default=DEFAULT_INPUT_ENCODINGS,
                   help=f"input encodings; join with '+' to compose (default: {','.join(DEFAULT_INPUT_ENCODINGS)})")
    p.add_argument("--target-encodings", type=cli.names, default=list(TARGET_ENCODINGS),
                   help=f"target encodings (default: {','.join(TARGET_ENCODINGS)})")
    p.add_argument("--models", type=cli.names, default=["mlp"], help="models (default: mlp)")
    p.add_argument("--seeds", type=cli.positive_int, default=3, help="seeds 0..N-1 per cell (default: 3)")
    p.add_argument("--steps", type=cli.positive_int, help=f"training steps (default: {TrainConfig.steps})")
    p.add_argument("--train-size", type=cli.positive_int, help="training draws (default: per model)")
    p.add_argument("--test-size", type=cli.positive_int, help=f"test draws (default: {TrainConfig.test_size})")
    p.add_argument("--set", action="append", default=[], metavar="KEY=VALUE",
                   help=f"override a training setting: {', '.join(TrainConfig.field_names())}")
    p.add_argument("--tune", type=cli.positive_int, metavar="N",
                   help="tune each pipeline first: N Optuna trials on the tuning split (its own seed, never a "
                        "reported one; stored in <out>/tuning)")
    p.add_argument("--tune-steps", type=cli.positive_int, metavar="S", help="training steps per trial (default: --steps)")
    p.add_argument("--space", action="append", default=[], metavar="KEY=LOW:HIGH",
                   help="change a searched range (KEY=LOW:HIGH, or KEY=A,B for choices), e.g. --space lr=1e-4:1e-2")
    p.add_argument("--shared-architecture", action="store_true",
                   help="with --tune: every trial of a round takes one architecture, so the mlp's round trains as one "
                        "ensemble (faster, a narrower search over width, depth and batch size)")
    p.add_argument("--finalists", type=cli.positive_int, metavar="K",
                   help="with --tune: run only the K pipelines per target and model with the best validation error")
    axes = p.add_argument_group("data conditions (each takes a comma-separated list: one run per combination)")
    axes.add_argument("--train-rows", metavar="N[,N...]",
                      help="rows the model sees: the first N of the training pool, with a quarter as many "
                           f"validation rows (N // 4, at least {MIN_VAL_ROWS}, at most val_size, "
                           f"{TrainConfig.val_size:,} by default)")
    axes.add_argument("--noise", metavar="LEVEL[,...]", help="noise on the training and validation targets, e.g. "
                      "0,0.001,0.01,0.1 (the test targets stay exact)")
    axes.add_argument("--noise-kind", metavar="KIND[,...]", default="rms",
                      help="; ".join(f"{k}: {v}" for k, v in NOISE_KINDS.items()) + " (default: rms)")
    axes.add_argument("--extrapolate", metavar="FACTOR[,...]",
                      help="test on ranges widened by FACTOR (log space for log-uniform variables), outside the "
                      "training domain; 1 tests inside it")
    axes.add_argument("--extra-features", metavar="K[,...]",
                      help="append K irrelevant inputs, log-uniform over 1e-3..1e3")
    data = p.add_argument_group("your own data (instead of --targets): a CSV or Parquet file, its rows split into "
                                "training, validation and test rows per seed")
    cli.data_arguments(data)
    cli.feature_arguments(data)
    cli.out_arguments(p, DEFAULT_OUT, "results folder: records go to <out>/runs")
    p.add_argument("--device", default="auto", help="auto (CUDA when present), cpu or cuda[:N]")
    p.add_argument("--jobs", type=cli.positive_int, default=1, help="local worker processes (default: 1)")
    p.add_argument("--scheduler", metavar="ADDRESS", help="run on a dask.distributed cluster, e.g. tcp://host:8786")
    p.add_argument("--redo", action="store_true", help="rerun runs that already have a record")
    p.add_argument("--list", action="store_true", help="list targets, encodings, target encodings and models")
    return p


def train_config(args):
    """TrainConfig from the defaults, --set KEY=VALUE overrides (unknown keys rejected) and named flags."""
    types = {f.name: f.type for f in fields(TrainConfig)}
    values = {}
    for item in args.set:
        key, sep, value = item.partition("=")
        if not sep or key not in types:
            raise UserError(f"--set {item!r}: expected KEY=VALUE with KEY one of {', '.join(types)}")
        kind = {"int": int, "float": float, "str": str}[types[key] if isinstance(types[key], str)
                                                       else types[key].__name__]
        try:
            values[key] = kind(value)
        except ValueError:
            raise UserError(f"--set {key}: expected {'a whole number' if kind is int else 'a number'}, "
                            f"got {value!r}") from None
    for key in ("steps", "test_size"):
        if getattr(args, key) is not None:
            values[key] = getattr(args, key)
    config = TrainConfig(**values)
    problems = [k for k in ("steps", "batch_size", "width", "depth", "train_size", "val_size", "test_size",
                            "eval_every", "lbfgs_rows", "lbfgs_patience") if getattr(config, k) <= 0] + (
        [] if 0 < config.lr < math.inf else ["lr"])
    if problems:
        raise UserError(f"{', '.join(problems)} must be positive; fix the value(s)")
    if config.lbfgs_iters < 0:
        raise UserError(f"--set lbfgs_iters={config.lbfgs_iters}: must be 0 (no polish) or more; fix the value")
    if not (config.rollback == 0 or 1 < config.rollback < math.inf):
        raise UserError(f"--set rollback={config.rollback}: must be 0 (never) or a factor above 1, e.g. 4; fix the value")
    if config.schedule not in ("cosine", "constant"):
        raise UserError(f"unknown schedule {config.schedule!r}; choose cosine or constant")
    from bench.model import ACTIVATIONS
    if config.activation not in ACTIVATIONS:
        raise UserError(f"unknown activation {config.activation!r}; choose from {', '.join(ACTIVATIONS)}")
    return config


def tuning_space(args):
    """--space overrides checked against the tunable models' ranges; tuning flags only with --tune."""
    if not args.tune and (args.space or args.finalists or args.tune_steps or args.shared_architecture):
        raise UserError("--space, --tune-steps, --finalists and --shared-architecture only apply to tuning; add --tune N")
    if args.tune and not any(MODELS[name].space for name in args.models):
        raise UserError(f"--tune: none of the models {', '.join(args.models)} is tunable; tunable: "
                        f"{', '.join(n for n, m in MODELS.items() if m.space)}")
    ranges = {}
    for name in args.models:
        if isinstance(MODELS[name].space, dict):
            ranges |= MODELS[name].space
    if args.space and not ranges:
        raise UserError("--space: these models search their authors' spaces, which --space cannot change; drop it")
    return dict(parse_override(item, ranges) for item in args.space)


def data_conditions(args):
    """The grid of data conditions from the axis flags (absent flags: the clean default)."""
    def axis(text, kind, flag, default):
        return default if text is None else parse_axis(text, kind, flag)

    kinds = parse_axis(args.noise_kind, str, "--noise-kind")
    return grid(axis(args.train_rows, int, "--train-rows", [None]), axis(args.noise, float, "--noise", [0.0]),
                kinds, axis(args.extrapolate, float, "--extrapolate", [1.0]),
                axis(args.extra_features, int, "--extra-features", [0]))


DATA_FLAGS = {"target": "--target", "features": "--features", "split_column": "--split-column",
              "drop_missing": "--drop-missing", "products": "--products",
              "angles": "--angles"}
CONDITION_FLAGS = {"train_rows": "--train-rows", "noise": "--noise", "extrapolate": "--extrapolate",
                   "extra_features": "--extra-features"}


def chosen_targets(args):
    """The sweep's targets, checked: the data file's (--data, loaded and checked whole, every seed's split
    included) or the named formulas."""
    if args.data is None:
        given = [flag for key, flag in DATA_FLAGS.items() if getattr(args, key)]
        if given:
            raise UserError(f"{given[0]} applies to a data file; add --data FILE (formula targets are chosen with --targets)")
        targets = load_targets(args.targets_file)
        chosen = [targets[name] for name in cli.choose("target", args.targets or list(targets), list(targets))]
    else:
        if args.targets or args.targets_file:
            raise UserError("--data runs its file's target: drop --targets and --targets-file (run formulas in "
                            "another command)")
        if args.target is None:
            raise UserError("--data needs --target COLUMN, the column to predict")
        given = [flag for key, flag in CONDITION_FLAGS.items() if getattr(args, key) is not None]
        given += ["--noise-kind"] if args.noise_kind != "rms" else []
        if given:
            raise UserError(f"{given[0]} changes how a formula is drawn, and a data file's rows are given; drop it "
                            "with --data")
        target = TableTarget.load(args.data, args.target, args.features, args.drop_missing, args.split_column,
                                  args.products or (), angles=args.angles or ())
        for seed in range(args.seeds):
            target.table.split(seed)
        if target.table.dropped:
            print(f"note: dropped {target.table.dropped} row(s) of {args.data} with NaN, infinite or empty values "
                  "(--drop-missing)", file=sys.stderr)
        chosen = [target]
    for target in chosen:
        target.check()
    return chosen


def listing(targets):
    lines = [f"target          {name}: {t.description or t.formula}" for name, t in targets.items()]
    lines += [f"encoding        {name}: {e.description}" for name, e in INPUT_ENCODINGS.items()]
    lines += [f"target-encoding {name}: {e.description}" for name, e in TARGET_ENCODINGS.items()]
    lines += [f"model           {name}: {m.description}" for name, m in MODELS.items()]
    return "\n".join(lines)


def sweep(args, quiet=False, command=None):
    """Plan, skip what is recorded, run the rest; returns (written records, skipped count). Each record keeps
    `command`, the command line that made it (default: this process's)."""
    if args.jobs > 1 and args.scheduler:
        raise UserError("--jobs and --scheduler conflict: the cluster decides parallelism; drop --jobs")
    targets = chosen_targets(args)
    cli.choose("target encoding", args.target_encodings, list(TARGET_ENCODINGS))
    cli.choose("model", args.models, list(MODELS))
    config = train_config(args)
    conditions = data_conditions(args)
    device = cli.resolve_device(args.device, remote=args.scheduler is not None)
    cells, left_out = plan(targets, args.encodings, args.target_encodings, args.models,
                           args.seeds, config, args.train_size, device, conditions)
    if not cells:
        reasons = "; ".join(f"{what}: {why}" for what, why in left_out.items())
        raise UserError(f"nothing to run, every cell was skipped ({reasons}); change --models, --encodings "
                        "or --targets")
    for what, why in left_out.items():
        print(f"note: skipping {what}: {why}", file=sys.stderr)
    space = tuning_space(args)
    cli.check_out(args.out, args.regenerate)
    check_memory(cells, device, args.jobs, remote=args.scheduler is not None)
    prepare_out(args.out)
    workers = backend(args.jobs, args.scheduler)
    if args.tune:
        cells = tuned_cells(cells, args.tune, args.tune_steps or config.steps, space, args.out, device,
                            finalists=args.finalists, progress=not quiet, shared_architecture=args.shared_architecture)
    todo, done = pending(cells, args.out, args.redo)
    print(f"{len(cells)} runs planned, {done} already recorded in {args.out} (skipped), {len(todo)} to run "
          f"on {device}", file=sys.stderr)
    tick = time.perf_counter()
    command = command or ["python", "-m", "bench.run", *sys.argv[1:]]
    written = execute(todo, args.out, device, workers, command, progress=not quiet) if todo else []
    if not todo:
        workers.close()
    not_ok = [r for r in written if r["status"] != "ok"]
    print(f"wrote {len(written)} records to {args.out}/runs in {time.perf_counter() - tick:.0f} s"
          + (f" ({len(not_ok)} not ok, e.g. {not_ok[0]['error']})" if not_ok else ""), file=sys.stderr)
    return written, done


def main(argv=None):
    args = parser().parse_args(argv)
    if args.list:
        print(listing(load_targets(args.targets_file)))
        return 0
    sweep(args, command=["python", "-m", "bench.run", *(sys.argv[1:] if argv is None else argv)])
    return 0


if __name__ == "__main__":
    sys.exit(cli.main_guard(main))

"""The built-in sweeps that fill an empty results folder, and the commands that reproduce any records."""

import json
import shlex
from dataclasses import dataclass
from functools import cache

from bench.encodings import TARGET_ENCODINGS
from bench.errors import UserError
from bench.registry import MODELS
from bench.report.frames import ENCODING_ORDER, ordered
from bench.train import RUN_ONLY_SETTINGS, TrainConfig, run_only_setting


@dataclass(frozen=True)
class Sweep:
    """bench.run command lines (without --out) that fill an empty results folder, and their cost."""

    name: str
    commands: tuple  # each a tuple of bench.run arguments
    minutes: int  # about how long on 2 CPU cores


TARGETS = ("--targets", "seed,seed-coded")
LADDER_ROWS = ("seed-asker,asker-1-standardized-log,asker-2-asinh-target,asker-3-small-init,asker-4-one-cycle,"
               "asker-5-lbfgs-polish,fixed-without-standardized-log,fixed-without-asinh-target,"
               "fixed-without-small-init,fixed-without-one-cycle,signomial")
MLP_TUNED = (*TARGETS, "--models", "mlp", "--seeds", "3", "--tune", "12", "--tune-steps", "800", "--jobs", "2")
# The default sweep, 3 seeds throughout: the mlp tuned per pipeline (12 Optuna trials of 800 steps each on seed
# 0's validation set), every pipeline at 800 steps, the best 2 per target at 4,000 and the best one at 4,000
# followed by up to 3,000 L-BFGS iterations (bench.polish): the budget ladder; the asker's recipe, its ablation
# ladder and the signomial; the answer's recipe; tuned and plain scikit-learn baselines; XGBoost, CatBoost and
# RealMLP as shipped.
DEFAULT_SWEEP = Sweep("default", (
    (*MLP_TUNED, "--encodings", "raw,standard,log,product+log,periodic", "--target-encodings", "asinh", "--steps", "800"),
    (*MLP_TUNED, "--encodings", "raw,log", "--target-encodings", "none", "--steps", "800"),
    (*MLP_TUNED, "--encodings", "raw,standard,log,product+log,periodic", "--target-encodings", "asinh",
     "--steps", "4000", "--finalists", "2"),
    (*MLP_TUNED, "--encodings", "raw,standard,log,product+log,periodic", "--target-encodings", "asinh",
     "--steps", "4000", "--set", "lbfgs_iters=3000", "--finalists", "1"),
    (*TARGETS, "--models", LADDER_ROWS, "--encodings", "raw", "--target-encodings", "none", "--seeds", "3",
     "--steps", "3000", "--jobs", "2"),
    (*TARGETS, "--models", "seed-answer", "--encodings", "standard", "--target-encodings", "none", "--seeds", "3",
     "--steps", "2000"),
    (*TARGETS, "--models", "linear,hgb,knn", "--encodings", "raw,log", "--target-encodings", "none,asinh",
     "--seeds", "3", "--train-size", "20000", "--tune", "8", "--jobs", "2"),
    (*TARGETS, "--models", "xgboost,catboost", "--encodings", "raw", "--target-encodings", "none,asinh", "--seeds", "3"),
    (*TARGETS, "--models", "realmlp", "--encodings", "raw", "--target-encodings", "none", "--seeds", "1"),
), minutes=20)
QUICK_SWEEP = Sweep("quick", (
    (*TARGETS, "--models", "mlp", "--encodings", "raw,log", "--target-encodings", "none,asinh", "--seeds", "2",
     "--tune", "8", "--tune-steps", "300", "--steps", "1000", "--set", "train_size=20000", "--test-size", "20000"),
    (*TARGETS, "--models", "seed-asker,asker-5-lbfgs-polish", "--encodings", "raw", "--target-encodings", "none",
     "--seeds", "2", "--steps", "1500", "--test-size", "20000", "--jobs", "2"),
    (*TARGETS, "--models", "linear,hgb", "--encodings", "raw,log", "--target-encodings", "none,asinh", "--seeds", "2",
     "--train-size", "20000", "--test-size", "20000"),
), minutes=2)


def default_train_size(model):
    """The training draws a model uses when the sweep does not set them."""
    return MODELS[model].settings(TrainConfig(), None)["train_size"] if model in MODELS else None


def sweep_arguments(records):
    """bench.run arguments (without --out) rebuilt from the configs of records of one command (a tuned
    command's records share their search and budget: see command_groups)."""
    configs = [r["config"] for r in records]
    searched = set((records[0].get("tuning") or {}).get("params", {}))
    argv = ["--targets", ",".join(ordered([c["target"] for c in configs], [])),
            "--encodings", ",".join(ordered([c["encoding"] for c in configs], ENCODING_ORDER)),
            "--target-encodings", ",".join(ordered([c["target_encoding"] for c in configs], TARGET_ENCODINGS)),
            "--models", ",".join(ordered([c["model"] for c in configs], MODELS)),
            "--seeds", str(max(c["seed"] for c in configs) + 1)]
    defaults = TrainConfig()

    def value(config, key):  # an mlp record lacks the run-only settings it ran without
        return run_only_setting(config["settings"], key) if key in RUN_ONLY_SETTINGS else config["settings"].get(
            key, getattr(defaults, key))

    settings = {key: {value(c, key) for c in configs if key in c["settings"] or (
        key in RUN_ONLY_SETTINGS and c["model"] == "mlp")} for key in TrainConfig.field_names()}
    for key in ("steps", "test_size"):
        if len(settings.get(key, ())) == 1:
            argv += [f"--{key.replace('_', '-')}", str(next(iter(settings[key])))]
    for key in TrainConfig.field_names():
        values = settings.get(key, set())
        if (key not in ("steps", "test_size", "train_size") and key not in searched and len(values) == 1
                and values != {getattr(defaults, key)}):
            argv += ["--set", f"{key}={next(iter(values))}"]
    sizes = {c["settings"].get("train_size") for c in configs}
    if len(sizes) == 1 and any(c["settings"].get("train_size") != default_train_size(c["model"]) for c in configs):
        argv += ["--train-size", str(sizes.pop())]
    else:
        mlp = {c["settings"].get("train_size") for c in configs if c["model"] == "mlp"}
        if len(mlp) == 1 and mlp != {defaults.train_size}:
            argv += ["--set", f"train_size={mlp.pop()}"]
    if "tuned" in configs[0]:
        tuned = configs[0]["tuned"]
        argv += ["--tune", str(tuned["trials"])] + (["--tune-steps", str(tuned["search_steps"])]
                                                    if tuned["search_steps"] is not None else [])
        argv += ["--shared-architecture"] if "architecture" in tuned else []
    return argv


def run_only(record):
    """The run-only settings (polish, rollback) of an mlp record's run. Other models have none: they get the
    defaults, so they group with the mlp runs of a command that leaves these settings alone."""
    settings = record["config"]["settings"]
    return [run_only_setting(settings, k) if record["model"] == "mlp" else getattr(TrainConfig, k)
            for k in RUN_ONLY_SETTINGS]


def command_groups(records):
    """The records split by the command that made them: untuned runs together, tuned runs by search and budget."""
    groups = {}
    for r in records:
        tuned = r["config"].get("tuned")
        settings = r["config"]["settings"]
        key = "untuned" if tuned is None else json.dumps([tuned, settings.get("steps"), *run_only(r)], sort_keys=True)
        groups.setdefault(key, []).append(r)
    return list(groups.values())


def planned_keys(argv, out, device="cpu"):
    """The record keys that `python -m bench.run ARGV --out OUT` plans on `device`; None when it cannot plan
    them (targets that are not built in, models or encodings this version does not know, or a tuned command
    whose searches are not stored in OUT yet)."""
    from bench.run import parser, train_config, tuning_space
    from bench.sweep import plan
    from bench.targets import load_targets
    from bench.tune import tuned_cells

    try:
        args = parser().parse_args(argv)
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
    from bench.run import parser

    return parser().parse_args(list(command))


@cache
def command_run_only(command):
    """The run-only settings (polish, rollback) of a built-in sweep's command, in RUN_ONLY_SETTINGS order."""
    from bench.run import train_config

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


def reproduction(records, out):
    """Markdown lines: the commands that reproduce the records (a built-in sweep's when they are exactly its
    runs, else one rebuilt from the configs), the report command, and how exactly they match."""
    recorded = {r["key"] for r in records}
    device = records[0]["config"].get("device_type", "cpu")
    for sweep in (DEFAULT_SWEEP, QUICK_SWEEP):
        if sweep_keys(sweep, out, device) == recorded:
            flag = " --quick" if sweep is QUICK_SWEEP else ""
            return ["```", *(f"python -m bench.run {shlex.join([*command, '--out', str(out)])}"
                             for command in sweep.commands),
                    f"python -m bench.report --out {shlex.quote(str(out))}", "```", "",
                    f"These are the {sweep.name} sweep's {len(recorded)} runs: `python -m bench.report{flag}` runs "
                    "exactly these commands when the results folder has no records."]
    commands = [sweep_arguments(group) + (["--device", "cuda"] if device == "cuda" else [])
                for group in command_groups(records)]
    planned = [planned_keys(argv, out, device) for argv in commands]
    planned = None if None in planned else set().union(*planned)
    if planned is None:
        note = ("This version cannot plan these runs again (targets that are not built in need --targets-file "
                "FILE; or a model or encoding is no longer registered).")
    elif planned == recorded:
        note = f"They plan exactly the {len(recorded)} runs recorded here (finished runs are skipped, not redone)."
    elif recorded <= planned:
        note = f"They plan {len(planned)} runs; {len(recorded)} of them are recorded here."
    else:
        note = (f"The records come from other sweeps too: these commands plan {len(planned & recorded)} of the "
                f"{len(recorded)} recorded runs; the others used other settings (see config in each record).")
    return ["```", *(f"python -m bench.run {shlex.join(argv + ['--out', str(out)])}" for argv in commands),
            f"python -m bench.report --out {shlex.quote(str(out))}", "```", "", note]


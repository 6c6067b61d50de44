"""The built-in sweeps that fill an empty results folder (bench.run commands, as data), and the commands that
made a folder's records, as each record names its own (`command`)."""

import shlex
from dataclasses import dataclass

from bench import cli


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
SEEDS = ("--seeds", "5")  # enough seeds for a paired test to tell a tie from a difference
MLP_TUNED = (*TARGETS, "--models", "mlp", *SEEDS, "--tune", "12", "--tune-steps", "800", "--jobs", "2")
# The default sweep, 5 seeds throughout (independent of the tuning split): the mlp tuned per pipeline (12 Optuna
# trials of 800 steps each on the tuning split), every pipeline at 800 steps, the best 2 per target at 4,000 and
# the best one at 4,000 followed by up to 3,000 L-BFGS iterations (bench.polish): the budget ladder; the asker's
# recipe, its ablation ladder and the signomial at 4,000 steps, the finalists' Adam budget, so that they compare
# at equal budgets; the answer's recipe; tuned and plain scikit-learn baselines; XGBoost, CatBoost and RealMLP as
# shipped; Operon, the symbolic-regression anchor, with SRBench's settings.
DEFAULT_SWEEP = Sweep("default", (
    (*MLP_TUNED, "--encodings", "raw,standard,log,product+log,periodic", "--target-encodings", "asinh", "--steps", "800"),
    (*MLP_TUNED, "--encodings", "raw,log", "--target-encodings", "none", "--steps", "800"),
    (*MLP_TUNED, "--encodings", "raw,standard,log,product+log,periodic", "--target-encodings", "asinh",
     "--steps", "4000", "--finalists", "2"),
    (*MLP_TUNED, "--encodings", "raw,standard,log,product+log,periodic", "--target-encodings", "asinh",
     "--steps", "4000", "--set", "lbfgs_iters=3000", "--finalists", "1"),
    (*TARGETS, "--models", LADDER_ROWS, "--encodings", "raw", "--target-encodings", "none", *SEEDS,
     "--steps", "4000", "--jobs", "2"),
    (*TARGETS, "--models", "seed-answer", "--encodings", "standard", "--target-encodings", "none", *SEEDS,
     "--steps", "2000"),
    (*TARGETS, "--models", "linear,hgb,knn", "--encodings", "raw,log", "--target-encodings", "none,asinh",
     *SEEDS, "--train-size", "20000", "--tune", "8", "--jobs", "2"),
    (*TARGETS, "--models", "xgboost,catboost", "--encodings", "raw", "--target-encodings", "none,asinh", *SEEDS),
    (*TARGETS, "--models", "realmlp", "--encodings", "raw", "--target-encodings", "none", *SEEDS),
    (*TARGETS, "--models", "operon", "--encodings", "raw", "--target-encodings", "none", *SEEDS),
), minutes=30)  # 30.0 min measured from an empty folder, 2 CPU cores
QUICK_SWEEP = Sweep("quick", (
    (*TARGETS, "--models", "mlp", "--encodings", "raw,log", "--target-encodings", "none,asinh", "--seeds", "2",
     "--tune", "8", "--tune-steps", "300", "--steps", "1000", "--set", "train_size=20000", "--test-size", "20000"),
    (*TARGETS, "--models", "seed-asker,asker-5-lbfgs-polish", "--encodings", "raw", "--target-encodings", "none",
     "--seeds", "2", "--steps", "1500", "--test-size", "20000", "--jobs", "2"),
    (*TARGETS, "--models", "linear,hgb", "--encodings", "raw,log", "--target-encodings", "none,asinh", "--seeds", "2",
     "--train-size", "20000", "--test-size", "20000"),
), minutes=2)


def without_out(command):
    """A recorded command's bench.run arguments without `python -m bench.run`, its --out and --regenerate."""
    words = list(command[3:]) if list(command[:3]) == ["python", "-m", "bench.run"] else list(command)
    kept, skip = [], False
    for word in words:
        if skip:
            skip = False
        elif word == "--out":
            skip = True
        elif not word.startswith("--out=") and word != "--regenerate":
            kept.append(word)
    return tuple(kept)


def recorded_commands(records):
    """The distinct commands that made `records`, in the order their first runs finished; and how many records
    name none (made before records kept their command)."""
    commands, unnamed = {}, 0
    for record in sorted(records, key=lambda r: r.get("finished") or ""):
        if record.get("command"):
            commands.setdefault(tuple(record["command"]), None)
        else:
            unnamed += 1
    return [list(c) for c in commands], unnamed


def reproduction(records, out):
    """Markdown lines: the commands that made the records (each record keeps its own) and the report command."""
    commands, unnamed = recorded_commands(records)
    made = {without_out(c) for c in commands}
    sweep = next((s for s in (DEFAULT_SWEEP, QUICK_SWEEP) if made and made == set(s.commands)), None)
    if sweep is not None:  # in the sweep's own order
        commands = [["python", "-m", "bench.run", *command, "--out", str(out)] for command in sweep.commands]
    commands = [cli.regenerating(c) for c in commands]  # into the committed results/ only when asked
    lines = ["```", *(shlex.join(c) for c in commands), f"python -m bench.report --out {shlex.quote(str(out))}", "```", ""]
    if sweep is not None:
        flag = " --quick" if sweep is QUICK_SWEEP else ""
        lines.append(f"These are the {sweep.name} sweep's commands: `python -m bench.report --sweep{flag} --out FOLDER` "
                     f"runs them into a new folder, about {sweep.minutes} min on 2 CPU cores (finished runs are skipped, "
                     "so it also resumes them).")
    if unnamed:
        lines.append(f"{unnamed} of the {len(records)} records were made before records kept their command; see the "
                     "config in each.")
    return lines

"""What the command-line entry points share: strict argument parsing and one-line user errors."""

import argparse
import sys
from pathlib import Path

import torch

from bench.errors import UserError

COMMITTED_RESULTS = Path(__file__).resolve().parents[1] / "results"  # the repository's committed results



class Parser(argparse.ArgumentParser):
    """argparse, but a usage mistake is one line on stderr and exit code 2."""

    def error(self, message):
        print(f"{self.prog}: error: {message}; see --help", file=sys.stderr)
        sys.exit(2)


def summary(doc):
    """A module docstring's first paragraph as one line: a command's --help description, never cut mid-sentence."""
    return " ".join(doc.strip().split("\n\n")[0].split())


def out_arguments(parser, default, what):
    """--out FOLDER (default `default`, a git-ignored folder under runs/) and --regenerate, which a folder under the
    repository's committed results/ needs."""
    parser.add_argument("--out", default=default, metavar="FOLDER",
                        help=f"{what} (default: {default}; a folder under the repository's results/ needs --regenerate)")
    parser.add_argument("--regenerate", action="store_true",
                        help="allow --out to be a folder under the repository's results/: rewrite the committed results")


def is_committed(out):
    """Whether `out` is the repository's results/ folder or a folder inside it."""
    path = Path(out).resolve()
    return path == COMMITTED_RESULTS or COMMITTED_RESULTS in path.parents


def check_out(out, regenerate):
    """Refuse, before any work, to write into the committed results unless --regenerate asks for it."""
    if is_committed(out) and not regenerate:
        raise UserError(f"--out {out} is inside the repository's committed results/; add --regenerate to rewrite them, "
                        "or choose another --out (the default writes under runs/)")


def regenerating(command):
    """A recorded command line with --regenerate added where its --out is inside the committed results/ (a command
    recorded before the flag existed), so that it runs again as written."""
    command = list(command)
    outs = [command[i + 1] for i, word in enumerate(command[:-1]) if word == "--out"]
    outs += [word.split("=", 1)[1] for word in command if word.startswith("--out=")]
    if outs and is_committed(outs[-1]) and "--regenerate" not in command:
        command.append("--regenerate")
    return command


def names(text):
    """'a,b , c' -> ['a', 'b', 'c']."""
    items = list(dict.fromkeys(item.strip() for item in text.split(",") if item.strip()))
    if not items:
        raise argparse.ArgumentTypeError("expected a comma-separated list of names")
    return items


def positive_int(text, least=1):
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected a whole number, got {text!r}") from None
    if value < least:
        raise argparse.ArgumentTypeError(f"must be at least {least}, got {value}")
    return value


def non_negative_int(text):
    return positive_int(text, least=0)


def choose(kind, requested, known):
    """Check requested names against the registered ones (kind: 'target', 'model', ...)."""
    for name in requested:
        if name not in known:
            raise UserError(f"unknown {kind} {name!r}; choose from {', '.join(known)}")
    return requested


def resolve_device(name, remote=False):
    """'auto' is CUDA when present, else CPU; an unavailable device is a user error (unless the runs are
    `remote`, on cluster workers whose devices this machine cannot see)."""
    if name == "auto":
        return "cuda" if torch.cuda.is_available() else "cpu"
    try:
        device = torch.device(name)
    except RuntimeError:
        raise UserError(f"unknown device {name!r}; use auto, cpu or cuda[:N]") from None
    if device.type == "cuda" and not remote and not torch.cuda.is_available():
        raise UserError(f"device {name!r} asked for, but CUDA is not available here; use --device cpu")
    if device.type == "cuda" and not remote and (device.index or 0) >= torch.cuda.device_count():
        raise UserError(f"device {name!r} does not exist: this machine has {torch.cuda.device_count()} GPU(s)")
    if device.type not in ("cpu", "cuda"):
        raise UserError(f"device {name!r} is not supported; use auto, cpu or cuda[:N]")
    return str(device)


def data_arguments(group, required=False):
    """The flags that name a data file and its columns (bench.run --data, bench.inspect); `required` makes the
    file and the target column mandatory."""
    group.add_argument("--data", required=required, metavar="FILE", help="a .csv, .parquet or .pq file with a header row")
    group.add_argument("--target", required=required, metavar="COLUMN", help="the column to predict")
    group.add_argument("--features", type=names, metavar="A,B", help="feature columns (default: every numeric column "
                       "but the target and the split column)")
    group.add_argument("--split-column", metavar="COLUMN", help="train/val/test labels, or groups kept whole in one split")
    group.add_argument("--drop-missing", action="store_true", help="drop rows with NaN or infinite values instead of "
                       "refusing the file")


def feature_arguments(group):
    """The flags that give a data file's encoders what a targets file declares (bench.run --data, bench.fit):
    products of columns and the columns that are angles."""
    group.add_argument("--products", type=names, metavar="F,G", help="with --data: products of feature columns for "
                       "the product encoding, e.g. x3*x4")
    group.add_argument("--angles", type=names, metavar="C,D", help="with --data: feature columns that are angles in "
                       "radians, for the angle encoding")


def main_guard(main):
    """Run `main`, turning a UserError into one line and exit 2, and Ctrl-C into one line and exit 130."""
    try:
        return main()
    except UserError as error:
        print(f"error: {error}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        print("interrupted: finished runs are kept; run the same command again to resume", file=sys.stderr)
        return 130

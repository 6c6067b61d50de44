"""python -m bench.axes --axis NAME: run one data-condition axis (training rows, noise, extrapolation, irrelevant
inputs) for `seed` (3 seeds) and, with --dev FILE, every target in FILE (1 seed), then write its report.

Each axis is two bench.run commands per target group: the clean baseline and the axis's levels. Records go to
<out>/runs (finished runs are skipped, so a rerun resumes and axes share their clean runs); the report covers
every axis recorded in <out>: summary.md, axis_<name>.csv and axis_<name>.png.
"""

import shlex
import sys
from pathlib import Path

from bench import cli, run
from bench.records import ensure_writable, load_records, runs_dir
from bench.report.axes import AXES, axes_summary, axis_of
from bench.targets import load_targets

# The shared mlp, untuned, at a budget that keeps an axis within minutes on 2 CPU cores; early stopping on
# validation (patience 4 evaluations of 250 steps) matters for the small-n runs.
BASE = ("--models", "mlp", "--target-encodings", "none,asinh", "--steps", "3000", "--set", "patience=4")
ENCODINGS = "raw,standard,log,product+log"
# Each axis's levels: for `seed` (3 seeds), and fewer for the development set (one seed, 14 equations).
LEVELS = {
    "size": (("--train-rows", "1000,3000,10000,30000,100000"),) * 2,
    "noise": (("--noise", "0.001,0.01,0.1", "--noise-kind", "rms,relative"),
              ("--noise", "0.01,0.1", "--noise-kind", "rms,relative")),
    "extrapolate": (("--extrapolate", "1.5,2,3"), ("--extrapolate", "1.5,3")),
    "extra-features": (("--extra-features", "2,8"), ("--extra-features", "8")),
}
EXTRA_ENCODINGS = {"extrapolate": ",minmax,quantile"}  # encoders whose behaviour out of range the axis shows


def commands(axis, dev_file=None):
    """bench.run argument lists (without --out): per target group, the clean baseline, then the axis's levels."""
    groups = [(("--targets", "seed", "--seeds", "3"), LEVELS[axis][0])]
    if dev_file:
        names = [n for n in load_targets([dev_file]) if n not in load_targets()]
        groups.append((("--targets-file", dev_file, "--targets", ",".join(names), "--seeds", "1"), LEVELS[axis][1]))
    encodings = ("--encodings", ENCODINGS + EXTRA_ENCODINGS.get(axis, ""))
    return [(*group, *BASE, *encodings, *levels) for group, axis_levels in groups for levels in ((), axis_levels)]


DEFAULT_OUT = "runs/axes"  # a git-ignored folder; the committed axes (results/axes) need --regenerate


def parser():
    p = cli.Parser(prog="python -m bench.axes", description=cli.summary(__doc__))
    p.add_argument("--axis", required=True, choices=list(AXES), help="the condition to vary: " + "; ".join(
        f"{name}: {' '.join(levels[0])}" for name, levels in LEVELS.items()) + " (on seed; fewer levels with --dev)")
    p.add_argument("--dev", metavar="FILE", help="also run every target in this TOML file (1 seed each), e.g. "
                   "bench/suites/srsd-dev.toml (the built-in suite srsd-dev)")
    cli.out_arguments(p, DEFAULT_OUT, "results folder: records in <out>/runs, the axes' report beside them")
    return p


def main(argv=None):
    args = parser().parse_args(argv)
    out = Path(args.out)
    cli.check_out(out, args.regenerate)
    ensure_writable(out, "the axes report")
    todo = [cli.regenerating([*command, "--out", str(out)]) for command in commands(args.axis, args.dev)]
    parsed = [run.parser().parse_args(argv) for argv in todo]
    for argv, arguments in zip(todo, parsed):
        print(f"python -m bench.run {shlex.join(argv)}", file=sys.stderr)
        run.sweep(arguments, command=["python", "-m", "bench.run", *argv])
    records, broken = load_records(out)
    for name in broken:
        print(f"warning: {runs_dir(out) / name} is not a readable record; left out", file=sys.stderr)
    recorded = {a for a in AXES if any(a == axis_of(r) for r in records)}
    dev = f" --dev {shlex.quote(args.dev)}" if args.dev else ""
    regenerate = " --regenerate" if cli.is_committed(out) else ""
    reproduce = [f"python -m bench.axes --axis {a}{dev} --out {shlex.quote(str(out))}{regenerate}" for a in AXES
                 if a in recorded]
    written = axes_summary(records, out, reproduce)
    print(f"wrote {len(written)} files to {out}: {', '.join(written)}", file=sys.stderr)
    return 0


if __name__ == "__main__":
    sys.exit(cli.main_guard(main))

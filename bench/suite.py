"""python -m bench.suite: the project's recommended recipe over every equation of one or more suites (or of a
targets file), resumable, with per-equation and aggregate verdicts; `--references` adds comparisons.

Every equation gets, at one budget (`--budget`):
  references  the shared mlp on raw, standard and log inputs with the target as is and asinh-encoded, and
              edges+log inputs with an asinh target, all at the same number of Adam steps; LightGBM (raw inputs,
              asinh target); `signomial` (where no input reaches 0) on diff's differences and sums where two
              inputs' ranges coincide, else on raw inputs
  recipe      each of the recipe's candidates (standard, log and edges+log inputs; diff+log where two inputs'
              ranges coincide, angle+log where inputs are declared angles; asinh target) is trained again and
              polished by a short L-BFGS round; the one that validates best (its finalist) is run again from the
              same seed (the same Adam steps, up to the floating-point order of a differently composed ensemble)
              with many more L-BFGS iterations (successive halving: the polish, not the Adam steps, decides how
              close a smooth formula gets, and it is where the time goes). An equation on which a run of the
              first stages already validates at machine precision (EXACT) gets no candidates and no finalist:
              no polish could improve any tier the report counts. The recipe keeps, per equation, whichever of
              all its runs (the references, the signomial, the candidates and the finalist) has the lowest
              validation error (`chosen` in per_equation.csv). Nothing reads a test set to choose.
The mlp runs of up to `--targets-per-job` equations train as one ensemble (bench/train.py), so a suite is a few
large ensembles rather than one small one per equation. Finished runs are never redone: the same command
resumes a suite. The comparisons (`--references`: one fixed pipeline polished as long as a finalist, Operon,
KAN; bench/references.py) run after the recipe, timed apart.
"""

import csv
import math
import shlex
import sys
import time
from dataclasses import dataclass, replace
from itertools import chain
from pathlib import Path

import bench.cli as cli
import bench.references as references
from bench.conditions import Conditions
from bench.encodings import build_input_encoder
from bench.errors import UserError
from bench.records import load_records, prepare_out
from bench.registry import MODELS, check_installed
from bench.report.frames import validation_of
from bench.report.frontpage import README
from bench.report.suite import write_suite_report
from bench.resources import check_memory
from bench.suites import SUITES, load_suite
from bench.sweep import backend, execute, pending, plan
from bench.targets import load_targets
from bench.train import TrainConfig

DEFAULT_OUT = "runs/suite"  # a git-ignored folder; the committed suite (COMMITTED_OUT) needs --regenerate
COMMITTED_OUT = "results/suite"  # its report also rewrites the README's suite sentence
# The candidates the recipe polishes. Those whose first encoding engineers features (diff, angle) run only on
# equations where it adds a column: differences where two inputs' ranges coincide, angles where inputs are declared.
RECIPE = [("standard", "asinh"), ("log", "asinh"), ("edges+log", "asinh"), ("diff+log", "asinh"), ("angle+log", "asinh")]
ENGINEERED = ("diff", "angle")
# The first stage's mlp pipelines, as grids of (input encodings, target encodings): the references and the
# first three of the recipe's candidates, all at one budget, unpolished.
FIRST_STAGE = ((("raw", "standard", "log"), ("none", "asinh")), (("edges+log",), ("asinh",)))
# A run validating at this mean relative error is exact to float64 round-off: its equation needs no polishing.
EXACT = 1e-12
CANDIDATES = "recipe candidates + L-BFGS"  # stages' names
FINALISTS = "finalists + longer L-BFGS"
PARTS = ("recipe", "references")  # wall_times.csv's parts: the recipe's stages, then the references'


@dataclass(frozen=True)
class Budget:
    """What one equation gets: Adam steps for every mlp run, L-BFGS iterations for each of the recipe's
    candidates and for its finalist, the pool and the held-out sizes, and the budgets of LightGBM and the
    signomial (`signomial_steps` 0 leaves the signomial out)."""

    steps: int
    lbfgs_iters: int
    finalist_lbfgs_iters: int
    train_size: int
    val_size: int
    test_size: int
    trees: int
    signomial_steps: int

    def __post_init__(self):
        if self.finalist_lbfgs_iters < self.lbfgs_iters:
            raise ValueError("a finalist polishes at least as long as each candidate")

    def mlp_config(self, lbfgs_iters=0):
        """The shared mlp's training config at this budget, polished by `lbfgs_iters` L-BFGS iterations."""
        return TrainConfig(steps=self.steps, lbfgs_iters=lbfgs_iters, train_size=self.train_size,
                           val_size=self.val_size, test_size=self.test_size)


BUDGETS = {
    "quick": Budget(steps=300, lbfgs_iters=100, finalist_lbfgs_iters=300, train_size=5_000, val_size=2_000,
                    test_size=5_000, trees=100, signomial_steps=500),
    "default": Budget(steps=2_000, lbfgs_iters=250, finalist_lbfgs_iters=2_000, train_size=20_000, val_size=8_192,
                      test_size=20_000, trees=1_000, signomial_steps=3_000),
}


def parser():
    p = cli.Parser(prog="python -m bench.suite", description=cli.summary(__doc__))
    p.add_argument("suites", nargs="*", metavar="NAME", help=f"built-in suites: {', '.join(SUITES)}")
    p.add_argument("--targets-file", action="append", default=[], metavar="FILE",
                   help="a TOML file of your own targets; repeat the flag for several files")
    p.add_argument("--targets", type=cli.names, help="only these targets (comma-separated)")
    cli.out_arguments(p, DEFAULT_OUT, f"results folder (with --out {COMMITTED_OUT} --regenerate, the README's suite "
                      "sentence is rewritten too)")
    p.add_argument("--seeds", type=cli.positive_int, default=1, help="N seeds per equation, from --first-seed on "
                   "(default: 1)")
    p.add_argument("--first-seed", type=cli.non_negative_int, default=0, metavar="K",
                   help="the first seed (default: 0); judge a recipe change on a seed the committed results do not "
                   "use (4 or above: seed 3 is results/suite-seed3)")
    p.add_argument("--budget", choices=list(BUDGETS), default="default",
                   help="what each equation gets (default: default): " + "; ".join(
                       f"{name}: {b.steps:,} Adam steps per mlp run, {b.lbfgs_iters:,} L-BFGS iterations per recipe "
                       f"candidate and {b.finalist_lbfgs_iters:,} for its finalist, {b.train_size:,} training, "
                       f"{b.val_size:,} validation and {b.test_size:,} test rows, {b.trees:,} LightGBM trees, "
                       f"{b.signomial_steps:,} signomial steps" for name, b in BUDGETS.items()))
    p.add_argument("--targets-per-job", type=cli.positive_int, default=24, metavar="K",
                   help="at most K equations' mlp runs train as one ensemble, spread evenly over the --jobs workers "
                   "(default: 24; 1: one equation at a time)")
    p.add_argument("--references", type=references.parse, default=[], metavar="NAMES",
                   help=f"comparisons run after the recipe, timed apart: {', '.join(references.REFERENCES)} "
                   "(default: none; bench/references.py states their budgets)")
    p.add_argument("--reference-seeds", type=cli.positive_int, metavar="N",
                   help="run the --references on the first N of the suite's seeds only (default: every seed; each "
                   "reference costs about as much as the recipe); the leaderboard covers the seeds every method ran")
    p.add_argument("--device", default="auto", help="auto (CUDA when present), cpu or cuda[:N]")
    p.add_argument("--jobs", type=cli.positive_int, default=1, help="local worker processes (default: 1)")
    p.add_argument("--scheduler", metavar="ADDRESS", help="run on a dask.distributed cluster, e.g. tcp://host:8786")
    return p


def suite_targets(args):
    """{name: (target, suite name, difficulty)} from the named suites and the targets files."""
    if not args.suites and not args.targets_file:
        raise UserError("name a suite (e.g. srsd-easy) or give --targets-file FILE")
    chosen = {}
    for name in args.suites:
        chosen |= {t: (target, name, target.difficulty) for t, target in load_suite(name).items()}
    if args.targets_file:
        builtin = set(load_targets())
        label = Path(args.targets_file[0]).stem if len(args.targets_file) == 1 else "targets files"
        for t, target in load_targets(args.targets_file).items():
            if t not in builtin:
                chosen[t] = (target, label, target.difficulty)
    if args.targets:
        cli.choose("target", args.targets, list(chosen))
        chosen = {t: chosen[t] for t in args.targets}
    if not chosen:
        raise UserError("no targets to run; the file declares none beyond the built-ins")
    return chosen


def adds_features(encoding, target):
    """Whether the spec's engineered features (diff, angle) add a column on this target: False where the rule finds
    no comparable pair or no angle, so the candidate would only repeat its plain counterpart."""
    first = encoding.split("+")[0]
    if first not in ENGINEERED:
        return True
    try:
        X = target.example_inputs(1024)
        return build_input_encoder(first, target).fit(X).transform(X).shape[1] > X.shape[1]
    except UserError:  # e.g. no input declared an angle
        return False


def stages(targets, budget, seeds, device, out):
    """The recipe's runs as cells, stage by stage: the references (and the recipe's candidates), LightGBM, the
    signomial, the recipe's candidates polished where no run so far is exact, then each equation's finalist
    polished longer. The last two stages are planned from the records in `out` of the stages before them, so
    each is planned once those have run."""
    config = budget.mlp_config()
    first = [cell for encodings, target_encodings in FIRST_STAGE
             for cell in plan(targets, encodings, target_encodings, ["mlp"], seeds, config, None, device)[0]]
    yield "mlp at one budget", first
    cells = plan(targets, ["raw"], ["asinh"], ["lightgbm"], seeds, config, budget.train_size, device)[0]
    lightgbm = [replace(c, settings=c.settings | {"n_estimators": budget.trees}) for c in cells]
    yield "LightGBM", lightgbm
    signomial = replace(config, steps=budget.signomial_steps)
    # one signomial per equation, on diff's features where they add a column (the raw inputs are among them)
    signomials = [cell for t in targets if budget.signomial_steps
                  for cell in plan([t], ["diff" if adds_features("diff", t) else "raw"], ["none"], ["signomial"],
                                   seeds, signomial, budget.train_size, device)[0]]
    yield "signomial", signomials
    exact = exact_slots(first + lightgbm + signomials, out)

    def runs(encoding, target_encoding, lbfgs_iters):
        where = [t for t in targets if adds_features(encoding, t)]
        cells = plan(where, [encoding], [target_encoding], ["mlp"], seeds, budget.mlp_config(lbfgs_iters), None,
                     device)[0] if where else []
        return [c for c in cells if (c.target.name, c.seed) not in exact]

    candidates = [cell for pipeline in RECIPE for cell in runs(*pipeline, budget.lbfgs_iters)]
    yield CANDIDATES, candidates
    longer = MODELS["mlp"].settings(budget.mlp_config(budget.finalist_lbfgs_iters), None)
    yield FINALISTS, finalists(candidates, out, longer)


def validation_errors(cells, out):
    """Each cell's validation error as recorded in `out`: inf where its run has no record or is not ok."""
    records = {r["key"]: r for r in load_records(out)[0]}
    return [validation_of(records[c.key]) if c.key in records and records[c.key]["status"] == "ok" else math.inf
            for c in cells]


def exact_slots(cells, out):
    """The (equation, seed) pairs on which one of the `cells`' runs, recorded in `out`, validates at a mean
    relative error of at most EXACT: float64 round-off, which no polish could improve on any reported tier."""
    return {(c.target.name, c.seed) for c, error in zip(cells, validation_errors(cells, out)) if error <= EXACT}


def finalists(candidates, out, settings):
    """Per equation and seed, the candidate whose polished run validates best (ties: by encoding), as a cell
    under `settings`, whatever its test set showed (a run is ok or not by its training and validation alone:
    bench.metrics.outcome); an equation whose candidates all diverged or failed has none."""
    best = {}
    for cell, error in zip(candidates, validation_errors(candidates, out)):
        slot = (cell.target.name, cell.seed)
        if math.isfinite(error) and (slot not in best or (error, cell.encoding) < best[slot][0]):
            best[slot] = ((error, cell.encoding), cell)
    return [replace(cell, settings=settings) for _, cell in best.values()]


def even_share(equations, most, workers):
    """Equations per job: at most `most`, as many as a job count rounded up to a multiple of `workers` needs, so
    that no worker idles through a last round where the counts allow it (120 equations, at most 24, 2
    workers: 6 jobs of 20, not 5 of 24)."""
    jobs = math.ceil(math.ceil(equations / most) / workers) * workers
    return math.ceil(equations / jobs)


def log_wall_time(out, command, runs, seconds, part="recipe"):
    """Append this invocation's wall time for one part (PARTS: the recipe's stages or the references) to
    <out>/wall_times.csv: a suite may run in parts. A log written before the `part` column gets it (its rows:
    recipe)."""
    path = out / "wall_times.csv"
    rows = list(csv.reader(path.open(newline=""))) if path.exists() else [["finished", "runs_run", "seconds", "command"]]
    if "part" not in rows[0]:
        rows = [rows[0] + ["part"]] + [row + ["recipe"] for row in rows[1:]]
    rows.append([time.strftime("%Y-%m-%dT%H:%M:%S%z"), runs, f"{seconds:.0f}", shlex.join(command), part])
    with path.open("w", newline="") as file:
        csv.writer(file).writerows(rows)


def main(argv=None):
    args = parser().parse_args(argv)
    if args.jobs > 1 and args.scheduler:
        raise UserError("--jobs and --scheduler conflict: the cluster decides parallelism; drop --jobs")
    if args.reference_seeds and not args.references:
        raise UserError("--reference-seeds limits the --references, and none are named; add --references NAMES")
    cli.check_out(args.out, args.regenerate)
    chosen = suite_targets(args)
    for target, _, _ in chosen.values():
        target.check()
    targets = [target.under(Conditions()) for target, _, _ in chosen.values()]
    budget = BUDGETS[args.budget]
    for model in ("mlp", "lightgbm", "signomial", *references.models(args.references)):
        check_installed(model)  # before any work: a missing extra would otherwise stop the suite midway
    device = cli.resolve_device(args.device, remote=args.scheduler is not None)
    seeds = list(range(args.first_seed, args.first_seed + args.seeds))
    first = next(iter(stages(targets, budget, seeds, device, args.out)))[1]
    check_memory(first, device, args.jobs, remote=args.scheduler is not None, targets_per_job=args.targets_per_job)
    prepare_out(args.out)
    command = ["python", "-m", "bench.suite", *(sys.argv[1:] if argv is None else argv)]
    tick = time.perf_counter()
    print(f"{len(targets)} equations, budget {args.budget}, seed(s) {', '.join(map(str, seeds))}, on {device}",
          file=sys.stderr)
    ran, spent = dict.fromkeys(PARTS, 0), dict.fromkeys(PARTS, 0.0)  # per part: runs run, seconds
    planned = {}  # each stage's run keys (the finalists' known once the candidates have run)
    outside = references.reference_stages(args.references, targets, args.budget, budget, seeds[:args.reference_seeds],
                                          device)
    for part, (name, cells) in chain(((PARTS[0], stage) for stage in stages(targets, budget, seeds, device, args.out)),
                                     ((PARTS[1], stage) for stage in outside)):
        stage_tick = time.perf_counter()
        planned[name] = {cell.key for cell in cells}
        todo, done = pending(cells, args.out)
        ran[part] += len(todo)
        print(f"{name}: {len(cells)} runs, {done} already recorded, {len(todo)} to run", file=sys.stderr)
        if todo:
            equations = len({cell.target.name for cell in todo})
            per_job = args.targets_per_job if args.scheduler else even_share(equations, args.targets_per_job, args.jobs)
            execute(todo, args.out, device, backend(args.jobs, args.scheduler), command, targets_per_job=per_job,
                    desc=name)
        spent[part] += time.perf_counter() - stage_tick
    seconds = time.perf_counter() - tick
    print(f"suite ran in {seconds:.0f} s ({', '.join(f'{p}: {spent[p]:.0f} s' for p in PARTS)})", file=sys.stderr)
    for part in PARTS:
        if ran[part]:  # a re-render of a finished suite runs nothing and leaves the log as it is
            log_wall_time(Path(args.out), command, ran[part], spent[part], part)
    front_page = Path(args.out).resolve() == (README.parent / COMMITTED_OUT).resolve()  # the committed results
    keys = set().union(*planned.values())
    records = [r for r in load_records(args.out)[0] if r["key"] in keys]  # not other budgets' or seeds' runs
    written = write_suite_report(records, chosen, Path(args.out), front_page, finalists=planned[FINALISTS],
                                 candidates=planned[CANDIDATES],
                                 fixed_reference=references.run_keys(planned, polished=True),
                                 other_methods=references.run_keys(planned, polished=False))
    print(f"wrote {', '.join(written)} to {args.out}", file=sys.stderr)
    return 0


if __name__ == "__main__":
    sys.exit(cli.main_guard(main))

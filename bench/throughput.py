"""python -m bench.throughput: the ensemble engine against a loop over models and the device's ceiling.

Three measurements on one device, interleaved over rounds and reported as medians over rounds, so a busy
machine slows all three alike:
  per-model  M models trained one after another, each an EnsembleMLP with M = 1 (a loop over cells)
  ensemble   the same M models as one EnsembleMLP, one batched pass per step (what bench.train.fit_ensemble does)
  ceiling    a large float32 matmul: the most this device does with the same arithmetic
Both training rows run the ensemble's step (bench.step.TrainingStep: per-member AdamW, on CUDA a CUDA graph) on a
synthetic pool with the seed equation's 5 inputs, TrainConfig's architecture, batch size and pool size
(--width and --batch-size change the first two; the table's name then says so).

`--tuning` measures instead what the engine buys a tuning run: the same Optuna search (the seed target, the
mlp's default search space, a few pipelines) once with each round's trials batched into ensembles, once one
trial at a time, and prints trials per minute for both (bench.tune.search with batched=True and False); and
the same pair for the search whose rounds share one architecture (--shared-architecture), where a round
is one ensemble.

M defaults to 16, the size of one (target, seed) group of the default sweep (5 input encodings × 3-4 target
encodings, trained as one ensemble); on 2 CPU cores the gain levels off from there, as a step becomes bound
by per-sample work rather than per-step overhead. Larger M (--members) keeps paying on a GPU.

FLOPs counted are the matmuls' only, padding excluded: forward 2·in·out per layer per sample; training 3×
forward (forward, input gradients, weight gradients; the first layer's input gradient, about 1 % of the
total, is counted though never computed). Bias, activation, loss, gather and Adam are not counted: they are
what keeps a step from the ceiling.
"""

import re
import statistics
import sys
import time
from dataclasses import replace
from pathlib import Path

import pandas as pd
import torch

from bench import cli
from bench.device import device_name, synchronize
from bench.errors import UserError
from bench.model import EnsembleMLP
from bench.protocol import evaluate_many
from bench.registry import MODELS
from bench.step import WARMUP_STEPS, TrainingStep
from bench.train import TrainConfig

INPUTS = 5  # the seed equation's inputs


def parser():
    p = cli.Parser(prog="python -m bench.throughput", description=cli.summary(__doc__))
    p.add_argument("--device", default="auto", help="auto (CUDA when present), cpu or cuda[:N]")
    p.add_argument("--members", type=cli.positive_int, default=16, help="models M in the ensemble (default: 16)")
    p.add_argument("--steps", type=cli.positive_int, default=10, help="steps per model per round (default: 10)")
    p.add_argument("--rounds", type=cli.positive_int, default=20, help="measurement rounds (default: 20)")
    p.add_argument("--threads", type=cli.positive_int, default=2, help="CPU threads (default: 2)")
    p.add_argument("--width", type=cli.positive_int, default=TrainConfig.width,
                   help=f"hidden units per layer (default: {TrainConfig.width}, the mlp's)")
    p.add_argument("--batch-size", type=cli.positive_int, default=TrainConfig.batch_size,
                   help=f"rows per step (default: {TrainConfig.batch_size}, the mlp's)")
    p.add_argument("--float64", action="store_true",
                   help="also train the ensemble in float64, interleaved with the rest (throughput-<device>-float64.csv)")
    p.add_argument("--tuning", action="store_true",
                   help="time a tuning search batched against one trial at a time instead (tuning-<device>.csv)")
    p.add_argument("--trials", type=cli.positive_int, default=16, help="with --tuning: trials per pipeline (default: 16)")
    p.add_argument("--equations", type=cli.positive_int, metavar="K",
                   help="time a suite's first stage (bench.suite, quick budget) on the first K SRSD-easy equations instead: "
                        "batched across equations against one equation at a time, in equations per hour (suite-<device>.csv)")
    cli.out_arguments(p, "runs/throughput", "folder for throughput-<device>.csv (tuning-<device>.csv with --tuning, "
                      "suite-<device>.csv with --equations)")
    return p


def training_step(Z, t, seeds, config):
    model = EnsembleMLP([Z.shape[2]] * Z.shape[1], seeds, config.mlp).to(Z.device)
    return TrainingStep(model, Z, t, config.batch_size, seed=0, lr=config.lr)


def seconds(fn, device):
    synchronize(device)
    tick = time.perf_counter()
    fn()
    synchronize(device)
    return time.perf_counter() - tick


def measure(args, device):
    """One row per measurement (per-model, ensemble, with --float64 the ensemble in float64, ceiling) from its
    median seconds per round."""
    config = TrainConfig(width=args.width, batch_size=args.batch_size)
    generator = torch.Generator().manual_seed(0)
    Z = torch.randn(config.train_size, args.members, INPUTS, generator=generator).to(device)
    t = torch.randn(config.train_size, args.members, generator=generator).to(device)
    ensemble = training_step(Z, t, list(range(args.members)), config)
    double = training_step(Z.double(), t.double(), list(range(args.members)), replace(config, dtype="float64")) if (
        args.float64) else None
    alone = [training_step(Z[:, [m]].contiguous(), t[:, [m]].contiguous(), [m], config) for m in range(args.members)]
    size, reps = (8192, 10) if torch.device(device).type == "cuda" else (2048, 1)
    a, b = torch.randn(size, size, device=device), torch.randn(size, size, device=device)
    product = torch.empty_like(a)

    def train(steps, count):
        for step in steps:
            for _ in range(count):
                step(1.0)

    def matmuls():
        for _ in range(reps):
            torch.mm(a, b, out=product)

    train(alone + [ensemble] + ([double] if args.float64 else []), WARMUP_STEPS + 2)  # on CUDA: captures the graphs
    matmuls()
    runs = {"per-model": lambda: train(alone, args.steps), "ensemble": lambda: train([ensemble], args.steps)} | (
        {"ensemble float64": lambda: train([double], args.steps)} if args.float64 else {}) | {"ceiling": matmuls}
    times = {name: [] for name in runs}
    for _ in range(args.rounds):
        for name, run in runs.items():
            times[name].append(seconds(run, device))
    median = {name: statistics.median(ts) for name, ts in times.items()}
    samples = args.members * args.steps * config.batch_size
    train_flops = 3 * ensemble.model.flops_per_sample() * samples
    rows = [{"measurement": name, "models": args.members, "width": args.width, "batch_size": args.batch_size,
             "model_samples_per_s": samples / median[name],
             "gflop_per_s": train_flops / median[name] / 1e9} for name in runs if name != "ceiling"]
    rows.append({"measurement": f"ceiling ({size}^2 matmul)", "models": None, "model_samples_per_s": None,
                 "gflop_per_s": 2 * size**3 * reps / median["ceiling"] / 1e9})
    for row, name in zip(rows, runs):
        row |= {"ceiling_share": row["gflop_per_s"] / rows[-1]["gflop_per_s"],
                "seconds_per_round": median[name], "device": device_name(device), "torch": torch.__version__}
    return rows


TUNING_PIPELINES = [("log", "asinh"), ("standard", "asinh"), ("product+log", "asinh"), ("raw", "none")]


def tuning_speed(args, device):
    """Trials per minute of one search, batched and one trial at a time (same trials: same sampler seeds)."""
    from bench.registry import MODELS
    from bench.targets import load_targets
    from bench.tune import search

    settings = vars(TrainConfig(steps=args.steps * 50, eval_every=args.steps * 25, train_size=50_000, val_size=4096))
    target = load_targets()["seed"]
    rows = []
    for shared in (False, True):
        for batched in (True, False):
            tick = time.perf_counter()
            search(target, "mlp", TUNING_PIPELINES, settings, MODELS["mlp"].space, args.trials, device,
                   batched=batched, progress=False, shared_architecture=shared)
            minutes = (time.perf_counter() - tick) / 60
            rows.append({"architecture": "shared per round" if shared else "per trial",
                         "search": "batched" if batched else "one at a time", "pipelines": len(TUNING_PIPELINES),
                         "trials": args.trials * len(TUNING_PIPELINES), "steps_per_trial": settings["steps"],
                         "minutes": minutes, "trials_per_minute": args.trials * len(TUNING_PIPELINES) / minutes,
                         "device": device_name(device), "torch": torch.__version__})
    return rows


def suite_speed(args, device):
    """Equations per hour for a suite's first stage (every mlp pipeline of bench.suite at the quick budget) on
    `args.equations` SRSD-easy equations: all of them as one ensemble, then one equation at a time."""
    from bench.suite import BUDGETS, FIRST_STAGE
    from bench.suites import load_suite

    budget = BUDGETS["quick"]
    settings = MODELS["mlp"].settings(TrainConfig(steps=budget.steps, train_size=budget.train_size,
                                                  val_size=budget.val_size, test_size=budget.test_size), None)
    targets = list(load_suite("srsd-easy").values())[: args.equations]
    cells = [(t, e, te) for t in targets for encodings, target_encodings in FIRST_STAGE
             for e in encodings for te in target_encodings]
    rows = []
    for mode, parts in (("batched across equations", [cells]),
                        ("one equation at a time", [[c for c in cells if c[0] is t] for t in targets])):
        tick = time.perf_counter()
        for part in parts:
            evaluate_many("mlp", 0, part, settings, device)
        hours = (time.perf_counter() - tick) / 3600
        rows.append({"mode": mode, "equations": len(targets), "pipelines": len(cells) // len(targets),
                     "steps": budget.steps, "seconds": hours * 3600, "equations_per_hour": len(targets) / hours,
                     "device": device_name(device), "torch": torch.__version__})
    return rows


def show(rows):
    print(f"{'measurement':<22} {'models':>6} {'model-samples/s':>15} {'GFLOP/s':>8} {'of ceiling':>10}")
    for row in rows:
        models, samples = (row["models"], f"{row['model_samples_per_s']:,.0f}") if row["models"] else ("", "")
        print(f"{row['measurement']:<22} {models:>6} {samples:>15} {row['gflop_per_s']:>8.1f} "
              f"{row['ceiling_share']:>10.3f}")


def main(argv=None):
    args = parser().parse_args(argv)
    cli.check_out(args.out, args.regenerate)
    torch.set_num_threads(args.threads)
    device = cli.resolve_device(args.device)
    if args.equations:
        rows = suite_speed(args, device)
        name = re.sub(r"[^a-z0-9]+", "-", rows[0]["device"].lower()).strip("-")
        out = Path(args.out) / f"suite-{name}.csv"
        out.parent.mkdir(parents=True, exist_ok=True)
        pd.DataFrame(rows).to_csv(out, index=False, float_format="%.6g")
        for row in rows:
            print(f"{row['mode']:<26} {row['equations']} equations x {row['pipelines']} pipelines in "
                  f"{row['seconds']:.1f} s: {row['equations_per_hour']:,.0f} equations/hour")
        print(f"suite_speedup={rows[0]['equations_per_hour'] / rows[1]['equations_per_hour']:.2f} device={name}; "
              f"table written to {out}")
        return 0
    if args.tuning:
        if (args.width, args.batch_size) != (TrainConfig.width, TrainConfig.batch_size):
            raise UserError("--width and --batch-size size the ensemble measurement; --tuning searches the mlp's "
                            "own space (drop them, or drop --tuning)")
        rows = tuning_speed(args, device)
        name = re.sub(r"[^a-z0-9]+", "-", rows[0]["device"].lower()).strip("-")
        out = Path(args.out) / f"tuning-{name}.csv"
        out.parent.mkdir(parents=True, exist_ok=True)
        pd.DataFrame(rows).to_csv(out, index=False)
        for row in rows:
            print(f"{row['architecture']:<16} {row['search']:<14} {row['trials']} trials of {row['steps_per_trial']} "
                  f"steps in {row['minutes']:.2f} min: {row['trials_per_minute']:.1f} trials/min")
        for batched, alone in (rows[:2], rows[2:]):
            print(f"tuning_speedup={batched['trials_per_minute'] / alone['trials_per_minute']:.2f} "
                  f"architecture={batched['architecture'].replace(' ', '-')} device={name}")
        print(f"table written to {out}")
        return 0
    per_model, ensemble, *_ = rows = measure(args, device)
    name = re.sub(r"[^a-z0-9]+", "-", ensemble["device"].lower()).strip("-")
    default = (args.width, args.batch_size) == (TrainConfig.width, TrainConfig.batch_size)
    out = Path(args.out) / (f"throughput-{name}{'' if default else f'-width{args.width}-batch{args.batch_size}'}"
                            f"{'-float64' if args.float64 else ''}.csv")
    out.parent.mkdir(parents=True, exist_ok=True)
    pd.DataFrame(rows).astype({"models": "Int64", "width": "Int64", "batch_size": "Int64"}).to_csv(out, index=False)
    show(rows)
    print(f"device: {ensemble['device']}, torch {torch.__version__}; table written to {out}")
    speedup = ensemble["model_samples_per_s"] / per_model["model_samples_per_s"]
    print(f"ensemble_speedup={speedup:.2f} ceiling_fraction={ensemble['ceiling_share']:.3f} device={name}")
    if args.float64:
        double = rows[2]["model_samples_per_s"]
        print(f"ensemble float32 {ensemble['model_samples_per_s']:,.0f} against float64 {double:,.0f} model-samples/s: "
              f"float64_cost={ensemble['model_samples_per_s'] / double:.2f} device={name}")
    return 0


if __name__ == "__main__":
    sys.exit(cli.main_guard(main))

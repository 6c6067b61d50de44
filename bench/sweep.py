"""Sweeps: the grid of runs, which of them are already recorded, and their execution (local or dask).

Jobs run through joblib: in this process (jobs=1), in local worker processes (jobs>1), or on a
dask.distributed cluster (scheduler address) through joblib's dask backend; no other code path.
Each finished job's records are written by this process as soon as the job returns.
"""

import os
import resource
import time
from collections import Counter
from dataclasses import dataclass, field

import torch
from joblib import Parallel, delayed, parallel_config
from tqdm.auto import tqdm

from bench.conditions import Conditions
from bench.device import device_name, full_precision
from bench.encodings import check_input_encoding, needs_angles, needs_products, uses_periodic
from bench.errors import UserError
from bench.protocol import evaluate_many
from bench.records import config_key, environment, finished_keys, write_record
from bench.registry import MODELS, check_installed
from bench.train import MEMBER_SETTINGS

CLEAN = (Conditions(),)  # the clean benchmark: one condition, the defaults
# What a tuned run's config names of its search (`architecture` only when its rounds shared one).
SEARCH_IDENTITY = ("tuning_seed", "trials", "search_steps", "round_size", "space", "architecture")


@dataclass(frozen=True)
class Cell:
    """One run: a target, an input encoding, a target encoding, a model and a seed, under `settings`."""

    target: object
    encoding: str
    target_encoding: str
    model: str
    seed: int
    settings: dict = field(hash=False)
    device_type: str = "cpu"  # data are drawn on the sweep's device, so its type decides the numbers
    tuning: dict | None = field(default=None, hash=False, compare=False)  # the search behind tuned settings

    @property
    def config(self):
        conditions = self.target.conditions.changed()
        return {"target": self.target.name, "target_definition": self.target.definition(),
                "encoding": self.encoding, "target_encoding": self.target_encoding, "model": self.model,
                "seed": self.seed, "settings": self.settings, "device_type": self.device_type} | (
                    {} if self.tuning is None else {"tuned": {k: v for k, v in self.tuning.items()
                                                              if k in SEARCH_IDENTITY}}) | (
                    {"conditions": conditions} if conditions else {})

    @property
    def key(self):
        return config_key(self.config)


@dataclass
class Job:
    """Cells that run together: one model, seed and settings; one target, or several for a batched model
    whose cells of several targets train as one ensemble."""

    model: str
    seed: int
    settings: dict
    cells: list

    @property
    def targets(self):
        return list({(c.target.name, c.target.conditions): c.target for c in self.cells}.values())


def plan(targets, encodings, target_encodings, models, seeds, config, train_size=None, device="cpu",
         conditions=CLEAN):
    """Every valid cell of the grid (each target under each of `conditions`), and a note for each kind of cell
    that was left out and why. `seeds` is a count (seeds 0..N-1) or the seeds themselves."""
    for encoding in encodings:
        check_input_encoding(encoding)
    for model_name in models:
        check_installed(model_name)
    cells, skipped = [], {}
    for target in (target.under(c) for target in targets for c in conditions):
        for model_name in models:
            model = MODELS[model_name]
            if model.needs_scale and target.scale is None:
                skipped[f"{model_name} on {target.name}"] = "the target declares no scale (its loss divides by it)"
                continue
            refusal = model.accepts(target) if model.accepts else None
            if refusal:
                skipped[f"{model_name} on {target.name}"] = refusal
                continue
            for encoding in encodings:
                if model.encodings is not None and encoding not in model.encodings:
                    skipped[f"{model_name} with encoding {encoding}"] = f"it takes only {', '.join(model.encodings)}"
                    continue
                if uses_periodic(encoding) and not model.batched:
                    skipped[f"{model_name} with encoding {encoding}"] = "periodic embeddings are part of the mlp"
                    continue
                if needs_products(encoding) and not target.products:
                    skipped[f"{encoding} on {target.name}"] = "the target declares no products"
                    continue
                if needs_angles(encoding) and not target.angle_columns():
                    skipped[f"{encoding} on {target.name}"] = "the target declares no angles"
                    continue
                for target_encoding in target_encodings:
                    if model.target_encodings is not None and target_encoding not in model.target_encodings:
                        skipped[f"{model_name} with target encoding {target_encoding}"] = (
                            f"it takes only {', '.join(model.target_encodings)}")
                        continue
                    settings = model.settings(config, train_size)
                    target.conditions.check_pool(settings.get("train_size"), f"{model_name}'s")
                    cells += [Cell(target, encoding, target_encoding, model_name, seed, settings,
                                   torch.device(device).type)
                              for seed in (range(seeds) if isinstance(seeds, int) else seeds)]
    return cells, skipped


def group(cells, targets_per_job=1):
    """Jobs from cells: a batched model's cells of one (target, seed, shared settings) share a job, and with
    `targets_per_job` > 1 so do those of up to that many targets (one ensemble across equations); settings
    that each ensemble member may have its own (tuned learning rates, ...) do not split it."""
    order = {}
    for cell in cells:
        order.setdefault((cell.target.name, cell.target.conditions), len(order))
    jobs = {}
    for cell in cells:
        batched = MODELS[cell.model].batched
        shared = {k: v for k, v in cell.settings.items() if not (batched and k in MEMBER_SETTINGS)}
        position = order[cell.target.name, cell.target.conditions]
        where = position // targets_per_job if batched else position
        key = (cell.model, where, cell.seed, str(sorted(shared.items())), None if batched else cell.key)
        jobs.setdefault(key, Job(cell.model, cell.seed, shared, [])).cells.append(cell)
    return list(jobs.values())


def job_cells(job):
    """What the model's run receives per cell: (encoding, target encoding), plus the member's own settings
    for a batched model."""
    if not MODELS[job.model].batched:
        return [(c.encoding, c.target_encoding) for c in job.cells]
    return [(c.encoding, c.target_encoding, {k: c.settings[k] for k in MEMBER_SETTINGS if k in c.settings})
            for c in job.cells]


def run_job(job, device, threads):
    """Run one job (in any process) and return its records; an exception fails the job's runs, not the sweep."""
    torch.set_num_threads(threads)
    precision = {}
    if torch.device(device).type == "cuda":
        precision = full_precision()
        torch.cuda.reset_peak_memory_stats(device)
    tick = time.perf_counter()
    pairs = [(cell.target, *pair) for cell, pair in zip(job.cells, job_cells(job))]
    try:
        results = evaluate_many(job.model, job.seed, pairs, job.settings, device)
    except Exception as error:  # any failure fails this job's runs, never the sweep
        results = [{"status": "failed", "error": f"{type(error).__name__}: {error}", "metrics": None}] * len(pairs)
    memory = {"peak_rss_mb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024}
    if torch.device(device).type == "cuda":
        memory["peak_cuda_mb"] = torch.cuda.max_memory_allocated(device) / 2**20
    env = environment(device_name(device)) | precision
    job_seconds = time.perf_counter() - tick
    records = []
    for cell, result in zip(job.cells, results):
        record = {"target": cell.target.name, "encoding": cell.encoding, "target_encoding": cell.target_encoding,
                  "model": cell.model, "seed": cell.seed, "status": result["status"], "error": result.get("error"),
                  "config": cell.config, "key": cell.key, "metrics": result.get("metrics"),
                  "curve": result.get("curve", []), "convergence": result.get("convergence"),
                  "throughput": result.get("throughput"), "memory": memory, "env": env,
                  "rel_err_quantiles": result.get("rel_err_quantiles"),
                  "rejected_share": result.get("rejected_share"), "val_error": result.get("val_error"),
                  "val_median_rel_err": result.get("val_median_rel_err"),
                  "details": result.get("details"), "job_seconds": job_seconds,
                  "job_size": len(job.cells), "finished": time.strftime("%Y-%m-%dT%H:%M:%S%z")}
        for key in ("kept_step", "steps_run", "rollbacks"):
            if key in result:
                record[key] = result[key]
        if cell.tuning is not None:
            record["tuning"] = cell.tuning
        if cell.target.formula is None:  # a data file (bench/tabletarget.py): its path, beside the hashed config
            record["data_file"] = cell.target.data_file
        if "diverged_at_step" in result:
            record["diverged_at_step"] = result["diverged_at_step"]
        records.append(record)
    return records


def pending(cells, out, redo=False):
    """The cells without a finished record in `out` (all of them with redo) and how many were skipped."""
    done = set() if redo else finished_keys(out)
    todo = [c for c in cells if c.key not in done]
    return todo, len(cells) - len(todo)


def execute(cells, out, device, backend, command, progress=True, targets_per_job=1, desc=None):
    """Run the cells' jobs on `backend` (from `backend()`) and write each record as its job returns, naming the
    `command` (an argv list) that made it; see `group` for `targets_per_job`. The progress bar counts runs, or
    with `desc` (a suite's stage) equations, each once all its runs are written."""
    work = group(cells, targets_per_job)
    left = Counter(cell.target.name for cell in cells)
    written = []
    with backend, tqdm(total=len(left) if desc else len(cells), unit="equation" if desc else "run",
                       disable=not progress, desc=desc or "runs") as bar:
        parallel = Parallel(return_as="generator_unordered")
        for records in parallel(delayed(run_job)(job, device, backend.threads) for job in work):
            for record in records:
                record["command"] = command
                write_record(out, record)
                written.append(record)
                left[record["target"]] -= 1
                bar.update(1 if not desc else int(left[record["target"]] == 0))
    return written


def cpu_budget():
    """CPU threads this sweep may use: OMP_NUM_THREADS when set, else the cores this process may run on."""
    threads = os.environ.get("OMP_NUM_THREADS", "")
    return int(threads) if threads.isdigit() and int(threads) > 0 else len(os.sched_getaffinity(0))


def backend(jobs=1, scheduler=None):
    """Where jobs run: `jobs` local processes, or the dask cluster at `scheduler` (connected now, so that a
    bad address fails before any work)."""
    if scheduler is None:
        return Backend(parallel_config(n_jobs=jobs), threads=max(1, cpu_budget() // jobs))
    try:
        from dask.distributed import Client
    except ImportError:
        raise UserError("--scheduler needs dask.distributed; pip install -e \".[dask]\"") from None
    try:
        client = Client(scheduler, timeout="5s")
    except (OSError, TimeoutError, ValueError) as error:
        raise UserError(f"cannot reach the dask scheduler at {scheduler} ({error}); check the address") from None
    return Backend(parallel_config(backend="dask"), threads=1, client=client)


class Backend:
    """A joblib parallel_config, the torch threads each job may use, and the dask client to close after."""

    def __init__(self, config, threads, client=None):
        self.config, self.threads, self.client = config, threads, client

    def __enter__(self):
        self.config.__enter__()
        return self

    def __exit__(self, *exc):
        self.config.__exit__(*exc)
        self.close()

    def close(self):
        if self.client is not None:
            self.client.close()

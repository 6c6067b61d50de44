"""The run validation chose, trained again exactly as its sweep trained it (for bench.export).

`chosen` picks, among a target's finished `mlp` records in a results folder (clean data conditions), the one
with the lowest validation error. An `mlp` run is one member of an ensemble, and a member trained beside other
members matches it trained alone only to about 1e-4 (tests/test_ensemble.py), so `refit` trains the whole job
again: the records that share the run's seed, `job_seconds` and `job_size` (one job writes them all), their
targets rebuilt from the records (a formula from its recorded definition, a data file from its path, checked
against its recorded sha256), through the protocol's own draws, encoders and ensemble engine. On the CPU the
same job gives the same numbers, so the refit must reproduce the record's test error (`verify`).
"""

import math
import re
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import torch

from bench.data import scale_on_test
from bench.datafile import file_sha256
from bench.device import full_precision
from bench.errors import UserError
from bench.metrics import regression_metrics
from bench.protocol import Split, draws_of, encode_cells, fit_cells, target_key
from bench.sweep import Cell, group, job_cells
from bench.tabletarget import TableTarget
from bench.targets import target_from_definition

MODEL = "mlp"  # the one model whose fitted state can be exported
REPRODUCED = 1e-9  # relative difference allowed between the refit's test error and the record's


@dataclass
class Refit:
    """One run trained again: its record, target, encoders (in `split`), network member, test predictions and metrics."""

    record: dict
    target: object
    split: Split
    member: object
    prediction: np.ndarray
    metrics: dict


def chosen(records, name, where):
    """The ok `mlp` record of target `name` (clean data conditions) with the lowest validation error, whatever its
    test set later showed (a status comes from training and validation alone: bench.metrics.outcome)."""
    mine = [r for r in records if r.get("target") == name]
    if not mine:
        names = sorted({str(r.get("target")) for r in records})
        raise UserError(f"{where} holds no record of target {name!r}; its targets: {', '.join(names[:20]) or 'none'}")
    runs = [r for r in mine if r.get("model") == MODEL and r.get("status") == "ok"
            and not r.get("config", {}).get("conditions") and r.get("val_error") is not None
            and math.isfinite(r["val_error"])]
    if not runs:
        models = sorted({str(r.get("model")) for r in mine})
        raise UserError(f"{where} holds no finished {MODEL} run of target {name!r} (its records are of {', '.join(models)}); "
                        f"export supports the {MODEL} model only: run it with --models {MODEL}")
    return min(runs, key=lambda r: (r["val_error"], r["key"]))


def job_of(records, record, where):
    """The records the job that made `record` wrote, `record` among them."""
    job = [r for r in records if r.get("model") == record["model"] and r.get("seed") == record["seed"]
           and r.get("job_seconds") == record["job_seconds"] and r.get("job_size") == record["job_size"]]
    if len(job) != record["job_size"]:
        raise UserError(f"run {record['key']} trained in an ensemble of {record['job_size']} runs and {where} holds "
                        f"{len(job)} of their records; the ensemble cannot be refit exactly without them all")
    return job


def target_of(record, data=None):
    """The target a record ran on: its formula from the recorded definition, or its data file (`data`, else the
    path the record names), refused unless the file's sha256 is the recorded one."""
    definition = record["config"]["target_definition"]
    if "data_file" not in definition:
        try:
            return target_from_definition(record["target"], definition)
        except (KeyError, TypeError):
            raise UserError(f"run {record['key']}: its target definition is not one this version reads; "
                            "export it with the version that made it") from None
    recorded = definition["data_file"]
    path = data or record.get("data_file", {}).get("path")
    if path is None or not Path(path).is_file():
        raise UserError(f"run {record['key']} was trained on a data file" + (f" ({path}) that is not there" if path else "")
                        + "; pass --data FILE, the file it used")
    if file_sha256(path) != recorded["sha256"]:
        raise UserError(f"data file {path} is not the one run {record['key']} was trained on (sha256 "
                        f"{file_sha256(path)[:12]}..., the run's {recorded['sha256'][:12]}...); pass --data with that file")
    return TableTarget.load(path, recorded["target"], recorded["features"], recorded["drop_missing"],
                            recorded["split_column"], recorded["products"], name=record["target"],
                            angles=recorded.get("angles", ()))


def device_of(record):
    """The device type the run was made on, set up as its job had it: on the CPU the same number of torch threads
    (a matmul's rounding may depend on it), on CUDA the sweep's full-precision matmuls."""
    device = record["config"]["device_type"]
    if device == "cuda":
        if not torch.cuda.is_available():
            raise UserError(f"run {record['key']} was made on CUDA and this machine has none; export it on a GPU machine")
        full_precision()
    threads = re.fullmatch(r"cpu \((\d+) threads\)", str(record.get("env", {}).get("device")))
    if threads:
        torch.set_num_threads(int(threads[1]))
    return device


def refit(job, targets):
    """Every run of `job` (records from `job_of`) trained again as one job; `targets` maps names to targets.
    Returns a Refit per record, in the job's order (None where a cell failed to encode, as it did in the sweep)."""
    cells = [Cell(targets[r["target"]], r["encoding"], r["target_encoding"], r["model"], r["seed"],
                  r["config"]["settings"], r["config"]["device_type"], r.get("tuning")) for r in job]
    for cell, record in zip(cells, job):
        if cell.key != record["key"]:
            raise UserError(f"run {record['key']}: its target and settings, rebuilt, hash to {cell.key}; "
                            "export it with the version of the benchmark that made it")
    [work] = group(cells, targets_per_job=len(targets))
    threads = torch.get_num_threads()
    try:
        refits = train(work, {r["key"]: r for r in job}, device_of(job[0]))
    finally:
        torch.set_num_threads(threads)
    return [refits.get(r["key"]) for r in job]


def train(work, records, device):
    """The job `work` through the protocol's draws, encoders and its model (the ensemble engine for the mlp): a
    Refit per cell key."""
    pairs = [(cell.target, *pair) for cell, pair in zip(work.cells, job_cells(work))]
    draws = draws_of(pairs, work.seed, work.settings, device)
    encoded = encode_cells(work.model, pairs, draws)
    splits = [e[0] if isinstance(e, tuple) else e for e in encoded]
    refits = {}
    for cell, split, e, fitted in zip(work.cells, splits, encoded,
                                      fit_cells(work.model, work.seed, pairs, work.settings, device, splits)):
        if fitted is None:
            continue
        member, data = fitted[0], draws[target_key(cell.target)]
        prediction = split.decode(member(e[1]))
        metrics = regression_metrics(prediction, data.y_test.cpu().numpy(), scale_on_test(cell.target, data))
        refits[cell.key] = Refit(records[cell.key], cell.target, split, member, prediction, metrics)
    return refits


def verify(refitted):
    """Raise UserError unless the refit reproduces its record's test median relative error."""
    recorded, again = refitted.record["metrics"]["median_rel_err"], refitted.metrics["median_rel_err"]
    if not math.isclose(recorded, again, rel_tol=REPRODUCED):
        raise UserError(f"the refit of run {refitted.record['key']} does not reproduce it: test median relative error "
                        f"{again:.10g} against the record's {recorded:.10g} (another machine, library version or thread "
                        "count?); nothing was written")

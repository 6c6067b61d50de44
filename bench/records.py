"""Run records: one JSON file per run under <out>/runs/, named by a hash of its full config, written atomically.

The report reads only these files; `load_frame` turns them into one pandas row per run.
"""

import hashlib
import json
import math
import os
import platform
import re
import tempfile
from pathlib import Path

import pandas as pd

from bench.errors import UserError


def config_key(config):
    """A short, stable hash of a run's full config."""
    return hashlib.sha256(json.dumps(config, sort_keys=True).encode()).hexdigest()[:16]


def record_name(config):
    readable = "_".join(str(config[k]) for k in ("target", "model", "encoding", "target_encoding"))
    readable = re.sub(r"[^\w.+-]", "-", readable)
    return f"{readable}_s{config['seed']}_{config_key(config)}.json"


def runs_dir(out):
    return Path(out) / "runs"


def ensure_writable(folder, what):
    """Create `folder` and check that a file can be written in it, before any work is done."""
    try:
        Path(folder).mkdir(parents=True, exist_ok=True)
        with tempfile.NamedTemporaryFile(dir=folder, prefix=".probe-"):
            pass
    except OSError as error:
        raise UserError(f"cannot write {what} to {folder} ({error.strerror}); choose another --out") from None


def prepare_out(out):
    """Create <out>/runs, writable, before any work is done."""
    ensure_writable(runs_dir(out), "results")
    return runs_dir(out)


# A failure for want of a resource (memory, a device), which another attempt may find free; any other failure is
# the pipeline's own on that seed's data (a seed fixes every draw, so it fails the same way again) and is final.
RESOURCE_FAILURE = re.compile(r"MemoryError|out of memory|CUDA error|TimeoutError|BrokenProcessPool", re.I)


def finished_keys(out):
    """Config hashes of the finished runs in <out>/runs: ok, diverged, or failed by the pipeline itself; a run that
    failed for want of a resource (RESOURCE_FAILURE) is tried again."""
    records, _ = load_records(out)
    return {r.get("key") for r in records if r.get("status") in ("ok", "diverged")
            or (r.get("status") == "failed" and not RESOURCE_FAILURE.search(str(r.get("error"))))}


def plain(value):
    """`value` with every NaN or ±inf float replaced by None: strict JSON parsers reject those tokens."""
    if isinstance(value, float):
        return value if math.isfinite(value) else None
    if isinstance(value, dict):
        return {k: plain(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [plain(v) for v in value]
    return value


# A record's scores keep their non-finite values (an R² of −inf, an infinite validation error): strict JSON has no
# token for them, so these keys write them as the strings below and load_records reads them back as floats.
SCORES = ("metrics", "val_error", "val_median_rel_err")
NON_FINITE = {"Infinity": math.inf, "-Infinity": -math.inf, "NaN": math.nan}
# Records written before SCORES kept them hold null instead: in their metrics, null stood for the worst value.
WORST_OF_NULL = {"r2": -math.inf}  # every other metric that could be null is an error: +inf


def scores_written(value):
    """`value` (a SCORES entry) with every NaN or ±inf float as its NON_FINITE string."""
    if isinstance(value, float) and not math.isfinite(value):
        return "NaN" if math.isnan(value) else ("Infinity" if value > 0 else "-Infinity")
    if isinstance(value, dict):
        return {k: scores_written(v) for k, v in value.items()}
    return value


def scores_read(record):
    """A record as written, with its SCORES' NON_FINITE strings as floats again, and the nulls of a record written
    before they were kept read as WORST_OF_NULL says."""
    record = dict(record)
    for key in SCORES:
        value = record.get(key)
        if isinstance(value, str) and value in NON_FINITE:
            record[key] = NON_FINITE[value]
    if isinstance(record.get("metrics"), dict):
        record["metrics"] = {k: NON_FINITE.get(v, v) if isinstance(v, str) else
                             WORST_OF_NULL.get(k, math.inf) if v is None else v for k, v in record["metrics"].items()}
    return record


def write_record(out, record):
    """Write a run's record into <out>/runs (see write_json), its SCORES non-finite values kept."""
    record = {k: scores_written(v) if k in SCORES else v for k, v in record.items()}
    return write_json(runs_dir(out) / record_name(record["config"]), record)


def write_json(path, data):
    """Write atomically (a temporary file in the same folder, fsynced, then renamed into place) as strict JSON."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    handle, temporary = tempfile.mkstemp(dir=path.parent, prefix=".", suffix=".part")
    try:
        with os.fdopen(handle, "w") as file:
            json.dump(plain(data), file, indent=1, allow_nan=False)
            file.flush()
            os.fsync(file.fileno())
        os.replace(temporary, path)
    except BaseException:
        Path(temporary).unlink(missing_ok=True)
        raise
    return path


def load_records(out):
    """Every record under <out>/runs, sorted by file name (its scores as floats, non-finite ones included: see
    SCORES); a file that does not parse is reported and skipped."""
    records, broken = [], []
    for path in sorted(p for p in runs_dir(out).glob("*.json") if not p.name.startswith(".")):
        try:
            records.append(scores_read(json.loads(path.read_text())))
        except (OSError, ValueError):
            broken.append(path.name)
    return records, broken


def load_frame(records):
    """One row per record, nested keys flattened (metrics.median_rel_err, throughput.device, ...)."""
    frame = pd.json_normalize([{k: v for k, v in r.items() if k != "curve"} for r in records])
    return frame


def environment(device_name):
    import numpy
    import sklearn
    import torch

    return {"device": device_name, "python": platform.python_version(), "torch": torch.__version__,
            "numpy": numpy.__version__, "sklearn": sklearn.__version__, "platform": platform.platform(),
            "processor": platform.processor() or platform.machine()}

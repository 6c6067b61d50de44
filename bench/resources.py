"""Memory a sweep needs, estimated before the first run and compared with what the machine has.

A job holds its training pool and test set (float64), a sampling round's temporaries, each encoder's output,
and for the `mlp` ensemble the cached encodings (float64, and their copies in the networks' dtype, float32 unless
`dtype=float64`) and their stack (n, members, width). The estimate is
a little above what bench/train.py allocates; model internals (a forest's trees) are not counted.
"""


import torch

from baselines.sklearn_models import BASELINES
from bench.datafile import available_memory
from bench.encodings import build_input_encoder
from bench.errors import UserError
from bench.registry import MODELS
from bench.sweep import group

FLOAT32, FLOAT64 = 4, 8
MAX_ELEMENTS = 2**63 - 1  # torch counts a tensor's elements in int64
WIDTH_SAMPLE = 1024  # rows an encoder is fitted on to learn its output width


def check_memory(cells, device, jobs=1, remote=False, targets_per_job=1):
    """Raise a one-line UserError when a job cannot be drawn at all, or when the `jobs` largest jobs together
    need more memory than is available here. Runs on cluster workers (`remote`) are only checked for the first:
    their memory is not known here."""
    widths, needs = {}, {"cpu": [], device: []}
    for job in group(cells, targets_per_job):
        _check_drawable(job)
        for cell in job.cells:
            if width_key(cell.target, cell.encoding) not in widths:
                widths[width_key(cell.target, cell.encoding)] = encoded_width(cell.target, cell.encoding)
        on_device = torch.device(device).type == "cuda" and job.model not in BASELINES
        needs[device if on_device else "cpu"].append((job_bytes(job, widths), job))
    if not remote:
        for pool, pool_needs in needs.items():
            _check_fits(sorted(pool_needs, key=lambda need: need[0])[-jobs:], pool)


def job_bytes(job, widths):
    """Peak bytes of one job: its draws (training, validation and test), a sampling round, its encoded copies and
    (mlp) the ensemble's inputs."""
    n, t = job.settings["train_size"], job.settings["test_size"] + job.settings.get("val_size", 0)
    d = max(len(target.names) for target in job.targets)
    rows, most = n + t, max(n, t)
    encoded = [widths[width_key(c.target, c.encoding)] for c in {(c.target.name, c.encoding): c for c in job.cells}.values()]
    drawn = len(job.targets) * rows * (d + 1) * FLOAT64  # X and y per target, kept for the whole job
    sampling = 2 * most * (2 * d + 4) * FLOAT64  # a round draws twice the rows: columns, their stack, y
    encoding = 2 * most * max(encoded) * FLOAT64  # one encoder's float64 output and its temporaries
    if not MODELS[job.model].batched:  # scikit-learn and the recipes keep float64 copies of the encoded data
        return drawn + sampling + encoding + 2 * rows * sum(encoded) * FLOAT64
    members = len(job.cells)
    target_encodings = len({(cell.target.name, cell.target_encoding) for cell in job.cells})
    net = FLOAT64 if job.settings.get("dtype") == "float64" else FLOAT32  # the copies the networks train on
    cached = rows * sum(encoded) * (FLOAT64 + net) + n * target_encodings * (FLOAT64 + net)
    stacked = rows * members * max(encoded) * net + n * members * net + 2 * t * members * FLOAT64
    return drawn + sampling + encoding + cached + stacked


def width_key(target, encoding):
    """What an encoded width depends on: the target, its conditions (extra inputs) and the encoding."""
    return target.name, target.conditions, encoding


def encoded_width(target, spec):
    """Columns the input encoding `spec` gives for `target`, measured on a small sample."""
    X = target.example_inputs(WIDTH_SAMPLE)
    try:
        return build_input_encoder(spec, target).fit(X).transform(X[:1]).shape[1]
    except ValueError:  # the run fails the same way and records why; count the raw inputs meanwhile
        return X.shape[1]


def available_bytes(device):
    """Memory free for new work: the GPU's free memory, or the host's MemAvailable (total memory elsewhere)."""
    if torch.device(device).type == "cuda":
        return torch.cuda.mem_get_info(torch.device(device))[0]
    return available_memory()


def _check_drawable(job):
    flag, rows = _largest_size(job)
    target = max(job.targets, key=lambda t: len(t.names))
    values = 2 * rows * len(target.names)  # a sampling round's columns, stacked
    if values > MAX_ELEMENTS:
        raise UserError(f"{flag} {rows} cannot be drawn at all: target {target.name!r} would need {values:.3g} "
                        f"values in one tensor (at most {MAX_ELEMENTS:.3g}); lower {flag}")


def _check_fits(largest, pool):
    need, available = sum(bytes_ for bytes_, _ in largest), available_bytes(pool)
    if need <= available:
        return
    job = largest[-1][1]
    flag, rows = _largest_size(job)
    memory = "memory" if pool == "cpu" else f"{pool} memory"
    what = (f"one job's training pool, test set and encoded copies ({job.model} on {', '.join(t.name for t in job.targets)})"
            if len(largest) == 1 else f"{len(largest)} jobs at once (--jobs)")
    raise UserError(f"{flag} {rows} needs about {_size(need)} of {memory} for {what}; this machine has "
                    f"{_size(available)} available; lower {flag}" + (" or --jobs" if len(largest) > 1 else ""))


def _largest_size(job):
    """The size flag that weighs most in `job`, and its value."""
    n, t = job.settings["train_size"], job.settings["test_size"] + job.settings.get("val_size", 0)
    return ("--train-size", n) if n >= t else ("--test-size", t)


def _size(count):
    for unit in ("bytes", "kB", "MB", "GB", "TB", "PB"):
        if count < 1000 or unit == "PB":
            return f"{count:.3g} {unit}"
        count /= 1000

"""Training the shared `mlp`: every member of a group in one batched pass (bench.model.EnsembleMLP).

A member is one (settings, data) pair: its encoded training pool, its validation inputs and the scorer that
reads its encoded predictions on validation (the harness, bench/protocol.py, provides both; a member never
sees a test set). Members share the architecture, the batch size, the budget and the batch order; each has
its own inputs, initialization, learning rate, weight decay and frequency scale.
"""

import math
import time
from collections.abc import Callable
from dataclasses import dataclass, field, fields, replace

import torch

from bench.data import derive_seed
from bench.device import device_name, synchronize
from bench.encodings import uses_periodic
from bench.errors import UserError
from bench.metrics import convergence
from bench.model import DTYPES, EnsembleMLP, MLPConfig
from bench.polish import load_member, member_copy, polish_member
from bench.stages import add_stages
from bench.step import TrainingStep

MEMBER_SETTINGS = ("lr", "weight_decay", "frequency_scale")  # free per ensemble member; the rest are shared
LBFGS_SETTINGS = ("lbfgs_iters", "lbfgs_rows", "lbfgs_patience")  # after training; tuning trials never polish
STAGE_SETTINGS = ("stages", "stage_scale")  # residual stages after the first network (bench.stages)
RUN_ONLY_SETTINGS = (*LBFGS_SETTINGS, "rollback", *STAGE_SETTINGS)  # tuning trials never use them; off: not in the key
RUN_ONLY_OFF = {"lbfgs_iters": 0, "rollback": 0.0, "stages": 1}  # the values that turn them off: left out of a record's key
DEFAULT_LEFT_OUT = {"dtype": "float32"}  # settings left out of a record's key at these values (records before them)


def without_run_only(settings):
    """`settings` without the entries only runs use (the L-BFGS polish and the rollback)."""
    return {k: v for k, v in settings.items() if k not in RUN_ONLY_SETTINGS}


def run_only_setting(settings, key):
    """A run-only setting as the mlp run with these `settings` (a record's) used it. Settings lack those that
    were off (no polish, no rollback) and those older than them: before `lbfgs_patience`, a polish stopped
    at its first chunk that did not improve."""
    if key in settings:
        return settings[key]
    if key == "lbfgs_patience" and settings.get("lbfgs_iters"):
        return 1
    return RUN_ONLY_OFF.get(key, getattr(TrainConfig, key))


def config_from(settings):
    """The TrainConfig that mlp `settings` (as hashed into a record) stand for: a run-only setting they lack
    was off, not at its default."""
    return TrainConfig(**{k: run_only_setting(settings, k) for k in RUN_ONLY_SETTINGS} | settings)


@dataclass(frozen=True)
class TrainConfig:
    """Everything that decides a run's numbers besides target, encodings and seed (hashed into records)."""

    steps: int = 10_000
    batch_size: int = 256
    lr: float = 3e-3
    weight_decay: float = 0.0  # decoupled (AdamW)
    schedule: str = "cosine"  # "cosine" (linear warm-up, cosine decay to 1 % of lr) or "constant"
    width: int = 64
    depth: int = 3
    activation: str = "silu"
    frequency_scale: float = 0.01  # initial scale of the periodic embeddings' frequencies (periodic only)
    patience: int = 0  # stop when no member improved on validation for this many evaluations (0: never)
    train_size: int = 200_000  # training pool drawn once per (target, seed); batches are drawn from it
    val_size: int = 16_384  # validation set per (target, seed): learning curves, the step kept, tuning
    test_size: int = 100_000  # fixed test set per (target, seed), read once per finished run
    eval_every: int = 250  # learning-curve resolution in steps (and in L-BFGS iterations)
    lbfgs_iters: int = 0  # L-BFGS iterations per member after Adam, full batch (bench.polish; 0: none)
    lbfgs_rows: int = 8_192  # the first this many pool rows are the polish's batch
    lbfgs_patience: int = 4  # the polish stops after this many chunks of eval_every iterations without improving
    rollback: float = 4.0  # a member whose validation error passes this multiple of its best goes back to its
    # best weights and Adam state, at half its learning rate (0: never; see roll_back)
    dtype: str = "float32"  # the networks' precision, Adam's and the polish's: "float32" or "float64"
    stages: int = 1  # networks in all: each later one fits the residual of those before it (bench.stages)
    stage_scale: float = 1.0  # a later stage's first-layer initial weights are multiplied by this

    def __post_init__(self):
        if self.dtype not in DTYPES:
            raise UserError(f"unknown dtype {self.dtype!r}; choose from {', '.join(DTYPES)}")
        if self.stages < 1 or self.stage_scale <= 0:
            raise UserError(f"stages={self.stages}, stage_scale={self.stage_scale}: stages must be 1 or more and "
                            "stage_scale positive; fix the value(s)")

    @classmethod
    def field_names(cls):
        return [f.name for f in fields(cls)]

    @property
    def mlp(self):
        return MLPConfig(self.width, self.depth, self.activation, frequency_scale=self.frequency_scale, dtype=self.dtype)


def stack_padded(tensors):
    """(n, M, max width) from M tensors of shape (n, width_m), zero-padded on the right.

    Row-major by sample: one row holds every member's inputs, so a training batch is one gather of rows.
    """
    width = max(t.shape[1] for t in tensors)
    out = tensors[0].new_zeros(tensors[0].shape[0], len(tensors), width)
    for m, t in enumerate(tensors):
        out[:, m, : t.shape[1]] = t
    return out


def learning_rate_factor(config):
    warmup = max(1, config.steps // 50)

    def factor(step):
        if config.schedule == "constant":
            return 1.0
        if step < warmup:
            return (step + 1) / warmup
        progress = (step - warmup) / max(1, config.steps - warmup)
        return 0.01 + 0.99 * 0.5 * (1 + math.cos(math.pi * progress))

    return factor


@dataclass
class Member:
    """One ensemble member: encoded training inputs and targets and validation inputs (tensors in the networks'
    dtype on the training device), how its encoded validation predictions are scored, its initialization seed and its own
    values of MEMBER_SETTINGS (empty: the config's)."""

    Z_train: torch.Tensor
    t_train: torch.Tensor
    Z_val: torch.Tensor
    val_point: Callable  # encoded validation predictions (1-D tensor) -> {val_error (choices), median_rel_err}
    init_seed: int
    hyper: dict = field(default_factory=dict)


@torch.no_grad()
def predict(model, Z, chunk=32_768):
    """Encoded predictions (M, n) for padded inputs (n, M, width), in chunks to bound memory."""
    return torch.cat([model(Z[i: i + chunk].transpose(0, 1)) for i in range(0, Z.shape[0], chunk)], dim=1)


class BestOnValidation:
    """Each member's parameters (and optimizer state: `tensors`, all shaped (members, ...)) at its lowest
    validation error so far, and the step they come from."""

    def __init__(self, model, tensors=()):
        self.live = [*model.parameters(), *tensors]
        self.kept = [t.detach().clone() for t in self.live]
        self.error = torch.full((model.members,), torch.inf)
        self.step = [0] * model.members
        self.stale = 0  # evaluations since any member improved

    @torch.no_grad()
    def update(self, errors, step):
        errors = torch.as_tensor(errors, dtype=torch.float64)
        better = errors < self.error
        self.stale = 0 if bool(better.any()) else self.stale + 1
        self.error = torch.where(better, errors, self.error)
        self.step = [step if b else s for b, s in zip(better.tolist(), self.step)]
        self._copy(self.kept, self.live, better)

    @torch.no_grad()
    def restore(self, members=None):
        """Put the kept tensors back, for every member or for those where `members` (a bool tensor) is True."""
        self._copy(self.live, self.kept, torch.ones_like(self.error, dtype=torch.bool) if members is None else members)

    @staticmethod
    def _copy(targets, sources, members):
        for target, source in zip(targets, sources):
            mask = members.to(target.device).view((-1,) + (1,) * (target.ndim - 1))
            target.copy_(torch.where(mask, source, target))


def roll_back(best, errors, factor, lr):
    """Members whose validation error passed `factor` × their best, or is no longer finite (a collapse: Adam at
    too high a rate), go back to their best weights and Adam state, and continue at half their learning rate;
    returns that mask. A member with no finite best yet has nothing to go back to. (Adam's step count is shared
    by the members and goes on: past the first few steps its bias correction is 1 either way.)"""
    errors = torch.as_tensor(errors, dtype=torch.float64)
    collapsed = torch.isfinite(best.error) & ~(errors <= factor * best.error)
    if bool(collapsed.any()):
        best.restore(collapsed)
        lr.mul_(torch.where(collapsed.to(lr.device), 0.5, 1.0))
    return collapsed




class Ensemble:
    """Trained members: `predict` gives each member's encoded predictions; `reports` what each member's
    training did (curve, kept step, validation error, divergence) and `throughput` the ensemble's speed."""

    def __init__(self, model, reports, throughput):
        self.model, self.reports, self.throughput = model, reports, throughput

    def predict(self, Zs):
        """Encoded predictions, one 1-D tensor per member, for per-member inputs `Zs` (the networks' dtype, n rows each)."""
        return list(predict(self.model, stack_padded(Zs)))


def fit_ensemble(members, config, seed, device, periodic=False, first_layer_scale=1.0):
    """Train `members` together under `config` (architecture, batch size, budget), with batches drawn by `seed`.

    Every `eval_every` steps each member is scored on validation; its best weights are kept (then polished by
    L-BFGS when `config.lbfgs_iters`), and a member that collapses rolls back (`config.rollback`).
    """
    value = {key: [m.hyper.get(key, getattr(config, key)) for m in members] for key in MEMBER_SETTINGS}
    widths = [m.Z_train.shape[1] for m in members]
    model = EnsembleMLP(widths, [m.init_seed for m in members], replace(
        config.mlp, periodic=periodic, first_layer_scale=first_layer_scale), value["frequency_scale"]).to(device)
    Z_train = stack_padded([m.Z_train for m in members])
    t_train = torch.stack([m.t_train for m in members], dim=1)
    Z_val = stack_padded([m.Z_val for m in members])
    train_step = TrainingStep(model, Z_train, t_train, config.batch_size, derive_seed(seed, "batches"),
                              value["lr"], value["weight_decay"])
    lr_factor = learning_rate_factor(config)
    optimizer = train_step.optimizer
    best = BestOnValidation(model, [*optimizer.exp_avg, *optimizer.exp_avg_sq] if config.rollback else ())
    rollbacks = torch.zeros(len(members), dtype=torch.long)
    curves = [[] for _ in members]
    train_seconds, step = 0.0, 0
    for start in range(0, config.steps, config.eval_every):
        synchronize(device)
        tick = time.perf_counter()
        for step in range(start + 1, min(start + config.eval_every, config.steps) + 1):
            train_step(lr_factor(step - 1))
        synchronize(device)
        train_seconds += time.perf_counter() - tick
        encoded = predict(model, Z_val)
        scores = [m.val_point(encoded[i]) for i, m in enumerate(members)]
        for curve, point in zip(curves, scores):
            curve.append({"step": step, "seconds": round(train_seconds, 4), "samples": step * config.batch_size} | point)
        errors = [point["val_error"] for point in scores]
        best.update(errors, step)
        if config.rollback:
            collapsed = roll_back(best, errors, config.rollback, optimizer.lr)
            rollbacks += collapsed
            train_step.first_bad_step.masked_fill_(collapsed.to(device), -1)  # back to finite weights: not diverged
        if config.patience and best.stale >= config.patience:
            break
    best.restore()
    first_bad_step = train_step.first_bad_step.tolist()
    lbfgs_seconds = polish(model, members, Z_train, t_train, Z_val, config, best, curves, step,
                           [bad >= 0 for bad in first_bad_step]) if config.lbfgs_iters else 0.0
    samples = step * config.batch_size
    throughput = {
        "device": device_name(device),
        "ensemble_size": len(members),
        "train_samples_per_s": samples / train_seconds,
        "ensemble_train_samples_per_s": len(members) * samples / train_seconds,
        "train_gflops": 3 * model.flops_per_sample() * len(members) * samples / train_seconds / 1e9,
        "train_seconds": train_seconds + lbfgs_seconds,  # samples/s and GFLOP/s above are Adam's alone
        **({"lbfgs_seconds": lbfgs_seconds} if config.lbfgs_iters else {}),
    }
    reports = [{"curve": curves[m], "convergence": convergence(curves[m]), "kept_step": best.step[m],
                "steps_run": curves[m][-1]["step"], "last_step": step, "diverged_at_step": bad if bad >= 0 else None,
                **({"rollbacks": int(rollbacks[m])} if config.rollback else {})}
               for m, bad in enumerate(first_bad_step)]
    return Ensemble(model, reports, throughput)


def polish(model, members, Z_train, t_train, Z_val, config, best, curves, steps, diverged):
    """L-BFGS polish of every member that did not diverge and has a finite validation error, one at a time
    (bench.polish), on the first `lbfgs_rows` pool rows; extends the curves and the kept steps. A curve's
    seconds then add the member's own polish to the ensemble's Adam seconds. Returns the seconds spent."""
    rows = min(config.lbfgs_rows, Z_train.shape[0])
    total = 0.0
    for m, member in enumerate(members):
        if diverged[m] or not torch.isfinite(best.error[m]):
            continue
        single = member_copy(model, m)
        x, y = Z_train[:rows, m: m + 1].transpose(0, 1), t_train[:rows, m: m + 1].T

        scored = []  # each evaluation's validation scores, in order

        def score(net, m=m, member=member, scored=scored):
            scored.append(member.val_point(predict(net, Z_val[:, m: m + 1])[0]))
            return scored[-1]["val_error"]

        points, kept, kept_error = polish_member(single, x, y, score, config.lbfgs_iters, config.eval_every,
                                                 float(best.error[m]), config.lbfgs_patience)
        load_member(model, m, single)
        start = curves[m][-1]
        for (iterations, seconds, evaluations, _), point in zip(points, scored):
            curves[m].append({"step": steps + iterations, "seconds": round(start["seconds"] + seconds, 4),
                              "samples": start["samples"] + evaluations * rows} | point)
        if kept:
            best.step[m], best.error[m] = steps + kept, kept_error
        total += points[-1][1] if points else 0.0
    return total


class EnsembleMember:
    """One member of a trained ensemble as a predictor of its own encoded targets (a one-member copy)."""

    def __init__(self, ensemble, member):
        self.single = member_copy(ensemble.model, member)
        self.features = max(ensemble.model.input_widths)

    def __call__(self, Z):
        padded = Z.new_zeros(Z.shape[0], 1, self.features, dtype=next(self.single.parameters()).dtype)
        padded[:, 0, : Z.shape[1]] = Z
        return predict(self.single, padded)[0]


def fit_members(splits, hyper, settings, seed, device):
    """The mlp's `fit_many` (bench/protocol.py): every split one member, trained as one ensemble, whatever target
    its rows come from; (predictor, report, throughput) per split. Members whose inputs take periodic embeddings
    (another first layer), or whose pools or validation sets differ in size, form ensembles of their own."""
    config = config_from(settings)
    dtype = DTYPES[config.dtype]
    members = [Member(s.Z_train.to(dtype), s.t_train.to(dtype), s.Z_val.to(dtype), s.val_point,
                      derive_seed(seed, "init", s.encoding, s.target_encoding), h) for s, h in zip(splits, hyper)]
    parts = {}
    for i, (split, member) in enumerate(zip(splits, members)):
        parts.setdefault((uses_periodic(split.encoding), len(member.Z_train), len(member.Z_val)), []).append(i)
    fitted = [None] * len(splits)
    for (periodic, _, _), part in sorted(parts.items()):
        ensemble = fit_ensemble([members[i] for i in part], config, seed, device, periodic)
        if config.stages == 1:
            for m, i in enumerate(part):
                fitted[i] = EnsembleMember(ensemble, m), ensemble.reports[m], ensemble.throughput
            continue
        staged = add_stages(ensemble, [members[i] for i in part], [splits[i].t_train.double() for i in part], config,
                            seed, device, periodic, fit_ensemble, EnsembleMember)
        for m, (i, (predictor, stages, seconds)) in enumerate(zip(part, staged)):
            throughput = ensemble.throughput | {"train_seconds": ensemble.throughput["train_seconds"] + seconds,
                                                "stage_seconds": seconds}
            fitted[i] = predictor, ensemble.reports[m] | {"details": {"stages": stages}}, throughput
    return fitted

"""Training the shared `mlp`: sample once, encode per member, train all members in one batched pass.

A group is every (input encoding, target encoding) pair for one (target, seed): the members share the
training pool, the test set and the batch order, and differ in encoding and initialization.
"""

import math
import time
from dataclasses import dataclass, fields, replace

import torch

from bench.data import derive_seed, sample_data
from bench.encodings import build_input_encoder, build_target_encoder, uses_periodic
from bench.metrics import convergence, outcome, validation_error
from bench.model import EnsembleMLP, MLPConfig
from bench.polish import load_member, member_copy, polish_member
from bench.step import TrainingStep

MEMBER_SETTINGS = ("lr", "weight_decay", "frequency_scale")  # free per ensemble member; the rest are shared
LBFGS_SETTINGS = ("lbfgs_iters", "lbfgs_rows", "lbfgs_patience")  # after training; tuning trials never polish
RUN_ONLY_SETTINGS = (*LBFGS_SETTINGS, "rollback")  # tuning trials never polish nor roll back; off: not in the key
RUN_ONLY_OFF = {"lbfgs_iters": 0, "rollback": 0.0}  # the values that turn them off: left out of a record's key


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

    @classmethod
    def field_names(cls):
        return [f.name for f in fields(cls)]

    @property
    def mlp(self):
        return MLPConfig(self.width, self.depth, self.activation, frequency_scale=self.frequency_scale)


@dataclass
class Member:
    """One encoded member: its inputs (float32) and the fitted target encoder to invert its outputs."""

    encoding: str
    target_encoding: str
    Z_train: torch.Tensor
    t_train: torch.Tensor
    Z_val: torch.Tensor
    Z_test: torch.Tensor
    target_encoder: object


def encode_member(target, data, encoding, target_encoding, cache=None):
    """Fit both encoders on the training pool only, then encode the pool, the validation and the test set.

    `cache` (a dict) shares each fitted encoding between the members of one group: an input encoding is
    fitted once however many target encodings it is paired with, and likewise the other way round.
    """
    cache = {} if cache is None else cache
    if ("x", encoding) not in cache:
        encoder = build_input_encoder(encoding, target).fit(data.X_train)
        cache["x", encoding] = tuple(encoder.transform(X).float() for X in (data.X_train, data.X_val, data.X_test))
    if ("y", target_encoding) not in cache:
        target_encoder = build_target_encoder(target_encoding, target).fit(data.y_train[:, None])
        cache["y", target_encoding] = target_encoder.transform(data.y_train[:, None])[:, 0].float(), target_encoder
    (Z_train, Z_val, Z_test), (t_train, target_encoder) = cache["x", encoding], cache["y", target_encoding]
    return Member(encoding, target_encoding, Z_train, t_train, Z_val, Z_test, target_encoder)


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


def synchronize(device):
    if torch.device(device).type == "cuda":
        torch.cuda.synchronize(device)


@torch.no_grad()
def predict(model, Z, chunk=32_768):
    """Encoded predictions (M, n) for padded inputs (n, M, width), in chunks to bound memory."""
    return torch.cat([model(Z[i: i + chunk].transpose(0, 1)) for i in range(0, Z.shape[0], chunk)], dim=1)


def decode(members, encoded):
    """Predictions on y's scale (float64), one row per member; a non-finite output stays NaN."""
    encoded = torch.where(torch.isfinite(encoded), encoded, torch.nan).double()
    return [m.target_encoder.inverse_transform(encoded[i][:, None])[:, 0] for i, m in enumerate(members)]


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


def train_members(target, seed, members, data, config, device, periodic=False, hyper=None):
    """Train encoded members together; one result dict per member (status, metrics, curve, kept step, ...).

    `hyper` optionally gives each member its own {lr, weight_decay, frequency_scale} (tuning trials); the
    architecture, batch size and budget come from `config`. Every `eval_every` steps each member is scored on
    the validation set; its best weights are kept (then polished by L-BFGS when `config.lbfgs_iters`) and
    the test set is predicted once, with them.
    """
    hyper = hyper or [{}] * len(members)
    value = {key: [h.get(key, getattr(config, key)) for h in hyper] for key in ("lr", "weight_decay", "frequency_scale")}
    widths = [m.Z_train.shape[1] for m in members]
    seeds = [derive_seed(seed, "init", m.encoding, m.target_encoding) for m in members]
    model = EnsembleMLP(widths, seeds, replace(config.mlp, periodic=periodic), value["frequency_scale"]).to(device)
    Z_train = stack_padded([m.Z_train for m in members])
    t_train = torch.stack([m.t_train for m in members], dim=1)
    Z_val, y_val = stack_padded([m.Z_val for m in members]), data.y_val.cpu().numpy()
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
        y_hat = decode(members, predict(model, Z_val))
        errors = [validation_error(y.cpu().numpy(), y_val) for y in y_hat]
        for curve, error in zip(curves, errors):
            curve.append({"step": step, "seconds": round(train_seconds, 4), "samples": step * config.batch_size,
                          "median_rel_err": error})
        best.update(errors, step)
        if config.rollback:
            collapsed = roll_back(best, errors, config.rollback, optimizer.lr)
            rollbacks += collapsed
            train_step.first_bad_step.masked_fill_(collapsed.to(device), -1)  # back to finite weights: not diverged
        if config.patience and best.stale >= config.patience:
            break
    best.restore()
    first_bad_step = train_step.first_bad_step.tolist()
    lbfgs_seconds = polish(model, members, Z_train, t_train, Z_val, y_val, config, best, curves, step,
                           [bad >= 0 for bad in first_bad_step]) if config.lbfgs_iters else 0.0
    Z_test = stack_padded([m.Z_test for m in members])
    synchronize(device)
    tick = time.perf_counter()
    encoded_test = predict(model, Z_test)
    synchronize(device)
    infer_seconds = time.perf_counter() - tick
    y_hat = decode(members, encoded_test)
    y_test = data.y_test.cpu().numpy()
    scale = target.evaluate_scale(data.X_test)
    scale = None if scale is None else scale.cpu().numpy()
    throughput = {
        "device": device_name(device),
        "ensemble_size": len(members),
        "train_samples_per_s": step * config.batch_size / train_seconds,
        "ensemble_train_samples_per_s": len(members) * step * config.batch_size / train_seconds,
        "infer_samples_per_s": data.y_test.shape[0] / infer_seconds,
        "train_gflops": 3 * model.flops_per_sample() * len(members) * step * config.batch_size / train_seconds / 1e9,
        "train_seconds": train_seconds + lbfgs_seconds,  # samples/s and GFLOP/s above are Adam's alone
        **({"lbfgs_seconds": lbfgs_seconds} if config.lbfgs_iters else {}),
    }
    return [{"curve": curves[m], "convergence": convergence(curves[m]), "throughput": throughput,
             "rejected_share": data.rejected, "val_median_rel_err": float(best.error[m]), "kept_step": best.step[m],
             "steps_run": curves[m][-1]["step"], **({"rollbacks": int(rollbacks[m])} if config.rollback else {}),
             **outcome(y_hat[m].cpu().numpy(), y_test, scale, bad if bad >= 0 else None, step)}
            for m, bad in enumerate(first_bad_step)]


def polish(model, members, Z_train, t_train, Z_val, y_val, config, best, curves, steps, diverged):
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

        def score(net, m=m, member=member):
            return validation_error(decode([member], predict(net, Z_val[:, m: m + 1]))[0].cpu().numpy(), y_val)

        points, kept, kept_error = polish_member(single, x, y, score, config.lbfgs_iters, config.eval_every,
                                                 float(best.error[m]), config.lbfgs_patience)
        load_member(model, m, single)
        start = curves[m][-1]
        for iterations, seconds, evaluations, error in points:
            curves[m].append({"step": steps + iterations, "seconds": round(start["seconds"] + seconds, 4),
                              "samples": start["samples"] + evaluations * rows, "median_rel_err": error})
        if kept:
            best.step[m], best.error[m] = steps + kept, kept_error
        total += points[-1][1] if points else 0.0
    return total


def device_name(device):
    device = torch.device(device)
    if device.type == "cuda":
        return torch.cuda.get_device_name(device)
    return f"cpu ({torch.get_num_threads()} threads)"


def run_mlp(target, seed, cells, settings, device):
    """The `mlp` model's job: every cell trained as one ensemble. A cell is (encoding, target encoding), or
    (encoding, target encoding, its own values of MEMBER_SETTINGS) when its settings were tuned."""
    config = config_from(settings)
    data = sample_data(target, seed, config.train_size, config.val_size, config.test_size, device)
    hyper = [cell[2] if len(cell) > 2 else {} for cell in cells]
    results, members, slots, cache = [None] * len(cells), [], [], {}
    for slot, (encoding, target_encoding, *_) in enumerate(cells):
        try:
            members.append(encode_member(target, data, encoding, target_encoding, cache))
            slots.append(slot)
        except ValueError as error:
            results[slot] = {"status": "failed", "error": f"encoding failed: {error}", "metrics": None}
    for periodic in (False, True):  # periodic members have another first layer: a second ensemble
        part = [(slot, m) for slot, m in zip(slots, members) if uses_periodic(m.encoding) == periodic]
        if part:
            trained = train_members(target, seed, [m for _, m in part], data, config, device, periodic,
                                    [hyper[slot] for slot, _ in part])
            for (slot, _), result in zip(part, trained):
                results[slot] = result
    return results

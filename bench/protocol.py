"""The evaluation protocol, for every model: the harness draws, encodes and scores; models only learn and predict.

Per (target, seed, data conditions) the harness draws three independent sets (bench/data.py): the training
pool, the validation set and the test set. Per cell it fits the input and the target encoder on the training
rows only, gives the model the encoded training and validation rows (never a test row), and then predicts the
test set once, decodes it to y's scale and scores it in float64. Throughput is measured here too.

A model is an estimator: `fit(X, y, X_val, y_val)` on encoded rows, then `predict(X)` of encoded targets.
It is built by its registry entry's `make(settings, context)`; `context` (a Context) names its cell and
carries the validation scorer every choice is made on (`context.val_error`; `context.val_point` adds the
reported median relative error for learning curves), the fitted input encoder and the target (models that
draw fresh training batches from the formula, as the question's recipes do, need them).
After `fit` an estimator may leave a `report_` dict: `curve`, `details`, `kept_step`, `steps_run`, `rollbacks`,
`diverged_at_step`, `train_samples`, `train_seconds`, `device`. The harness scores every fitted
model on the validation set itself (`val_error`, the choice metric, and `val_median_rel_err`).
A batched model (the shared mlp) instead has `fit_many(splits, member settings, settings, seed, device)`,
which trains every cell of a job as one ensemble (of one or several targets) and returns (predictor, report,
throughput) per cell.
"""

import time
from dataclasses import dataclass

import numpy as np
import torch

from bench.data import sample_data, scale_on_test
from bench.device import device_name, synchronize
from bench.encodings import build_input_encoder, build_target_encoder
from bench.metrics import convergence, outcome, validation_error, validation_point
from bench.registry import MODELS

REPORTED = ("kept_step", "steps_run", "rollbacks", "details")  # report_ keys a record keeps as they are


def decode(target_encoder, t):
    """Encoded predictions back on y's scale: float64 numpy (a non-finite prediction stays non-finite)."""
    if torch.is_tensor(t):
        t = torch.where(torch.isfinite(t), t, torch.nan).double()
        return target_encoder.inverse_transform(t[:, None])[:, 0].cpu().numpy()
    return target_encoder.inverse_transform(np.asarray(t, np.float64).reshape(-1, 1))[:, 0]


@dataclass
class Split:
    """One cell's encoded training and validation rows (never the test set), and its fitted encoders.

    Arrays are float64 numpy for models that fit on the CPU and float64 tensors on the run's device for the
    Torch models (`Model.tensors`); `y_val` is the validation target as drawn (numpy float64)."""

    encoding: str
    target_encoding: str
    Z_train: object
    t_train: object
    Z_val: object
    t_val: object
    y_val: np.ndarray
    input_encoder: object
    target_encoder: object

    def decode(self, t):
        return decode(self.target_encoder, t)

    def val_error(self, t_val):
        """The error every choice is made on (bench.metrics.validation_error) of encoded validation predictions."""
        return validation_error(self.decode(t_val), self.y_val)

    def val_point(self, t_val):
        """A learning curve's validation scores (bench.metrics.validation_point) of encoded predictions."""
        return validation_point(self.decode(t_val), self.y_val)


@dataclass
class Context:
    """What a model may know of its cell besides its rows: names, seed, device, the validation scorer, the
    fitted input encoder and the target (its formula draws fresh batches for the question's recipes)."""

    target: object
    seed: int
    device: str
    split: Split

    def val_error(self, t_val):
        return self.split.val_error(t_val)

    def val_point(self, t_val):
        return self.split.val_point(t_val)


def draw(target, seed, settings, device, test=True):
    """The three sets of (target, seed) at the settings' sizes; without `test`, no test point is drawn."""
    return sample_data(target, seed, settings["train_size"], settings["val_size"],
                       settings["test_size"] if test else None, device)


def encode(target, data, encoding, target_encoding, tensors, cache):
    """(Split, encoded test inputs or None): both encoders fitted on the training rows only. `cache` shares a
    fitted encoding between the cells of one job."""
    arrays = (data.X_train, data.y_train, data.X_val, data.y_val, data.X_test)
    X_train, y_train, X_val, y_val, X_test = arrays if tensors else (
        None if a is None else a.cpu().numpy() for a in arrays)
    if ("x", encoding) not in cache:
        encoder = build_input_encoder(encoding, target).fit(X_train)
        cache["x", encoding] = encoder, encoder.transform(X_train), encoder.transform(X_val), (
            None if X_test is None else encoder.transform(X_test))
    if ("y", target_encoding) not in cache:
        target_encoder = build_target_encoder(target_encoding, target).fit(y_train[:, None])
        cache["y", target_encoding] = (target_encoder, target_encoder.transform(y_train[:, None])[:, 0],
                                       target_encoder.transform(y_val[:, None])[:, 0])
    input_encoder, Z_train, Z_val, Z_test = cache["x", encoding]
    target_encoder, t_train, t_val = cache["y", target_encoding]
    return Split(encoding, target_encoding, Z_train, t_train, Z_val, t_val, data.y_val.cpu().numpy(), input_encoder,
                 target_encoder), Z_test


def encode_cells(model, cells, draws):
    """Each cell's (Split, encoded test inputs), or a failed result where an encoder cannot fit its data.
    `cells` are (target, encoding, target encoding, ...); `draws` is draws_of's."""
    caches, encoded = {}, []
    for target, encoding, target_encoding, *_ in cells:
        data = draws[target_key(target)]
        if isinstance(data, str):
            encoded.append({"status": "failed", "error": data, "metrics": None})
            continue
        try:
            encoded.append(encode(target, data, encoding, target_encoding, MODELS[model].tensors,
                                  caches.setdefault(target_key(target), {})))
        except ValueError as error:
            encoded.append({"status": "failed", "error": f"encoding failed: {error}", "metrics": None})
    return encoded


def fit_cells(model, seed, cells, settings, device, splits):
    """Fit every encoded cell; returns (predictor, report, throughput) per split, None where it failed to encode.

    `predictor(Z)` gives encoded predictions; a batched model fits its cells as one ensemble, whatever their
    targets (each cell may bring its own member settings, `(target, encoding, target encoding, {lr: ...})`)."""
    spec, fitted = MODELS[model], [None] * len(splits)
    ready = [i for i, s in enumerate(splits) if isinstance(s, Split)]
    if spec.batched:
        hyper = [cells[i][3] if len(cells[i]) > 3 else {} for i in ready]
        for i, (predict, report, throughput) in zip(ready, spec.fit_many([splits[i] for i in ready], hyper, settings,
                                                                          seed, device)):
            fitted[i] = predict, report, throughput
        return fitted
    for i in ready:
        split = splits[i]
        estimator = spec.make(settings, Context(cells[i][0], seed, device, split))
        synchronize(device)
        tick = time.perf_counter()
        estimator.fit(split.Z_train, split.t_train, split.Z_val, split.t_val)
        synchronize(device)
        seconds = time.perf_counter() - tick
        report = getattr(estimator, "report_", {})
        train_seconds = report.get("train_seconds", seconds)
        throughput = {"device": report.get("device", device_name(device)), "ensemble_size": 1,
                      "train_samples_per_s": report.get("train_samples", len(split.t_train)) / train_seconds,
                      "train_seconds": train_seconds}
        fitted[i] = estimator.predict, report, throughput
    return fitted


def target_key(target):
    """What tells a job's targets apart: the name and the data conditions it is drawn under."""
    return target.name, target.conditions


def draws_of(cells, seed, settings, device, test=True):
    """Each distinct target's draws, by target_key; a target that cannot be drawn gets the message why (its cells
    fail, the job's other targets go on)."""
    targets = {target_key(cell[0]): cell[0] for cell in cells}
    draws = {}
    for key, target in targets.items():
        try:
            draws[key] = draw(target, seed, settings, device, test)
        except Exception as error:  # e.g. a domain that rejects too many draws: fail its runs only
            draws[key] = f"drawing {target.name} failed: {type(error).__name__}: {error}"
    return draws


def evaluate(model, target, seed, cells, settings, device):
    """A job's runs on one target: one result dict per (encoding, target encoding[, member settings]) cell."""
    return evaluate_many(model, seed, [(target, *cell) for cell in cells], settings, device)


def evaluate_many(model, seed, cells, settings, device):
    """A job's runs, one result dict per (target, encoding, target encoding[, member settings]) cell (status,
    metrics on the test set, curve, throughput, ...). A batched model trains the cells of every target as one
    ensemble; each cell is scored on its own target's test set. A run's status comes from its training and its
    validation error only (bench.metrics.outcome): its test predictions score it, they never gate a choice."""
    draws = draws_of(cells, seed, settings, device)
    encoded = encode_cells(model, cells, draws)
    splits = [e[0] if isinstance(e, tuple) else e for e in encoded]
    results = []
    for cell, split, e, fitted in zip(cells, splits, encoded, fit_cells(model, seed, cells, settings, device, splits)):
        if fitted is None:
            results.append(e)
            continue
        predict, report, throughput = fitted
        data, Z_test = draws[target_key(cell[0])], e[1]
        y_test, scale = data.y_test.cpu().numpy(), scale_on_test(cell[0], data)
        synchronize(device)
        tick = time.perf_counter()
        encoded_test = predict(Z_test)
        synchronize(device)
        throughput = throughput | {"infer_samples_per_s": len(y_test) / (time.perf_counter() - tick)}
        curve = report.get("curve", [])
        validation = split.val_point(predict(split.Z_val))
        results.append({"curve": curve, "convergence": convergence(curve), "throughput": throughput,
                        "rejected_share": data.rejected, "val_error": validation["val_error"],
                        "val_median_rel_err": validation["median_rel_err"],
                        **{k: report[k] for k in REPORTED if k in report},
                        **outcome(split.decode(encoded_test), y_test, scale, report.get("diverged_at_step"),
                                  validation["val_error"])})
    return results


def validation_scores(model, target, seed, cells, settings, device):
    """Tuning trials: (validation error, kept step) per cell, from training and validation draws only (no test
    point is drawn); an error that is not finite, or a failed fit, scores inf."""
    cells = [(target, *cell) for cell in cells]
    draws = draws_of(cells, seed, settings, device, test=False)
    splits = [e[0] if isinstance(e, tuple) else e for e in encode_cells(model, cells, draws)]
    scores = []
    for split, fitted in zip(splits, fit_cells(model, seed, cells, settings, device, splits)):
        if fitted is None:
            scores.append((float("inf"), None))
            continue
        predict, report, _ = fitted
        error = split.val_error(predict(split.Z_val))
        diverged = report.get("diverged_at_step") is not None
        scores.append((float("inf") if diverged or not error < float("inf") else error, report.get("kept_step")))
    return scores

"""What the models with their own training loops share (tabm, realmlp, boosting libraries): one draw of the
data per job, each cell's encoders fitted on the training split only, and the result every model returns.

A model supplies `fit(split, settings, seed, device) -> Fitted`; its early stopping may read `split`'s
validation data, never the test set, which only `run_cells` sees, once, for the reported metrics.
"""

import time
from dataclasses import dataclass, field

import numpy as np
from bench.encodings import build_input_encoder, build_target_encoder

from bench.data import sample_data, scale_on_test
from bench.metrics import convergence, outcome, validation_error
from bench.train import device_name

SIZES = ("train_size", "val_size", "test_size")  # settings every model has; the rest are the model's own


@dataclass
class Split:
    """One cell's data after its encoders (float64 numpy): inputs Z, encoded targets t, and y_val as drawn."""

    Z_train: np.ndarray
    t_train: np.ndarray
    Z_val: np.ndarray
    t_val: np.ndarray
    y_val: np.ndarray
    target_encoder: object

    def decode(self, t):
        """Encoded predictions back on y's scale, float64."""
        return self.target_encoder.inverse_transform(np.asarray(t, np.float64).reshape(-1, 1))[:, 0]

    def validation_error(self, t_val):
        """The median relative error on validation of encoded validation predictions: what choices are made on."""
        return validation_error(self.decode(t_val), self.y_val)


@dataclass
class Fitted:
    """A fitted model: `estimator.predict(Z)` gives encoded predictions; curve on validation; facts for the record."""

    estimator: object
    curve: list = field(default_factory=list)
    details: dict = field(default_factory=dict)


def encode(target, X_train, y_train, X_val, y_val, encoding, target_encoding):
    """A Split for one cell, both encoders fitted on the training split only, and the fitted input encoder."""
    input_encoder = build_input_encoder(encoding, target).fit(X_train)
    target_encoder = build_target_encoder(target_encoding, target).fit(y_train[:, None])
    split = Split(input_encoder.transform(X_train), target_encoder.transform(y_train[:, None])[:, 0],
                  input_encoder.transform(X_val), target_encoder.transform(y_val[:, None])[:, 0], y_val,
                  target_encoder)
    return split, input_encoder


def model_settings(settings):
    """The settings that belong to the model itself (its hyperparameters and budget), without the data sizes."""
    return {key: value for key, value in settings.items() if key not in SIZES}


def run_cells(fit, target, seed, cells, settings, device, fit_device=None):
    """Fit and score each (encoding, target encoding) cell; `fit_device` is where the model trains, if not
    `device` (the boosting libraries train on the CPU whatever device the data were drawn on)."""
    data = sample_data(target, seed, settings["train_size"], settings["val_size"], settings["test_size"], device)
    scale = scale_on_test(target, data)
    X_train, y_train, X_val, y_val, X_test, y_test = data.numpy()
    fit_device = fit_device or device
    results = []
    for encoding, target_encoding in cells:
        split, input_encoder = encode(target, X_train, y_train, X_val, y_val, encoding, target_encoding)
        tick = time.perf_counter()
        fitted = fit(split, settings, seed, fit_device)
        fit_seconds = time.perf_counter() - tick
        Z_test = input_encoder.transform(X_test)
        tick = time.perf_counter()
        prediction = split.decode(fitted.estimator.predict(Z_test))
        predict_seconds = time.perf_counter() - tick
        throughput = {"device": device_name(fit_device), "ensemble_size": 1,
                      "train_samples_per_s": len(y_train) / fit_seconds, "train_seconds": fit_seconds,
                      "infer_samples_per_s": len(y_test) / predict_seconds}
        results.append({"curve": fitted.curve, "convergence": convergence(fitted.curve), "throughput": throughput,
                        "rejected_share": data.rejected, "details": fitted.details,
                        "val_median_rel_err": split.validation_error(fitted.estimator.predict(split.Z_val)),
                        **outcome(prediction, y_test, scale)})
    return results

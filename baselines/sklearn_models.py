"""scikit-learn baselines: Pipeline(input encoder, regressor) inside TransformedTargetRegressor(target encoder).

The encoder objects are the very ones the Torch path uses (they accept numpy as well as tensors).
Each baseline has a default training-set size that keeps one fit under about a minute on 2 CPU cores.
"""

import time
import warnings
from collections.abc import Callable
from dataclasses import dataclass

import numpy as np
from bench.encodings import build_input_encoder, build_target_encoder
from sklearn.compose import TransformedTargetRegressor
from sklearn.ensemble import HistGradientBoostingRegressor, RandomForestRegressor
from sklearn.exceptions import ConvergenceWarning
from sklearn.linear_model import LinearRegression, RidgeCV
from sklearn.neighbors import KNeighborsRegressor
from sklearn.neural_network import MLPRegressor
from sklearn.pipeline import Pipeline

from bench.data import derive_seed, sample_data
from bench.metrics import convergence, outcome, validation_error


@dataclass(frozen=True)
class Baseline:
    build: Callable  # seed -> unfitted regressor
    train_size: int
    description: str


BASELINES = {
    "linear": Baseline(lambda seed: LinearRegression(), 200_000, "ordinary least squares"),
    "ridge": Baseline(lambda seed: RidgeCV(alphas=np.logspace(-6, 3, 10)), 200_000,
                      "ridge regression, alpha by efficient leave-one-out"),
    "hgb": Baseline(lambda seed: HistGradientBoostingRegressor(max_iter=300, random_state=seed), 200_000,
                    "histogram gradient boosting, 300 iterations"),
    "rf": Baseline(lambda seed: RandomForestRegressor(n_estimators=100, min_samples_leaf=2, n_jobs=-1,
                                                      random_state=seed), 20_000, "random forest, 100 trees"),
    "knn": Baseline(lambda seed: KNeighborsRegressor(n_neighbors=10, weights="distance"), 50_000,
                    "10 nearest neighbours, distance-weighted"),
    "sklearn-mlp": Baseline(lambda seed: MLPRegressor(hidden_layer_sizes=(64, 64, 64), learning_rate_init=1e-3, max_iter=60,
                                                     early_stopping=True, random_state=seed), 50_000,
                            "MLPRegressor 3x64, Adam, early stopping"),
}


def make_regressor(model, encoding, target_encoding, target, seed):
    """The full baseline pipeline for one cell, unfitted (clone()-able)."""
    pipeline = Pipeline([("encode", build_input_encoder(encoding, target)),
                         ("model", BASELINES[model].build(seed))])
    return TransformedTargetRegressor(regressor=pipeline, transformer=build_target_encoder(target_encoding, target),
                                      check_inverse=False)


def run_baseline(model, target, seed, cells, settings, device):
    """Fit and score each (encoding, target encoding) cell. Data are drawn on `device`, like every model's,
    so all models of a sweep share the test set; scikit-learn then fits on the CPU."""
    data = sample_data(target, seed, settings["train_size"], settings["val_size"], settings["test_size"], device)
    scale = target.evaluate_scale(data.X_test)
    scale = None if scale is None else scale.cpu().numpy()
    X_train, y_train, X_val, y_val, X_test, y_test = (t.cpu().numpy() for t in (
        data.X_train, data.y_train, data.X_val, data.y_val, data.X_test, data.y_test))
    results = []
    for encoding, target_encoding in cells:
        regressor = make_regressor(model, encoding, target_encoding, target, derive_seed(seed, "init", model))
        tick = time.perf_counter()
        with warnings.catch_warnings():  # MLPRegressor stops at max_iter by design: its budget, not a fault
            warnings.simplefilter("ignore", ConvergenceWarning)
            regressor.fit(X_train, y_train)
        fit_seconds = time.perf_counter() - tick
        tick = time.perf_counter()
        prediction = regressor.predict(X_test)
        predict_seconds = time.perf_counter() - tick
        throughput = {"device": "cpu (scikit-learn)", "ensemble_size": 1,
                      "train_samples_per_s": len(y_train) / fit_seconds, "train_seconds": fit_seconds,
                      "infer_samples_per_s": len(y_test) / predict_seconds}
        results.append({"curve": [], "convergence": convergence([]), "throughput": throughput,
                        "rejected_share": data.rejected, "val_median_rel_err": validation_error(regressor.predict(X_val), y_val),
                        **outcome(prediction, y_test, scale)})
    return results

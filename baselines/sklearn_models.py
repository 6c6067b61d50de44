"""scikit-learn baselines: Pipeline(input encoder, regressor) inside TransformedTargetRegressor(target encoder).

The encoder objects are the very ones the Torch path uses (they accept numpy as well as tensors).
Each baseline has a default training-set size that keeps one fit under about a minute on 2 CPU cores, and
the tunable ones their key settings and the ranges a tuning run searches.
"""

import time
import warnings
from collections.abc import Callable
from dataclasses import dataclass, field

import numpy as np
from bench.encodings import build_input_encoder, build_target_encoder
from sklearn.compose import TransformedTargetRegressor
from sklearn.ensemble import HistGradientBoostingRegressor, RandomForestRegressor
from sklearn.exceptions import ConvergenceWarning
from sklearn.linear_model import LinearRegression, RidgeCV
from sklearn.neighbors import KNeighborsRegressor
from sklearn.neural_network import MLPRegressor
from sklearn.pipeline import Pipeline

from bench.data import derive_seed, sample_data, scale_on_test
from bench.metrics import convergence, outcome, validation_error
from bench.space import IntRange, LogUniform


@dataclass(frozen=True)
class Baseline:
    build: Callable  # (seed, **settings) -> unfitted regressor
    train_size: int
    description: str
    defaults: dict = field(default_factory=dict)  # its key settings, recorded in every run's config
    space: dict | None = None  # the ranges a tuning run searches (bench.space)


BASELINES = {
    "linear": Baseline(lambda seed: LinearRegression(), 200_000, "ordinary least squares"),
    "ridge": Baseline(lambda seed: RidgeCV(alphas=np.logspace(-6, 3, 10)), 200_000,
                      "ridge regression, alpha by efficient leave-one-out"),
    "hgb": Baseline(lambda seed, learning_rate, max_leaf_nodes, min_samples_leaf: HistGradientBoostingRegressor(
        max_iter=300, learning_rate=learning_rate, max_leaf_nodes=max_leaf_nodes, min_samples_leaf=min_samples_leaf,
        random_state=seed), 200_000, "histogram gradient boosting, 300 iterations",
        {"learning_rate": 0.1, "max_leaf_nodes": 31, "min_samples_leaf": 20},
        {"learning_rate": LogUniform(0.01, 0.5), "max_leaf_nodes": IntRange(8, 128),
         "min_samples_leaf": IntRange(2, 64)}),
    "rf": Baseline(lambda seed: RandomForestRegressor(n_estimators=100, min_samples_leaf=2, n_jobs=-1,
                                                      random_state=seed), 20_000, "random forest, 100 trees"),
    "knn": Baseline(lambda seed, n_neighbors: KNeighborsRegressor(n_neighbors=n_neighbors, weights="distance"), 50_000,
                    "k nearest neighbours, distance-weighted", {"n_neighbors": 10}, {"n_neighbors": IntRange(1, 50)}),
    "sklearn-mlp": Baseline(lambda seed: MLPRegressor(hidden_layer_sizes=(64, 64, 64), learning_rate_init=1e-3, max_iter=60,
                                                     early_stopping=True, random_state=seed), 50_000,
                            "MLPRegressor 3x64, Adam, early stopping"),
}


def make_regressor(model, encoding, target_encoding, target, seed, settings=None):
    """The full baseline pipeline for one cell, unfitted (clone()-able); `settings` holds its key settings."""
    baseline = BASELINES[model]
    params = {k: (settings or {}).get(k, v) for k, v in baseline.defaults.items()}
    pipeline = Pipeline([("encode", build_input_encoder(encoding, target)), ("model", baseline.build(seed, **params))])
    return TransformedTargetRegressor(regressor=pipeline, transformer=build_target_encoder(target_encoding, target),
                                      check_inverse=False)


def run_baseline(model, target, seed, cells, settings, device):
    """Fit and score each (encoding, target encoding) cell. Data are drawn on `device`, like every model's,
    so all models of a sweep share the test set; scikit-learn then fits on the CPU."""
    data = sample_data(target, seed, settings["train_size"], settings["val_size"], settings["test_size"], device)
    scale = scale_on_test(target, data)
    X_train, y_train, X_val, y_val, X_test, y_test = data.numpy()
    results = []
    for encoding, target_encoding in cells:
        regressor = make_regressor(model, encoding, target_encoding, target, derive_seed(seed, "init", model), settings)
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

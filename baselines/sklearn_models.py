"""scikit-learn baselines, fitted on the cell's encoded rows (the harness, bench/protocol.py, encodes them).

Each baseline has a default training-set size that keeps one fit under about a minute on 2 CPU cores, and
the tunable ones their key settings and the ranges a tuning run searches.
"""

import warnings
from collections.abc import Callable
from dataclasses import dataclass, field

import numpy as np
from sklearn.ensemble import HistGradientBoostingRegressor, RandomForestRegressor
from sklearn.exceptions import ConvergenceWarning
from sklearn.linear_model import LinearRegression, RidgeCV
from sklearn.neighbors import KNeighborsRegressor
from sklearn.neural_network import MLPRegressor

from bench.data import derive_seed
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


class SklearnModel:
    """A scikit-learn baseline as the protocol's estimator: fits on the encoded training rows (it has no use for
    validation rows: none of these stops early on them)."""

    def __init__(self, regressor):
        self.regressor = regressor

    def fit(self, X, y, X_val=None, y_val=None):
        with warnings.catch_warnings():  # MLPRegressor stops at max_iter by design: its budget, not a fault
            warnings.simplefilter("ignore", ConvergenceWarning)
            self.regressor.fit(X, y)
        self.report_ = {"device": "cpu (scikit-learn)"}
        return self

    def predict(self, X):
        return self.regressor.predict(X)


def make_baseline(model, settings, context):
    """Baseline `model` with its key settings, seeded by the run's seed (seed 0 without a context)."""
    baseline = BASELINES[model]
    params = {k: settings.get(k, v) for k, v in baseline.defaults.items()}
    return SklearnModel(baseline.build(derive_seed(0 if context is None else context.seed, "init", model), **params))

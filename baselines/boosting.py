"""Gradient-boosting libraries: XGBoost, LightGBM, CatBoost, through their scikit-learn APIs.

Each fits on our encoded training split and stops early on our validation split (its own loss on the encoded
target). Trees split on thresholds, so a monotone input encoding (log, quantile, ...) changes nothing but
the bins; the target encoding changes what they fit. The libraries are imported when a model runs: they
come with the `sota` extra, and the registry must load without them.
"""

from dataclasses import dataclass
from math import exp

import torch

from bench.data import derive_seed, own_settings
from bench.device import device_name


@dataclass(frozen=True)
class Booster:
    module: str  # what it imports (the registry checks that it is installed)
    defaults: dict  # its key hyperparameters (the library's defaults) and our budget
    space: object  # (optuna trial) -> overrides of `defaults`
    fit: object  # (params, threads, seed, X, y, X_val, y_val) -> (fitted library model, details)
    description: str


def _zero_or_log(trial, name, low, high):
    """0, or a log-uniform draw in [low, high] (the `hp.choice([0, hp.loguniform(...)])` of the benchmarks)."""
    return trial.suggest_float(name, low, high, log=True) if trial.suggest_categorical(f"{name}_on", [False, True]) else 0.0


def _xgboost_space(trial):
    """XGBoost's space in the CatBoost quality benchmarks (catboost/benchmarks, as pytabkit ships it)."""
    return {"learning_rate": trial.suggest_float("learning_rate", exp(-7), 1.0, log=True),
            "max_depth": trial.suggest_int("max_depth", 2, 10),
            "subsample": trial.suggest_float("subsample", 0.5, 1.0),
            "colsample_bytree": trial.suggest_float("colsample_bytree", 0.5, 1.0),
            "colsample_bylevel": trial.suggest_float("colsample_bylevel", 0.5, 1.0),
            "min_child_weight": trial.suggest_float("min_child_weight", exp(-16), exp(5), log=True),
            "reg_alpha": _zero_or_log(trial, "reg_alpha", exp(-16), exp(2)),
            "reg_lambda": _zero_or_log(trial, "reg_lambda", exp(-16), exp(2)),
            "gamma": _zero_or_log(trial, "gamma", exp(-16), exp(2))}


def _lightgbm_space(trial):
    """LightGBM's space in the CatBoost quality benchmarks (catboost/benchmarks, as pytabkit ships it)."""
    return {"learning_rate": trial.suggest_float("learning_rate", exp(-7), 1.0, log=True),
            "num_leaves": trial.suggest_int("num_leaves", 2, round(exp(7)), log=True),
            "colsample_bytree": trial.suggest_float("colsample_bytree", 0.5, 1.0),  # feature_fraction
            "subsample": trial.suggest_float("subsample", 0.5, 1.0),  # bagging_fraction
            "subsample_freq": 1,
            "min_child_samples": trial.suggest_int("min_child_samples", 1, round(exp(6)), log=True),
            "min_child_weight": trial.suggest_float("min_child_weight", exp(-16), exp(5), log=True),
            "reg_alpha": _zero_or_log(trial, "reg_alpha", exp(-16), exp(2)),
            "reg_lambda": _zero_or_log(trial, "reg_lambda", exp(-16), exp(2))}


def _catboost_space(trial):
    """CatBoost's space in the CatBoost quality benchmarks (depth 6, as there)."""
    return {"learning_rate": trial.suggest_float("learning_rate", exp(-5), 1.0, log=True),
            "bootstrap_type": "Bayesian",  # the benchmarks' default then; bagging_temperature needs it
            "random_strength": trial.suggest_categorical("random_strength", [1, 20]),
            "l2_leaf_reg": trial.suggest_float("l2_leaf_reg", 1.0, 10.0, log=True),
            "bagging_temperature": trial.suggest_float("bagging_temperature", 0.0, 1.0)}


def _fit_xgboost(params, threads, seed, X, y, X_val, y_val):
    from xgboost import XGBRegressor
    model = XGBRegressor(**params, tree_method="hist", n_jobs=threads, random_state=seed)
    model.fit(X, y, eval_set=[(X_val, y_val)], verbose=False)
    return model, {"best_iteration": int(model.best_iteration)}


def _fit_lightgbm(params, threads, seed, X, y, X_val, y_val):
    from lightgbm import LGBMRegressor, early_stopping
    rounds = params.pop("early_stopping_rounds")
    model = LGBMRegressor(**params, n_jobs=threads, random_state=seed, verbose=-1)
    model.fit(X, y, eval_X=X_val, eval_y=y_val, callbacks=[early_stopping(rounds, verbose=False)])
    return model, {"best_iteration": int(model.best_iteration_)}


def _fit_catboost(params, threads, seed, X, y, X_val, y_val):
    from catboost import CatBoostRegressor
    model = CatBoostRegressor(**params, thread_count=threads, random_seed=seed, verbose=False,
                              allow_writing_files=False)
    model.fit(X, y, eval_set=(X_val, y_val), use_best_model=True)
    return model, {"best_iteration": int(model.get_best_iteration()),
                   "learning_rate": float(model.get_all_params()["learning_rate"])}


BOOSTERS = {
    "xgboost": Booster("xgboost", {"n_estimators": 1000, "early_stopping_rounds": 50, "learning_rate": 0.3,
                                   "max_depth": 6}, _xgboost_space, _fit_xgboost,
                       "XGBoost (hist), its defaults, up to 1,000 trees, early stopping on validation"),
    "lightgbm": Booster("lightgbm", {"n_estimators": 1000, "early_stopping_rounds": 50, "learning_rate": 0.1,
                                     "num_leaves": 31}, _lightgbm_space, _fit_lightgbm,
                        "LightGBM, its defaults, up to 1,000 trees, early stopping on validation"),
    "catboost": Booster("catboost", {"n_estimators": 1000, "early_stopping_rounds": 50, "depth": 6},
                        _catboost_space, _fit_catboost,
                        "CatBoost, its defaults (learning rate chosen by CatBoost), up to 1,000 trees, early "
                        "stopping on validation"),
}


def booster_settings(name, config, train_size):
    return {"train_size": train_size or 100_000, "val_size": config.val_size, "test_size": config.test_size,
            **BOOSTERS[name].defaults}


class BoostedTrees:
    """One boosting library as the protocol's estimator: it stops early on the validation rows (its own loss on
    the encoded target) and fits on the CPU, with the sweep's thread budget for this job."""

    def __init__(self, name, settings, seed):
        self.name, self.settings, self.seed = name, settings, seed

    def fit(self, X, y, X_val, y_val):
        threads = torch.get_num_threads()
        params = own_settings(self.settings)
        self.model_, details = BOOSTERS[self.name].fit(params, threads, derive_seed(self.seed, "init", self.name),
                                                      X, y, X_val, y_val)
        self.report_ = {"details": details | {"threads": threads}, "device": device_name("cpu")}
        return self

    def predict(self, X):
        return self.model_.predict(X)

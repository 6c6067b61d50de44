"""RealMLP (Holzmüller et al., NeurIPS 2024) through pytabkit's `RealMLP_TD_Regressor`, its tuned defaults.

It brings its own preprocessing (robust scaling, smooth clipping, PBLD numerical embeddings) and
standardizes y: on raw inputs and target `none` it runs as shipped; with our encodings, ours come first.
It receives our validation split (its `X_val`, `y_val`) and keeps its best epoch on it. pytabkit comes with
the `sota` extra and is imported when the model runs, so the registry loads without it.
"""

import torch

from bench.data import derive_seed

# The key values of pytabkit's RealMLP-TD regression defaults (DefaultParams.RealMLP_TD_REG), kept in the
# record's config, and the epoch budget: 32 instead of its 256 keeps one fit on 20k rows near a minute on
# 2 CPU cores (its learning-rate schedule spans whatever n_epochs is).
DEFAULTS = {"n_epochs": 32, "batch_size": 256, "hidden_sizes": [256, 256, 256], "lr": 0.2, "p_drop": 0.15,
            "wd": 2e-2, "act": "mish", "num_emb_type": "pbld", "plr_sigma": 0.1, "add_front_scale": True}


def settings(config, train_size):
    return {"train_size": train_size or 20_000, "val_size": config.val_size, "test_size": config.test_size,
            **DEFAULTS}


def space(trial):
    """RealMLP's HPO space in its paper (pytabkit's RealMLPParamSampler, space 'default'); optuna draws the
    categories uniformly, where the paper weights some of them."""
    return {"num_emb_type": trial.suggest_categorical("num_emb_type", ["none", "pbld", "pl", "plr"]),
            "add_front_scale": trial.suggest_categorical("add_front_scale", [True, False]),
            "lr": trial.suggest_float("lr", 2e-2, 3e-1, log=True),
            "p_drop": trial.suggest_categorical("p_drop", [0.0, 0.15, 0.3]),
            "wd": trial.suggest_categorical("wd", [0.0, 2e-2]),
            "plr_sigma": trial.suggest_float("plr_sigma", 0.05, 0.5, log=True),
            "act": trial.suggest_categorical("act", ["relu", "selu", "mish"]),
            "hidden_sizes": [[256] * 3, [64] * 5, [512]][trial.suggest_categorical("hidden_sizes", [0, 1, 2])]}


class RealMLP:
    """pytabkit's RealMLP-TD as the protocol's estimator: it keeps its best epoch on the validation rows."""

    def __init__(self, settings, seed, device):
        self.settings, self.seed, self.device = settings, seed, device

    def fit(self, X, y, X_val, y_val):
        from pytabkit import RealMLP_TD_Regressor
        own = {k: self.settings[k] for k in DEFAULTS}
        self.model_ = RealMLP_TD_Regressor(device=self.device, random_state=derive_seed(self.seed, "init", "realmlp"),
                                           n_threads=torch.get_num_threads(), verbosity=0, **own)
        self.model_.fit(X, y, X_val=X_val, y_val=y_val)
        self.report_ = {"details": {"fit_params": getattr(self.model_, "fit_params_", None)}}
        return self

    def predict(self, X):
        return self.model_.predict(X)


def make_realmlp(settings, context):
    return RealMLP(settings, context.seed, context.device)

"""RealMLP (Holzmüller et al., NeurIPS 2024) through pytabkit's `RealMLP_TD_Regressor`, its tuned defaults.

It brings its own preprocessing (robust scaling, smooth clipping, PBLD numerical embeddings) and
standardizes y: on raw inputs and target `none` it runs as shipped; with our encodings, ours come first.
It receives our validation split (its `X_val`, `y_val`) and keeps its best epoch on it. pytabkit comes with
the `sota` extra and is imported when the model runs, so the registry loads without it.
"""

import torch

from baselines.encoded import Fitted, model_settings, run_cells
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


def _fit(split, settings, seed, device):
    from pytabkit import RealMLP_TD_Regressor
    model = RealMLP_TD_Regressor(device=device, random_state=derive_seed(seed, "init", "realmlp"),
                                 n_threads=torch.get_num_threads(), verbosity=0, **model_settings(settings))
    model.fit(split.Z_train, split.t_train, X_val=split.Z_val, y_val=split.t_val)
    return Fitted(model, details={"fit_params": getattr(model, "fit_params_", None)})


def run_realmlp(target, seed, cells, settings, device):
    """Fit and score each cell (on CUDA when `device` says so)."""
    return run_cells(_fit, target, seed, cells, settings, device)

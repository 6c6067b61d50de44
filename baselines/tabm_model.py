"""TabM (Gorishniy et al., ICLR 2025) from the `tabm` package: one BatchEnsemble MLP that holds k = 32 MLPs.

Trained as in its authors' example: AdamW, every member sees the same batch, the loss is the mean of the
members' MSE losses on the encoded target, the prediction is the members' mean; evaluated on validation
every `eval_every` steps, the best state is kept and training stops after `patience` evaluations without
improvement. `tabm` takes our encodings; `tabm-shipped` is the example's own pipeline on raw inputs:
QuantileTransformer(normal) with its noise, then piecewise-linear embeddings (48 bins, version B).
"""

import copy
import time

import numpy as np
import rtdl_num_embeddings
import torch
from sklearn.preprocessing import QuantileTransformer
from tabm import TabM

from bench.data import derive_seed

# The authors' defaults; the budget (300 batches of 256, about 4 epochs of 20k rows) keeps one fit near a
# minute on 2 CPU cores, since every sample passes through k = 32 members. On a GPU, raise `steps`.
DEFAULTS = {"k": 32, "n_blocks": 3, "d_block": 512, "dropout": 0.1, "lr": 2e-3, "weight_decay": 3e-4,
            "batch_size": 256, "steps": 300, "eval_every": 100, "patience": 16}
SHIPPED = DEFAULTS | {"n_blocks": 2, "n_bins": 48, "d_embedding": 16}  # the example's TabM with embeddings


def settings(shipped, config, train_size):
    return {"train_size": train_size or 20_000, "val_size": config.val_size, "test_size": config.test_size,
            **(SHIPPED if shipped else DEFAULTS)}


def space(shipped, trial):
    """TabM's tuning space in its paper (k fixed at 32); with embeddings, their bins and width as well."""
    overrides = {"n_blocks": trial.suggest_int("n_blocks", 1, 4 if shipped else 5),
                 "d_block": trial.suggest_int("d_block", 64, 1024, step=16),
                 "dropout": trial.suggest_float("dropout", 0.0, 0.5) if trial.suggest_categorical(
                     "use_dropout", [False, True]) else 0.0,
                 "lr": trial.suggest_float("lr", 1e-4, 5e-3, log=True),
                 "weight_decay": trial.suggest_float("weight_decay", 1e-4, 1e-1, log=True) if trial.suggest_categorical(
                     "use_weight_decay", [False, True]) else 0.0}
    if shipped:
        overrides |= {"n_bins": trial.suggest_int("n_bins", 2, 128),
                      "d_embedding": trial.suggest_int("d_embedding", 8, 32, step=4)}
    return overrides


class TabMRegressor:
    """TabM on encoded inputs; with `n_bins`, the authors' quantile preprocessing and PLE embeddings first.
    `val_point` scores encoded validation predictions (the protocol's scores): the best state is kept on their
    `val_error`."""

    def __init__(self, settings, seed, device, val_point):
        self.settings, self.seed, self.device, self.val_point = settings, seed, device, val_point

    def _tensor(self, Z):
        if self.quantile_ is not None:
            Z = self.quantile_.transform(Z)
        return torch.as_tensor(Z, dtype=torch.float32, device=self.device)

    def fit(self, X, y, X_val, y_val):
        s = self.settings
        torch.manual_seed(self.seed)
        self.quantile_ = None
        embeddings = None
        if s.get("n_bins"):
            noise = np.random.default_rng(0).normal(0.0, 1e-5, X.shape)
            self.quantile_ = QuantileTransformer(n_quantiles=max(min(len(X) // 30, 1000), 10),
                                                 output_distribution="normal", subsample=10**9)
            self.quantile_.fit(X + noise)
        Z_val, X = X_val, self._tensor(X)
        if s.get("n_bins"):
            bins = rtdl_num_embeddings.compute_bins(X, n_bins=s["n_bins"])
            embeddings = rtdl_num_embeddings.PiecewiseLinearEmbeddings(bins, s["d_embedding"], activation=False,
                                                                       version="B")
        self.model_ = TabM.make(n_num_features=X.shape[1], d_out=1, num_embeddings=embeddings, k=s["k"],
                                n_blocks=s["n_blocks"], d_block=s["d_block"], dropout=s["dropout"]).to(self.device)
        return self._train(X, torch.as_tensor(y, dtype=torch.float32, device=self.device), Z_val)

    def _train(self, X, t, Z_val):
        s = self.settings
        optimizer = torch.optim.AdamW(self.model_.parameters(), lr=s["lr"], weight_decay=s["weight_decay"])
        order = torch.Generator().manual_seed(derive_seed(self.seed, "batches"))
        batches = iter(())
        curve, train_seconds, waited = [], 0.0, 0
        best_error, best_step, best_state = np.inf, 0, None
        for step in range(1, s["steps"] + 1):
            tick = time.perf_counter()
            self.model_.train()
            index = next(batches, None)
            if index is None:  # a new epoch: a fresh permutation of the training rows
                batches = iter(torch.randperm(len(X), generator=order).to(self.device).split(s["batch_size"]))
                index = next(batches)
            prediction = self.model_(X[index]).squeeze(-1)  # (batch, k)
            loss = torch.nn.functional.mse_loss(prediction, t[index, None].expand_as(prediction))
            optimizer.zero_grad(set_to_none=True)
            loss.backward()
            optimizer.step()
            train_seconds += time.perf_counter() - tick
            if step % s["eval_every"] and step < s["steps"]:
                continue
            point = self.val_point(self.predict(Z_val))
            error = point["val_error"]
            curve.append({"step": step, "seconds": round(train_seconds, 4), "samples": step * s["batch_size"]} | point)
            if error < best_error:
                best_error, best_step, best_state, waited = error, step, copy.deepcopy(self.model_.state_dict()), 0
            else:
                waited += 1
            if waited >= s["patience"] or not torch.isfinite(loss):
                break
        if best_state is not None:
            self.model_.load_state_dict(best_state)
        self.report_ = {"curve": curve, "details": {
            "best_step": best_step, "last_step": step, "parameters": sum(p.numel() for p in self.model_.parameters()),
            "preprocessing": "QuantileTransformer(normal) + PiecewiseLinearEmbeddings(version B)"
            if self.quantile_ is not None else "our encodings only"}}
        return self

    @torch.no_grad()
    def predict(self, Z, chunk=8192):
        """Encoded predictions (float64 numpy): the mean of the k members' outputs."""
        self.model_.eval()
        X = self._tensor(Z)
        return torch.cat([self.model_(X[i: i + chunk]).squeeze(-1).mean(1) for i in range(0, len(X), chunk)]
                         ).double().cpu().numpy()


def make_tabm(settings, context):
    return TabMRegressor(settings, derive_seed(context.seed, "init", "tabm"), context.device, context.val_point)

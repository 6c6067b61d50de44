"""The asker's network as what it is, a signomial, and the recipe that trains it.

log x -> Linear(n, K) -> Linear(K, K) -> exp -> Linear(K, 1) computes sum_k c_k prod_i x_i^w_ki + c_0: the two
linear maps compose into one matrix of exponents. `Recipe` holds every knob of its set-up and training; its
defaults are the posted recipe, and `fit` with them reproduces `seed-asker` exactly (a test checks it). The
ladder (baselines/asker_ladder.py) changes one knob at a time; `signomial` (baselines/signomial_model.py)
trains with the ladder's last recipe and reads the formula off the weights.
"""

import copy
import time
from dataclasses import dataclass, fields

import numpy as np
import torch
from torch import nn

from baselines.question_recipes import ASKER_BATCH, HIDDEN, HIDDEN_LAYERS, LR, PLATEAU_FACTOR, PLATEAU_PATIENCE, CustomNet
from bench.data import derive_seed
from bench.device import synchronize
from bench.metrics import validation_point

INIT_NAME = "seed-asker"  # every recipe starts from the asker's initial weights (before init_gain)


@dataclass(frozen=True)
class Recipe:
    """How the network is set up and trained; the defaults are the posted recipe."""

    inputs: str = "log"  # "log": torch.log(x) as posted; "standardized-log": (log|x| - mean) / std on the training pool
    target_space: str = "raw"  # "raw": the net outputs y, loss L1((y_hat - y) / scale) as posted;
    # "asinh": the net outputs y / s (s = median |y| on the training pool), loss mean (asinh(y_hat/s) - asinh(y/s))^2
    init_gain: float = 1.0  # the exponent layers' PyTorch default weights, times this
    lr_schedule: str = "plateau"  # ReduceLROnPlateau(0.1, patience 1000) on each step's loss, or "one-cycle"
    polish_iters: int = 0  # L-BFGS iterations in float64 after Adam (0: none)
    adam_lr: float = LR  # Adam's learning rate (one-cycle's peak)
    batch: int = ASKER_BATCH  # fresh draws per Adam step, as in the question
    terms: int = HIDDEN  # K
    hidden_layers: int = HIDDEN_LAYERS  # square linear maps after the first one
    polish_size: int = 4096  # training-pool points L-BFGS fits

    @classmethod
    def from_settings(cls, settings):
        return cls(**{f.name: settings[f.name] for f in fields(cls)})


class Signomial(CustomNet):
    """The asker's CustomNet on inputs already in log space (the recipe decides which log)."""

    def forward(self, z):
        return self.fc1(torch.exp(self.sequential_layers(z)))[:, 0]

    def exponents(self):
        """The composed affine map z -> A z + b of the exponent layers (float64)."""
        A, b = None, None
        for layer in self.sequential_layers:
            W, c = layer.weight.detach().double(), layer.bias.detach().double()
            A, b = (W, c) if A is None else (W @ A, W @ b + c)
        return A, b


class LogInputs:
    """x -> the network's inputs: torch.log(x) in float32 as posted, or log|x| standardized on the training pool."""

    def __init__(self, kind, X_train):
        self.kind = kind
        if kind == "standardized-log":
            logs = torch.log(X_train.abs())
            self.mean, self.std = logs.mean(0), logs.std(0)
        else:
            self.mean, self.std = (torch.full_like(X_train[0], value) for value in (0.0, 1.0))

    def __call__(self, X, dtype=torch.float32):
        if self.kind == "log":
            return torch.log(X.to(dtype))
        return ((torch.log(X.abs()) - self.mean) / self.std).to(dtype)


class Loss:
    """The training loss and the map from the net's output to y, by `target_space`."""

    def __init__(self, target_space, target, y_train):
        self.target_space, self.target = target_space, target
        self.s = float(y_train.abs().median()) if target_space == "asinh" else 1.0

    def __call__(self, output, y, X):
        if self.target_space == "raw":
            relative = (output - y.to(output.dtype)) / self.target.evaluate_scale(X).to(output.dtype)
            return nn.functional.l1_loss(relative, torch.zeros_like(output))
        return nn.functional.mse_loss(torch.asinh(output), torch.asinh(y.to(output.dtype) / self.s))

    def prediction(self, output):
        return output * self.s


@dataclass
class Rows:
    """The training pool and the validation rows as the recipe reads them (float64 tensors, raw inputs, y)."""

    X_train: torch.Tensor
    y_train: torch.Tensor
    X_val: torch.Tensor
    y_val: torch.Tensor


@dataclass
class Fitted:
    """A trained network with its input map and loss; `predict` gives y in float64."""

    net: Signomial
    inputs: LogInputs
    loss: Loss
    dtype: torch.dtype

    @torch.no_grad()
    def predict(self, X):
        return self.loss.prediction(self.net(self.inputs(X, self.dtype))).double()


def fit(recipe, target, seed, data, settings, device):
    """Train by `recipe` on `data` (Rows): Adam on fresh batches (the asker's loop), then the optional float64
    L-BFGS polish, kept only if its validation error is no worse. Returns (Fitted, curve, train_seconds, samples,
    diverged_at)."""
    steps, eval_every = settings["steps"], settings["eval_every"]
    inputs = LogInputs(recipe.inputs, data.X_train)
    loss_fn = Loss(recipe.target_space, target, data.y_train)
    torch.manual_seed(derive_seed(seed, "init", INIT_NAME))
    net = Signomial(data.X_train.shape[1], 1, recipe.terms, recipe.hidden_layers).to(device)
    with torch.no_grad():
        for layer in net.sequential_layers:
            layer.weight.mul_(recipe.init_gain)
    fitted = Fitted(net, inputs, loss_fn, torch.float32)
    optimizer = torch.optim.Adam(net.parameters(), lr=recipe.adam_lr)
    if recipe.lr_schedule == "one-cycle":
        schedule = torch.optim.lr_scheduler.OneCycleLR(optimizer, max_lr=recipe.adam_lr, total_steps=steps)
    else:
        schedule = torch.optim.lr_scheduler.ReduceLROnPlateau(optimizer, mode="min", factor=PLATEAU_FACTOR,
                                                              patience=PLATEAU_PATIENCE)
    y_val = data.y_val.cpu().numpy()
    curve, train_seconds, diverged_at = [], 0.0, None
    for start in range(0, steps, eval_every):
        synchronize(device)
        tick = time.perf_counter()
        for step in range(start + 1, min(start + eval_every, steps) + 1):
            X, y, _ = target.sample(recipe.batch, derive_seed(seed, "batch", step), device)
            loss = loss_fn(net(inputs(X)), y, X)
            optimizer.zero_grad()
            loss.backward()
            optimizer.step()
            loss_value = loss.item()
            schedule.step(loss_value) if recipe.lr_schedule == "plateau" else schedule.step()
            if not np.isfinite(loss_value):
                diverged_at = step
                break
        train_seconds += time.perf_counter() - tick
        curve.append({"step": step, "seconds": round(train_seconds, 4), "samples": step * recipe.batch}
                     | validation_point(fitted.predict(data.X_val).cpu().numpy(), y_val))
        if diverged_at is not None:
            break
    samples = step * recipe.batch
    if recipe.polish_iters and diverged_at is None:
        tick = time.perf_counter()
        X = data.X_train[: recipe.polish_size]
        polished, iterations, evaluations = polish(fitted, X, data.y_train[: recipe.polish_size], recipe.polish_iters)
        train_seconds += time.perf_counter() - tick
        point = validation_point(polished.predict(data.X_val).cpu().numpy(), y_val)
        samples += evaluations * len(X)
        curve.append({"step": steps + iterations, "seconds": round(train_seconds, 4), "samples": samples,
                      **point})
        if point["val_error"] <= curve[-2]["val_error"]:
            fitted = polished
    return fitted, curve, train_seconds, samples, diverged_at


def polish(fitted, X, y, iterations):
    """A float64 copy of `fitted` refined by full-batch L-BFGS (strong Wolfe line search) on its own loss, with
    the iterations and loss evaluations it took."""
    net = copy.deepcopy(fitted.net).double()
    z = fitted.inputs(X, torch.float64)
    optimizer = torch.optim.LBFGS(net.parameters(), lr=1, max_iter=iterations, history_size=50,
                                  tolerance_grad=1e-12, tolerance_change=1e-15, line_search_fn="strong_wolfe")

    def closure():
        optimizer.zero_grad()
        loss = fitted.loss(net(z), y, X)
        loss.backward()
        return loss

    optimizer.step(closure)
    state = optimizer.state[next(iter(net.parameters()))]
    return Fitted(net, fitted.inputs, fitted.loss, torch.float64), state.get("n_iter", 0), state.get("func_evals", 0)

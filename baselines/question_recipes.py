"""The two systems from the original question, reproduced faithfully (see ../shared/seed/summary-en.md).

`seed-asker`: the asker's CustomNet. log(x) -> Linear(n, 16) -> Linear(16, 16) with no activation between
them -> exp -> Linear(16, 1); loss L1((ŷ − y) / scale) with the target's declared scale (x5/x2 on the seed);
a fresh batch of 1000 draws every step; Adam(lr 1e-2); ReduceLROnPlateau(factor 0.1, patience 1000) stepped
on every step's loss. It logs raw inputs itself, so it is recorded under encoding `raw`.

`seed-answer`: the answer's recipe. Linear(n, 16) -> ReLU -> Linear(16, 16) -> ReLU -> Linear(16, 1) on the
grid's input encoding (the answer standardized), MSE on the raw target, fresh batches of 64; otherwise the
asker's settings.
"""

import time

import numpy as np
import torch
from bench.encodings import build_input_encoder
from torch import nn

from bench.data import derive_seed, sample_data
from bench.metrics import convergence, outcome, validation_error
from bench.train import device_name, synchronize

HIDDEN, HIDDEN_LAYERS, LR, PLATEAU_FACTOR, PLATEAU_PATIENCE = 16, 1, 1e-2, 0.1, 1000
ASKER_BATCH, ANSWER_BATCH = 1000, 64


class CustomNet(nn.Module):
    """The asker's network, as posted."""

    def __init__(self, n_input, n_output=1, n_hidden_neurons=HIDDEN, n_hidden_layers=HIDDEN_LAYERS):
        super().__init__()
        self.sequential_layers = nn.Sequential(
            nn.Linear(n_input, n_hidden_neurons),
            *(nn.Linear(n_hidden_neurons, n_hidden_neurons) for _ in range(n_hidden_layers)))
        self.fc1 = nn.Linear(n_hidden_neurons, n_output)

    def forward(self, x):
        return self.fc1(torch.exp(self.sequential_layers(torch.log(x))))[:, 0]


class AnswerNet(nn.Module):
    """The answer's network: the asker's sizes with ReLU between layers and no log/exp."""

    def __init__(self, n_input, n_output=1, n_hidden_neurons=HIDDEN, n_hidden_layers=HIDDEN_LAYERS):
        super().__init__()
        layers = [nn.Linear(n_input, n_hidden_neurons), nn.ReLU()]
        for _ in range(n_hidden_layers):
            layers += [nn.Linear(n_hidden_neurons, n_hidden_neurons), nn.ReLU()]
        self.sequential_layers = nn.Sequential(*layers, nn.Linear(n_hidden_neurons, n_output))

    def forward(self, x):
        return self.sequential_layers(x)[:, 0]


def run_recipe(model, target, seed, cells, settings, device):
    """Train the recipe once per cell (encoding); fresh batches each step, as in the question."""
    return [_train_recipe(model, target, seed, encoding, settings, device) for encoding, _ in cells]


def _train_recipe(model, target, seed, encoding, settings, device):
    steps, eval_every = settings["steps"], settings["eval_every"]
    data = sample_data(target, seed, settings["train_size"], settings["val_size"], settings["test_size"], device)
    encoder = build_input_encoder(encoding, target).fit(data.X_train)
    torch.manual_seed(derive_seed(seed, "init", model))
    if model == "seed-asker":
        net, batch_size = CustomNet(data.X_test.shape[1]).to(device), ASKER_BATCH
    else:
        net, batch_size = AnswerNet(encoder.transform(data.X_test[:1]).shape[1]).to(device), ANSWER_BATCH
    optimizer = torch.optim.Adam(net.parameters(), lr=LR)
    plateau = torch.optim.lr_scheduler.ReduceLROnPlateau(optimizer, mode="min", factor=PLATEAU_FACTOR,
                                                         patience=PLATEAU_PATIENCE)
    Z_val, Z_test = encoder.transform(data.X_val).float(), encoder.transform(data.X_test).float()
    y_val = data.y_val.cpu().numpy()
    curve, train_seconds, diverged_at = [], 0.0, None
    for start in range(0, steps, eval_every):
        synchronize(device)
        tick = time.perf_counter()
        for step in range(start + 1, min(start + eval_every, steps) + 1):
            X, y, _ = target.sample(batch_size, derive_seed(seed, "batch", step), device)
            prediction = net(encoder.transform(X).float())
            if model == "seed-asker":
                loss = nn.functional.l1_loss((prediction - y.float()) / target.evaluate_scale(X).float(),
                                             torch.zeros_like(prediction))
            else:
                loss = nn.functional.mse_loss(prediction, y.float())
            optimizer.zero_grad()
            loss.backward()
            optimizer.step()
            loss_value = loss.item()  # the asker's loop reads the loss every step too
            plateau.step(loss_value)
            if not np.isfinite(loss_value):
                diverged_at = step
                break
        train_seconds += time.perf_counter() - tick
        with torch.no_grad():
            val_error = validation_error(net(Z_val).double().cpu().numpy(), y_val)
        curve.append({"step": step, "seconds": round(train_seconds, 4), "samples": step * batch_size,
                      "median_rel_err": val_error})
        if diverged_at is not None:
            break
    tick = time.perf_counter()
    with torch.no_grad():
        prediction = net(Z_test).double().cpu().numpy()
    infer_seconds = time.perf_counter() - tick
    result = {"curve": curve, "convergence": convergence(curve), "rejected_share": data.rejected,
              "val_median_rel_err": curve[-1]["median_rel_err"],
              "throughput": {"device": device_name(device), "ensemble_size": 1,
                             "train_samples_per_s": step * batch_size / train_seconds,
                             "train_seconds": train_seconds, "infer_samples_per_s": len(prediction) / infer_seconds}}
    scale = target.evaluate_scale(data.X_test)
    return result | outcome(prediction, data.y_test.cpu().numpy(), None if scale is None else scale.cpu().numpy(),
                            diverged_at, steps)

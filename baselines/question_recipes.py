"""The two systems from the original question, reproduced faithfully (see docs/question/summary-en.md).

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
from torch import nn

from bench.data import derive_seed
from bench.device import synchronize

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


class Recipe:
    """`seed-asker` or `seed-answer` as the protocol's estimator. Like the question's loops, it trains on fresh
    draws from the formula every step (encoded by the cell's fitted input encoder), not on the pool; the
    validation rows give its learning curve; it keeps its last weights."""

    def __init__(self, model, settings, context):
        self.model, self.settings, self.context = model, settings, context

    def fit(self, X, y, X_val, y_val):
        model, context = self.model, self.context
        target, seed, device, encoder = context.target, context.seed, context.device, context.split.input_encoder
        steps, eval_every = self.settings["steps"], self.settings["eval_every"]
        torch.manual_seed(derive_seed(seed, "init", model))
        if model == "seed-asker":
            net, batch_size = CustomNet(X.shape[1]).to(device), ASKER_BATCH
        else:
            net, batch_size = AnswerNet(X.shape[1]).to(device), ANSWER_BATCH
        self.net_ = net
        optimizer = torch.optim.Adam(net.parameters(), lr=LR)
        plateau = torch.optim.lr_scheduler.ReduceLROnPlateau(optimizer, mode="min", factor=PLATEAU_FACTOR,
                                                             patience=PLATEAU_PATIENCE)
        curve, train_seconds, diverged_at = [], 0.0, None
        for start in range(0, steps, eval_every):
            synchronize(device)
            tick = time.perf_counter()
            for step in range(start + 1, min(start + eval_every, steps) + 1):
                X_batch, y_batch, _ = target.sample(batch_size, derive_seed(seed, "batch", step), device)
                prediction = net(encoder.transform(X_batch).float())
                if model == "seed-asker":
                    loss = nn.functional.l1_loss((prediction - y_batch.float()) / target.evaluate_scale(X_batch).float(),
                                                 torch.zeros_like(prediction))
                else:
                    loss = nn.functional.mse_loss(prediction, y_batch.float())
                optimizer.zero_grad()
                loss.backward()
                optimizer.step()
                loss_value = loss.item()  # the asker's loop reads the loss every step too
                plateau.step(loss_value)
                if not np.isfinite(loss_value):
                    diverged_at = step
                    break
            train_seconds += time.perf_counter() - tick
            curve.append({"step": step, "seconds": round(train_seconds, 4), "samples": step * batch_size}
                         | context.val_point(self.predict(X_val)))
            if diverged_at is not None:
                break
        self.report_ = {"curve": curve, "diverged_at_step": diverged_at,
                        "last_step": steps, "train_samples": step * batch_size, "train_seconds": train_seconds}
        return self

    @torch.no_grad()
    def predict(self, X):
        return self.net_(X.float())

"""The ensemble's training step, free of host syncs; on CUDA, captured once in a CUDA graph and replayed.

A step draws a batch of pool rows, runs every member on its own columns, and takes one AdamW step (each
member with its own learning rate and weight decay, bench.optim) on the sum of the members' mean squared
errors. A member whose loss is NaN/inf contributes nothing to that sum (members never share a weight, so it
cannot spoil the others); its first such step is kept on the device in `first_bad_step`. The pool is laid
out (n, M, width), so a batch is one gather of B contiguous rows.

On CUDA, PyTorch's whole-network capture recipe: the first WARMUP_STEPS steps run eagerly on a side stream,
then the update (gather, forward, backward, AdamW) is recorded once and replayed for every later step. The
batch index, the schedule's factor and the step count live in fixed device tensors that the graph reads.
"""

import torch

from bench.optim import EnsembleAdamW

WARMUP_STEPS = 3


class TrainingStep:
    """`train_step(factor)` trains `model` on one batch of pool inputs Z (n, M, width) and targets t (n, M), each
    member at its learning rate `lr[m]` × `factor` (the schedule) with decoupled weight decay `weight_decay[m]`."""

    def __init__(self, model, Z, t, batch_size, seed, lr, weight_decay=None, cuda_graph=None):
        device, dtype = Z.device, next(model.parameters()).dtype  # the schedule and rates in the weights' precision
        self.model, self.Z, self.t = model, Z, t
        self.cuda_graph = device.type == "cuda" if cuda_graph is None else cuda_graph
        self.factor = torch.zeros((), dtype=dtype, device=device)
        lr = torch.as_tensor(lr, dtype=dtype, device=device).expand(model.members).clone()
        weight_decay = torch.zeros_like(lr) if weight_decay is None else torch.as_tensor(
            weight_decay, dtype=dtype, device=device).expand(model.members).clone()
        self.optimizer = EnsembleAdamW(model.parameters(), lr, weight_decay)
        self.batches = torch.Generator(device).manual_seed(seed)
        self.index = torch.zeros(batch_size, dtype=torch.long, device=device)
        self.steps = torch.zeros((), dtype=torch.long, device=device)  # steps taken, as the graph counts them
        self.first_bad_step = torch.full((model.members,), -1, dtype=torch.long, device=device)
        self.taken = 0  # the same count on the host
        self.graph = None

    def __call__(self, factor):
        self.factor.fill_(factor)
        self.index.random_(0, self.Z.shape[0], generator=self.batches)
        self.taken += 1
        if not self.cuda_graph:
            self._update()
        elif self.taken <= WARMUP_STEPS:
            self._warm_up()
        else:
            if self.graph is None:
                self.graph = self._capture()
            self.graph.replay()

    def _update(self):
        x = self.Z.index_select(0, self.index).transpose(0, 1)  # (M, B, width)
        y = self.t.index_select(0, self.index).T
        loss = ((self.model(x) - y) ** 2).mean(dim=1)
        finite = torch.isfinite(loss)
        self.steps += 1
        first_bad = (self.first_bad_step < 0) & ~finite
        self.first_bad_step.copy_(torch.where(first_bad, self.steps, self.first_bad_step))
        self.optimizer.zero_grad()
        torch.where(finite, loss, 0.0).sum().backward()
        self.optimizer.step(self.factor)

    def _warm_up(self):
        stream = torch.cuda.Stream(self.Z.device)
        stream.wait_stream(torch.cuda.current_stream(self.Z.device))
        with torch.cuda.stream(stream):
            self._update()
        torch.cuda.current_stream(self.Z.device).wait_stream(stream)

    def _capture(self):
        """Record `_update` (gradients then live in the graph's memory, overwritten by each replay)."""
        graph = torch.cuda.CUDAGraph()
        self.optimizer.zero_grad()
        with torch.cuda.graph(graph):
            self._update()
        return graph

"""The ensemble's training step, free of host syncs; on CUDA, captured once in a CUDA graph and replayed.

A step draws a batch of pool rows, runs every member on its own columns, and takes one fused Adam step on
the sum of the members' mean squared errors. A member whose loss is NaN/inf contributes nothing to that
sum (members never share a weight, so it cannot spoil the others); its first such step is kept on the device
in `first_bad_step`. The pool is laid out (n, M, width), so a batch is one gather of B contiguous rows.

On CUDA, PyTorch's whole-network capture recipe: the first WARMUP_STEPS steps run eagerly on a side stream,
then the update (gather, forward, backward, Adam) is recorded once and replayed for every later step. The
batch index, the learning rate and the step count live in fixed device tensors that the graph reads.
"""

import torch

WARMUP_STEPS = 3


class TrainingStep:
    """`train_step(lr)` trains `model` on one batch of pool inputs Z (n, M, width) and targets t (n, M)."""

    def __init__(self, model, Z, t, batch_size, seed, cuda_graph=None):
        device = Z.device
        self.model, self.Z, self.t = model, Z, t
        self.cuda_graph = device.type == "cuda" if cuda_graph is None else cuda_graph
        self.lr = torch.zeros((), device=device)
        self.optimizer = torch.optim.Adam(model.parameters(), lr=self.lr, fused=True)
        self.batches = torch.Generator(device).manual_seed(seed)
        self.index = torch.zeros(batch_size, dtype=torch.long, device=device)
        self.steps = torch.zeros((), dtype=torch.long, device=device)  # steps taken, as the graph counts them
        self.first_bad_step = torch.full((model.members,), -1, dtype=torch.long, device=device)
        self.taken = 0  # the same count on the host
        self.graph = None

    def __call__(self, lr):
        self.lr.fill_(lr)
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
        self.optimizer.zero_grad(set_to_none=True)
        torch.where(finite, loss, 0.0).sum().backward()
        self.optimizer.step()

    def _warm_up(self):
        stream = torch.cuda.Stream(self.Z.device)
        stream.wait_stream(torch.cuda.current_stream(self.Z.device))
        with torch.cuda.stream(stream):
            self._update()
        torch.cuda.current_stream(self.Z.device).wait_stream(stream)

    def _capture(self):
        """Record `_update` (gradients then live in the graph's memory, overwritten by each replay)."""
        for group in self.optimizer.param_groups:
            group["capturable"] = True  # admits capture; fused Adam's math is the same either way
        graph = torch.cuda.CUDAGraph()
        self.optimizer.zero_grad(set_to_none=True)
        with torch.cuda.graph(graph):
            self._update()
        return graph

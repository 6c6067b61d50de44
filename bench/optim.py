"""Adam with decoupled weight decay (AdamW) where every ensemble member has its own learning rate and decay.

torch.optim.AdamW takes one learning rate per parameter tensor, but an ensemble's tensors hold all members
along dim 0, so tuning trials trained as one ensemble need a per-row rate: that is the only reason this is
ours. Every operation stays on the device (no host syncs), so the step can be captured in a CUDA graph.
Its update is torch's AdamW (the default, non-amsgrad form) row by row; a test checks it against torch's.
"""

import torch


class EnsembleAdamW:
    """AdamW over parameters shaped (members, ...); `lr` and `weight_decay` are (members,) tensors."""

    def __init__(self, params, lr, weight_decay, betas=(0.9, 0.999), eps=1e-8):
        self.params = list(params)
        self.lr, self.weight_decay = lr, weight_decay
        self.beta1, self.beta2, self.eps = betas[0], betas[1], eps
        self.exp_avg = [torch.zeros_like(p) for p in self.params]
        self.exp_avg_sq = [torch.zeros_like(p) for p in self.params]
        self.step_count = torch.zeros((), dtype=lr.dtype, device=lr.device)

    def zero_grad(self):
        for p in self.params:
            p.grad = None

    @torch.no_grad()
    def step(self, factor):
        """One update with every member's learning rate multiplied by `factor` (a scalar tensor: the schedule)."""
        self.step_count += 1
        correction1 = 1 - self.beta1 ** self.step_count
        root_correction2 = (1 - self.beta2 ** self.step_count).sqrt()
        for p, m, v in zip(self.params, self.exp_avg, self.exp_avg_sq):
            shape = (-1,) + (1,) * (p.ndim - 1)
            lr = (self.lr * factor).view(shape)
            p.mul_(1 - lr * self.weight_decay.view(shape))
            m.lerp_(p.grad, 1 - self.beta1)
            v.mul_(self.beta2).addcmul_(p.grad, p.grad, value=1 - self.beta2)
            p.sub_(lr / correction1 * m / (v.sqrt() / root_correction2 + self.eps))

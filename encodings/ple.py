"""`ple`: piecewise-linear encoding on quantile bins (Gorishniy et al. 2022, "On Embeddings for Numerical
Features in Tabular Deep Learning"), written in torch so it runs on the training device.

Each column's training quantiles give bin edges b_0 < … < b_T. Bin t encodes (x − b_t) / (b_{t+1} − b_t)
clipped to [0, 1]; the first bin is not clipped below and the last not above, so the map is invertible:
x = b_0 + Σ_t e_t (b_{t+1} − b_t).
"""

import torch

from .base import TensorTransformer


class PiecewiseLinear(TensorTransformer):
    """One output per bin and column (n_bins per column; columns with fewer distinct quantiles get fewer)."""

    def __init__(self, n_bins=16):
        self.n_bins = n_bins

    def _fit(self, X):
        if self.n_bins < 1:
            raise ValueError(f"PiecewiseLinear: n_bins must be at least 1, got {self.n_bins}")
        q = torch.linspace(0, 1, self.n_bins + 1, dtype=X.dtype, device=X.device)
        sample = X[torch.randperm(len(X), generator=torch.Generator().manual_seed(0))[:200_000].to(X.device)]
        self.edges_ = [torch.unique(torch.quantile(sample[:, j], q)).cpu() for j in range(X.shape[1])]
        for j, edges in enumerate(self.edges_):
            if len(edges) < 2:  # a constant column: one bin of width 1 around its value
                self.edges_[j] = torch.cat([edges, edges + 1])

    def _transform(self, X):
        parts = []
        for j, edges in enumerate(self.edges_):
            edges = edges.to(X.device)
            e = (X[:, j: j + 1] - edges[:-1]) / (edges[1:] - edges[:-1])
            low = torch.zeros_like(e)
            high = torch.ones_like(e)
            low[:, 0], high[:, -1] = -torch.inf, torch.inf
            parts.append(torch.clamp(e, low, high))
        return torch.cat(parts, dim=1)

    def _inverse(self, Z):
        columns, start = [], 0
        for edges in self.edges_:
            edges = edges.to(Z.device)
            widths = edges[1:] - edges[:-1]
            columns.append(edges[0] + Z[:, start: start + len(widths)] @ widths)
            start += len(widths)
        return torch.stack(columns, dim=1)

    def _names_out(self, names):
        return [f"ple{t}({n})" for n, edges in zip(names, self.edges_) for t in range(len(edges) - 1)]

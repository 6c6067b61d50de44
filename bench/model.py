"""The shared Torch regressor: an MLP, trained as an ensemble of M independent members in one batched pass.

Every member has its own weights, initialization seed and input width (narrower inputs are zero-padded);
members never interact, so a member trained in an ensemble matches the same member trained alone. One
member (M = 1) is the plain `mlp`. Batching members is where a small MLP's speed is: one batched matmul
per layer serves all encodings at once instead of one kernel launch per model.
"""

import math
from dataclasses import dataclass

import torch
from torch import nn

ACTIVATIONS = {"relu": nn.functional.relu, "gelu": nn.functional.gelu, "silu": nn.functional.silu,
               "tanh": torch.tanh}


@dataclass(frozen=True)
class MLPConfig:
    """Architecture of `mlp`: `depth` hidden layers of `width` units, optionally behind periodic embeddings.

    `periodic` puts PLR embeddings (Gorishniy et al. 2022) first: per feature, v = 2π·c·x with trainable
    frequencies c ~ N(0, frequency_scale²), then [cos v, sin v] → Linear → ReLU; rtdl_num_embeddings'
    defaults (48 frequencies, 24 dimensions, scale 0.01).
    """

    width: int = 64
    depth: int = 3
    activation: str = "silu"
    periodic: bool = False
    n_frequencies: int = 48
    d_embedding: int = 24
    frequency_scale: float = 0.01
    dtype: str = "float32"  # the weights' precision: "float32" or "float64"
    first_layer_scale: float = 1.0  # the first layer's initial weights are multiplied by this (a residual stage's)


DTYPES = {"float32": torch.float32, "float64": torch.float64}


class EnsembleMLP(nn.Module):
    """M MLPs of one architecture; forward maps (M, B, max input width) to (M, B). With periodic embeddings,
    `frequency_scales` gives each member its own initial frequency scale (default: the config's)."""

    def __init__(self, input_widths, seeds, config=MLPConfig(), frequency_scales=None):
        super().__init__()
        if len(input_widths) != len(seeds) or not input_widths:
            raise ValueError("EnsembleMLP: give one input width and one seed per member")
        if config.activation not in ACTIVATIONS:
            raise ValueError(f"unknown activation {config.activation!r}; choose from {', '.join(ACTIVATIONS)}")
        if config.dtype not in DTYPES:
            raise ValueError(f"unknown dtype {config.dtype!r}; choose from {', '.join(DTYPES)}")
        self.config = config
        self.input_widths = list(input_widths)
        members, features = len(seeds), max(input_widths)
        if config.periodic:
            k, e = config.n_frequencies, config.d_embedding
            self.frequencies = nn.Parameter(torch.zeros(members, 1, features, k))
            self.embed_weight = nn.Parameter(torch.zeros(members, features, 2 * k, e))
            self.embed_bias = nn.Parameter(torch.zeros(members, 1, features, e))
            mask = torch.zeros(members, 1, features, 1)
            for member, width in enumerate(input_widths):
                mask[member, :, :width] = 1  # padded features must not reach the MLP
            self.register_buffer("feature_mask", mask)
        sizes = [features * (config.d_embedding if config.periodic else 1)] + [config.width] * config.depth + [1]
        self.weights = nn.ParameterList()
        self.biases = nn.ParameterList()
        for fan_in, fan_out in zip(sizes[:-1], sizes[1:]):
            self.weights.append(nn.Parameter(torch.zeros(len(seeds), fan_in, fan_out)))
            self.biases.append(nn.Parameter(torch.zeros(len(seeds), 1, fan_out)))
        scales = frequency_scales or [config.frequency_scale] * members
        with torch.no_grad():
            for member, (width, seed, scale) in enumerate(zip(input_widths, seeds, scales)):
                self._init_member(member, width, torch.Generator().manual_seed(seed), scale)
        self.to(DTYPES[config.dtype])  # drawn in float32 either way: a float64 net starts where a float32 one does

    def _init_member(self, member, input_width, generator, frequency_scale):
        """nn.Linear's default init, U(±1/sqrt(fan_in)), drawn from the member's own generator; the first layer's
        weights times `first_layer_scale`."""
        if self.config.periodic:
            k, e = self.config.n_frequencies, self.config.d_embedding
            self.frequencies[member, :, :input_width] = torch.randn(
                1, input_width, k, generator=generator) * frequency_scale
            bound = 1 / math.sqrt(2 * k)
            self.embed_weight[member, :input_width] = torch.empty(input_width, 2 * k, e).uniform_(
                -bound, bound, generator=generator)
            self.embed_bias[member, :, :input_width] = torch.empty(1, input_width, e).uniform_(
                -bound, bound, generator=generator)
            input_width *= e
        for layer, (weight, bias) in enumerate(zip(self.weights, self.biases)):
            fan_in = input_width if layer == 0 else weight.shape[1]
            bound = 1 / math.sqrt(fan_in)
            w = torch.empty(fan_in, weight.shape[2]).uniform_(-bound, bound, generator=generator)
            weight[member, :fan_in] = w * self.config.first_layer_scale if layer == 0 else w
            bias[member] = torch.empty(1, bias.shape[2]).uniform_(-bound, bound, generator=generator)

    @property
    def members(self):
        return len(self.input_widths)

    def embed(self, x):
        """Periodic embeddings (M, B, d) → (M, B, d · d_embedding)."""
        v = 2 * math.pi * x.unsqueeze(-1) * self.frequencies
        v = torch.cat([torch.cos(v), torch.sin(v)], dim=-1)
        h = torch.relu(torch.einsum("mbdk,mdke->mbde", v, self.embed_weight) + self.embed_bias)
        return (h * self.feature_mask).flatten(2)

    def forward(self, x):
        activation = ACTIVATIONS[self.config.activation]
        if self.config.periodic:
            x = self.embed(x)
        for weight, bias in zip(self.weights[:-1], self.biases[:-1]):
            x = activation(torch.baddbmm(bias, x, weight))
        return torch.baddbmm(self.biases[-1], x, self.weights[-1]).squeeze(-1)

    def flops_per_sample(self):
        """Multiply-adds ×2 of one member's forward pass (padding excluded)."""
        features = sum(self.input_widths) / self.members
        embedding = 0
        if self.config.periodic:
            k, e = self.config.n_frequencies, self.config.d_embedding
            embedding, features = 2 * features * 2 * k * e, features * e
        sizes = [features] + [self.config.width] * self.config.depth + [1]
        return embedding + 2 * sum(a * b for a, b in zip(sizes[:-1], sizes[1:]))

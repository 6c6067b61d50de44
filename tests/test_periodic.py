"""Periodic (PLR) embeddings as the ensemble's first layer: padded features stay out, members stay apart."""

import torch

from bench.model import EnsembleMLP, MLPConfig

CONFIG = MLPConfig(width=16, depth=2, periodic=True, n_frequencies=4, d_embedding=3, frequency_scale=0.5)


def test_a_member_computes_the_same_alone_and_beside_a_wider_member():
    x = torch.randn(1, 32, 5)
    alone = EnsembleMLP([3], [11], CONFIG)
    together = EnsembleMLP([5, 3], [7, 11], CONFIG)
    padded = torch.cat([x, torch.cat([x[:, :, :3], torch.randn(1, 32, 2)], dim=2)])  # junk in the padding
    torch.testing.assert_close(together(padded)[1], alone(x[:, :, :3])[0])


def test_gradients_never_reach_padded_features():
    model = EnsembleMLP([5, 2], [1, 2], CONFIG)
    model(torch.randn(2, 16, 5)).sum().backward()
    assert model.frequencies.grad[1, :, 2:].abs().max() == 0
    assert model.weights[0].grad[1, 2 * CONFIG.d_embedding:].abs().max() == 0
    assert model.frequencies.grad[0].abs().max() > 0


def test_embedding_matches_the_plr_formula():
    model = EnsembleMLP([2], [0], CONFIG)
    x = torch.randn(1, 4, 2)
    v = 2 * torch.pi * x[0, :, :, None] * model.frequencies[0]
    features = torch.cat([v.cos(), v.sin()], dim=-1)
    expected = torch.relu(torch.einsum("bdk,dke->bde", features, model.embed_weight[0]) + model.embed_bias[0])
    torch.testing.assert_close(model.embed(x)[0], expected.flatten(1))

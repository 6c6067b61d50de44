"""The ensemble engine: a member trained beside others is the same model as when trained alone."""

import pytest
import torch

from bench.data import sample_data
from bench.model import EnsembleMLP, MLPConfig
from bench.step import TrainingStep
from bench.targets import load_targets
from bench.train import TrainConfig, encode_member, train_members

SMALL = MLPConfig(width=32, depth=2)


def synthetic_pool(widths, n=2048):
    """Inputs (n, M, max width), zero-padded per member, and targets (n, M)."""
    generator = torch.Generator().manual_seed(0)
    Z = torch.randn(n, len(widths), max(widths), generator=generator)
    for m, width in enumerate(widths):
        Z[:, m, width:] = 0
    return Z, torch.randn(n, len(widths), generator=generator)


def trained(widths, seeds, Z, t, steps=30):
    model = EnsembleMLP(widths, seeds, SMALL)
    step = TrainingStep(model, Z, t, batch_size=64, seed=5)
    for i in range(steps):
        step(3e-3 * (1 - i / steps))
    return model, step


def test_a_member_of_train_members_matches_the_same_member_trained_alone():
    target = load_targets()["seed"]
    config = TrainConfig(steps=60, eval_every=30, train_size=4000, test_size=2000, val_size=1000)
    data = sample_data(target, 0, config.train_size, config.val_size, config.test_size, "cpu")
    cells = [("log", "standard"), ("product+log", "asinh"), ("standard", "standard")]  # widths 5, 6, 5
    members = [encode_member(target, data, *cell) for cell in cells]
    together = train_members(target, 0, members, data, config, "cpu")
    for member, result in zip(members, together):
        [alone] = train_members(target, 0, [member], data, config, "cpu")
        assert result["status"] == alone["status"] == "ok"
        for key, value in alone["metrics"].items():
            assert result["metrics"][key] == pytest.approx(value, rel=1e-4, abs=1e-6), key
        for a, b in zip(alone["curve"], result["curve"]):
            assert b["median_rel_err"] == pytest.approx(a["median_rel_err"], rel=1e-4)


def test_members_of_different_widths_train_as_if_alone():
    widths, seeds = [5, 3, 6], [11, 12, 13]
    Z, t = synthetic_pool(widths)
    together, _ = trained(widths, seeds, Z, t)
    for m, (width, seed) in enumerate(zip(widths, seeds)):
        alone, _ = trained([width], [seed], Z[:, [m], :width].contiguous(), t[:, [m]].contiguous())
        for mine, theirs in zip(alone.parameters(), together.parameters()):  # weights, then biases
            torch.testing.assert_close(theirs[m, : mine.shape[1]], mine[0], rtol=1e-4, atol=1e-5)
        assert torch.count_nonzero(together.weights[0][m, width:]) == 0  # padding rows never move


def test_a_diverging_member_is_flagged_and_leaves_the_others_alone():
    widths, seeds = [5, 3, 6], [11, 12, 13]
    Z, t = synthetic_pool(widths)
    broken = t.clone()
    broken[:, 0] = float("nan")
    healthy, healthy_step = trained(widths, seeds, Z, t)
    model, step = trained(widths, seeds, Z, broken)
    assert step.first_bad_step.tolist() == [1, -1, -1]
    assert healthy_step.first_bad_step.tolist() == [-1, -1, -1]
    for mine, theirs in zip(model.parameters(), healthy.parameters()):
        torch.testing.assert_close(mine[1:], theirs[1:])

"""The ensemble engine: a member trained beside others is the same model as when trained alone."""

from dataclasses import replace

import pytest
import torch

from bench.model import EnsembleMLP, MLPConfig
from bench.optim import EnsembleAdamW
from bench.protocol import evaluate
from bench.registry import MODELS
from bench.step import TrainingStep
from bench.targets import load_targets
from bench.train import TrainConfig

SMALL = MLPConfig(width=32, depth=2)


def run_mlp(target, cells, config):
    """The protocol's results for mlp cells under `config` (seed 0, CPU)."""
    return evaluate("mlp", target, 0, cells, MODELS["mlp"].settings(config, None), "cpu")


def synthetic_pool(widths, n=2048):
    """Inputs (n, M, max width), zero-padded per member, and targets (n, M)."""
    generator = torch.Generator().manual_seed(0)
    Z = torch.randn(n, len(widths), max(widths), generator=generator)
    for m, width in enumerate(widths):
        Z[:, m, width:] = 0
    return Z, torch.randn(n, len(widths), generator=generator)


def trained(widths, seeds, Z, t, steps=30):
    model = EnsembleMLP(widths, seeds, SMALL)
    step = TrainingStep(model, Z, t, batch_size=64, seed=5, lr=3e-3)
    for i in range(steps):
        step(1 - i / steps)
    return model, step


def test_a_member_of_an_ensemble_matches_the_same_member_trained_alone():
    target = load_targets()["seed"]
    config = TrainConfig(steps=60, eval_every=30, train_size=4000, test_size=2000, val_size=1000)
    cells = [("log", "standard"), ("product+log", "asinh"), ("standard", "standard")]  # widths 5, 6, 5
    together = run_mlp(target, cells, config)
    for cell, result in zip(cells, together):
        [alone] = run_mlp(target, [cell], config)
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


def test_ensemble_adamw_matches_torch_adamw_member_by_member():
    generator = torch.Generator().manual_seed(1)
    start = torch.randn(3, 4, 2, generator=generator)
    lrs, decays = [1e-2, 3e-3, 1e-3], [0.0, 1e-2, 1e-1]
    ours = torch.nn.Parameter(start.clone())
    optimizer = EnsembleAdamW([ours], torch.tensor(lrs), torch.tensor(decays))
    theirs = [torch.nn.Parameter(start[m].clone()) for m in range(3)]
    references = [torch.optim.AdamW([p], lr=lr, weight_decay=wd) for p, lr, wd in zip(theirs, lrs, decays)]
    for _ in range(20):
        grad = torch.randn(3, 4, 2, generator=generator)
        ours.grad = grad.clone()
        optimizer.step(torch.tensor(0.5))
        for m, (p, reference) in enumerate(zip(theirs, references)):
            for group in reference.param_groups:
                group["lr"] = lrs[m] * 0.5
            p.grad = grad[m].clone()
            reference.step()
    for m, p in enumerate(theirs):
        torch.testing.assert_close(ours.detach()[m], p.detach(), rtol=1e-5, atol=1e-6)


def test_a_member_with_its_own_settings_matches_that_trial_trained_alone():
    target = load_targets()["seed"]
    config = TrainConfig(steps=60, eval_every=20, train_size=4000, val_size=1000, test_size=2000)
    trials = [{"lr": 1e-2, "weight_decay": 0.0}, {"lr": 1e-3, "weight_decay": 1e-2}]
    together = run_mlp(target, [("log", "asinh", trial) for trial in trials], config)
    assert together[0]["metrics"] != together[1]["metrics"]
    for trial, result in zip(trials, together):
        [alone] = run_mlp(target, [("log", "asinh", trial)], config)
        assert result["kept_step"] == alone["kept_step"]
        assert result["metrics"]["median_rel_err"] == pytest.approx(alone["metrics"]["median_rel_err"], rel=1e-4)


def test_the_kept_weights_are_those_of_the_best_validation_step():
    target = load_targets()["seed"]
    config = TrainConfig(steps=80, eval_every=20, train_size=4000, val_size=1000, test_size=2000, lr=3e-2,
                         schedule="constant")
    [result] = run_mlp(target, [("log", "asinh")], config)
    best = min(result["curve"], key=lambda point: point["val_error"])
    assert result["kept_step"] == best["step"]
    assert result["val_error"] == pytest.approx(best["val_error"])
    shorter = replace(config, steps=best["step"])
    [stopped] = run_mlp(target, [("log", "asinh")], shorter)
    assert result["metrics"]["median_rel_err"] == pytest.approx(stopped["metrics"]["median_rel_err"], rel=1e-5)

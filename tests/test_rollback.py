"""Rollback: a member whose validation error collapses goes back to its best weights and Adam state, at half
its learning rate; the other members never notice."""

import pytest
import torch

from bench import train
from bench.model import EnsembleMLP, MLPConfig
from bench.protocol import evaluate
from bench.registry import MODELS
from bench.targets import load_targets
from bench.train import BestOnValidation, TrainConfig, roll_back

SEED = load_targets()["seed"]
SMALL = {"steps": 400, "eval_every": 50, "train_size": 4000, "val_size": 1000, "test_size": 1000, "width": 32,
         "depth": 2, "lr": 1e-2}


def test_roll_back_restores_only_the_members_that_collapsed():
    model = EnsembleMLP([3] * 4, [0, 1, 2, 3], MLPConfig(width=8, depth=1))
    moments = [torch.zeros_like(p) for p in model.parameters()]  # stands in for Adam's state
    best = BestOnValidation(model, moments)
    best.update([0.1, 0.1, float("inf"), 0.1], step=50)
    kept = [p.detach().clone() for p in model.parameters()]
    with torch.no_grad():
        for t in [*model.parameters(), *moments]:
            t.add_(1.0)
    lr = torch.full((4,), 0.01)
    # 0.3 is within 4 × 0.1; 0.5 is past it; the third member has no finite best to go back to; NaN collapsed
    assert roll_back(best, [0.3, 0.5, float("nan"), float("nan")], 4.0, lr).tolist() == [False, True, False, True]
    assert lr.tolist() == pytest.approx([0.01, 0.005, 0.01, 0.005])
    for p, k, m in zip(model.parameters(), kept, moments):
        for member in (1, 3):
            assert torch.equal(p[member], k[member]) and (m[member] == 0).all()
        for member in (0, 2):
            assert torch.equal(p[member], k[member] + 1) and (m[member] == 1).all()


class Blowup(train.TrainingStep):
    """The training step, with member 1's weights wrecked once at step 200: a planted collapse."""

    def __call__(self, factor):
        super().__call__(factor)
        if self.taken == 200:
            with torch.no_grad():
                for p in self.model.parameters():
                    p[1] += 10 * torch.randn_like(p[1], generator=torch.Generator().manual_seed(0))


def run(rollback, monkeypatch):
    monkeypatch.setattr(train, "TrainingStep", Blowup)
    settings = MODELS["mlp"].settings(TrainConfig(**SMALL | {"rollback": rollback}), None)
    return evaluate("mlp", SEED, 0, [("log", "asinh"), ("product+log", "asinh")], settings, "cpu")


def test_a_collapsed_member_is_rolled_back_and_the_others_are_untouched(monkeypatch):
    plain, rolled = run(0.0, monkeypatch), run(4.0, monkeypatch)
    assert "rollbacks" not in plain[1] and rolled[1]["rollbacks"] >= 1 and rolled[0]["rollbacks"] == 0
    assert plain[1]["kept_step"] <= 200 < rolled[1]["kept_step"]  # without rollback nothing after the wreck helps
    assert rolled[1]["val_error"] < plain[1]["val_error"]
    assert rolled[1]["metrics"]["median_rel_err"] < plain[1]["metrics"]["median_rel_err"]
    errors = [[(p["step"], p["median_rel_err"]) for p in result[0]["curve"]] for result in (plain, rolled)]
    assert errors[0] == errors[1] and rolled[0]["metrics"] == plain[0]["metrics"]


def test_a_run_asked_for_no_rollback_gets_none(monkeypatch):
    seen = []
    fit_ensemble = train.fit_ensemble
    monkeypatch.setattr(train, "fit_ensemble", lambda *args, **kwargs: seen.append(args[1]) or
                        fit_ensemble(*args, **kwargs))
    settings = MODELS["mlp"].settings(TrainConfig(**SMALL | {"steps": 50, "rollback": 0}), None)
    assert "rollback" not in settings  # off: left out of the key, as in records made before it existed
    [result] = evaluate("mlp", SEED, 0, [("log", "asinh")], settings, "cpu")
    assert seen[0].rollback == 0 and "rollbacks" not in result
    settings = MODELS["mlp"].settings(TrainConfig(**SMALL | {"steps": 50}), None)
    [result] = evaluate("mlp", SEED, 0, [("log", "asinh")], settings, "cpu")
    assert seen[1].rollback == 4 and result["rollbacks"] == 0

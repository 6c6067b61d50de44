"""L-BFGS polish of the mlp: chosen on validation, member by member, and recorded in the run."""

from dataclasses import asdict

import pytest
import torch

from bench.model import EnsembleMLP, MLPConfig
from bench.polish import load_member, member_copy, polish_member
from bench.protocol import evaluate
from bench.registry import MODELS
from bench.report.frames import OWN_BUDGET, budget_label
from bench.targets import load_targets
from bench.train import DEFAULT_LEFT_OUT, RUN_ONLY_SETTINGS, TrainConfig

SEED = load_targets()["seed"]
SMALL = {"steps": 200, "eval_every": 50, "train_size": 4000, "val_size": 1000, "test_size": 1000, "width": 32,
         "depth": 2, "lr": 1e-2}


def test_polish_lowers_the_validation_error_and_the_record_says_where_it_stopped():
    [adam] = evaluate("mlp", SEED, 0, [("log", "asinh")], SMALL, "cpu")
    [polished] = evaluate("mlp", SEED, 0, [("log", "asinh")], SMALL | {"lbfgs_iters": 150, "lbfgs_rows": 2000}, "cpu")
    adam_phase = [(p["step"], p["median_rel_err"]) for p in polished["curve"][: len(adam["curve"])]]
    assert adam_phase == [(p["step"], p["median_rel_err"]) for p in adam["curve"]]  # the same Adam phase first
    assert polished["val_error"] < adam["val_error"] / 2
    assert polished["metrics"]["median_rel_err"] < adam["metrics"]["median_rel_err"] / 2
    assert SMALL["steps"] < polished["kept_step"] <= polished["steps_run"] <= SMALL["steps"] + 150
    assert polished["steps_run"] == polished["curve"][-1]["step"]
    assert polished["throughput"]["lbfgs_seconds"] > 0 and "lbfgs_seconds" not in adam["throughput"]


def test_polish_keeps_the_adam_weights_when_validation_does_not_improve():
    model = EnsembleMLP([3], [1], MLPConfig(width=8, depth=1))
    before = [p.detach().clone() for p in model.parameters()]
    x, y = torch.randn(1, 64, 3), torch.randn(1, 64)
    points, kept, error = polish_member(model, x, y, lambda net: 1.0, iterations=40, eval_every=10, start_error=0.5)
    assert kept == 0 and error == 0.5 and len(points) == 1  # the first chunk did not beat Adam's 0.5: restore
    for p, q in zip(model.parameters(), before):
        assert torch.equal(p, q)


def test_the_polish_waits_patience_chunks_for_validation_to_come_back_down():
    model = EnsembleMLP([3], [1], MLPConfig(width=32, depth=2))
    x, y = torch.randn(1, 512, 3), torch.randn(1, 512)  # noise: L-BFGS never converges in 60 iterations
    errors, seen = iter([0.6, 0.7, 0.3, 0.35, 0.4, 0.45, 0.1]), []

    def score(net):  # L-BFGS first climbs above Adam's 0.5, then falls below it
        seen.append([p.detach().clone() for p in net.parameters()])
        return next(errors)

    points, kept, error = polish_member(model, x, y, score, iterations=100, eval_every=10, start_error=0.5, patience=3)
    assert [e for *_, e in points] == [0.6, 0.7, 0.3, 0.35, 0.4, 0.45]  # three chunks without improving: stop
    assert kept == points[2][0] > 0 and error == 0.3
    assert all(torch.equal(p, q) for p, q in zip(model.parameters(), seen[2]))  # the third chunk's weights


def test_a_member_polished_in_an_ensemble_matches_it_polished_alone():
    config = TrainConfig(**SMALL | {"steps": 60, "eval_every": 20, "lbfgs_iters": 30, "lbfgs_rows": 1000})
    cells, settings = [("log", "asinh"), ("product+log", "asinh")], MODELS["mlp"].settings(config, None)
    together = evaluate("mlp", SEED, 0, cells, settings, "cpu")
    for cell, result in zip(cells, together):
        [alone] = evaluate("mlp", SEED, 0, [cell], settings, "cpu")
        assert result["kept_step"] == alone["kept_step"] > config.steps
        # L-BFGS amplifies the float32 rounding by which a batched matmul differs from a single one: within 2 %
        assert result["metrics"]["median_rel_err"] == pytest.approx(alone["metrics"]["median_rel_err"], rel=2e-2)


def test_a_member_copy_round_trips_into_the_ensemble():
    model = EnsembleMLP([3, 5], [1, 2], MLPConfig(width=8, depth=2, periodic=True))
    single = member_copy(model, 1)
    assert single.members == 1 and single.frequencies.shape[0] == 1
    x = torch.randn(2, 16, 5)
    x[0, :, 3:] = 0
    torch.testing.assert_close(single(x[1:]), model(x)[1:])
    other = model(x)[0].detach().clone()
    with torch.no_grad():
        for p in single.parameters():
            p.add_(1.0)
    load_member(model, 1, single)
    torch.testing.assert_close(single(x[1:]), model(x)[1:])
    torch.testing.assert_close(model(x)[0], other)  # the other member is untouched


def test_runs_without_polish_or_rollback_keep_their_settings_and_keys():
    plain = MODELS["mlp"].settings(TrainConfig(rollback=0), None)
    assert not set(RUN_ONLY_SETTINGS) & set(plain) and plain == {k: v for k, v in asdict(TrainConfig()).items()
                                                                if k not in {*RUN_ONLY_SETTINGS, *DEFAULT_LEFT_OUT}}
    polished = MODELS["mlp"].settings(TrainConfig(lbfgs_iters=500), None)
    assert polished["lbfgs_iters"] == 500 and polished["lbfgs_rows"] == TrainConfig.lbfgs_rows
    assert polished["rollback"] == TrainConfig.rollback == 4  # on by default, so in every new record's key


def test_a_polished_budget_names_both_optimizers():
    assert budget_label(7000, 3000) == "4,000 steps + 3,000 L-BFGS"
    assert budget_label(4000, 0) == "4,000 steps" and budget_label(None) == OWN_BUDGET

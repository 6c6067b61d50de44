"""Data conditions: few rows, noisy targets, extrapolation, irrelevant inputs; each reaches the data and only there."""

import numpy as np
import pytest
import torch

from bench import train
from bench.conditions import EXTRA_RANGE, Conditions, describe, grid
from bench.data import sample_data
from bench.errors import UserError
from bench.protocol import evaluate
from bench.registry import MODELS
from bench.sweep import plan
from bench.targets import load_targets, parse_targets, widen
from bench.train import TrainConfig

SEED = load_targets()["seed"]
TARGETS = parse_targets("""
[targets.chained]
formula = "x1*x2 + n"
[targets.chained.variables]
x1 = { low = 0, high = 2 }
x2 = { low = "x1 + 1", high = "x1 + 3", dist = "log-uniform" }
n = { low = 2, high = 6, dist = "integer", sign = "-" }
""", "test")


def draw(target, conditions, train_size=4000, val_size=1000, test_size=3000, seed=0):
    return sample_data(target.under(conditions), seed, train_size, val_size, test_size)


def test_noise_reaches_training_and_validation_targets_never_the_test_set():
    clean = draw(SEED, Conditions())
    for kind in ("rms", "relative"):
        noisy = draw(SEED, Conditions(noise=0.1, noise_kind=kind))
        assert torch.equal(noisy.X_test, clean.X_test) and torch.equal(noisy.y_test, clean.y_test)
        assert torch.equal(noisy.X_train, clean.X_train) and torch.equal(noisy.X_val, clean.X_val)
        assert not torch.equal(noisy.y_train, clean.y_train) and not torch.equal(noisy.y_val, clean.y_val)


def test_noise_levels_follow_their_conventions():
    clean = draw(SEED, Conditions())
    rms = torch.sqrt(torch.mean(clean.y_train**2))
    absolute = draw(SEED, Conditions(noise=0.01, noise_kind="rms")).y_train - clean.y_train
    relative = draw(SEED, Conditions(noise=0.01, noise_kind="relative")).y_train / clean.y_train - 1
    assert float(absolute.std() / rms) == pytest.approx(0.01, rel=0.05)
    assert float(relative.std()) == pytest.approx(0.01, rel=0.05)


@pytest.mark.parametrize("target", [SEED, TARGETS["chained"]], ids=["seed", "chained"])
def test_extrapolation_test_points_lie_outside_the_training_domain_and_inside_the_widened_one(target):
    data = draw(target, Conditions(extrapolate=2.0))
    _, inside = target._draw(0, torch.Generator().manual_seed(0), "cpu")  # compiles the bounds
    X = data.X_test
    outside_any = torch.zeros(len(X), dtype=torch.bool)
    widened_all = torch.ones(len(X), dtype=torch.bool)
    for i, v in enumerate(target.variables):
        low, high = (target._bound(v, which, list(X.T[:i]), len(X), "cpu") for which in ("low", "high"))
        if v.dist == "integer":
            low, high = torch.ceil(low), torch.ceil(high) - 1
        magnitude = X[:, i].abs()
        outside_any |= (magnitude < low) | (magnitude > high)
        wide_low, wide_high = widen(low, high, v.dist, 2.0)
        widened_all &= (magnitude >= wide_low * (1 - 1e-12)) & (magnitude <= wide_high * (1 + 1e-12))
    assert bool(outside_any.all()) and bool(widened_all.all())
    assert torch.equal(data.X_train, draw(target, Conditions()).X_train)  # training draws are unchanged
    assert torch.allclose(data.y_test, target.evaluate(X))  # the formula, not noise or clipping


def test_widening_keeps_the_sign_of_a_positive_range_and_widens_log_ranges_in_decades():
    low, high = widen(torch.tensor([1.0, 0.0], dtype=torch.float64), torch.tensor([5.0, 1.0], dtype=torch.float64),
                      "uniform", 3.0)
    assert low.tolist() == [1 / 3, 0.0] and high.tolist() == [9.0, 2.0]
    low, high = widen(torch.tensor([1e-6], dtype=torch.float64), torch.tensor([1e-3], dtype=torch.float64), "log-uniform", 2.0)
    assert torch.allclose(torch.log10(torch.cat([low, high])), torch.tensor([-7.5, -1.5], dtype=torch.float64))


def test_small_data_runs_see_only_their_first_rows_and_hold_out_a_fifth():
    full = draw(SEED, Conditions())
    small = draw(SEED, Conditions(train_rows=500))
    assert torch.equal(small.X_train, full.X_train[:500]) and torch.equal(small.y_train, full.y_train[:500])
    assert len(small.X_val) == 125 and torch.equal(small.X_test, full.X_test)
    assert Conditions(train_rows=40).val_rows(1000) == 64 and Conditions().val_rows(1000) == 1000


def test_the_mlp_trains_on_no_more_than_its_rows(monkeypatch):
    seen = []
    original = train.TrainingStep

    def recording(model, Z, t, *args, **kwargs):
        seen.extend(len(torch.unique(member, dim=0)) for member in Z)  # distinct rows per ensemble member
        return original(model, Z, t, *args, **kwargs)

    monkeypatch.setattr(train, "TrainingStep", recording)
    settings = MODELS["mlp"].settings(TrainConfig(steps=20, eval_every=10, train_size=5000, val_size=500,
                                                  test_size=500), None)
    results = evaluate("mlp", SEED.under(Conditions(train_rows=300)), 0, [("log", "asinh"), ("raw", "none")],
                       settings, "cpu")
    assert all(r["status"] == "ok" for r in results) and seen and max(seen) <= 300


def test_extra_features_are_irrelevant_log_uniform_columns_after_the_targets_own():
    clean, extra = draw(SEED, Conditions()), draw(SEED, Conditions(extra_features=3))
    assert SEED.under(Conditions(extra_features=3)).names == SEED.names + ["extra1", "extra2", "extra3"]
    assert torch.equal(extra.X_train[:, :5], clean.X_train) and torch.equal(extra.y_train, clean.y_train)
    columns = extra.X_train[:, 5:].numpy()
    assert columns.min() >= EXTRA_RANGE[0] and columns.max() <= EXTRA_RANGE[1]
    assert np.log10(columns).std(axis=0) == pytest.approx(np.full(3, 6 / np.sqrt(12)), rel=0.05)
    twice = SEED.under(Conditions(extra_features=3)).under(Conditions(extra_features=1))
    assert twice.names == SEED.names + ["extra1"]


def test_only_changed_conditions_enter_a_record_so_clean_records_keep_their_keys():
    config = TrainConfig(steps=10)
    [clean] = plan([SEED], ["log"], ["asinh"], ["mlp"], 1, config)[0]
    [noisy, small] = plan([SEED], ["log"], ["asinh"], ["mlp"], 1, config,
                          conditions=grid([None], [0.01], ["relative"], [1.0], [0]) + [Conditions(train_rows=100)])[0]
    assert "conditions" not in clean.config
    assert noisy.config["conditions"] == {"noise": 0.01, "noise_kind": "relative"}
    assert small.config["conditions"] == {"train_rows": 100}
    assert len({clean.key, noisy.key, small.key}) == 3


def test_grid_drops_duplicates_and_describes_conditions():
    conditions = grid([None, 100], [0.0, 0.1], ["rms", "relative"], [1.0], [0])
    assert len(conditions) == 6  # noise 0 has no kind
    assert describe(Conditions()) == "clean"
    assert describe(Conditions(noise=0.1, noise_kind="relative")) == "noise=0.1, noise_kind=relative"


def test_a_size_larger_than_the_pool_is_refused_before_any_draw():
    with pytest.raises(UserError, match="larger than the training pool"):
        draw(SEED, Conditions(train_rows=5000))

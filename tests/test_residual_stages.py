"""Precision (issue 33): float64 training as a setting of the shared mlp, and residual stages (bench.stages) that
fit what the first network left, kept only while validation improves, exported and loaded bit for bit."""

import math

import numpy as np
import pandas as pd
import pytest
import torch

import bench
from bench.errors import UserError
from bench.export import export
from bench.model import EnsembleMLP, MLPConfig
from bench.records import load_records
from bench.registry import MODELS
from bench.run import main as run_main
from bench.tabletarget import TableTarget
from bench.targets import load_targets
from bench.train import TrainConfig

SMALL = {"steps": 150, "eval_every": 50, "width": 16, "depth": 2, "lr": 1e-2, "rollback": 0.0}


def planted(n, seed):
    """A small formula a 16-wide network cannot fit to 1e-5 in a few hundred steps: a product with a ripple."""
    X = np.random.default_rng(seed).uniform(0.5, 2.0, size=(n, 2))
    return X, X[:, 0] * X[:, 1] * (1 + 0.3 * np.sin(4 * X[:, 0]))


def fitted(**settings):
    X, y = planted(800, 0)
    X_val, y_val = planted(300, 1)
    return bench.EncodedMLPRegressor(encoding="log", target_encoding="asinh", **SMALL | settings).fit(X, y, X_val, y_val)


def test_settings_at_their_defaults_leave_existing_keys_alone():
    settings = MODELS["mlp"].settings(TrainConfig(), None)
    assert not {"dtype", "stages", "stage_scale"} & set(settings)
    changed = MODELS["mlp"].settings(TrainConfig(dtype="float64", stages=3, stage_scale=2.0), None)
    assert {k: changed[k] for k in ("dtype", "stages", "stage_scale")} == {"dtype": "float64", "stages": 3,
                                                                            "stage_scale": 2.0}


def test_bad_precision_settings_are_refused_naming_the_fix():
    with pytest.raises(UserError, match="choose from float32, float64"):
        TrainConfig(dtype="float16")
    with pytest.raises(UserError, match="stages must be 1 or more"):
        TrainConfig(stages=0)


def test_a_float64_network_starts_from_the_float32_initialization():
    single, double = (EnsembleMLP([3, 5], [7, 8], MLPConfig(width=8, dtype=dtype)) for dtype in ("float32", "float64"))
    for p, q in zip(single.parameters(), double.parameters()):
        assert q.dtype == torch.float64 and torch.equal(p.double(), q)


def test_a_float64_run_is_deterministic_and_differs_from_float32_only_in_dtype():
    X, _ = planted(200, 2)
    first, again, single = fitted(dtype="float64", steps=100), fitted(dtype="float64", steps=100), fitted(steps=100)
    assert all(p.dtype == torch.float64 for p in first.member_.single.parameters())
    assert all(p.dtype == torch.float32 for p in single.member_.single.parameters())
    np.testing.assert_array_equal(first.predict(X), again.predict(X))
    assert first.report_["kept_step"] == single.report_["kept_step"]
    # same initialization and batches: the two precisions train the same network to float32's rounding
    np.testing.assert_allclose(first.predict(X), single.predict(X), rtol=1e-3)


def test_a_second_stage_lowers_the_validation_error_a_single_stage_leaves():
    staged = fitted(stages=2, lbfgs_iters=60)
    single = fitted(lbfgs_iters=60)
    [stage] = staged.report_["details"]["stages"]
    first_error = single.report_["curve"][-1]["val_error"]
    assert min(point["val_error"] for point in single.report_["curve"]) > 1e-5  # one stage cannot fit it
    assert stage["kept"] and stage["val_error"] < 0.8 * min(point["val_error"] for point in single.report_["curve"])
    assert stage["curve"] and stage["curve"][-1]["step"] > SMALL["steps"]  # its own Adam steps, then its polish
    assert first_error > stage["val_error"]
    X_val, y_val = planted(300, 1)
    error = np.mean(np.abs(staged.predict(X_val) - y_val) / np.abs(y_val))
    assert error < np.mean(np.abs(single.predict(X_val) - y_val) / np.abs(y_val))


def test_a_stage_that_does_not_improve_validation_is_not_kept():
    staged = fitted(stages=3, steps=50, eval_every=50, lr=1e-6)  # later stages barely move from their start
    stages = staged.report_["details"]["stages"]
    assert stages and all(not s["kept"] for s in stages[-1:])
    assert len(staged.member_.later) == sum(s["kept"] for s in stages)
    assert len(stages) == 1 + sum(s["kept"] for s in stages)  # it stops after the first stage it does not keep


@pytest.fixture(scope="module")
def staged_results(tmp_path_factory):
    X, y, _ = load_targets()["seed"].sample(1500, seed=0)
    csv = tmp_path_factory.mktemp("data") / "seed-data.csv"
    pd.DataFrame(X.numpy(), columns=["x1", "x2", "x3", "x4", "x5"]).assign(y=y.numpy()).to_csv(csv, index=False)
    out = tmp_path_factory.mktemp("runs") / "results"
    assert run_main(["--data", str(csv), "--target", "y", "--encodings", "log", "--target-encodings", "asinh",
                     "--seeds", "1", "--device", "cpu", "--steps", "80", "--set", "eval_every=40", "--set", "width=16",
                     "--set", "depth=2", "--set", "stages=3", "--set", "dtype=float64", "--out", str(out)]) == 0
    return csv, out


def test_a_staged_float64_record_holds_its_settings_and_each_stage_s_curve(staged_results):
    [record] = load_records(staged_results[1])[0]
    assert record["config"]["settings"]["dtype"] == "float64" and record["config"]["settings"]["stages"] == 3
    stages = record["details"]["stages"]
    assert stages and all(s["curve"] and math.isfinite(s["scale"]) for s in stages)


def test_a_staged_export_round_trips_bit_for_bit(staged_results, tmp_path):
    csv, out = staged_results
    refitted = export(str(out), "seed-data", tmp_path / "model")  # refused unless the refit reproduces the record
    [record] = load_records(out)[0]
    loaded = bench.load(tmp_path / "model")
    assert len(loaded.member.later) == sum(s["kept"] for s in record["details"]["stages"]) > 0
    assert all(p.dtype == torch.float64 for p in loaded.member.single.parameters())
    target = TableTarget.load(csv, "y")
    test = target.table.split(0)[2]
    np.testing.assert_array_equal(loaded.predict(np.asarray(target.table.X[test])), refitted.prediction)

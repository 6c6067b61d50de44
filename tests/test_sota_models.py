"""TabM, RealMLP and the boosting libraries: fitted through our encoders, as shipped, early stopping on
validation only, and a missing `sota` extra stopping a sweep before any work."""

import sys

import numpy as np
import pandas as pd
import pytest
import torch
from rtdl_num_embeddings import PiecewiseLinearEmbeddings
from sklearn.preprocessing import QuantileTransformer

from baselines import tabm_model
from bench import protocol
from bench.cli import main_guard
from bench.data import sample_data
from bench.protocol import encode, evaluate
from bench.registry import MODELS
from bench.run import main
from bench.targets import load_targets
from bench.train import TrainConfig

SEED = load_targets()["seed"]
SIZES = {"train_size": 300, "val_size": 200, "test_size": 200}
TINY = {  # a few steps or trees; TabM narrower than its default so the file stays fast
    "tabm": {"steps": 4, "eval_every": 2, "d_block": 64, "batch_size": 64},
    "tabm-shipped": {"steps": 4, "eval_every": 2, "d_block": 64, "batch_size": 64},
    "realmlp": {"n_epochs": 2},
    "xgboost": {"n_estimators": 20, "early_stopping_rounds": 5},
    "lightgbm": {"n_estimators": 20, "early_stopping_rounds": 5},
    "catboost": {"n_estimators": 20, "early_stopping_rounds": 5},
}
CELLS = {"tabm-shipped": ("raw", "standard")}


def encoded_split(encoding, target_encoding):
    """The protocol's encoded training and validation rows of a small draw of the seed target."""
    data = sample_data(SEED, 0, 300, 200, 10)
    return encode(SEED, data, encoding, target_encoding, tensors=False, cache={})[0]


def tiny_settings(name):
    return MODELS[name].settings(TrainConfig(), None) | SIZES | TINY[name]


@pytest.mark.parametrize("name", list(TINY))
def test_each_model_fits_and_predicts_through_our_encoders(name):
    cell = CELLS.get(name, ("log", "asinh"))
    [result] = evaluate(name, SEED, 0, [cell], tiny_settings(name), "cpu")
    assert result["status"] == "ok", result.get("error")
    assert np.isfinite(result["metrics"]["median_rel_err"]) and np.isfinite(result["val_error"])
    assert result["throughput"]["train_samples_per_s"] > 0 and result["details"]
    if name.startswith("tabm"):
        assert [p["step"] for p in result["curve"]] == [2, 4]


def test_tabm_keeps_its_authors_defaults():
    settings = MODELS["tabm"].settings(TrainConfig(), None)
    assert {k: settings[k] for k in ("k", "n_blocks", "d_block", "dropout", "lr", "weight_decay")} == {
        "k": 32, "n_blocks": 3, "d_block": 512, "dropout": 0.1, "lr": 2e-3, "weight_decay": 3e-4}
    assert MODELS["tabm-shipped"].settings(TrainConfig(), None)["n_blocks"] == 2


def test_tabm_shipped_runs_its_authors_preprocessing():
    split = encoded_split("raw", "standard")

    def fit(name):
        return tabm_model.TabMRegressor(tiny_settings(name), 0, "cpu", split.val_point).fit(
            split.Z_train, split.t_train, split.Z_val, split.t_val)

    fitted = fit("tabm-shipped")
    quantile, model = fitted.quantile_, fitted.model_
    assert isinstance(quantile, QuantileTransformer) and quantile.output_distribution == "normal"
    assert isinstance(model.num_module, PiecewiseLinearEmbeddings) and model.num_module.linear0 is not None
    assert model.backbone.k == 32 and len(model.backbone.blocks) == 2
    plain = fit("tabm")
    assert plain.quantile_ is None and plain.model_.num_module is None and len(plain.model_.backbone.blocks) == 3


def test_realmlp_on_raw_inputs_uses_its_own_preprocessing():
    from baselines import realmlp
    split = encoded_split("raw", "none")
    model = realmlp.RealMLP(tiny_settings("realmlp"), 0, "cpu").fit(split.Z_train, split.t_train, split.Z_val,
                                                                    split.t_val).model_
    params = model._get_default_params() | {k: v for k, v in model.get_params().items() if v is not None}
    assert {"robust_scale", "smooth_clip", "embedding"} <= set(params["tfms"]) and params["num_emb_type"] == "pbld"


@pytest.mark.parametrize("name", ["tabm", "xgboost", "lightgbm", "catboost"])
def test_early_stopping_reads_validation_not_test(name, monkeypatch):
    settings = tiny_settings(name) | ({"steps": 6} if name == "tabm" else {"n_estimators": 200})
    [first] = evaluate(name, SEED, 0, [("log", "asinh")], settings, "cpu")

    def other_test_set(target, seed, *sizes):
        data = sample_data(target, seed, *sizes)
        data.X_test, data.y_test = data.X_test.flip(0) * 1.5, data.y_test.flip(0) + 1.0
        return data

    monkeypatch.setattr(protocol, "sample_data", other_test_set)
    [second] = evaluate(name, SEED, 0, [("log", "asinh")], settings, "cpu")
    assert first["details"] == second["details"] and first["val_error"] == second["val_error"]
    assert first["metrics"]["median_rel_err"] != second["metrics"]["median_rel_err"]


def test_a_missing_extra_stops_the_sweep_in_one_line(tmp_path, monkeypatch, capsys):
    monkeypatch.setitem(sys.modules, "xgboost", None)  # as if the `sota` extra were not installed
    out = tmp_path / "out"
    assert main_guard(lambda: main(["--targets", "seed", "--models", "mlp,xgboost", "--out", str(out)])) == 2
    err = capsys.readouterr().err.strip()
    assert len(err.splitlines()) == 1 and "xgboost" in err and 'pip install -e ".[sota]"' in err
    assert not out.exists()


@pytest.mark.gpu
@pytest.mark.skipif(not torch.cuda.is_available(), reason="needs CUDA")
def test_tabm_trains_on_the_device_it_is_given():
    [result] = evaluate("tabm", SEED, 0, [("log", "asinh")], tiny_settings("tabm"), "cuda")
    assert result["status"] == "ok" and "cpu" not in result["throughput"]["device"]


def test_per_equation_table_keeps_the_pipeline_chosen_on_validation(tmp_path):
    from bench.records import write_record
    from bench.report.per_equation import main

    def record(model, encoding, val, test, r2):
        config = {"target": "seed", "model": model, "encoding": encoding, "target_encoding": "asinh", "seed": 0}
        return {**config, "config": config, "status": "ok", "val_error": val, "env": {"device": "cpu (2 threads)"},
                "metrics": {"median_rel_err": test, "r2": r2, "solved": r2 > 0.999}}

    out = tmp_path / "sota"
    (out / "runs").mkdir(parents=True)
    for r in (record("tabm", "raw", 0.2, 0.01, 0.9999), record("tabm", "log", 0.1, 0.05, 0.99),
              record("xgboost", "raw", 0.3, 0.3, 0.5)):
        write_record(out, r)
    assert main([str(out), "--title", "Dev set", "--command", "python -m bench.run ..."]) == 0
    best = pd.read_csv(tmp_path / "sota.csv")
    assert best.set_index("model").loc["tabm", "encoding"] == "log"  # chosen on validation, not on test
    text = (tmp_path / "sota.md").read_text()
    assert "| seed | 0.05 (0.9900) | 0.3 (0.5000) |" in text and "Measured on cpu (2 threads)" in text and "# Dev set" in text

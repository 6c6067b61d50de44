"""scikit-learn baselines and the question's two recipes."""

import numpy as np
import pytest
import torch
from bench.encodings import build_input_encoder
from torch import nn

from baselines import question_recipes as recipes
from baselines.sklearn_models import BASELINES, make_baseline
from bench.protocol import evaluate
from bench.targets import load_targets

SEED = load_targets()["seed"]
TINY = {"train_size": 1500, "val_size": 500, "test_size": 1000}


@pytest.mark.parametrize("model", list(BASELINES))
def test_each_baseline_fits_and_predicts_through_the_shared_encoders(model):
    [result] = evaluate(model, SEED, 0, [("log", "asinh")], TINY, "cpu")
    assert result["status"] == "ok" and result["curve"] == []
    assert np.isfinite(result["metrics"]["median_rel_err"]) and "norm_l1" in result["metrics"]
    assert result["throughput"]["train_samples_per_s"] > 0 and result["convergence"]["steps_to_1pct"] is None


@pytest.mark.parametrize("model", list(BASELINES))
def test_baselines_refit_to_the_same_predictions(model):
    first, second = (evaluate(model, SEED, 3, [("product+log", "asinh")], TINY, "cpu")[0] for _ in range(2))
    assert first["status"] == "ok" and first["metrics"] == pytest.approx(second["metrics"], rel=1e-12)  # rf: threads' sum order


def test_linear_on_log_inputs_recovers_a_power_law_exactly():
    text_target = load_targets()["seed"]
    X, _, _ = text_target.sample(500, seed=0)
    X = X.numpy()
    y = X[:, 4] / X[:, 1]  # x5/x2: linear in log space, exact after the inverse of the log target
    Z = build_input_encoder("log", text_target).fit(X).transform(X)
    regressor = make_baseline("linear", {}, None).fit(Z, np.log(y))
    np.testing.assert_allclose(np.exp(regressor.predict(Z)), y, rtol=1e-8)


def test_asker_network_is_the_posted_architecture():
    net = recipes.CustomNet(5)
    linears = [m for m in net.modules() if isinstance(m, nn.Linear)]
    assert [(m.in_features, m.out_features) for m in linears] == [(5, 16), (16, 16), (16, 1)]
    assert not any(isinstance(m, (nn.ReLU, nn.Tanh, nn.SiLU)) for m in net.modules())
    x = torch.rand(7, 5) + 0.5
    first, second = net.sequential_layers
    expected = net.fc1(torch.exp(second(first(torch.log(x)))))[:, 0]
    torch.testing.assert_close(net(x), expected)


def test_answer_network_and_both_recipes_settings_match_the_question():
    net = recipes.AnswerNet(5)
    kinds = [type(m).__name__ for m in net.sequential_layers]
    assert kinds == ["Linear", "ReLU", "Linear", "ReLU", "Linear"]
    assert (recipes.ASKER_BATCH, recipes.ANSWER_BATCH, recipes.LR) == (1000, 64, 1e-2)
    assert (recipes.PLATEAU_FACTOR, recipes.PLATEAU_PATIENCE, recipes.HIDDEN, recipes.HIDDEN_LAYERS) == (0.1, 1000, 16, 1)


@pytest.mark.parametrize("model, encoding", [("seed-asker", "raw"), ("seed-answer", "standard")])
def test_recipes_train_and_report_like_every_model(model, encoding):
    settings = {"steps": 30, "eval_every": 10, "test_size": 1000, "val_size": 500, "train_size": 1000}
    [result] = evaluate(model, SEED, 0, [(encoding, "none")], settings, "cpu")
    assert result["status"] in ("ok", "diverged")
    assert [p["step"] for p in result["curve"]] == [10, 20, 30]
    assert result["throughput"]["train_samples_per_s"] > 0
    if result["status"] == "ok":
        assert result["metrics"]["norm_l1"] >= 0

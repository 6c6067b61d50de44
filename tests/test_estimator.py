"""The protocol and the public estimator: models never receive a test row, and `bench.EncodedMLPRegressor` is
the sweep's own `mlp` pipeline as a scikit-learn regressor."""

import numpy as np
import pytest
import torch
from sklearn.model_selection import GridSearchCV, cross_val_score
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import FunctionTransformer
from sklearn.utils.estimator_checks import parametrize_with_checks

import bench
from bench import registry
from bench.data import sample_data
from bench.metrics import regression_metrics
from bench.protocol import evaluate
from bench.registry import MODELS, Model
from bench.targets import load_targets
from bench.train import TrainConfig

SEED = load_targets()["seed"]
SMALL = {"steps": 120, "eval_every": 40, "width": 32, "depth": 2, "lr": 1e-2}
SIZES = {"train_size": 3000, "val_size": 1000, "test_size": 2000}


class Spy:
    """A planted model that keeps every array it is given, and predicts the mean of its training targets."""

    seen = []

    def __init__(self, settings, context):
        self.context = context

    def fit(self, X, y, X_val, y_val):
        Spy.seen += [X, y, X_val, y_val]
        self.mean_ = float(np.mean(y))
        return self

    def predict(self, X):
        return np.full(len(X), self.mean_)


def test_a_model_never_receives_the_test_rows(monkeypatch):
    monkeypatch.setattr(Spy, "seen", [])
    monkeypatch.setitem(registry.MODELS, "spy", Model(Spy, "planted", lambda config, size: SIZES))
    [result] = evaluate("spy", SEED, 0, [("raw", "none")], SIZES, "cpu")
    data = sample_data(SEED, 0, *SIZES.values())
    test_rows = {tuple(row) for row in data.X_test.numpy()} | set(data.y_test.numpy())
    received = [value for array in Spy.seen for value in (map(tuple, array) if array.ndim == 2 else array)]
    assert result["status"] == "ok" and len(received) == 2 * (3000 + 1000)
    assert len(Spy.seen) == 4 and not test_rows & set(received)  # one fit, on training and validation rows only


def test_the_estimator_predicts_what_a_sweep_scores_on_the_same_rows():
    settings = MODELS["mlp"].settings(TrainConfig(**SMALL, **SIZES), None)
    [run] = evaluate("mlp", SEED, 0, [("log", "asinh")], settings, "cpu")
    data = sample_data(SEED, 0, *SIZES.values())
    model = bench.EncodedMLPRegressor("log", "asinh", random_state=0, **SMALL)
    model.fit(data.X_train.numpy(), data.y_train.numpy(), data.X_val.numpy(), data.y_val.numpy())
    prediction = model.predict(data.X_test.numpy())
    assert regression_metrics(prediction, data.y_test.numpy(), SEED.evaluate_scale(data.X_test).numpy()) == run["metrics"]
    assert model.report_["kept_step"] == run["kept_step"]


def test_the_estimator_cross_validates_in_a_pipeline():
    X, y, _ = SEED.sample(1500, seed=3)
    pipeline = make_pipeline(FunctionTransformer(np.abs), bench.EncodedMLPRegressor(**SMALL))
    scores = cross_val_score(pipeline, X.numpy(), y.numpy(), cv=3, scoring="neg_median_absolute_error")
    assert scores.shape == (3,) and np.isfinite(scores).all()
    search = GridSearchCV(bench.EncodedMLPRegressor(**SMALL), {"encoding": ["raw", "log"]}, cv=2)
    search.fit(X.numpy()[:600], np.asinh(y.numpy()[:600]))
    assert search.best_params_["encoding"] in ("raw", "log")


def test_the_estimator_refuses_bad_input_with_clear_messages():
    with pytest.raises(ValueError, match="validation_fraction"):
        bench.EncodedMLPRegressor(validation_fraction=1.5).fit(np.ones((10, 2)), np.arange(10.0))
    with pytest.raises(ValueError, match="at least 4 samples"):
        bench.EncodedMLPRegressor().fit(np.ones((2, 2)), np.arange(2.0))
    with pytest.raises(ValueError, match="NaN"):
        bench.EncodedMLPRegressor().fit(np.full((10, 2), np.nan), np.arange(10.0))


# Every scikit-learn check a regressor faces runs; one is expected to fail, for the reason given.
EXPECTED_FAILURES = {"check_methods_subset_invariance": "float32 matmul kernels round differently for different "
                     "row counts: predictions on a subset agree with the full batch's to about 1e-6, not 1e-7"}


@parametrize_with_checks([bench.EncodedMLPRegressor(steps=400, eval_every=100, width=32, depth=2, lr=1e-2)],
                         expected_failed_checks=lambda estimator: EXPECTED_FAILURES)
def test_the_estimator_passes_scikit_learn_s_checks(estimator, check):
    torch.manual_seed(0)
    check(estimator)

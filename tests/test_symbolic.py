"""`gplearn`: a symbolic-regression row that stores the expression it found."""

import json

import numpy as np

from baselines.symbolic import _capped_relative_error
from bench.protocol import evaluate
from bench.registry import MODELS
from bench.targets import load_targets
from bench.train import TrainConfig


def test_gplearn_row_stores_its_expression_over_the_encoded_inputs():
    settings = MODELS["gplearn"].settings(TrainConfig(val_size=500, test_size=1000), 300) | {
        "population_size": 60, "generations": 2}
    [result] = evaluate("gplearn", load_targets()["seed"], 0, [("log", "none")], settings, "cpu")
    assert result["status"] == "ok" and np.isfinite(result["metrics"]["median_rel_err"])
    details = result["details"]
    assert details["expression"] and details["length"] >= 1 and "log|x4|" in details["inputs"]
    json.dumps(details, allow_nan=False)


def test_fitness_is_the_relative_error_capped_at_one_per_point():
    y = np.array([1.0, -2.0, 4.0, 0.0])
    assert _capped_relative_error(y, np.array([1.1, -2.0, 400.0, 0.0]), np.ones(4)) == 0.275
    assert _capped_relative_error(y, y, np.ones(4)) == 0.0

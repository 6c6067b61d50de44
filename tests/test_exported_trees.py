"""LightGBM's trees as arrays (bench/exported_trees.py): walked in NumPy, they predict exactly what LightGBM does,
missing values and zeros included, and arrays that point outside themselves or back (a cycle) are refused."""

import numpy as np
import pytest
import torch
from lightgbm import LGBMRegressor, early_stopping

from bench.exported_trees import Trees, check_arrays, tree_arrays


@pytest.fixture(scope="module")
def model_and_rows():
    rng = np.random.default_rng(0)
    X = rng.normal(size=(2500, 4))
    X[:300, 1] = 0.0
    y = np.sin(X[:, 0]) * X[:, 1] + np.exp(X[:, 2] / 3)
    model = LGBMRegressor(n_estimators=200, n_jobs=1, random_state=0, verbose=-1)
    model.fit(X[:2000], y[:2000], eval_X=(X[2000:],), eval_y=(y[2000:],), callbacks=[early_stopping(10, verbose=False)])
    rows = rng.normal(size=(5000, 4))
    rows[:50, 2] = np.nan
    rows[50:100, 1] = 0.0
    rows[100:110, 0] = np.inf
    return model, rows


def test_the_arrays_predict_exactly_what_lightgbm_does(model_and_rows):
    model, rows = model_and_rows
    description, arrays = tree_arrays(model)
    check_arrays(description, arrays)
    assert description["trees"] == model.best_iteration_ and description["features"] == 4
    assert description["leaves"] == description["nodes"] + description["trees"]  # binary trees
    assert np.array_equal(Trees(arrays)(rows), model.predict(rows))
    assert Trees(arrays)(rows[:0]).shape == (0,)


def test_arrays_that_point_outside_themselves_are_refused(model_and_rows):
    description, arrays = tree_arrays(model_and_rows[0])
    arrays["left"][3] = description["nodes"]
    with pytest.raises(ValueError, match="a tree points outside its arrays"):
        check_arrays(description, arrays)
    with pytest.raises(ValueError, match="tree array 'roots' is missing or not of length"):
        check_arrays(description | {"trees": description["trees"] + 1}, arrays)


@pytest.mark.parametrize("side", ["left", "right"])
def test_a_node_that_points_back_is_refused_so_a_crafted_cycle_cannot_hang_a_walk(model_and_rows, side):
    description, arrays = tree_arrays(model_and_rows[0])
    check_arrays(description, arrays)
    inner = int(torch.nonzero(arrays[side] >= 0)[0])
    arrays[side][inner] = inner  # a node that is its own child: a walk would never reach a leaf
    with pytest.raises(ValueError, match="a cycle"):
        check_arrays(description, arrays)

"""Targets: parsing the TOML contract, sampling inside bounds, float64 ground truth, rejection."""

import numpy as np
import pytest
import torch

from bench.errors import UserError
from bench.targets import load_targets, parse_targets

THREE = """
[constants]
c = 3.0

[targets.signed]
formula = "a*b + c"
[targets.signed.variables]
a = { low = 1, high = 10, sign = "+-" }
b = { low = 1e-3, high = 1e3, dist = "log-uniform" }

[targets.counted]
formula = "n / (k + 1)"
[targets.counted.variables]
n = { low = 1, high = 5, dist = "integer" }
k = { low = 0, high = "n" }

[targets.greek]
formula = "gamma**2 + sqrt(beta) * I"
[targets.greek.variables]
gamma = { low = -2, high = 2 }
beta = { low = 0, high = 1 }
I = { low = 1, high = 2 }
"""


@pytest.fixture(scope="module")
def builtins():
    return load_targets()


def test_seed_formula_matches_a_float64_numpy_reference(builtins):
    target = builtins["seed"]
    X, y, rejected = target.sample(5000, seed=1)
    x1, x2, x3, x4, x5 = X.numpy().T
    reference = x5 / x2 - (x1 - x2) / (2 * x3 * x4) * x2 / x1
    assert y.dtype == torch.float64
    np.testing.assert_allclose(y.numpy(), reference, rtol=1e-12, atol=1e-9)  # atol: cancellation near y = 0
    np.testing.assert_allclose(target.evaluate_scale(X).numpy(), x5 / x2, rtol=1e-14)
    assert rejected == 0.0


@pytest.mark.parametrize("name, upper_x2", [("seed", 0.0), ("seed-coded", 1.0)])
def test_samples_stay_inside_bounds_including_dependent_ones(builtins, name, upper_x2):
    X = builtins[name].sample(20_000, seed=2)[0].numpy()
    x1, x2, x3, x4, x5 = X.T
    assert ((500 <= x1) & (x1 <= 1000)).all()
    assert ((1 <= x2) & (x2 <= x1 - upper_x2)).all()
    assert ((1e-6 <= x4) & (x4 <= 1e-3)).all()
    if name == "seed":
        assert ((1000 <= x3) & (x3 <= 50_000)).all() and ((1 <= x5) & (x5 <= 10_000)).all()
    else:
        assert ((1 <= x3) & (x3 <= 10_000)).all()
        assert ((1000 <= x5) & (x5 < 50_000)).all() and (x5 == np.floor(x5)).all()


def test_sampling_is_seeded(builtins):
    a = builtins["seed"].sample(100, seed=7)[0]
    assert torch.equal(a, builtins["seed"].sample(100, seed=7)[0])
    assert not torch.equal(a, builtins["seed"].sample(100, seed=8)[0])


def test_user_file_with_signs_integers_reserved_names_and_constants():
    targets = parse_targets(THREE, "three.toml")
    a, b = targets["signed"].sample(20_000, seed=0)[0].numpy().T
    assert (a < 0).mean() == pytest.approx(0.5, abs=0.02) and ((1 <= abs(a)) & (abs(a) <= 10)).all()
    assert ((1e-3 <= b) & (b <= 1e3)).all()
    assert np.mean(b < 1) == pytest.approx(0.5, abs=0.02)  # log-uniform: half the mass below the geometric middle
    X, y, _ = targets["counted"].sample(20_000, seed=0)
    n, k = X.numpy().T
    assert set(np.unique(n)) == {1, 2, 3, 4} and (k < n).all()
    np.testing.assert_allclose(y.numpy(), n / (k + 1))
    X, y, _ = targets["greek"].sample(1000, seed=0)
    gamma, beta, i = X.numpy().T
    np.testing.assert_allclose(y.numpy(), gamma**2 + np.sqrt(beta) * i)
    np.testing.assert_allclose(targets["signed"].evaluate(torch.tensor([[2.0, 5.0]], dtype=torch.float64)), [13.0])


def test_rows_with_non_finite_y_are_redrawn_and_counted():
    text = """
[targets.pole]
formula = "1/log(x)"
[targets.pole.variables]
x = { low = 0.5, high = 1.2 }
"""
    target = parse_targets(text, "t")["pole"]
    # log(x) < 0 for x < 1: fine; only |1/log(x)| beyond float32 max is rejected, which is measure-zero
    X, y, rejected = target.sample(1000, seed=0)
    assert torch.isfinite(y).all() and len(y) == 1000 and 0 <= rejected < 0.01
    nan_most = """
[targets.bad]
formula = "sqrt(x)"
[targets.bad.variables]
x = { low = -10, high = 1 }
"""
    with pytest.raises(UserError, match="NaN"):
        parse_targets(nan_most, "t")["bad"].sample(1000, seed=0)


@pytest.mark.parametrize("body, message", [
    ('formula = "x +* 2"\n[targets.t.variables]\nx = { low = 0, high = 1 }', "cannot parse"),
    ('formula = "x + y"\n[targets.t.variables]\nx = { low = 0, high = 1 }', "unknown name"),
    ('formula = "x"\n[targets.t.variables]\nx = { low = 2, high = 1 }', "low .* >= high"),
    ('formula = "x"\n[targets.t.variables]\nx = { low = 0, high = 1, dist = "log-uniform" }', "0 < low"),
    ('formula = "x*y"\n[targets.t.variables]\nx = { low = 0, high = "y" }\ny = { low = 1, high = 2 }',
     "not declared before"),
    ('formula = "x"\n[targets.t.variables]\nx = { low = 0, high = 1, dist = "normal" }', "unknown dist"),
    ('formula = "x"\n[targets.t.variables]\nx = { low = 0 }', "missing high"),
    ('formula = "x"\nproducts = ["x + 1"]\n[targets.t.variables]\nx = { low = 0, high = 1 }', "product"),
    ('formul = "x"\n[targets.t.variables]\nx = { low = 0, high = 1 }', "unknown key"),
])
def test_bad_target_definitions_name_the_problem(body, message):
    with pytest.raises(UserError, match=message):
        parse_targets(f"[targets.t]\n{body}\n", "t.toml")


def test_unreadable_file_and_duplicate_names(tmp_path):
    with pytest.raises(UserError, match="cannot read targets file"):
        load_targets([tmp_path / "missing.toml"])
    dup = tmp_path / "dup.toml"
    dup.write_text('[targets.seed]\nformula = "x"\n[targets.seed.variables]\nx = { low = 0, high = 1 }\n')
    with pytest.raises(UserError, match="already defined"):
        load_targets([dup])
    bad = tmp_path / "bad.toml"
    bad.write_text("[targets.t\n")
    with pytest.raises(UserError, match="not valid TOML"):
        load_targets([bad])


def test_targets_pickle_for_worker_processes(builtins):
    import pickle

    target = builtins["seed"]
    target.sample(10, seed=0)  # compiles and caches the formula
    clone = pickle.loads(pickle.dumps(target))
    assert torch.equal(clone.sample(10, seed=0)[1], target.sample(10, seed=0)[1])


def test_the_documented_example_parses_and_samples():
    from pathlib import Path

    readme = (Path(__file__).parents[1] / "docs" / "extending.md").read_text()
    example = readme.split("```toml\n", 1)[1].split("```", 1)[0]
    target = parse_targets(example, "README.md")["coulomb"]
    X, y, _ = target.sample(2000, seed=0)
    q1, q2, r = X.numpy().T
    np.testing.assert_allclose(y.numpy(), 8.9875517923e9 * q1 * q2 / r**2, rtol=1e-12)
    assert (q1 < 0).any() and (q1 > 0).any() and len(target.product_exponents()) == 2

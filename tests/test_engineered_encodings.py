"""`diff` and `angle`: the features they add, the one rule for comparable pairs, composition and round trips."""

import math
import re

import numpy as np
import pytest
import torch
from bench.encodings import build_input_encoder
from bench.encodings.pairs import MAX_PAIRS, Differences, comparable_pairs, declared_range, overlap

from bench.errors import UserError
from bench.suite import adds_features
from bench.targets import parse_targets


def target(variables, formula="a*b"):
    rows = "\n".join(f"{name} = {{ {spec} }}" for name, spec in variables.items())
    return parse_targets(f'[targets.t]\nformula = "{formula}"\n[targets.t.variables]\n{rows}\n', "t.toml")["t"]


# II.11.3's shape: a pole where two inputs of one range meet, both signs, beside an input of another range
POLE = target({"q": 'low = 1, high = 10, dist = "log-uniform"',
               "w0": 'low = 1e9, high = 1e11, dist = "log-uniform", sign = "+-"',
               "w": 'low = 1e9, high = 1e11, dist = "log-uniform", sign = "+-"'}, "q/(w0**2 - w**2)")
ANGLED = target({"r": 'low = 1, high = 2', "theta": 'low = 0, high = "2*pi", angle = true'}, "r/sin(theta/2)**4")


def test_diff_appends_the_difference_and_sum_of_each_comparable_pair():
    X = torch.tensor([[2.0, 3e9, -5e9], [4.0, -2e10, 1e10]], dtype=torch.float64)
    encoder = build_input_encoder("diff", POLE).fit(POLE.sample(1000, seed=0)[0])
    assert encoder.pairs_ == [(1, 2)]  # q's range is another one: no partner
    expected = torch.tensor([[2.0, 3e9, -5e9, 8e9, -2e9], [4.0, -2e10, 1e10, -3e10, -1e10]], dtype=torch.float64)
    torch.testing.assert_close(encoder.transform(X), expected, rtol=0, atol=0)
    assert list(encoder.get_feature_names_out()) == ["q", "w0", "w", "w0−w", "w0+w"]
    torch.testing.assert_close(encoder.inverse_transform(encoder.transform(X)), X, rtol=0, atol=0)


def test_diff_log_makes_a_pole_where_two_inputs_meet_a_linear_function():
    X, y, _ = POLE.sample(4000, seed=0)
    for spec, exact in (("log", False), ("diff+log", True)):
        Z = build_input_encoder(spec, POLE).fit(X).transform(X).numpy()
        design = np.column_stack([Z, np.ones(len(Z))])
        residual = np.log(np.abs(y.numpy())) - design @ np.linalg.lstsq(design, np.log(np.abs(y.numpy())), rcond=None)[0]
        assert (np.abs(residual).max() < 1e-8) == exact, spec  # log|y| = log q − log|w0 − w| − log|w0 + w|


def test_one_rule_decides_which_ranges_are_comparable():
    assert overlap((1, 10), (1, 10)) == 1.0
    assert overlap((1, 10), (1, 1e3)) == pytest.approx(1 / 3)  # on log|x|: one decade of three
    assert overlap((0, 2), (0, 1)) == 0.5  # a range that reaches 0: on |x|
    assert overlap((3, 3), (3, 3)) == 0.0  # a constant has no partner
    assert comparable_pairs([(1, 10), (1.05, 10), (1, 1e3)]) == [(0, 1)]
    assert comparable_pairs([(1, 10, "uniform"), (1, 10, "integer")]) == []  # declared kinds must match
    assert declared_range("-2*pi", "2*pi", "uniform") == (0.0, 2 * math.pi, "uniform")
    assert declared_range("a + 1", "2", "uniform") is None  # a bound written in other inputs: learnt from the rows


def test_pairs_are_bounded_for_wide_inputs_closest_ranges_first():
    ranges = [(1.0, 10.0)] * 6 + [(1.02, 10.0)] * 2  # 28 comparable pairs, 16 of them of identical ranges
    pairs = comparable_pairs(ranges)
    assert len(pairs) == MAX_PAIRS and pairs == sorted(pairs)
    assert (0, 1) in pairs and (6, 7) in pairs and (0, 6) not in pairs


def test_diff_learns_ranges_on_the_rows_when_none_are_declared():
    rng = np.random.default_rng(0)
    X = torch.tensor(np.column_stack([rng.uniform(1, 2, 500), rng.uniform(1, 2, 500) * -1, rng.uniform(50, 60, 500)]))
    encoder = Differences().fit(X)
    assert encoder.pairs_ == [(0, 1)]  # the same range of |x|, whatever the sign
    assert Differences().fit(X[:, [0, 2]]).transform(X[:, [0, 2]]).shape == (500, 2)  # no pair: passes through


def test_angle_appends_periodic_and_half_angle_features():
    X = torch.tensor([[1.5, math.pi], [2.0, math.pi / 3]], dtype=torch.float64)
    encoder = build_input_encoder("angle", ANGLED).fit(X)
    theta = X[:, 1]
    expected = torch.stack([X[:, 0], theta, theta.sin(), theta.cos(), (theta / 2).sin(), (theta / 2).cos()], dim=1)
    torch.testing.assert_close(encoder.transform(X), expected, rtol=0, atol=0)
    assert list(encoder.get_feature_names_out()) == ["r", "theta", "sin(theta)", "cos(theta)", "sin(theta/2)",
                                                     "cos(theta/2)"]


def test_angle_log_makes_a_pole_at_an_angle_s_zero_linear():
    X, y, _ = ANGLED.sample(4000, seed=0)
    Z = build_input_encoder("angle+log", ANGLED).fit(X).transform(X).numpy()
    design = np.column_stack([Z, np.ones(len(Z))])
    logy = np.log(y.numpy())
    assert np.abs(logy - design @ np.linalg.lstsq(design, logy, rcond=None)[0]).max() < 1e-8


@pytest.mark.parametrize("spec", ["diff", "diff+log", "edges+diff+log", "angle+log", "edges+angle+standard"])
def test_composed_specs_round_trip(spec):
    ranged = target({"a": 'low = 1, high = 2', "b": 'low = 1, high = 2', "theta": 'low = 0, high = "pi", angle = true'})
    train, test = ranged.sample(2000, seed=0)[0], ranged.sample(500, seed=1)[0]
    encoder = build_input_encoder(spec, ranged).fit(train)
    Z = encoder.transform(test)
    assert torch.isfinite(Z).all()
    torch.testing.assert_close(encoder.inverse_transform(Z), test, rtol=1e-10, atol=0)


def test_readers_of_the_inputs_as_drawn_come_first_and_angles_must_be_declared():
    with pytest.raises(UserError, match=re.escape("so they come first; write diff+log")):
        build_input_encoder("log+diff", POLE)
    with pytest.raises(UserError, match="needs inputs declared angles"):
        build_input_encoder("angle+log", POLE)
    with pytest.raises(UserError, match="angle must be true or false"):
        target({"a": 'low = 0, high = 1, angle = "yes"'})


def test_the_suite_plans_engineered_candidates_only_where_they_add_a_column():
    assert adds_features("diff+log", POLE) and not adds_features("angle+log", POLE)
    assert adds_features("angle+log", ANGLED) and not adds_features("diff+log", ANGLED)
    assert adds_features("log", POLE)

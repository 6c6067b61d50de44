"""Encoders: round trips, fitted on the training split only, finite everywhere, numpy and tensors alike."""

import re

import numpy as np
import pytest
import torch
from bench.encodings import INPUT_ENCODINGS, TARGET_ENCODINGS, build_input_encoder, build_target_encoder
from bench.encodings.edges import Edges
from sklearn.base import clone

from bench.data import Data
from bench.errors import UserError
from bench.protocol import encode
from bench.targets import load_targets, parse_targets

SEED = load_targets()["seed"]
INVERTIBLE = ["raw", "minmax", "standard", "log", "asinh", "product", "product+log", "edges", "edges+log", "diff", "diff+log",
              "power", "ple", "periodic"]


@pytest.fixture(scope="module")
def seed_draws():
    return SEED.sample(4000, seed=0)[0], SEED.sample(2000, seed=1)[0]


def mixed_signs_and_zeros():
    """Columns that are both-signed, touch zero, span decades, and one that is all zeros."""
    rng = np.random.default_rng(0)
    magnitude = 10 ** rng.uniform(-6, 5, size=(3000, 3))
    X = magnitude * rng.choice([-1.0, 1.0], size=(3000, 3))
    X[::7, 0] = 0.0
    X[:, 2] = 0.0
    return torch.tensor(X)


@pytest.mark.parametrize("spec", INVERTIBLE)
def test_round_trip_on_the_seed_domain(spec, seed_draws):
    train, test = seed_draws
    encoder = build_input_encoder(spec, SEED).fit(train)
    Z = encoder.transform(test)
    assert torch.isfinite(Z).all()
    torch.testing.assert_close(encoder.inverse_transform(Z), test, rtol=1e-10, atol=0)


@pytest.mark.parametrize("spec", ["raw", "minmax", "standard", "log", "asinh", "power", "ple", "quantile"])
def test_finite_and_invertible_with_both_signs_and_zeros(spec):
    X = mixed_signs_and_zeros()
    encoder = build_input_encoder(spec, SEED).fit(X[:2000])
    inside = X[2000:].clamp(X[:2000].min(0).values, X[:2000].max(0).values)  # quantile clips outside the range
    Z = encoder.transform(X[2000:])
    assert torch.isfinite(Z).all()
    # affine maps keep absolute, not relative, precision: tiny values next to 1e5 lose digits
    atol = 0 if spec in ("raw", "log", "asinh") else 1e-9 * float(X.abs().max())
    rtol = 1e-6 if spec == "quantile" else 1e-9
    expected = inside if spec == "quantile" else X[2000:]
    torch.testing.assert_close(encoder.inverse_transform(encoder.transform(expected)), expected, rtol=rtol, atol=atol)


def test_log_never_yields_nan_or_inf_on_values_unseen_in_training():
    positive = torch.tensor([[1e-3], [1.0], [1e3]], dtype=torch.float64)
    encoder = build_input_encoder("log", SEED).fit(positive)
    Z = encoder.transform(torch.tensor([[0.0], [-5.0], [1e-300], [1e300]], dtype=torch.float64))
    assert torch.isfinite(Z).all()
    assert encoder.get_feature_names_out(["x"]).tolist() == ["log|x|"]


def test_log_adds_a_sign_channel_only_where_needed():
    X = torch.tensor([[1.0, -1.0, 0.0], [2.0, 3.0, 1.0]], dtype=torch.float64)
    encoder = build_input_encoder("log", SEED).fit(X)
    assert encoder.get_feature_names_out(["a", "b", "c"]).tolist() == [
        "log|a|", "log|b|", "log|c|", "sign(b)", "sign(c)"]


@pytest.mark.parametrize("spec", ["minmax", "standard", "log", "asinh", "quantile", "power", "ple"])
def test_fitted_state_comes_from_the_training_split_only(spec, seed_draws):
    train, test = seed_draws
    shifted = test * 3 + 1
    encoder = build_input_encoder(spec, SEED).fit(train)
    before = encoder.transform(shifted)
    refit_on_test = build_input_encoder(spec, SEED).fit(shifted).transform(shifted)
    torch.testing.assert_close(build_input_encoder(spec, SEED).fit(train).transform(shifted), before)
    assert not torch.allclose(before, refit_on_test)


def test_the_protocol_fits_input_and_target_encoders_on_the_training_pool(seed_draws):
    train, test = seed_draws
    test = test * 10
    data = Data(train, SEED.evaluate(train), test * 2, SEED.evaluate(test * 2), test, SEED.evaluate(test), 0.0)
    split, Z_test = encode(SEED, data, "standard", "standard", tensors=True, cache={})
    assert split.Z_train.mean(0).abs().max() < 1e-4
    assert Z_test.mean(0).abs().max() > 1 and split.Z_val.mean(0).abs().max() > 1  # neither was used to fit
    assert split.t_train.mean().abs() < 1e-4
    torch.testing.assert_close(split.t_val, split.target_encoder.transform(data.y_val[:, None])[:, 0])


def test_product_appends_the_declared_product(seed_draws):
    train, _ = seed_draws
    encoder = build_input_encoder("product", SEED).fit(train)
    Z = encoder.transform(train)
    torch.testing.assert_close(Z[:, 5], train[:, 2] * train[:, 3])
    assert encoder.get_feature_names_out().tolist()[-1] == "x3*x4"


@pytest.mark.parametrize("name", list(TARGET_ENCODINGS))
def test_target_encodings_invert_exactly_on_y(name, seed_draws):
    train, test = seed_draws
    y_train, y_test = SEED.evaluate(train)[:, None], SEED.evaluate(test)[:, None]
    encoder = build_target_encoder(name, SEED).fit(y_train)
    z = encoder.transform(y_test)
    assert torch.isfinite(z).all()
    torch.testing.assert_close(encoder.inverse_transform(z), y_test, rtol=1e-10, atol=1e-10)


def test_asinh_target_compresses_decades_and_is_unit_scale(seed_draws):
    y = SEED.evaluate(seed_draws[0])[:, None]
    z = build_target_encoder("asinh", SEED).fit(y).transform(y)
    assert float(z.std(correction=0)) == pytest.approx(1.0, rel=1e-6) and float(z.abs().max()) < 10


@pytest.mark.parametrize("spec", INVERTIBLE)
def test_numpy_in_numpy_out_and_clone(spec, seed_draws):
    train, test = seed_draws
    encoder = build_input_encoder(spec, SEED)
    fitted = clone(encoder).fit(train.numpy())
    out = fitted.transform(test.numpy())
    assert isinstance(out, np.ndarray)
    np.testing.assert_allclose(out, build_input_encoder(spec, SEED).fit(train).transform(test).numpy())
    assert clone(encoder).get_params().keys() == encoder.get_params().keys()


def test_bad_input_is_a_clear_error(seed_draws):
    encoder = build_input_encoder("standard", SEED)
    with pytest.raises(ValueError, match="NaN or inf"):
        encoder.fit(torch.tensor([[1.0], [float("nan")]], dtype=torch.float64))
    with pytest.raises(ValueError, match="2-D"):
        encoder.fit(torch.ones(3, dtype=torch.float64))
    encoder.fit(seed_draws[0])
    with pytest.raises(ValueError, match="fitted on 5"):
        encoder.transform(torch.ones(2, 3, dtype=torch.float64))
    with pytest.raises(UserError, match="unknown encoding 'lg'"):
        build_input_encoder("product+lg", SEED)


POLE = parse_targets("""[targets.pole]
formula = "1/(g - 1) * v / w"
[targets.pole.variables]
g = { low = 1, high = 2 }
v = { low = 1e2, high = 1e4, dist = "log-uniform" }
a = { low = 0, high = 3, sign = "+-" }
w = { low = "g", high = "2*g + 1" }
""", "pole.toml")["pole"]


def test_edges_measure_the_distance_to_each_uniform_range_end():
    X = POLE.sample(3000, seed=0)[0]
    encoder = build_input_encoder("edges", POLE).fit(X)
    names = encoder.get_feature_names_out().tolist()
    # v is log-uniform and a's low end is 0: neither adds a column; w's ends follow g, row by row
    assert names == ["g", "v", "a", "w", "|g|−low", "|w|−low", "high−|g|", "high−|a|", "high−|w|"]
    Z = encoder.transform(X)
    g, a, w = X[:, 0], X[:, 2], X[:, 3]
    torch.testing.assert_close(Z[:, 4:], torch.stack([g - 1, w - g, 2 - g, 3 - a.abs(), 2 * g + 1 - w], dim=1))
    assert (a < 0).any()


def test_edges_make_a_pole_at_a_range_end_linear_in_log_space():
    X = POLE.sample(3000, seed=0)[0]
    Z = build_input_encoder("edges+log", POLE).fit(X).transform(X)
    log_y = torch.log(POLE.evaluate(X))
    features = torch.cat([Z[:, [1, 3, 4]], torch.ones_like(Z[:, :1])], dim=1)  # log v, log w, log(g − 1)
    fitted = torch.linalg.lstsq(features, log_y[:, None]).solution
    assert float((features @ fitted)[:, 0].sub(log_y).abs().max()) < 1e-9


def test_edges_are_clamped_at_zero_beyond_the_range():
    X = POLE.sample(3000, seed=0)[0]
    encoder = build_input_encoder("edges", POLE).fit(X)
    outside = POLE.sample(500, seed=1, beyond=2.0)[0]
    Z = encoder.transform(outside)
    assert (Z[:, 4:] >= 0).all() and (Z[:, 4:] == 0).any()
    torch.testing.assert_close(encoder.inverse_transform(Z), outside, rtol=0, atol=0)


def test_edges_need_the_target_s_inputs_and_come_first():
    with pytest.raises(ValueError, match="one column per declared variable"):
        build_input_encoder("edges", POLE).fit(torch.ones(10, 2, dtype=torch.float64))
    for spec, fix in [("log+edges", "edges+log"), ("standard+product", "product+standard")]:
        with pytest.raises(UserError, match=re.escape(f"so they come first; write {fix}")):
            build_input_encoder(spec, POLE)


def test_edges_learn_each_column_s_range_when_none_is_declared():
    X = torch.tensor([[1.0, -4.0], [3.0, 2.0], [2.0, 8.0]], dtype=torch.float64)
    Z = Edges().fit(X).transform(torch.tensor([[2.0, -3.0], [5.0, 1.0]], dtype=torch.float64))
    # |x| − least |x| on train, then largest |x| on train − |x|, each clamped at 0 beyond the range
    torch.testing.assert_close(Z[:, 2:], torch.tensor([[1.0, 1.0, 1.0, 5.0], [4.0, 0.0, 0.0, 7.0]], dtype=torch.float64))


def test_edges_stay_finite_where_an_expression_bound_is_not():
    target = parse_targets('[targets.t]\nformula = "a*b"\n[targets.t.variables]\na = { low = 1, high = 2 }\n'
                           'b = { low = "1/(a - 1)", high = "2/(a - 1)" }\n', "t.toml")["t"]
    X = target.sample(500, seed=0)[0]
    encoder = build_input_encoder("edges", target).fit(X)
    Z = encoder.transform(torch.tensor([[1.0, 5.0]], dtype=torch.float64))  # a = 1: the bounds of b are inf
    assert torch.isfinite(Z).all()


def test_every_registered_encoding_is_covered():
    # `angle` needs inputs declared angles, which `seed` has none of: tests/test_engineered_encodings.py round-trips it
    assert set(INPUT_ENCODINGS) - {"angle"} <= {part for spec in INVERTIBLE + ["quantile"] for part in spec.split("+")}


def test_quantile_maps_to_a_standard_normal_and_inverts_inside_the_training_range(seed_draws):
    train, test = seed_draws
    encoder = build_input_encoder("quantile", SEED).fit(train)
    Z = encoder.transform(train)
    assert Z.mean(0).abs().max() < 0.05 and (Z.std(0) - 1).abs().max() < 0.1
    inside = test.clamp(train.min(0).values, train.max(0).values)
    error = (encoder.inverse_transform(encoder.transform(inside)) - inside).abs() / inside.abs()
    assert (error > 1e-6).double().mean() < 1e-3  # scikit-learn clips the outermost 1e-7 of the CDF


def test_ple_has_one_column_per_bin_and_clips_the_inner_bins(seed_draws):
    train, test = seed_draws
    encoder = build_input_encoder("ple", SEED).fit(train)
    Z = encoder.transform(test * 1.5)
    assert Z.shape[1] == 5 * 16 and len(encoder.get_feature_names_out()) == 80
    inner = Z.reshape(len(Z), 5, 16)[:, :, 1:-1]
    assert inner.min() >= 0 and inner.max() <= 1 and Z.max() > 1  # only the last bin extrapolates


def test_the_documented_encoder_example_works(seed_draws):
    from pathlib import Path

    readme = (Path(__file__).parents[1] / "docs" / "extending.md").read_text()
    code = readme.split("# encodings/cube_root.py\n", 1)[1].split("```", 1)[0]
    namespace = {}
    exec(code.replace("from .base import", "from bench.encodings.base import"), namespace)
    train, test = seed_draws
    encoder = namespace["CubeRoot"]().fit(train)
    torch.testing.assert_close(encoder.inverse_transform(encoder.transform(test)), test, rtol=1e-9, atol=0)


@pytest.mark.parametrize("spec", [name for name in INPUT_ENCODINGS if name != "angle"])  # seed declares no angle
def test_out_of_range_inputs_stay_finite_and_only_quantile_saturates(spec, seed_draws):
    """Fitted in the domain, applied to extrapolation draws (ranges widened 3×): finite everywhere; `quantile`
    maps everything beyond the training range to its edge, the others keep telling such inputs apart."""
    far = SEED.sample(2000, seed=2, beyond=3.0)[0]
    encoder = build_input_encoder(spec, SEED).fit(seed_draws[0])
    Z = encoder.transform(far)
    assert torch.isfinite(Z).all()
    largest = seed_draws[0][:, 0].max()
    beyond = [seed_draws[1][:100].clone() for _ in range(2)]
    beyond[0][:, 0], beyond[1][:, 0] = 1.5 * largest, 3 * largest  # x1 beyond its training range, rest alike
    saturated = torch.equal(*(encoder.transform(X) for X in beyond))
    assert saturated == (spec == "quantile"), spec

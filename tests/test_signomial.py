"""`signomial`: terms read off the network, pruning and snapping chosen on validation, sign-definite targets only."""

import json
from dataclasses import replace

import numpy as np
import pandas as pd
import pytest
import sympy
import torch
from bench.encodings.scale import Identity

from baselines import signomial_terms
from baselines.signomial import Fitted, LogInputs, Loss, Recipe, Signomial
from baselines.signomial_model import network_terms, nonzero_inputs, read_formula, sign_definite
from baselines.signomial_signs import FeatureView, sign_rule
from baselines.signomial_terms import Terms, json_number, refine, refit, simple_number, snap
from bench.data import sample_data
from bench.protocol import evaluate
from bench.registry import MODELS
from bench.sweep import plan
from bench.tabletarget import TableTarget
from bench.targets import load_targets, parse_targets
from bench.train import TrainConfig

TARGETS = parse_targets("""
[targets.mixed]
formula = "x1**2*x2 - 3*x1/x2"
[targets.mixed.variables]
x1 = { low = 1, high = 10, dist = "log-uniform" }
x2 = { low = 0.5, high = 2, sign = "-" }

[targets.power]
formula = "2*x1**0.4*x2"
[targets.power.variables]
x1 = { low = 0.1, high = 10, dist = "log-uniform" }
x2 = { low = 1, high = 3 }

[targets.crossing]
formula = "x1*x2"
[targets.crossing.variables]
x1 = { low = 1, high = 2 }
x2 = { low = "x1 - 1", high = 3 }

[targets.signed]
formula = "x1*x2"
[targets.signed.variables]
x1 = { low = 1, high = 2, sign = "+-" }
x2 = { low = 1, high = 3 }

[targets.chained]
formula = "x1*x2"
[targets.chained.variables]
x1 = { low = 1, high = 2, sign = "-" }
x2 = { low = "-x1 - 0.5", high = 3 }
""", "test")


@pytest.fixture(autouse=True)
def one_thread():
    """These networks are tiny: one thread is fastest, and immune to other processes on the same cores."""
    threads = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(threads)


def small_settings(steps=1000, train_size=4096):
    config = TrainConfig(steps=steps, eval_every=500, val_size=2000, test_size=5000)
    return MODELS["signomial"].settings(config, train_size)


def recovered(result):
    """The pre-snap exponent rows and the snapped formula of a signomial result."""
    rows = [list(term["exponents"].values()) for term in result["details"]["terms"]]
    return sorted(rows), sympy.sympify(result["details"]["formula"])


def test_sign_definite_accepts_one_sign_away_from_zero_and_says_why_not_otherwise():
    assert sign_definite(load_targets()["seed"]) is None and sign_definite(load_targets()["seed-coded"]) is None
    assert sign_definite(TARGETS["mixed"]) is None and sign_definite(TARGETS["chained"]) is None
    assert "x2 can reach 0" in sign_definite(TARGETS["crossing"])
    assert sign_definite(TARGETS["signed"]) is None  # both signs: the sign rule carries them


def test_a_target_whose_variable_crosses_zero_is_skipped_with_a_note_not_a_crash():
    cells, skipped = plan([TARGETS["crossing"], TARGETS["mixed"]], ["raw"], ["none"], ["signomial"], 1, TrainConfig())
    assert [c.target.name for c in cells] == ["mixed"]
    assert "can reach 0" in skipped["signomial on crossing"]


def test_network_terms_are_the_network_in_float64_with_a_negative_variable():
    X, y, _ = TARGETS["mixed"].sample(500, seed=0)
    torch.manual_seed(0)
    net = Signomial(2, 1, 6, 1).double()
    fitted = Fitted(net, LogInputs("standardized-log", X), Loss("asinh", TARGETS["mixed"], y), torch.float64)
    terms = network_terms(fitted)
    assert terms.exponents.shape == (7, 2) and not terms.exponents[-1].any()  # the output bias is the constant term
    np.testing.assert_allclose(terms.predict(X.numpy()), fitted.predict(X).numpy(), rtol=1e-10)


def test_snap_rounds_to_simple_fractions_and_refit_recovers_exact_coefficients():
    X, y, _ = TARGETS["mixed"].sample(300, seed=1)
    X, y = X.numpy(), y.numpy()
    near = Terms(np.array([[2.004, 0.997], [0.998, -1.003], [2.001, 1.002]]), np.array([-0.4, 2.0, -0.6]))
    snapped = snap(near, 1, (X, y))
    np.testing.assert_array_equal(snapped.exponents, [[1, -1], [2, 1]])  # duplicates merged into one term
    np.testing.assert_allclose(snapped.coefficients, [3, -1], rtol=1e-12)  # 3 x1/|x2| - x1^2 |x2|
    halves = snap(Terms(np.array([[0.49, -0.34]]), np.ones(1)), 2, (X, y))
    np.testing.assert_array_equal(halves.exponents, [[0.5, -0.5]])
    view = FeatureView(TARGETS["mixed"], Identity().fit(X), X, y)  # x2 < 0 on every row: |x2| is -x2
    assert sympy.simplify(view.expression(snapped, simple_number) - TARGETS["mixed"].expr) == 0
    assert np.abs(refit(snapped.exponents, X, y).predict(X) / y - 1).max() < 1e-12
    tiny = Terms(np.array([[1.0, -1.0]]), np.array([6.6743e-11]))
    assert str(view.expression(tiny, simple_number)) == "-6.6743e-11*x1/x2"  # not rounded to the fraction 0
    assert json_number(np.inf) is None and json_number(np.nan) is None and json_number(2.5) == 2.5


def test_refine_moves_perturbed_terms_to_the_exact_ones_and_leaves_a_non_finite_start_alone():
    rng = np.random.default_rng(0)
    X = np.exp(rng.uniform(np.log([1e-3, 1.0]), np.log([1.0, 1e3]), size=(2000, 2)))
    exact = Terms(np.array([[2.0, -1.0], [0.5, 1.0]]), np.array([3.0, -0.25]))
    y = exact.predict(X)
    start = Terms(exact.exponents + rng.normal(0, 0.02, size=(2, 2)), exact.coefficients * 1.05)
    refined = refine(start, X, y)
    np.testing.assert_allclose(refined.exponents, exact.exponents, atol=1e-9)
    np.testing.assert_allclose(refined.coefficients, exact.coefficients, rtol=1e-9)
    hopeless = Terms(np.array([[800.0, 0.0]]), np.array([1.0]))
    assert refine(hopeless, X, y) is hopeless


def test_refine_leaves_a_form_wider_than_its_parameter_bound_to_the_l_bfgs_polish(monkeypatch):
    """Levenberg-Marquardt's cost grows with the square of the parameters: a form with more than MAX_REFINED of
    them (here 6 > 5) comes back as it went in, one within the bound is refined."""
    rng = np.random.default_rng(1)
    X = np.exp(rng.uniform(np.log([1e-3, 1.0]), np.log([1.0, 1e3]), size=(500, 2)))
    exact = Terms(np.array([[2.0, -1.0], [0.5, 1.0]]), np.array([3.0, -0.25]))
    start = Terms(exact.exponents + 0.01, exact.coefficients)
    monkeypatch.setattr(signomial_terms, "MAX_REFINED", 5)
    assert refine(start, X, exact.predict(X)) is start
    monkeypatch.setattr(signomial_terms, "MAX_REFINED", 6)
    np.testing.assert_allclose(refine(start, X, exact.predict(X)).exponents, exact.exponents, atol=1e-9)


def test_snapping_never_keeps_a_form_that_is_worse_on_validation():
    """A network that is exactly 2 x1^0.4 x2: rounding 0.4 to a fraction with denominator <= 3 makes it worse."""
    target = TARGETS["power"]
    settings = small_settings()
    data = sample_data(target, 0, 2000, 1000, 1000)
    inputs = LogInputs("standardized-log", data.X_train)
    loss = Loss("asinh", target, data.y_train)
    net = Signomial(2, 1, 1, 0).double()
    exponents = torch.tensor([[0.4, 1.0]], dtype=torch.float64)
    with torch.no_grad():
        net.sequential_layers[0].weight.copy_(exponents * inputs.std)
        net.sequential_layers[0].bias.copy_(exponents @ inputs.mean)
        net.fc1.weight.fill_(2 / loss.s)
        net.fc1.bias.zero_()
    recipe = replace(Recipe.from_settings(settings), polish_iters=50)
    view = FeatureView(target, Identity().fit(data.X_train), data.X_train.numpy(), data.y_train.numpy())
    final, details = read_formula(Fitted(net, inputs, loss, torch.float64), view, data, recipe, settings)
    errors = details["val_error"]
    assert details["snapped"] is False and errors["snapped"] > max(errors["network"], errors["compact"])
    assert final.score(data.X_val.numpy(), data.y_val.numpy()) < 1e-9
    assert details["formula"] == "2*x1**(2/5)*x2"  # 0.4 is exactly 2/5, but no fraction with denominator <= 3


def test_signomial_recovers_a_two_term_formula_with_a_negative_variable_exactly():
    [result] = evaluate("signomial", TARGETS["mixed"], 0, [("raw", "none")], small_settings(), "cpu")
    rows, expression = recovered(result)
    np.testing.assert_allclose(rows, [[1, -1], [2, 1]], atol=0.01)
    assert result["details"]["snapped"] and sympy.simplify(expression - TARGETS["mixed"].expr) == 0
    assert result["status"] == "ok" and result["metrics"]["median_rel_err"] <= 1e-9
    json.dumps(result["details"], allow_nan=False)


def test_signomial_recovers_the_question_formula_exactly():
    """Before snapping, exactly seed's three terms, each exponent within 0.01 of the true integer; the snapped form
    is exact (about 15 s on one core)."""
    seed = load_targets()["seed"]
    settings = MODELS["signomial"].settings(TrainConfig(steps=3000, test_size=20_000), None)
    [result] = evaluate("signomial", seed, 0, [("raw", "none")], settings, "cpu")
    rows, expression = recovered(result)
    assert len(rows) == 3
    for true in ([-1, 2, -1, -1, 0], [0, -1, 0, 0, 1], [0, 1, -1, -1, 0]):
        assert min(np.abs(np.subtract(row, true)).max() for row in rows) < 0.01, true
    assert result["details"]["snapped"] and sympy.simplify(expression - seed.expr) == 0
    assert result["metrics"]["median_rel_err"] <= 1e-9


def test_on_a_data_file_the_signomial_trains_on_its_rows_and_recovers_the_question_formula(tmp_path):
    """A data file has no formula to draw from: the batches are its training rows, and the form read back is the
    question's formula (its median relative error at float64 rounding); a column holding 0 is refused."""
    seed = load_targets()["seed"]
    X, y, _ = seed.sample(6000, seed=0)
    frame = pd.DataFrame(X.numpy(), columns=seed.names).assign(y=y.numpy())
    frame.to_csv(tmp_path / "rows.csv", index=False)
    table = TableTarget.load(tmp_path / "rows.csv", "y")
    settings = MODELS["signomial"].settings(TrainConfig(steps=3000, val_size=1000, test_size=1000), 4000)
    [result] = evaluate("signomial", table, 0, [("raw", "none")], settings, "cpu")
    assert result["status"] == "ok" and result["metrics"]["median_rel_err"] <= 1e-9, result["metrics"]
    assert result["details"]["symbolic_solution"] is None and "no formula" in result["details"]["symbolic_solution_note"]
    frame.loc[3, "x2"] = 0.0
    frame.to_csv(tmp_path / "zero.csv", index=False)
    assert nonzero_inputs(TableTarget.load(tmp_path / "zero.csv", "y")) == (
        "column x2 holds 0; a signomial needs |x| > 0 (it fits log|x|)")


@pytest.mark.parametrize("name", ["power"])
def test_signomial_is_registered_for_raw_inputs_and_sign_definite_targets(name):
    model = MODELS["signomial"]
    assert model.encodings == ("raw", "diff") and model.accepts(TARGETS[name]) is None and not model.needs_scale


def test_the_sign_rule_is_the_product_of_signs_that_gives_y_s_sign_or_none():
    rng = np.random.default_rng(0)
    F = rng.uniform(1, 2, (500, 4)) * rng.choice([-1.0, 1.0], (500, 4))
    F[:, 3] = np.abs(F[:, 3])  # one sign: never part of a rule
    assert sign_rule(F, F[:, 0] * F[:, 2] * F[:, 3]) == (0, 2)
    assert sign_rule(F, np.abs(F[:, 1])) == ()
    assert sign_rule(F, F[:, 0] + F[:, 1]) is None  # a sum's sign is no product of signs


def test_signomial_on_diff_features_recovers_a_pole_where_two_inputs_meet_exactly():
    """q/(w0² − w²) with q, w0 and w of both signs: y / (sign(q) sign(w0 − w) sign(w0 + w)) = |q| |w0 − w|^-1
    |w0 + w|^-1, one term, read back as the formula itself."""
    [target] = parse_targets("""[targets.pole]
formula = "q/(w0**2 - w**2)"
[targets.pole.variables]
q = { low = 1, high = 10, dist = "log-uniform", sign = "+-" }
w0 = { low = 1, high = 100, dist = "log-uniform", sign = "+-" }
w = { low = 1, high = 100, dist = "log-uniform", sign = "+-" }
""", "test").values()
    [result] = evaluate("signomial", target, 0, [("diff", "none")], small_settings(), "cpu")
    assert result["status"] == "ok", result.get("error")
    q, w0, w = sympy.symbols("q w0 w")
    assert result["details"]["sign_rule"] == [str(q), str(w0 - w), str(w0 + w)]
    assert sympy.simplify(sympy.sympify(result["details"]["formula"]) - target.expr) == 0
    assert result["metrics"]["median_rel_err"] <= 1e-9

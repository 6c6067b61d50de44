"""`operon`: Operon finds a formula, it is read back through the grammar only, checked, and recorded."""

import importlib.util
import json
from dataclasses import replace

import numpy as np
import pytest
import sympy
from bench.encodings import build_input_encoder

from baselines.operon import Operon, OperonCell, grammar_text, target_scale
from bench.cli import main_guard
from bench.errors import UserError
from bench.formula import parse_formula
from bench.protocol import Context
from bench.registry import MODELS, check_installed
from bench.run import main
from bench.solution import encoded_columns, symbolic_solution, variables
from bench.targets import load_targets, parse_targets

pytest.importorskip("pyoperon")
SEED = load_targets()["seed"]
SMALL = {"population_size": 200, "max_evaluations": 20_000, "max_time": 20}  # a second or two per fit


def test_operon_recovers_a_power_law_and_it_is_a_symbolic_solution():
    [target] = parse_targets('[targets.t]\nformula = "x1**2/x2"\n[targets.t.variables]\nx1 = { low = 1, high = 5 }\n'
                             'x2 = { low = 1, high = 5 }', "test").values()
    (X, y, _), (X_val, y_val, _) = target.sample(500, seed=0), target.sample(500, seed=1)
    model = Operon(**SMALL, random_state=1).fit(X.numpy(), y.numpy(), X_val.numpy(), y_val.numpy())
    found = model.expression(list(variables(target).values()))
    assert symbolic_solution(found, target), found
    assert not symbolic_solution(found + sympy.Symbol("x1"), target)


def test_on_log_inputs_the_formula_in_the_raw_variables_is_the_model():
    X, y = (a.numpy() for a in SEED.sample(500, seed=0)[:2])
    X_val, y_val = (a.numpy() for a in SEED.sample(500, seed=1)[:2])
    encoder = build_input_encoder("log", SEED).fit(X)
    model = Operon(True, **SMALL, allowed_symbols="add,sub,mul,div,exp,log,constant,variable", random_state=1)
    model.fit(encoder.transform(X), y, encoder.transform(X_val), y_val)
    formula = sympy.lambdify(list(variables(SEED).values()), model.expression(encoded_columns(encoder, SEED)), "numpy")
    expected = model.predict(encoder.transform(X_val))
    np.testing.assert_allclose(formula(*X_val.T), expected, rtol=1e-3, atol=1e-3 * np.abs(expected).max())


def test_pyoperon_strings_map_to_the_grammar():
    text = grammar_text("((-3.25000000) + ((2.50000000 * X1) ^ 2)) / sqrt(1 + X2 ^ 2) * exp(0.00000000006674300001)", 2)
    X1, X2 = sympy.symbols("X1 X2")
    expr = parse_formula(text, "test", ["X1", "X2"])
    assert expr.has(X1**2) and float(expr.subs({X1: 2, X2: 3})) == pytest.approx((-3.25 + 25) / 10**0.5 * (1 + 6.6743e-11))
    assert "6.6743e-11" in text  # Operon's float32 constant, read back with its digits


@pytest.mark.parametrize("hostile", ["__import__('os').system('x')", "X1.real", "(lambda: 1)()", "X1 if X2 else X1",
                                     "X3", "nan * X1", "X1 % 2", "getattr(X1, 'x')", "X1; X2"])
def test_a_hostile_model_string_is_refused(hostile):
    with pytest.raises(UserError, match="operon's model"):
        grammar_text(hostile, 2)


@pytest.mark.parametrize("hostile", ["__import__('os').system('x')", "X1.real", "(lambda: 1)()"])
def test_the_grammar_refuses_them_too(hostile):
    with pytest.raises(UserError):
        parse_formula(hostile, "operon's model", ["X1", "X2"])


def test_a_missing_extra_names_sr(monkeypatch, tmp_path, capsys):
    find_spec = importlib.util.find_spec
    monkeypatch.setattr(importlib.util, "find_spec", lambda name, *a: None if name == "pyoperon" else find_spec(name, *a))
    with pytest.raises(UserError, match=r'needs pyoperon.*pip install -e "\.\[sr\]"'):
        check_installed("operon")
    assert main_guard(lambda: main(["--targets", "seed", "--models", "operon", "--out", str(tmp_path / "out")])) == 2
    err = capsys.readouterr().err.strip()
    assert len(err.splitlines()) == 1 and '".[sr]"' in err and not (tmp_path / "out").exists()


def test_a_sweep_writes_the_formula_and_the_check(monkeypatch, tmp_path):
    model = MODELS["operon"]
    monkeypatch.setitem(MODELS, "operon", replace(model, settings=lambda c, t: model.settings(c, t) | SMALL))
    out = tmp_path / "out"
    assert main(["--targets", "seed", "--models", "operon", "--encodings", "raw", "--target-encodings", "none",
                 "--seeds", "1", "--test-size", "2000", "--out", str(out)]) == 0
    [path] = (out / "runs").rglob("*.json")
    record = json.loads(path.read_text())
    assert record["status"] == "ok" and {"r2", "median_rel_err"} <= set(record["metrics"])
    details = record["details"]
    assert details["formula"] and details["model_string"] and details["formula_ops"] >= 1
    assert isinstance(details["symbolic_solution"], bool) and details["symbolic_solution_note"]
    assert record["config"]["settings"]["max_evaluations"] == SMALL["max_evaluations"]


def wide_target(rows=600):
    """y = exp(x1) with a median below 1 and a largest value near float32's largest (as SRSD's III.14.14)."""
    rng = np.random.default_rng(0)
    x1 = np.concatenate([rng.uniform(-14, 0, rows * 9 // 10), rng.uniform(80, 87.5, rows - rows * 9 // 10)])
    return x1[:, None], np.exp(x1)


def test_the_scaled_target_stays_within_float32_where_the_median_is_below_1():
    _, y = wide_target()
    with np.errstate(over="ignore"):
        assert np.median(y) < 1 and not np.isfinite(np.float32(y.max() / np.median(y)))  # the failure it prevents
    scaled = y / target_scale(y)
    assert np.isfinite(np.float32(scaled ** 2)).all() and np.float32(scaled.min()) > 0
    ordinary = np.random.default_rng(1).lognormal(0, 2, 500)
    assert target_scale(ordinary) == np.median(ordinary)  # the fair user's habit, where it fits


def test_operon_scaled_fits_a_target_whose_median_scaling_overflowed():
    X, y = wide_target()
    model = Operon(scale_target=True, **SMALL, random_state=1).fit(X, y, X, y)  # raised "Input contains NaN" before
    assert np.isfinite(model.y_scale_) and model.model_string_


def test_a_cell_fits_its_first_fit_rows_on_the_threads_its_settings_name(monkeypatch):
    X, y = (a.numpy() for a in SEED.sample(400, seed=0)[:2])
    seen = {}
    monkeypatch.setattr(Operon, "fit", lambda self, X, y, X_val=None, y_val=None: seen.update(rows=len(X), y=len(y)))
    context = Context(SEED, 0, "cpu", None)
    cell = OperonCell({"train_size": 400, "fit_rows": 150, "n_threads": 1, **SMALL}, context)
    assert cell.params["n_threads"] == 1 and "fit_rows" not in cell.params
    with pytest.raises(AttributeError):  # the stub fit leaves no regressor: only the rows it got matter here
        cell.fit(X, y, X, y)
    assert seen == {"rows": 150, "y": 150}

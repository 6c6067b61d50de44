"""The symbolic-solution check (SRBench's rule), the encoders' columns written out, and gplearn's programs read back."""

import numpy as np
import pytest
import sympy
from bench.encodings import build_input_encoder
from gplearn.functions import _function_map

from baselines.symbolic import EXP, program_expression
from bench import solution
from bench.solution import encoded_columns, solution_details, symbolic_solution, variables
from bench.targets import load_targets, parse_targets

SEED = load_targets()["seed"]
x1, x2, x3, x4, x5 = sympy.symbols("x1 x2 x3 x4 x5")
TRUE = x5 / x2 - x2 / (2 * x3 * x4) + x2**2 / (2 * x1 * x3 * x4)
[LINEAR] = parse_targets('[targets.linear]\nformula = "1234*x + y"\n[targets.linear.variables]\n'
                         'x = { low = 1, high = 2 }\ny = { low = 1, high = 2, sign = "+-" }', "test").values()
x, y = sympy.symbols("x y")


@pytest.mark.parametrize("found", [TRUE, TRUE + 3.7, 1.00002 * x5 / x2 - 0.49999 * x2 / (x3 * x4)
                                   + 0.5 * x2**2 / (x1 * x3 * x4) - 1e-6])
def test_the_true_formula_up_to_a_small_offset_or_rounding_is_a_solution(found):
    assert symbolic_solution(found, SEED)


@pytest.mark.parametrize("found", [x5 / x2, TRUE + 0.01 * x1, 2 * TRUE + 1, sympy.Integer(0), sympy.Float(3.5)])
def test_a_wrong_formula_a_constant_or_zero_is_not(found):
    assert not symbolic_solution(found, SEED)


@pytest.mark.parametrize("found", [-2.5 * TRUE, TRUE + 1e5])
def test_a_scale_or_offset_that_ruins_the_prediction_fails_the_r2_gate(found):
    details = solution_details(found, SEED)
    assert not details["symbolic_solution"]
    assert "but R² on held-out rows is " in details["symbolic_solution_note"]


def test_held_out_r2_matches_a_float64_reference_on_the_fixed_draw():
    X, truth, _ = LINEAR.sample(solution.HELD_OUT_ROWS, solution.HELD_OUT_SEED)
    X, truth = X.numpy(), truth.numpy()
    found = 1234.5 * x + 1.01 * y
    predicted = 1234.5 * X[:, 0] + 1.01 * X[:, 1]
    reference = 1 - np.sum((predicted - truth) ** 2) / np.sum((truth - truth.mean()) ** 2)
    assert solution.held_out_r2(found, LINEAR) == pytest.approx(reference, rel=1e-12)
    assert solution.held_out_r2(found.xreplace({y: sympy.Symbol("y", real=True)}), LINEAR) == pytest.approx(reference, rel=1e-12)
    assert solution.held_out_r2(found + sympy.log(y), LINEAR) == -np.inf  # nan where y < 0
    assert solution.held_out_r2(found + sympy.zoo, LINEAR) == -np.inf


def test_integers_are_exact_and_other_numbers_rounded_to_three_digits():
    assert not symbolic_solution(1231 * x + y, LINEAR)
    assert symbolic_solution(1234 * x + 1.0001 * y, LINEAR)
    assert solution.rounded(1234 * x + 1231 * y) == 1234 * x + 1231 * y
    assert solution.rounded(1234.5 * x + 4 * sympy.pi * y) == 1230 * x + sympy.Rational("12.6") * y
    assert solution.rounded(x ** 0.5 + sympy.sqrt(2) * y) == sympy.sqrt(x) + sympy.Rational("1.41") * y


@pytest.mark.parametrize("found", [sympy.Piecewise((1234 * x + y, y > 0)), (1234 * x + y) * sympy.Piecewise((1, y > 0)),
                                   1234 * x + y + sympy.Piecewise((0, y > 0))])
def test_a_piecewise_formula_with_a_nan_branch_is_refused(found):
    assert not symbolic_solution(found, LINEAR)
    assert not solution.decide(found, LINEAR.expr)["symbolic_solution"]


def test_a_piecewise_with_a_nan_branch_is_no_constant():
    piecewise = sympy.Piecewise((0, y > 0), (sympy.nan, True))
    assert piecewise.is_constant() and not solution.is_constant(piecewise)
    assert solution.is_constant(sympy.Rational(-37, 10)) and not solution.is_constant(x)


def test_constants_are_compared_to_three_significant_digits_at_any_scale():
    [gravity] = parse_targets('[constants]\nG = 6.6743e-11\n[targets.g]\nformula = "G*m1*m2/r**2"\n'
                              '[targets.g.variables]\nm1 = { low = 1, high = 2 }\nm2 = { low = 1, high = 2 }\n'
                              'r = { low = 1, high = 2 }', "test").values()
    m1, m2, r = sympy.symbols("m1 m2 r")
    assert symbolic_solution(6.67431e-11 * m1 * m2 / r**2, gravity)
    assert not symbolic_solution(6.67e-11 * m1 * m2 / r**2 + 1e-12 * m1, gravity)


def test_details_hold_the_simplified_formula_its_size_and_why():
    details = solution_details(TRUE + 3, SEED)
    assert details["symbolic_solution"] and details["symbolic_solution_note"].startswith("true - found = -3; R² on held-out")
    signed = sympy.simplify((TRUE + 3).xreplace({sympy.Symbol(n): s for n, s in variables(SEED).items()}), ratio=1)
    assert details["formula"] == str(signed) and details["formula_ops"] == sympy.count_ops(signed)


def test_work_is_bounded_by_size_and_by_time():
    big = sum(x1**k / (k + x2) for k in range(80))
    assert solution_details(big, SEED)["symbolic_solution_note"].startswith("not checked: ")
    slow = solution_details(TRUE, SEED, timeout=0.01)
    assert not slow["symbolic_solution"] and slow["symbolic_solution_note"].startswith("undecided: ")


def test_a_module_in_the_working_directory_cannot_shadow_the_checks_imports(tmp_path, monkeypatch):
    for name in ("sympy", "select", "bench"):
        (tmp_path / f"{name}.py").write_text("raise SystemExit('shadowed')\n")
    monkeypatch.chdir(tmp_path)
    assert symbolic_solution(TRUE, SEED)


@pytest.mark.parametrize("encoding", ["raw", "standard", "log", "minmax+log"])
def test_encoded_columns_written_out_match_the_encoder(encoding):
    [target] = parse_targets('[targets.t]\nformula = "a*b"\n[targets.t.variables]\na = { low = 1, high = 100 }\n'
                             'b = { low = 1, high = 2, sign = "+-" }', "test").values()
    encoder = build_input_encoder(encoding, target).fit(target.sample(50, seed=0)[0])
    X, _, _ = target.sample(50, seed=1)  # not the training rows: minmax maps their minimum to log 0's floor
    columns = encoded_columns(encoder, target)
    symbols = list(variables(target).values())
    written = np.column_stack([sympy.lambdify(symbols, c, "numpy")(*X.numpy().T) * np.ones(len(X)) for c in columns])
    np.testing.assert_allclose(written, encoder.transform(X).numpy(), rtol=1e-9, atol=1e-9)


def test_an_encoder_without_a_symbolic_form_is_named():
    encoder = build_input_encoder("quantile", SEED).fit(SEED.sample(1000, seed=0)[0])
    with pytest.raises(ValueError, match="Quantile"):
        encoded_columns(encoder, SEED)


def test_a_gplearn_program_reads_back_with_its_protected_functions_unguarded():
    f = _function_map
    program = [f["add"], f["mul"], 0, f["log"], 1, f["div"], EXP, 2, 0.5]  # x0*log|x1| + exp(x2)/0.5
    a, b, c = sympy.symbols("a b c")
    assert program_expression(program, [a, b, c]) == a * sympy.log(sympy.Abs(b)) + sympy.exp(c) / sympy.Float(0.5)

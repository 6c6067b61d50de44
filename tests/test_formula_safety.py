"""A targets file is data, not code: formulas go through a whitelist grammar, never through eval, and every
attempt to run code or to make the parser work without end is one line, exit 2, with no side effect."""

import json
import subprocess
import sys

import numpy as np
import pytest
import torch

from bench import cli
from bench.errors import UserError
from bench.formula import parse_formula
from bench.run import main
from bench.targets import MAX_FILE_BYTES, parse_targets

SENTINEL = "PWNED"
TOUCH = f"__import__('os').system('touch {SENTINEL}')"
ATTACKS = [  # (formula, a fragment of the one-line message)
    (f"x + {TOUCH} * 0", "attribute access `.system`"),
    ("x + (lambda: 0)()", "a lambda"),
    ("x*().__class__.__base__.__subclasses__().__len__()", "attribute access `.__len__`"),
    ("x + __import__('os').system", "attribute access `.system`"),
    (f"x + eval(\"{TOUCH}\")", "unsupported function(s) eval"),
    (f"x + exec(\"{TOUCH}\")", "unsupported function(s) exec"),
    (f"x + open('{SENTINEL}', 'w').close()", "attribute access `.close`"),
    (f"x + len(open('{SENTINEL}', 'w'))", "unsupported function(s) len"),
    (f"x + getattr(__import__('os'), 'system')('touch {SENTINEL}')", "calling `getattr("),
    (f'x + f"{{{TOUCH}}}"', "an f-string"),
    (f"x + (lambda: {TOUCH})()", "a lambda"),
    (f"x + (y := {TOUCH})", "an assignment (`:=`)"),
    (f"sqrt(*[{TOUCH}])", "a starred argument"),
    (f"sqrt(x, **{{'a': {TOUCH}}})", "a `**` argument"),
    (f"sqrt(x=x + {TOUCH})", "the keyword argument `x=`"),
    (f"x if {TOUCH} else x", "a conditional"),
    (f"x + [{TOUCH} for i in 'a'][0]", "indexing"),
    (f"x + __builtins__['eval'](\"{TOUCH}\")", "calling `__builtins__["),
    ("x + ().__class__.__mro__[1].__subclasses__()[0]", "indexing"),
    ("x + globals()['os']", "indexing"),
    (f"x + breakpoint() + {TOUCH}", "unsupported function(s) breakpoint"),
    (f"x + ｅｖａｌ(\"{TOUCH}\")", "non-ASCII character 'ｅ'"),  # NFKC would read it as eval
    ("ｘ + 1", "non-ASCII character 'ｘ'"),
    (f"x + {TOUCH} < 0", "a comparison"),
    (f"x and {TOUCH}", "`and`/`or`"),
    ("x @ x", "the operator `@`"),
    ("x + 'os'", "a string"),
    ("x + 1if x else 2", "cannot parse"),  # a parser warning must not become a second line on stderr
]


def run_in_process(tmp_path, monkeypatch, capsys, toml):
    (tmp_path / "attack.toml").write_text(toml, encoding="utf-8")
    monkeypatch.chdir(tmp_path)
    status = cli.main_guard(lambda: main(["--targets-file", "attack.toml", "--out", "out"]))
    return status, capsys.readouterr().err.strip().splitlines()


def target_file(formula, variable="x", scale=None, bound="2"):
    """A targets file with one target `t`; strings are written as JSON strings, which TOML reads alike."""
    scale_line = f"scale = {json.dumps(scale, ensure_ascii=False)}\n" if scale else ""
    return (f"[targets.t]\nformula = {json.dumps(formula, ensure_ascii=False)}\n{scale_line}[targets.t.variables]\n"
            f"{variable} = {{ low = 1, high = {json.dumps(bound)} }}\n")


@pytest.mark.filterwarnings("error")  # a warning would be a second line on stderr
@pytest.mark.parametrize("formula, fragment", ATTACKS, ids=[a[0][:40] for a in ATTACKS])
def test_code_in_a_formula_is_one_line_exit_2_and_never_runs(formula, fragment, tmp_path, monkeypatch, capsys):
    status, err = run_in_process(tmp_path, monkeypatch, capsys, target_file(formula))
    assert status == 2 and len(err) == 1 and fragment in err[0], err
    assert not (tmp_path / SENTINEL).exists() and not (tmp_path / "out").exists()


@pytest.mark.parametrize("where", ["scale", "bound", "product"])
def test_scale_bounds_and_products_use_the_same_grammar(where, tmp_path, monkeypatch, capsys):
    attack = f"x + {TOUCH}"
    toml = {"scale": target_file("x", scale=attack), "bound": target_file("x", bound=attack),
            "product": target_file("x").replace("[targets.t.variables]", f"products = [{json.dumps(attack)}]\n"
                                                                          "[targets.t.variables]")}[where]
    status, err = run_in_process(tmp_path, monkeypatch, capsys, toml)
    assert status == 2 and len(err) == 1 and "attribute access `.system`" in err[0], err
    assert not (tmp_path / SENTINEL).exists()


def test_a_unicode_look_alike_name_is_refused(tmp_path, monkeypatch, capsys):
    status, err = run_in_process(tmp_path, monkeypatch, capsys, target_file("x", variable='"ｘ"'))
    assert status == 2 and len(err) == 1 and "not an ASCII name" in err[0], err


@pytest.mark.slow
def test_the_issue_s_attacks_and_limits_as_real_processes(tmp_path):
    """python -m bench.run: the three code-execution formulas and three endless parses, each one line and exit 2."""
    files = {f"attack{i}.toml": target_file(formula) for i, (formula, _) in enumerate(ATTACKS[:3])}
    files |= {"power.toml": target_file("x + 9**9**9**9"),
              "nest.toml": target_file("(" * 10_000 + "x" + ")" * 10_000),
              "huge.toml": target_file("x" + "+x" * 5_000_000)}
    for name, text in files.items():
        (tmp_path / name).write_text(text)
        result = subprocess.run([sys.executable, "-m", "bench.run", "--targets-file", name, "--out", "out"],
                                cwd=tmp_path, capture_output=True, text=True, timeout=30)
        assert result.returncode == 2 and len(result.stderr.strip().splitlines()) == 1, (name, result.stderr)
        assert result.stderr.startswith("error: "), result.stderr
    assert sorted(p.name for p in tmp_path.iterdir()) == sorted(files)  # no sentinel, no results folder


@pytest.mark.parametrize("formula, fragment", [
    ("x + 9**9**9**9", "an exponent of 3.87e+08"),
    ("x*10**10**10", "an exponent of 1e+10"),
    ("x**(10**300)", "an exponent of 1e+300"),
    ("2**(10**300/7)", "a power of about"),
    ("((2*x)**1000)**1000", "a power of about"),
    ("(" * 10_000 + "x" + ")" * 10_000, "characters long"),
    ("(" * 101 + "x" + ")" * 101, "brackets nest more than 100 deep"),
    ("-" * 500 + "x", "nests more than 100 levels"),
    ("+".join(["x"] * 200), "nests more than 100 levels"),
    ("x" + "+x" * 5_000_000, "characters long"),
    ("exp(exp(exp(exp(10))))", "is not a finite real number"),
    ("x + 1e999", "is not a finite real number"),
    ("x + 10**400", "is not a finite real number"),
    ("x + 1/0", "is not a finite real number"),
    ("x/0", "not real-valued"),
    ("sqrt(-1)*x", "is not a finite real number"),
])
def test_work_is_bounded_before_sympy_sees_it(formula, fragment):
    with pytest.raises(UserError, match="^f: ") as error:
        parse_formula(formula, "f", ["x"])
    assert fragment in str(error.value) and "\n" not in str(error.value)
    assert len(str(error.value)) < 400


def test_a_huge_targets_file_is_refused_before_toml_reads_it():
    with pytest.raises(UserError, match="a targets file may hold 1,000,000"):
        parse_targets("# " + "x" * MAX_FILE_BYTES, "big.toml")


@pytest.mark.parametrize("formula, expected", [
    ("x^2 + x**3 + 2^3^2", lambda x: x**2 + x**3 + 2**9),  # ^ is a power that binds like **, as in convert_xor
    ("abs(x - 1.5) + Abs(-x)", lambda x: np.abs(x - 1.5) + x),
    ("log(x, 10) + log(x)", lambda x: np.log10(x) + np.log(x)),
    ("E**x + pi*x", lambda x: np.exp(x) + np.pi * x),
    ("sqrt(2)*sqrt(2*x) + exp(1) + log(2)", lambda x: 2 * np.sqrt(x) + np.e + np.log(2)),
    ("x**(1/2) + 2**(1/2)", lambda x: np.sqrt(x) + np.sqrt(2)),
    ("(2*x)**3 + -(-x)", lambda x: 8 * x**3 + x),
])
def test_accepted_formulas_match_a_float64_reference(formula, expected):
    target = parse_targets(target_file(formula), "t.toml")["t"]
    X, y, _ = target.sample(2000, seed=0)
    np.testing.assert_allclose(y.numpy(), expected(X[:, 0].numpy()), rtol=1e-13)


def test_functions_of_constants_evaluate_the_issue_s_gaussian():
    text = target_file("exp(-theta**2/2)/sqrt(2*pi)", variable="theta").replace("low = 1", "low = -4")
    target = parse_targets(text, "t.toml")["t"]
    target.check()
    X, y, _ = target.sample(5000, seed=0)
    theta = X[:, 0].numpy()
    np.testing.assert_allclose(y.numpy(), np.exp(-theta**2 / 2) / np.sqrt(2 * np.pi), rtol=1e-14)


def test_reserved_and_keyword_names_work_when_declared():
    names = ["lambda", "gamma", "beta", "I", "E", "S", "N", "pi", "sqrt", "in"]
    variables = "\n".join(f"{name} = {{ low = 1, high = 2 }}" for name in names)
    formula = "lambda*gamma + beta*I + E + S*N + pi + sqrt(sqrt) + in"
    text = f'[targets.t]\nformula = "{formula}"\n[targets.t.variables]\n{variables}\n'
    target = parse_targets(text, "t.toml")["t"]
    X, y, _ = target.sample(100, seed=0)
    lam, gamma, beta, i, e, s, n, pi, sqrt, in_ = X.numpy().T
    np.testing.assert_allclose(y.numpy(), lam * gamma + beta * i + e + s * n + pi + np.sqrt(sqrt) + in_, rtol=1e-14)


def test_constants_are_substituted_before_the_limits_apply():
    text = '[constants]\nk = 5000\n[targets.t]\nformula = "(2*x)**k"\n[targets.t.variables]\nx = { low = 1, high = 2 }\n'
    with pytest.raises(UserError, match="an exponent of 5e\\+03"):
        parse_targets(text, "t.toml")
    text = text.replace("k = 5000", "k = 3")
    target = parse_targets(text, "t.toml")["t"]
    X = torch.tensor([[1.5]], dtype=torch.float64)
    torch.testing.assert_close(target.evaluate(X), torch.tensor([27.0], dtype=torch.float64))

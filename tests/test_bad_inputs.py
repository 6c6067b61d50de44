"""A catalogue of bad inputs: each is one line naming the problem and the fix, exit 2, and no record touched."""

import subprocess
import sys

import pytest
import torch

from bench import cli
from bench.run import main

GOOD_TARGET = '[targets.t]\nformula = "x"\n[targets.t.variables]\nx = { low = 1, high = 2 }\n'
FILES = {
    "syntax.toml": "[targets.t\nformula = 1",
    "low_high.toml": '[targets.t]\nformula = "x"\n[targets.t.variables]\nx = { low = 3, high = 1 }\n',
    "log_bound.toml": '[targets.t]\nformula = "x"\n[targets.t.variables]\nx = { low = 0, high = 1, dist = "log-uniform" }\n',
    "later.toml": '[targets.t]\nformula = "x*y"\n[targets.t.variables]\nx = { low = 0, high = "y" }\ny = { low = 1, high = 2 }\n',
    "malformed.toml": '[targets.t]\nformula = "x**/2"\n[targets.t.variables]\nx = { low = 1, high = 2 }\n',
    "undeclared.toml": '[targets.t]\nformula = "x*z"\n[targets.t.variables]\nx = { low = 1, high = 2 }\n',
    "mostly_nan.toml": '[targets.t]\nformula = "log(x)"\n[targets.t.variables]\nx = { low = -9, high = 1 }\n',
    "dynamic.toml": '[targets.t]\nformula = "x+y"\n[targets.t.variables]\nx = { low = 0, high = 2 }\n'
                    'y = { low = 1, high = "x" }\n',
    "dist.toml": '[targets.t]\nformula = "x"\n[targets.t.variables]\nx = { low = 1, high = 2, dist = "normal" }\n',
    "empty.toml": "# nothing here\n",
    "function.toml": '[targets.t]\nformula = "erf(x)"\n[targets.t.variables]\nx = { low = 1, high = 2 }\n',
    "not_table.toml": "targets = 3\n",
    "no_integer.toml": '[targets.t]\nformula = "n"\n[targets.t.variables]\nn = { low = 1.2, high = 1.8, dist = "integer" }\n',
    "no_products.toml": GOOD_TARGET,
    "code.toml": GOOD_TARGET.replace('"x"', "\"x + __import__('os').system('touch PWNED')\""),
    "power.toml": GOOD_TARGET.replace('"x"', '"x + 9**9**9**9"'),
    "nest.toml": GOOD_TARGET.replace('"x"', '"' + "(" * 10_000 + "x" + ")" * 10_000 + '"'),
    "look_alike.toml": GOOD_TARGET.replace("\nx = {", '\n"ｘ" = {'),
    "constant_name.toml": '[constants]\n"k 2" = 1\n' + GOOD_TARGET,
    "huge.toml": "# " + "x" * 1_000_000 + "\n" + GOOD_TARGET,
}
CASES = [  # (arguments, a fragment the one-line message must contain)
    (["--targets", "sead"], "unknown target 'sead'; choose from"),
    (["--encodings", "lgo"], "unknown encoding 'lgo'; choose from"),
    (["--encodings", "log+"], "unknown encoding ''"),
    (["--target-encodings", "asin"], "unknown target encoding 'asin'"),
    (["--models", "mlp,xgb"], "unknown model 'xgb'; choose from"),
    (["--jobs", "2", "--scheduler", "tcp://127.0.0.1:1"], "--jobs and --scheduler conflict"),
    (["--steps", "0"], "must be at least 1"),
    (["--steps", "-5"], "must be at least 1"),
    (["--seeds", "0"], "must be at least 1"),
    (["--seeds", "two"], "expected a whole number"),
    (["--set", "widht=3"], "expected KEY=VALUE with KEY one of"),
    (["--set", "lr=fast"], "--set lr: expected a number"),
    (["--set", "lr=-1"], "lr must be positive"),
    (["--set", "lbfgs_iters=-5"], "must be 0 (no polish) or more"),
    (["--set", "lbfgs_rows=0"], "lbfgs_rows must be positive"),
    (["--set", "lbfgs_patience=0"], "lbfgs_patience must be positive"),
    (["--set", "rollback=1"], "must be 0 (never) or a factor above 1"),
    (["--set", "rollback=-2"], "must be 0 (never) or a factor above 1"),
    (["--set", "rollback=inf"], "must be 0 (never) or a factor above 1"),
    (["--set", "schedule=linear"], "unknown schedule 'linear'"),
    (["--set", "activation=swish"], "unknown activation 'swish'"),
    (["--device", "tpu"], "unknown device 'tpu'"),
    (["--targets-file", "missing.toml"], "cannot read targets file"),
    (["--targets-file", "syntax.toml"], "not valid TOML"),
    (["--targets-file", "low_high.toml"], "low (3) >= high (1); make low < high"),
    (["--targets-file", "log_bound.toml"], "log-uniform needs 0 < low"),
    (["--targets-file", "later.toml"], "refers to y, which is not declared before it"),
    (["--targets-file", "malformed.toml"], "cannot parse 'x**/2'"),
    (["--targets-file", "undeclared.toml"], "unknown name(s) z; declare them"),
    (["--targets-file", "mostly_nan.toml", "--targets", "t"], "of draws give y that is NaN"),
    (["--targets-file", "dynamic.toml", "--targets", "t"], "variable y has low >= high on some draws"),
    (["--targets-file", "dist.toml"], "unknown dist 'normal'"),
    (["--targets-file", "empty.toml"], "no targets; add a [targets.NAME] table"),
    (["--targets-file", "no_products.toml", "--targets", "t", "--encodings", "product"], "nothing to run"),
    (["--out", "a_file/results"], "cannot write results to"),
    (["--bogus"], "unrecognized arguments: --bogus"),
    (["--targets-file", "function.toml"], "unsupported function(s) erf; use"),
    (["--targets-file", "not_table.toml"], "must be tables"),
    (["--targets-file", "no_integer.toml", "--targets", "t"], "has no integer in [low, high)"),
    (["--targets-file", "latin1.toml"], "is not UTF-8 text"),
    (["--scheduler", "no-port-here"], "cannot reach the dask scheduler at no-port-here"),
    (["--set", "lr=nan"], "lr must be positive"),
    (["--targets-file", "code.toml"], "attribute access `.system` is not allowed"),
    (["--targets-file", "power.toml"], "an exponent of 3.87e+08 (the limit is 1000)"),
    (["--targets-file", "nest.toml"], "the formula is 20,001 characters long; the limit is 2,000"),
    (["--targets-file", "look_alike.toml"], "not an ASCII name"),
    (["--targets-file", "constant_name.toml"], "constant 'k 2': not a valid name"),
    (["--targets-file", "huge.toml"], "is larger than 1,000,000 bytes"),
    (["--train-size", "10000000000"], "available; lower --train-size"),
    (["--test-size", "10000000000"], "available; lower --test-size"),
    (["--train-size", "10000000000000000000000"], "cannot be drawn at all"),
    (["--noise", "-0.1"], "--noise must be a finite level >= 0"),
    (["--noise", "abc"], "--noise 'abc': 'abc' is not a number"),
    (["--noise", "0.1", "--noise-kind", "multiplicative"], "unknown --noise-kind 'multiplicative'; choose rms or"),
    (["--extrapolate", "0.5"], "--extrapolate must be a factor >= 1"),
    (["--extra-features", "-1"], "--extra-features must be 0 or more"),
    (["--extra-features", "1.5"], "'1.5' is not a whole number"),
    (["--train-rows", "1000,300000"], "--train-rows 300000 is larger than mlp's training pool (200000 rows)"),
    (["--train-rows", "0"], "--train-rows must be at least 1"),
]
if not torch.cuda.is_available():
    CASES.append((["--device", "cuda"], "CUDA is not available here; use --device cpu"))


@pytest.fixture(scope="module")
def workspace(tmp_path_factory):
    """A folder with the bad files and a results folder holding one finished record."""
    root = tmp_path_factory.mktemp("bad")
    for name, text in FILES.items():
        (root / name).write_text(text)
    (root / "a_file").write_text("not a folder")
    (root / "latin1.toml").write_bytes('[targets.t]\ndescription = "café"\n'.encode("latin-1"))
    runs = root / "results" / "runs"
    runs.mkdir(parents=True)
    (runs / "seed_mlp_log_asinh_s0_0123456789abcdef.json").write_text('{"status": "ok"}')
    return root


def snapshot(root):
    return {p.name: (p.read_bytes(), p.stat().st_mtime_ns) for p in (root / "results" / "runs").iterdir()}


@pytest.mark.parametrize("arguments, fragment", CASES, ids=[" ".join(c[0]) for c in CASES])
def test_bad_input_is_one_line_exit_2_and_touches_nothing(workspace, monkeypatch, capsys, arguments, fragment):
    monkeypatch.chdir(workspace)
    before = snapshot(workspace)
    argv = arguments + ["--steps", "1"] * ("--steps" not in arguments) + ["--out", "results"] * ("--out" not in arguments)
    try:
        status = cli.main_guard(lambda: main(argv))
    except SystemExit as exit_:  # argparse's own errors
        status = exit_.code
    err = capsys.readouterr().err.strip().splitlines()
    assert status == 2
    assert len(err) == 1 and fragment in err[0], err
    assert snapshot(workspace) == before


def test_as_a_real_process_there_is_no_traceback(workspace):
    result = subprocess.run([sys.executable, "-m", "bench.run", "--targets-file", "undeclared.toml"],
                            cwd=workspace, capture_output=True, text=True)
    assert result.returncode == 2 and "Traceback" not in result.stderr
    assert result.stderr.startswith("error: ") and len(result.stderr.strip().splitlines()) == 1


def test_catalogue_is_long_enough():
    assert len(CASES) >= 20

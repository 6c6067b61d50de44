"""Fuzzing the targets loader and the CLI with random text, random TOML trees and random numbers.

Every outcome is parsed targets (or a finished sweep) or a UserError whose message is one line: never another
exception, never a hang (each example runs under an alarm), never a file written outside --out. Examples are
bounded so that the file runs in well under a minute on 2 CPU cores.
"""

import contextlib
import io
import json
import math
import signal
import tempfile
from pathlib import Path

import sympy
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from bench import cli
from bench.errors import UserError
from bench.formula import FUNCTIONS, parse_formula
from bench.run import main
from bench.targets import parse_targets

SECONDS_PER_EXAMPLE = 20
FUZZ = settings(deadline=None, database=None, suppress_health_check=[HealthCheck.too_slow])


class Hang(BaseException):
    """Raised by the alarm; a BaseException, so that no `except Exception` in the code under test hides it."""


@contextlib.contextmanager
def time_limit(seconds=SECONDS_PER_EXAMPLE):
    def expire(signum, frame):
        raise Hang(f"an example ran longer than {seconds} s")

    previous = signal.signal(signal.SIGALRM, expire)
    signal.alarm(seconds)
    try:
        yield
    finally:
        signal.alarm(0)
        signal.signal(signal.SIGALRM, previous)


def assert_one_line(error):
    assert isinstance(error, UserError) and str(error) and "\n" not in str(error) and "\r" not in str(error), error


# Formulas: free text, a soup of the grammar's tokens and of attacks, and well-formed expressions.
NAMES = ["x", "y", "k", "pi", "E", "lambda", "I", "os", "__import__", "__class__", "eval", "nan", "inf"]
NUMBERS = st.one_of(st.integers(-10**30, 10**30).map(str), st.floats().map(repr), st.sampled_from(["1e999", "0", "1j"]))
ATOMS = st.one_of(st.sampled_from(NAMES), NUMBERS)
TOKENS = ["+", "-", "*", "/", "**", "^", "(", ")", ",", ".", "[", "]", " ", "'", '"', ":", "=", ":=", "lambda",
          "if", "else", "and", "not", "%", "//", "@", "~", "{", "}", "f'", "*", "9**9**9", "\n", "#", "ｘ"]
TOKEN_SOUP = st.lists(st.one_of(st.sampled_from(TOKENS + [f + "(" for f in FUNCTIONS]), ATOMS), max_size=30).map("".join)
EXPRESSIONS = st.recursive(ATOMS, lambda inner: st.one_of(
    st.tuples(inner, st.sampled_from(["+", "-", "*", "/", "**", "^"]), inner).map(lambda t: f"({t[0]}{t[1]}{t[2]})"),
    st.tuples(st.sampled_from(list(FUNCTIONS)), inner).map(lambda t: f"{t[0]}({t[1]})"),
    inner.map(lambda e: f"-{e}")), max_leaves=15)
FORMULAS = st.one_of(st.text(max_size=40), TOKEN_SOUP, EXPRESSIONS)

# TOML trees: schema-shaped documents with random parts, and random trees of random keys and values.
KEYS = st.one_of(st.sampled_from(["formula", "variables", "low", "high", "dist", "sign", "scale", "products",
                                  "description", "targets", "constants", "x", "y", "k", "lambda", "ｘ", "1x", "a b"]),
                 st.text(max_size=8))
SCALARS = st.one_of(st.booleans(), st.integers(-2**63, 2**63 - 1), st.floats(), FORMULAS)
TREES = st.recursive(SCALARS, lambda inner: st.one_of(st.lists(inner, max_size=3), st.dictionaries(KEYS, inner, max_size=3)),
                     max_leaves=10)
BOUNDS = st.one_of(st.integers(-10**6, 10**6), st.floats(), FORMULAS, st.sampled_from(["x", "x + 1", "k", "2*k"]))
VARIABLE = st.fixed_dictionaries({"low": BOUNDS, "high": BOUNDS}, optional={
    "dist": st.one_of(st.sampled_from(["uniform", "log-uniform", "integer"]), TREES),
    "sign": st.one_of(st.sampled_from(["+", "-", "+-"]), TREES)})
TARGET = st.fixed_dictionaries(
    {"formula": FORMULAS, "variables": st.dictionaries(KEYS, st.one_of(VARIABLE, TREES), max_size=3)},
    optional={"scale": FORMULAS, "products": st.lists(FORMULAS, max_size=2), "description": TREES})
CONSTANTS = st.dictionaries(KEYS, st.one_of(st.floats(), st.integers(-2**63, 2**63 - 1), TREES), max_size=2)
DOCUMENTS = st.one_of(
    st.fixed_dictionaries({"targets": st.dictionaries(st.one_of(st.just("t"), st.text(max_size=8)), TARGET, max_size=2)},
                          optional={"constants": CONSTANTS}),
    st.dictionaries(KEYS, TREES, max_size=3))

# Plausible documents: one target `t` over x, y and lambda, mostly valid, so that sweeps run too.
def mostly(usual, rare):
    """`usual` three times in four, else `rare`."""
    return st.integers(0, 3).flatmap(lambda draw: rare if draw == 0 else usual)


PLAUSIBLE_ATOMS = st.one_of(st.sampled_from(["x", "y", "lambda", "k", "pi", "E"]), st.integers(-3, 3).map(str),
                            st.floats(-10, 10).map(repr))
PLAUSIBLE_EXPRESSIONS = st.recursive(PLAUSIBLE_ATOMS, lambda inner: st.one_of(
    st.tuples(inner, st.sampled_from(["+", "-", "*", "/", "**", "^"]), inner).map(lambda t: f"({t[0]}{t[1]}{t[2]})"),
    st.tuples(st.sampled_from(list(FUNCTIONS)), inner).map(lambda t: f"{t[0]}({t[1]})")), max_leaves=8)
RANGES = st.tuples(st.floats(-1e3, 1e3), st.floats(1e-3, 1e3)).map(lambda t: {"low": t[0], "high": t[0] + t[1]})
OPTIONS = st.fixed_dictionaries({}, optional={"dist": st.sampled_from(["uniform", "log-uniform", "integer"]),
                                             "sign": st.sampled_from(["+", "-", "+-"])})
PLAUSIBLE_VARIABLE = mostly(st.tuples(RANGES, OPTIONS).map(lambda t: t[0] | t[1]), VARIABLE)
PLAUSIBLE = st.fixed_dictionaries(
    {"targets": st.fixed_dictionaries({"t": st.fixed_dictionaries(
        {"formula": mostly(PLAUSIBLE_EXPRESSIONS, FORMULAS),
         "variables": st.fixed_dictionaries({"x": PLAUSIBLE_VARIABLE},
                                            optional={"y": PLAUSIBLE_VARIABLE, "lambda": PLAUSIBLE_VARIABLE})},
        optional={"scale": PLAUSIBLE_EXPRESSIONS, "products": st.lists(PLAUSIBLE_EXPRESSIONS, max_size=2)})})},
    optional={"constants": st.fixed_dictionaries({"k": st.one_of(st.floats(), st.integers(-2**63, 2**63 - 1))})})


def toml(value):
    """`value` written as TOML (inline tables and arrays); strings as JSON strings, which TOML reads alike."""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, float):
        return "nan" if math.isnan(value) else repr(value)
    if isinstance(value, int):
        return str(value)
    if isinstance(value, str):
        return json.dumps(value, ensure_ascii=False)
    if isinstance(value, list):
        return "[" + ", ".join(map(toml, value)) + "]"
    return "{" + ", ".join(f"{toml(str(k))} = {toml(v)}" for k, v in value.items()) + "}"


def document_text(document):
    return "".join(f"{toml(str(key))} = {toml(value)}\n" for key, value in document.items())


@settings(FUZZ, max_examples=300)
@given(FORMULAS)
def test_a_formula_is_parsed_or_refused_in_one_line(text):
    with time_limit():
        try:
            assert isinstance(parse_formula(text, "f", ["x", "y", "lambda"], {"k": 3}), sympy.Expr)
        except UserError as error:
            assert_one_line(error)


@settings(FUZZ, max_examples=150)
@given(st.one_of(PLAUSIBLE.map(document_text), DOCUMENTS.map(document_text), st.text(max_size=200)))
def test_a_targets_file_is_parsed_or_refused_in_one_line(text):
    with time_limit():
        try:
            for target in parse_targets(text, "fuzz.toml").values():
                target.check()
        except UserError as error:
            assert_one_line(error)


SIZES = st.one_of(st.integers(1, 64), st.integers(10**11, 10**30))  # what runs in no time, or cannot fit


@settings(FUZZ, max_examples=40)
@given(PLAUSIBLE.map(document_text), SIZES, SIZES)
def test_the_cli_runs_or_refuses_in_one_line_and_writes_only_under_out(text, train_size, test_size):
    with tempfile.TemporaryDirectory() as folder, contextlib.chdir(folder), time_limit():
        Path("fuzz.toml").write_text(text, encoding="utf-8")
        argv = ["--targets-file", "fuzz.toml", "--targets", "t", "--models", "linear", "--encodings", "raw",
                "--target-encodings", "none", "--seeds", "1", "--train-size", str(train_size), "--test-size",
                str(test_size), "--out", "out"]
        err = io.StringIO()
        with contextlib.redirect_stderr(err):
            status = cli.main_guard(lambda: main(argv))
        lines = err.getvalue().strip().splitlines()
        assert status in (0, 2)
        if status == 2:
            assert len(lines) == 1 and lines[0].startswith("error: "), lines
        assert {str(p) for p in Path(".").rglob("*") if p.parts[0] != "out"} == {"fuzz.toml"}

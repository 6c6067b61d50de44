"""Built-in suites: the SRSD-Feynman transcriptions parse, sample, and match hand-computed values; min_abs_y."""

import math

import pytest
import torch

from bench.errors import UserError
from bench.suites import SUITES, load_suite
from bench.targets import FLOAT32_TINY, parse_targets

SIZES = {"srsd-easy": 30, "srsd-medium": 40, "srsd-hard": 50}
SRSD = {suite: load_suite(suite) for suite in SIZES}

# SRSD's constants, written out here so that the checks below do not read them from the suites
G, c, epsilon_0, h, hbar, alpha_fs = 6.6743e-11, 2.99792458e8, 8.854e-12, 6.626e-34, 1.054571817e-34, 7.2973525693e-3


def _value(suite, name, **values):
    target = SRSD[suite][name]
    assert sorted(values) == sorted(target.names)
    return target.evaluate(torch.tensor([[values[n] for n in target.names]], dtype=torch.float64)).item()


def test_suite_sizes_and_metadata():
    assert {suite: len(targets) for suite, targets in SRSD.items()} == SIZES
    for suite, targets in SRSD.items():
        for target in targets.values():
            assert target.difficulty == suite.removeprefix("srsd-")
            assert target.description.startswith("SRSD-Feynman ") and f"({target.difficulty} set)" in target.description
            assert target.min_abs_y == FLOAT32_TINY


@pytest.mark.parametrize("suite, name", [(suite, name) for suite, targets in SRSD.items() for name in targets])
def test_every_suite_target_samples(suite, name):
    X, y, rejected = SRSD[suite][name].sample(2000, seed=0)
    assert X.shape[0] == 2000 and torch.isfinite(y).all() and (y.abs() >= FLOAT32_TINY).all()
    target = SRSD[suite][name]  # a domain SRSD defines as mostly invalid declares it (max_rejected)
    assert rejected < (target.max_rejected if target.source["table"].get("max_rejected") else 0.2)


def test_formulas_match_hand_computed_values():
    assert _value("srsd-easy", "feynman-i-14-4", k_spring=200.0, x=-0.5) == pytest.approx(25.0, rel=1e-14)
    assert _value("srsd-easy", "feynman-iii-12-43", n=3.0) == pytest.approx(3 * h / (2 * math.pi), rel=1e-14)
    assert _value("srsd-medium", "feynman-i-12-2", q1=2.0, q2=3.0, r=0.5) == pytest.approx(
        2 * 3 / (4 * math.pi * epsilon_0 * 0.5**2), rel=1e-14)
    assert _value("srsd-medium", "feynman-i-10-7", m_0=2.0, v=1e8) == pytest.approx(
        2 / math.sqrt(1 - (1e8 / c) ** 2), rel=1e-14)
    assert _value("srsd-hard", "feynman-i-30-3", Int_0=100.0, n=10.0, theta=1.0) == pytest.approx(
        100 * math.sin(5.0) ** 2 / math.sin(0.5) ** 2, rel=1e-13)
    # SRSD's eq_func, sympy_eq and docstring disagree on these three (see the comments in srsd-hard.toml)
    assert _value("srsd-hard", "feynman-i-34-14", v=1e7, omega_0=1e10) == pytest.approx(
        (1 + 1e7 / c) / math.sqrt(1 - (1e7 / c) ** 2) * 1e10, rel=1e-14)
    assert _value("srsd-hard", "feynman-bonus-13", epsilon=1e-11, q=0.01, r=0.5, d=0.2, alpha=1.0) == pytest.approx(
        0.01 / (4 * math.pi * 1e-11 * math.sqrt(0.25 + 0.04 - 0.2 * math.cos(1.0))), rel=1e-14)
    phase = (2e9 - 1e9) * 1e-17 / 2
    assert _value("srsd-hard", "feynman-iii-9-52", p_d=1e-21, Ef=100.0, t=1e-17, omega=2e9, omega_0=1e9) == pytest.approx(
        (1e-21 * 100 * 1e-17 / (h / (2 * math.pi))) ** 2 * math.sin(phase) ** 2 / phase**2, rel=1e-12)
    assert _value("srsd-hard", "feynman-bonus-1", Z_1=2.0, Z_2=3.0, E_n=1e-17, theta=1.0) == pytest.approx(
        (6 * alpha_fs * hbar * c / (4e-17 * math.sin(0.5) ** 2)) ** 2, rel=1e-13)
    assert _value("srsd-hard", "feynman-bonus-5", d=1e9, m1=1e24, m2=3e24) == pytest.approx(
        2 * math.pi * 1e9**1.5 / math.sqrt(G * 4e24), rel=1e-14)


def test_the_dev_suite_holds_fourteen_medium_and_hard_equations_that_match_their_suite_transcription():
    dev = load_suite("srsd-dev")
    assert len(dev) == 14
    suites = {name: target for targets in SRSD.values() for name, target in targets.items()}
    for name, old in dev.items():
        new = suites[name]
        assert new.difficulty in ("medium", "hard") and f"({new.difficulty} set)" in old.description
        assert [(v.name, float(v.low), float(v.high), v.dist, v.sign) for v in old.variables] == \
               [(v.name, float(v.low), float(v.high), v.dist, v.sign) for v in new.variables], name
        X, y, _ = new.sample(1000, seed=0)
        torch.testing.assert_close(old.evaluate(X), y, rtol=1e-12, atol=0, msg=name)


MIN_ABS = """
[targets.decay]
formula = "exp(-x)"
{extra}
[targets.decay.variables]
x = {{ low = 0, high = {high} }}
"""


def test_min_abs_y_rejects_tiny_values_and_counts_them():
    # exp(-x) is below float32's smallest normal for x > -log(tiny) = 87.3: 42 % of [0, 150]
    share = -math.log(FLOAT32_TINY) / 150
    plain = parse_targets(MIN_ABS.format(extra="", high=150), "t")["decay"]
    X, y, rejected = plain.sample(5000, seed=0)
    assert rejected == 0 and (y.abs() < FLOAT32_TINY).any()
    tiny = parse_targets(MIN_ABS.format(extra='min_abs_y = "float32-normal"', high=150), "t")["decay"]
    X, y, rejected = tiny.sample(5000, seed=0)
    assert (y.abs() >= FLOAT32_TINY).all() and rejected == pytest.approx(1 - share, abs=0.02)
    number = parse_targets(MIN_ABS.format(extra="min_abs_y = 1e-3", high=10), "t")["decay"]
    X, y, rejected = number.sample(5000, seed=0)
    assert (y >= 1e-3).all() and rejected == pytest.approx(1 - math.log(1e3) / 10, abs=0.02)
    most = parse_targets(MIN_ABS.format(extra="min_abs_y = 1e-3", high=100), "t")["decay"]
    with pytest.raises(UserError, match="below min_abs_y"):
        most.sample(1000, seed=0)


def test_definition_holds_only_what_the_toml_says():
    plain = parse_targets(MIN_ABS.format(extra="", high=1), "t")["decay"]
    assert plain.difficulty == "" and plain.min_abs_y == 0
    assert "min_abs_y" not in plain.definition()["table"] and "difficulty" not in plain.definition()["table"]
    table = SRSD["srsd-easy"]["feynman-i-12-1"].definition()["table"]
    assert table["min_abs_y"] == "float32-normal" and table["difficulty"] == "easy"


@pytest.mark.parametrize("extra", ["min_abs_y = 0", "min_abs_y = -1", 'min_abs_y = "tiny"', "min_abs_y = true",
                                   "min_abs_y = nan", "difficulty = 3", "max_rejected = 1", "max_rejected = 0",
                                   'max_rejected = "most"'])
def test_bad_new_keys_name_the_problem(extra):
    with pytest.raises(UserError, match=extra.split(" ")[0]):
        parse_targets(MIN_ABS.format(extra=extra, high=1), "t.toml")


def test_a_declared_max_rejected_lets_a_mostly_invalid_domain_sample():
    text = ('[targets.t]\nformula = "sqrt(a - 0.8)"\n{extra}\n[targets.t.variables]\na = {{ low = 0, high = 1 }}\n')
    with pytest.raises(UserError, match="of draws give y that is NaN"):
        parse_targets(text.format(extra=""), "t.toml")["t"].sample(1000, seed=0)
    X, _, rejected = parse_targets(text.format(extra="max_rejected = 0.9"), "t.toml")["t"].sample(1000, seed=0)
    assert (X[:, 0] >= 0.8).all() and rejected == pytest.approx(0.8, abs=0.03)


def test_seed_suite_and_unknown_suite():
    assert sorted(load_suite("seed")) == ["seed", "seed-coded"]
    assert set(SUITES) == {"seed", "srsd-easy", "srsd-medium", "srsd-hard", "srsd-dev"}
    with pytest.raises(UserError, match="unknown suite 'srsd'.*srsd-easy"):
        load_suite("srsd")

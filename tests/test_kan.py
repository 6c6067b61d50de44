"""`kan`: pykan's recipe on any encoding, chosen on validation, its formula decoded and checked, its extra named."""

import importlib.util
import json
import random
from dataclasses import replace

import numpy as np
import pytest
import sympy
import torch
from bench.encodings import build_target_encoder

from baselines.kan import KANRegressor, curve2coef, decoded_expression, one_thread, pykan_quietly
from bench import protocol
from bench.cli import main_guard
from bench.conditions import Conditions
from bench.registry import MODELS, check_installed
from bench.run import main
from bench.targets import parse_targets
from bench.train import TrainConfig

pytest.importorskip("kan")
TINY = {"fit_rows": 200, "grids": [3, 5], "steps": 2, "symbolic_rows": 64, "symbolic_steps": 2}
LINEAR = parse_targets('[targets.lin]\nformula = "x1 + 2*x2"\n[targets.lin.variables]\nx1 = { low = 1, high = 2 }\n'
                       'x2 = { low = 1, high = 2 }', "test")["lin"].under(Conditions())


@pytest.mark.parametrize("name", ["none", "standard", "asinh"])
def test_a_formula_of_the_encoded_target_decodes_as_the_encoder_inverts(name):
    y = np.random.default_rng(0).lognormal(0, 3, (200, 1)) * np.where(np.arange(200) % 3, 1, -1)[:, None]
    encoder = build_target_encoder(name, None).fit(torch.tensor(y))
    t = sympy.Symbol("t")
    formula = sympy.lambdify(t, decoded_expression(t, encoder), "numpy")
    encoded = encoder.transform(torch.tensor(y))[:, 0].numpy()
    np.testing.assert_allclose(formula(encoded), y[:, 0], rtol=1e-9)


def test_a_target_encoding_without_a_symbolic_inverse_is_refused():
    encoder = build_target_encoder("quantile", None).fit(torch.rand(2_000, 1, dtype=torch.float64))
    with pytest.raises(ValueError, match="no symbolic inverse"):
        decoded_expression(sympy.Symbol("t"), encoder)


def test_pykan_runs_seeded_and_silent_and_leaves_the_global_generators_as_they_were(capsys):
    before = torch.random.get_rng_state(), np.random.get_state()[1].copy(), random.getstate()
    with pykan_quietly(7):
        print("pykan's chatter")
        first = np.random.rand()
    with pykan_quietly(7):
        assert np.random.rand() == first
    assert capsys.readouterr().out == ""
    assert torch.equal(torch.random.get_rng_state(), before[0]) and (np.random.get_state()[1] == before[1]).all()
    assert random.getstate() == before[2]


def test_kan_trains_on_one_thread_and_gives_the_caller_its_threads_back():
    threads = torch.get_num_threads()
    torch.set_num_threads(2)
    try:
        with one_thread():
            assert torch.get_num_threads() == 1
        assert torch.get_num_threads() == 2
    finally:
        torch.set_num_threads(threads)


def test_the_spline_least_squares_agree_with_pykan_s_and_repeat_bit_for_bit():
    from kan.spline import curve2coef as pykan_s

    generator = torch.Generator().manual_seed(0)
    x, y = torch.rand(500, 3, generator=generator), torch.rand(500, 3, 4, generator=generator)
    grid = torch.linspace(-1, 2, 10).expand(3, -1).contiguous()
    solutions = []
    for shift in range(8):  # torch's own least squares gave different digits as the arrays' alignment moved
        padding = torch.empty(7 * shift + 1)
        solutions.append(curve2coef(x.clone(), y.clone(), grid.clone(), 3))
        del padding
    assert all(torch.equal(solutions[0], s) for s in solutions) and solutions[0].is_contiguous()
    torch.testing.assert_close(solutions[0], pykan_s(x, y, grid, 3), rtol=1e-4, atol=1e-4)


def test_a_non_finite_curve_is_refused_as_pykan_s_divergence():
    x, y = torch.rand(50, 1), torch.full((50, 1, 1), torch.nan)
    with pytest.raises(RuntimeError, match="non-finite"):
        curve2coef(x, y, torch.linspace(-1, 2, 10)[None], 3)


def fitted(target, encoding, target_encoding, settings):
    """A KANRegressor fitted as the protocol fits it, on its own draws; and its validation split."""
    settings = MODELS["kan"].settings(TrainConfig(val_size=500, test_size=500), 1_000) | settings
    draws = protocol.draws_of([(target,)], 0, settings, "cpu")
    split, _ = protocol.encode_cells("kan", [(target, encoding, target_encoding)], draws)[0]
    model = KANRegressor(settings, protocol.Context(target, 0, "cpu", split))
    return model.fit(split.Z_train, split.t_train, split.Z_val, split.t_val), split


def test_a_linear_formula_is_found_exactly_and_passes_the_check():
    model, split = fitted(LINEAR, "standard", "none", {"library": "x", "symbolic_steps": 20, "steps": 10})
    details = model.report_["details"]
    assert details["kept"] == "symbolic" and details["symbolic_solution"], details
    assert split.val_error(model.predict(split.Z_val)) < 1e-4
    assert set(details["grid_val_errors"]) == {str(g) for g in MODELS["kan"].settings(TrainConfig(), None)["grids"]}


def test_the_same_fit_gives_the_same_numbers_every_time():
    first, second = (fitted(LINEAR, "log", "asinh", TINY)[0].report_["details"] for _ in range(2))
    assert first["grid_val_errors"] == second["grid_val_errors"]


def test_the_grid_kept_is_the_one_that_validates_best():
    model, split = fitted(LINEAR, "log", "asinh", TINY)
    errors = model.report_["details"]["grid_val_errors"]
    assert model.report_["details"]["grid"] == int(min(errors, key=errors.get))
    if model.report_["details"]["kept"] == "spline":
        assert split.val_error(model.predict(split.Z_val)) == pytest.approx(min(errors.values()))


def test_a_missing_extra_names_kan(monkeypatch, tmp_path, capsys):
    find_spec = importlib.util.find_spec
    monkeypatch.setattr(importlib.util, "find_spec", lambda name, *a: None if name == "kan" else find_spec(name, *a))
    with pytest.raises(Exception, match=r'pip install -e "\.\[kan\]"'):
        check_installed("kan")
    assert main_guard(lambda: main(["--targets", "seed", "--models", "kan", "--out", str(tmp_path / "out")])) == 2
    err = capsys.readouterr().err.strip()
    assert len(err.splitlines()) == 1 and '".[kan]"' in err and not (tmp_path / "out").exists()


def test_a_sweep_runs_kan_on_raw_and_log_inputs(monkeypatch, tmp_path):
    model = MODELS["kan"]
    monkeypatch.setitem(MODELS, "kan", replace(model, settings=lambda c, t: model.settings(c, t) | TINY))
    out = tmp_path / "out"
    assert main(["--targets", "seed", "--models", "kan", "--encodings", "raw,log", "--target-encodings", "asinh",
                 "--seeds", "1", "--test-size", "500", "--set", "val_size=500", "--out", str(out)]) == 0
    records = [json.loads(p.read_text()) for p in (out / "runs").rglob("*.json")]
    assert sorted(r["encoding"] for r in records) == ["log", "raw"]
    for record in records:
        assert record["status"] == "ok" and np.isfinite(record["metrics"]["median_rel_err"])
        assert isinstance(record["details"]["symbolic_solution"], bool) and record["details"]["symbolic_solution_note"]
        assert record["config"]["settings"]["fit_rows"] == TINY["fit_rows"]

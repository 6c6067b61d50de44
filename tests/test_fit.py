"""`python -m bench.fit`: the suite's recipe on a data file, the run chosen on validation exported (an mlp pipeline or
LightGBM's trees) and loaded in a fresh process, a rerun that trains nothing, and one-line refusals of bad input."""

import json
import re
import shutil
import subprocess
import sys
from dataclasses import replace

import numpy as np
import pandas as pd
import pytest

import bench
from bench import cli, exported, registry, suite
from bench import fit as fit_command
from bench.errors import UserError
from bench.export import export_run
from bench.exported import PIPELINE
from bench.metrics import regression_metrics
from bench.records import load_records
from bench.report.frames import validation_of
from bench.suite import Budget
from bench.tabletarget import TableTarget
from bench.targets import load_targets

NAMES = ["x1", "x2", "x3", "x4", "x5"]
TINY = Budget(steps=40, lbfgs_iters=5, finalist_lbfgs_iters=10, train_size=400, val_size=150, test_size=150, trees=30,
              signomial_steps=10)  # the quick budget, shrunk for tests


@pytest.fixture(scope="module")
def seed_csv(tmp_path_factory):
    X, y, _ = load_targets()["seed"].sample(600, seed=0)
    # measured at 1e-6: no run is exact, so the recipe runs every stage
    y = y.numpy() * (1 + 1e-6 * np.random.default_rng(0).standard_normal(len(y)))
    path = tmp_path_factory.mktemp("data") / "rows.csv"
    pd.DataFrame(X.numpy(), columns=NAMES).assign(y=y).to_csv(path, index=False)
    return path


@pytest.fixture(scope="module")
def fitted(seed_csv, tmp_path_factory):
    """bench.fit at the TINY budget: its model folder."""
    folder = tmp_path_factory.mktemp("fit") / "model"
    with pytest.MonkeyPatch.context() as patch:
        patch.setitem(suite.BUDGETS, "quick", TINY)
        patch.setenv("OMP_NUM_THREADS", "1")
        assert fit_command.main(["--data", str(seed_csv), "--target", "y", "--to", str(folder), "--budget", "quick",
                                 "--device", "cpu"]) == 0
    return folder


@pytest.fixture(scope="module")
def network_export(fitted, seed_csv, tmp_path_factory):
    """The export of the mlp run with the lowest validation error among bench.fit's runs."""
    records, _ = load_records(fitted / "records")
    network = min((r for r in records if r["model"] == "mlp"), key=lambda r: (validation_of(r), r["key"]))
    folder = tmp_path_factory.mktemp("network") / "model"
    export_run(fitted / "records", records, network, folder, data=seed_csv)
    return folder


def held_out(seed_csv):
    table = TableTarget.load(seed_csv, "y").table
    test = table.split(0)[2]
    return table.X[test], table.y[test]


def test_fit_runs_every_stage_and_exports_the_run_with_the_lowest_validation_error(fitted, seed_csv):
    records, _ = load_records(fitted / "records")
    assert {r["model"] for r in records} == {"mlp", "lightgbm", "signomial"}  # the signomial on the file's rows
    assert len({json.dumps(r["config"]["settings"].get("lbfgs_iters")) for r in records}) == 3  # none, candidates, final
    best = min(records, key=lambda r: (validation_of(r), r["key"]))
    info = json.loads((fitted / PIPELINE).read_text())
    assert info["run"]["key"] == best["key"] and info["columns"] == NAMES
    board = pd.read_csv(fitted / "leaderboard.csv")
    assert len(board) == len(records) and board.key[0] == best["key"] and board.chosen.tolist() == [True] + [False] * (
        len(records) - 1)
    assert board.val_error.is_monotonic_increasing
    X, y = held_out(seed_csv)
    assert regression_metrics(bench.load(fitted).predict(X), y)["median_rel_err"] == best["metrics"]["median_rel_err"]


def test_a_new_process_loads_and_predicts_what_this_one_does(fitted, seed_csv, tmp_path):
    X, _ = held_out(seed_csv)
    np.savetxt(tmp_path / "X.csv", X, delimiter=",")
    code = ("import sys, json, numpy as np, bench; X = np.loadtxt(sys.argv[2], delimiter=',');"
            "print(json.dumps(bench.load(sys.argv[1]).predict(X).tolist()))")
    out = subprocess.run([sys.executable, "-c", code, str(fitted), str(tmp_path / "X.csv")], capture_output=True,
                         text=True, check=True, cwd=tmp_path)
    assert np.array_equal(np.array(json.loads(out.stdout)), bench.load(fitted).predict(np.loadtxt(tmp_path / "X.csv",
                                                                                                  delimiter=",")))


def test_a_rerun_trains_nothing_and_writes_the_same_export(fitted, seed_csv, monkeypatch, capsys):
    before = {p.name: p.read_bytes() for p in fitted.iterdir() if p.is_file()}

    def refuse(*args, **kwargs):
        raise AssertionError("trained again")

    monkeypatch.setattr(fit_command, "execute", refuse)
    monkeypatch.setattr(fit_command, "export_run", refuse)
    monkeypatch.setitem(suite.BUDGETS, "quick", TINY)
    assert fit_command.main(["--data", str(seed_csv), "--target", "y", "--to", str(fitted), "--budget", "quick",
                             "--device", "cpu"]) == 0
    assert "* " in capsys.readouterr().out
    assert {p.name: p.read_bytes() for p in fitted.iterdir() if p.is_file()} == before


def test_a_lightgbm_run_exports_as_trees_that_predict_without_lightgbm(fitted, seed_csv, tmp_path):
    records, _ = load_records(fitted / "records")
    [trees] = [r for r in records if r["model"] == "lightgbm"]
    export_run(fitted / "records", records, trees, tmp_path / "trees", data=seed_csv)
    assert json.loads((tmp_path / "trees" / PIPELINE).read_text())["kind"] == "trees"
    X, y = held_out(seed_csv)
    np.savetxt(tmp_path / "X.csv", X, delimiter=",")
    code = ("import sys, json, numpy as np; sys.modules['lightgbm'] = None; import bench;"
            "X = np.loadtxt(sys.argv[2], delimiter=','); print(json.dumps(bench.load(sys.argv[1]).predict(X).tolist()))")
    out = subprocess.run([sys.executable, "-c", code, str(tmp_path / "trees"), str(tmp_path / "X.csv")],
                         capture_output=True, text=True, check=True)
    prediction = np.array(json.loads(out.stdout))
    assert regression_metrics(prediction, y)["median_rel_err"] == trees["metrics"]["median_rel_err"]


def test_columns_named_angles_add_the_angle_candidate_to_the_recipe(seed_csv, tmp_path):
    def candidates(argv):
        args = fit_command.parser().parse_args(["--data", str(seed_csv), "--target", "y", "--to", "m", *argv])
        staged = dict(suite.stages([fit_command.load_target(args)], TINY, 1, "cpu", str(tmp_path)))
        return {cell.encoding for cell in staged[suite.CANDIDATES]}

    assert "angle+log" not in candidates([])
    assert "angle+log" in candidates(["--angles", "x5"])


def test_a_signomial_run_exports_as_its_formula_and_predicts_what_it_scored(fitted, seed_csv, tmp_path):
    records, _ = load_records(fitted / "records")
    [formula] = [r for r in records if r["model"] == "signomial"]
    export_run(fitted / "records", records, formula, tmp_path / "formula", data=seed_csv)
    info = json.loads((tmp_path / "formula" / PIPELINE).read_text())
    assert info["kind"] == "signomial" and info["architecture"]["formula"] == formula["details"]["formula"]
    X, y = held_out(seed_csv)
    prediction = bench.load(tmp_path / "formula").predict(X)
    assert regression_metrics(prediction, y)["median_rel_err"] == formula["metrics"]["median_rel_err"]
    info["architecture"]["sign_rule"] = [len(NAMES)]  # a feature the model does not have
    (tmp_path / "formula" / PIPELINE).write_text(json.dumps(info))
    with pytest.raises(UserError, match="the sign rule names a feature the model does not have"):
        bench.load(tmp_path / "formula")


def frame_with(problem):
    X, y, _ = load_targets()["seed"].sample(200, seed=1)
    frame = pd.DataFrame(X.numpy(), columns=NAMES).assign(y=y.numpy())
    if problem == "text":
        frame["x3"] = frame["x3"].astype(object)
        frame.loc[7, "x3"] = "abc"
    elif problem == "words":
        frame["colour"] = ["red", "blue"] * (len(frame) // 2)
    elif problem == "constant":
        frame["y"] = 2.5
    elif problem == "rows":
        frame = frame.head(30)
    elif problem == "nan":
        frame.loc[4, "y"] = np.nan
    return frame


@pytest.mark.parametrize("problem, argv, message", [
    ("text", [], "feature column 'x3' is not numeric: data row 8 holds 'abc' (1 such row); fix such values in the file"),
    ("words", ["--features", "x1,colour"], "feature column 'colour' is not numeric: data row 1 holds 'red' (200 such rows)"),
    ("constant", [], "target column 'y' is constant (2.5 in every row): nothing to learn"),
    ("rows", [], "too few rows to split"),
    ("none", ["--features", "x1,x9"], "has no feature column 'x9'"),
    ("nan", [], "NaN, infinite or empty values per column: y 1; fill them in the file or drop those rows with --drop-missing"),
    ("none", ["--angles", "x9"], "--angles: 'x9' is not a feature column; choose from x1, x2, x3, x4, x5"),
])
def test_bad_input_is_one_line_exit_2_and_nothing_written(problem, argv, message, tmp_path, capsys):
    path = tmp_path / "rows.csv"
    frame_with(problem).to_csv(path, index=False)
    folder = tmp_path / "model"
    code = cli.main_guard(lambda: fit_command.main(["--data", str(path), "--target", "y", "--to", str(folder), *argv]))
    err = capsys.readouterr().err
    assert code == 2 and err.startswith("error: ") and err.count("\n") == 1 and message in err, err
    assert not folder.exists()


def test_a_folder_holding_other_files_is_refused_before_any_work(seed_csv, tmp_path, capsys):
    folder = tmp_path / "model"
    folder.mkdir()
    (folder / "notes.txt").write_text("mine")
    assert cli.main_guard(lambda: fit_command.main(["--data", str(seed_csv), "--target", "y", "--to", str(folder)])) == 2
    assert "already holds other files (notes.txt)" in capsys.readouterr().err
    assert sorted(p.name for p in folder.iterdir()) == ["notes.txt"]


def test_a_column_without_numbers_left_out_by_default_is_named(tmp_path):
    path = tmp_path / "rows.csv"
    frame_with("words").to_csv(path, index=False)
    table = TableTarget.load(path, "y").table
    assert table.names == NAMES and table.ignored == ("colour",)
    assert "left out column(s) colour, which hold no number" in table.ignored_note()
    assert TableTarget.load(path, "y", ["x1", "x2"]).table.ignored_note() is None


@pytest.mark.parametrize("change, message", [
    ({"width": 20_000}, "width 20000 is not a whole number from 1 to 16,384"),
    ({"width": 16_384, "depth": 128}, "parameters, above the limit of 100,000,000"),
    ({"width": 32}, "network tensors are not the shapes its architecture needs"),
    ({"depth": "3"}, "depth '3' is not a whole number"),
])
def test_sizes_beyond_the_limits_are_refused_before_any_tensor_is_read(network_export, tmp_path, monkeypatch, change,
                                                                      message):
    folder = shutil.copytree(network_export, tmp_path / "model")
    info = json.loads((folder / PIPELINE).read_text())
    info["architecture"]["mlp"] |= change
    (folder / PIPELINE).write_text(json.dumps(info))

    def refuse(*args, **kwargs):
        raise AssertionError("a tensor was read")

    monkeypatch.setattr(exported, "load_file", refuse)
    with pytest.raises(UserError, match=re.escape(message)):
        bench.load(folder)


def test_a_tree_count_beyond_the_limit_is_refused(fitted, seed_csv, tmp_path):
    records, _ = load_records(fitted / "records")
    [trees] = [r for r in records if r["model"] == "lightgbm"]
    folder = tmp_path / "trees"
    export_run(fitted / "records", records, trees, folder, data=seed_csv)
    info = json.loads((folder / PIPELINE).read_text())
    info["architecture"]["nodes"] = 10**12
    (folder / PIPELINE).write_text(json.dumps(info))
    with pytest.raises(UserError, match="nodes 1000000000000 is not a count up to 100,000,000"):
        bench.load(folder)
    info["architecture"]["nodes"] -= 10**12 - 1  # within the limits, but not the arrays' length
    (folder / PIPELINE).write_text(json.dumps(info))
    with pytest.raises(UserError, match="tree array 'feature' is missing or not of length"):
        bench.load(folder)


def test_a_missing_extra_is_refused_before_any_work(seed_csv, tmp_path, monkeypatch, capsys):
    monkeypatch.setitem(registry.MODELS, "lightgbm", replace(registry.MODELS["lightgbm"], requires=("no_such_module", "sota")))
    folder = tmp_path / "model"
    assert cli.main_guard(lambda: fit_command.main(["--data", str(seed_csv), "--target", "y", "--to", str(folder)])) == 2
    assert "model lightgbm needs no_such_module, which is not installed; pip install -e \".[sota]\"" in capsys.readouterr().err
    assert not folder.exists()

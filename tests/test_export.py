"""`python -m bench.export` and `bench.load`: the chosen run, refit exactly, saved without pickle, and predicting
what the run scored, for every input encoding the mlp takes and every target encoding."""

import ast
import json
import pickle
import shutil
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
import torch
from bench.encodings import INPUT_ENCODINGS, TARGET_ENCODINGS

import bench
from bench import cli
from bench.data import sample_data
from bench.errors import UserError
from bench.export import main as export_main
from bench.export import write
from bench.exported import PIPELINE
from bench.metrics import regression_metrics
from bench.records import load_records
from bench.refit import chosen, job_of, refit, target_of
from bench.run import main as run_main
from bench.tabletarget import TableTarget
from bench.targets import load_targets

NAMES = ["x1", "x2", "x3", "x4", "x5"]
SMALL = ["--seeds", "1", "--device", "cpu", "--steps", "60", "--set", "eval_every=30", "--set", "width=32",
         "--set", "depth=2"]
ENCODINGS = [name if not INPUT_ENCODINGS[name].needs_products else f"{name}+log" for name in INPUT_ENCODINGS
             if name != "edges"] + ["edges+log"]  # every input encoding the mlp takes, product and edges composed


@pytest.fixture(scope="module")
def seed_csv(tmp_path_factory):
    X, y, _ = load_targets()["seed"].sample(1500, seed=0)
    path = tmp_path_factory.mktemp("data") / "seed-data.csv"
    pd.DataFrame(X.numpy(), columns=NAMES).assign(y=y.numpy()).to_csv(path, index=False)
    return path


@pytest.fixture(scope="module")
def results(seed_csv, tmp_path_factory):
    """Two jobs on the data file (products x3*x4 and an angle declared): every input encoding with an asinh target, and log
    inputs with every target encoding."""
    out = tmp_path_factory.mktemp("runs") / "results"
    for encodings, target_encodings in [(ENCODINGS, ["asinh"]), (["log"], list(TARGET_ENCODINGS))]:
        # x2 declared an angle only so that every encoding builds and round-trips (the angle features are periodic in it)
        assert run_main(["--data", str(seed_csv), "--target", "y", "--products", "x3*x4", "--angles", "x2", "--encodings",
                         ",".join(encodings), "--target-encodings", ",".join(target_encodings), *SMALL,
                         "--out", str(out)]) == 0
    return out


@pytest.fixture(scope="module")
def exported(results, tmp_path_factory):
    """The export of the results' chosen run, and what the command said."""
    folder = tmp_path_factory.mktemp("exported") / "model"
    assert export_main([str(results), "--target", "seed-data", "--to", str(folder)]) == 0
    return folder


@pytest.fixture(scope="module")
def one_run(seed_csv, tmp_path_factory):
    """A results folder whose job is one mlp run: cheap to refit."""
    out = tmp_path_factory.mktemp("one") / "results"
    assert run_main(["--data", str(seed_csv), "--target", "y", "--encodings", "log", "--target-encodings", "asinh",
                     *SMALL, "--out", str(out)]) == 0
    return out


def held_out(seed_csv):
    target = TableTarget.load(seed_csv, "y")
    test = target.table.split(0)[2]
    return target.table.X[test], target.table.y[test]


def test_the_export_predicts_what_the_chosen_run_scored(results, exported, seed_csv):
    records, _ = load_records(results)
    best = min((r for r in records if r["status"] == "ok"), key=lambda r: r["val_error"])
    info = json.loads((exported / PIPELINE).read_text())
    assert info["run"]["key"] == best["key"] and info["columns"] == NAMES
    model = bench.load(exported)
    X, y = held_out(seed_csv)
    prediction = model.predict(X)
    assert prediction.dtype == np.float64
    assert regression_metrics(prediction, y)["median_rel_err"] == best["metrics"]["median_rel_err"]
    shuffled = pd.DataFrame(X, columns=NAMES)[["x4", "x2", "x5", "x1", "x3"]].assign(other="unused")
    assert np.array_equal(model.predict(shuffled), prediction)
    with pytest.raises(UserError, match="^X lacks column\\(s\\) x3; the model needs x1, x2, x3, x4, x5$"):
        model.predict(shuffled.drop(columns="x3"))
    with pytest.raises(UserError, match="needs \\(rows, 5\\)"):
        model.predict(X[:, :4])


def test_every_encoding_round_trips(results, seed_csv, tmp_path):
    records, _ = load_records(results)
    jobs = {r["job_seconds"]: job_of(records, r, "results") for r in records}.values()
    assert sorted(len(job) for job in jobs) == [len(TARGET_ENCODINGS) - 1, len(ENCODINGS)]  # log, asinh ran once
    refits = [f for job in jobs for f in refit(job, {"seed-data": target_of(job[0])})]
    assert {(f.record["encoding"], f.record["target_encoding"]) for f in refits} == (
        {(e, "asinh") for e in ENCODINGS} | {("log", t) for t in TARGET_ENCODINGS})
    X, y = held_out(seed_csv)
    for refitted in refits:
        record = refitted.record
        assert refitted.metrics["median_rel_err"] == record["metrics"]["median_rel_err"], record["key"]
        folder = tmp_path / record["key"]
        write(folder, refitted, results)
        model = bench.load(folder)
        assert np.array_equal(model.predict(X), refitted.prediction), (record["encoding"], record["target_encoding"])
        assert regression_metrics(model.predict(X), y)["median_rel_err"] == record["metrics"]["median_rel_err"]


def test_a_formula_target_exports_too(tmp_path):
    out, folder = tmp_path / "results", tmp_path / "model"
    assert run_main(["--targets", "seed", "--encodings", "edges+log", "--target-encodings", "asinh", *SMALL,
                     "--train-size", "1000", "--set", "val_size=300", "--test-size", "500", "--out", str(out)]) == 0
    assert export_main([str(out), "--target", "seed", "--to", str(folder)]) == 0
    record = chosen(load_records(out)[0], "seed", "results")
    data = sample_data(load_targets()["seed"], 0, 1000, 300, 500)
    prediction = bench.load(folder).predict(data.X_test.numpy())
    assert regression_metrics(prediction, data.y_test.numpy())["median_rel_err"] == record["metrics"]["median_rel_err"]


def refused(argv, folder, capsys, fragment):
    assert cli.main_guard(lambda: export_main([*argv, "--to", str(folder)])) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and err.startswith("error: ") and fragment in err, err
    assert not folder.exists()


def test_a_refit_that_does_not_reproduce_the_record_is_refused(one_run, tmp_path, capsys):
    copy = shutil.copytree(one_run, tmp_path / "results")
    records, _ = load_records(copy)
    best = chosen(records, "seed-data", "results")
    path = next(p for p in (copy / "runs").iterdir() if best["key"] in p.name)
    best["metrics"]["median_rel_err"] *= 1 + 1e-6
    path.write_text(json.dumps(best))
    refused([str(copy), "--target", "seed-data"], tmp_path / "model", capsys, "does not reproduce it")


def test_a_moved_data_file_exports_a_changed_or_missing_one_is_refused(one_run, seed_csv, tmp_path, capsys):
    changed = tmp_path / "seed-data.csv"
    frame = pd.read_csv(seed_csv)
    frame.loc[3, "x1"] += 0.5
    frame.to_csv(changed, index=False)
    refused([str(one_run), "--target", "seed-data", "--data", str(changed)], tmp_path / "model", capsys,
            "is not the one run")
    refused([str(one_run), "--target", "seed-data", "--data", str(tmp_path / "gone.csv")], tmp_path / "model", capsys,
            "pass --data FILE")
    moved = shutil.copy(seed_csv, tmp_path / "elsewhere.csv")
    assert export_main([str(one_run), "--target", "seed-data", "--data", str(moved), "--to", str(tmp_path / "model")]) == 0
    assert json.loads((tmp_path / "model" / PIPELINE).read_text())["run"]["target"] == "seed-data"


def test_an_unknown_target_is_refused(one_run, tmp_path, capsys):
    refused([str(one_run), "--target", "seed"], tmp_path / "model", capsys,
            "holds no record of target 'seed'; its targets: seed-data")


def test_other_models_are_refused_naming_the_mlp(seed_csv, tmp_path, capsys):
    out = tmp_path / "linear"
    assert run_main(["--data", str(seed_csv), "--target", "y", "--models", "linear", "--encodings", "log",
                     "--target-encodings", "asinh", "--seeds", "1", "--out", str(out)]) == 0
    capsys.readouterr()
    refused([str(out), "--target", "seed-data"], tmp_path / "model", capsys,
            "(its records are of linear); export supports the mlp model only")


def test_a_folder_naming_an_unknown_encoder_class_is_refused(exported, tmp_path):
    folder = shutil.copytree(exported, tmp_path / "model")
    info = json.loads((folder / PIPELINE).read_text())
    info["input_encoder"][0]["class"] = "os.system"
    (folder / PIPELINE).write_text(json.dumps(info))
    with pytest.raises(UserError, match="unknown encoder class 'os.system'"):
        bench.load(folder)
    with pytest.raises(UserError, match="cannot read"):
        bench.load(tmp_path / "nowhere")


def test_loading_never_unpickles(exported, seed_csv, monkeypatch):
    def refuse(*args, **kwargs):
        raise AssertionError("unpickling")

    for module, name in [(pickle, "load"), (pickle, "loads"), (pickle, "Unpickler"), (torch, "load"), (np, "load")]:
        monkeypatch.setattr(module, name, refuse)
    bench.load(exported).predict(held_out(seed_csv)[0])


def test_export_and_load_modules_never_import_pickle():
    for name in ("export", "exported", "encoder_state", "refit"):
        tree = ast.parse((Path(bench.__file__).parent / f"{name}.py").read_text())
        imported = {alias.name for node in ast.walk(tree) if isinstance(node, ast.Import) for alias in node.names}
        imported |= {node.module for node in ast.walk(tree) if isinstance(node, ast.ImportFrom)}
        imported |= {f"{node.module}.{alias.name}" for node in ast.walk(tree) if isinstance(node, ast.ImportFrom)
                     for alias in node.names}
        assert not {m for m in imported if m.split(".")[0] in ("pickle", "marshal", "dill", "cloudpickle")}, name
        assert not {m for m in imported if m in ("joblib.load", "torch.load", "numpy.load")}, name
        calls = {ast.unparse(node.func) for node in ast.walk(tree) if isinstance(node, ast.Call)}
        assert not calls & {"joblib.load", "torch.load", "np.load", "pickle.load", "pickle.loads"}, name


def test_the_refit_uses_the_jobs_thread_count(seed_csv, tmp_path, monkeypatch):
    out = tmp_path / "results"
    monkeypatch.setenv("OMP_NUM_THREADS", "1")  # the sweep's jobs get one thread each (as with --jobs 2 on 2 cores)
    assert run_main(["--data", str(seed_csv), "--target", "y", "--encodings", "log", "--target-encodings", "asinh",
                     *SMALL, "--set", "width=128", "--set", "depth=4", "--set", "batch_size=512", "--out", str(out)]) == 0
    monkeypatch.delenv("OMP_NUM_THREADS")
    torch.set_num_threads(2)
    assert export_main([str(out), "--target", "seed-data", "--to", str(tmp_path / "model")]) == 0
    assert torch.get_num_threads() == 2

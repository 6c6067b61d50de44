"""A user's data file through `bench.run --data`: the formula's own verdict, resumable records named by content,
and one line with exit 2 (nothing written) for bad flags and bad data."""

import hashlib
import json
import shutil

import numpy as np
import pandas as pd
import pytest
import torch

from bench import cli, datafile
from bench.conditions import Conditions
from bench.data import sample_data
from bench.errors import UserError
from bench.records import load_records
from bench.run import main
from bench.sweep import plan
from bench.tabletarget import TableTarget
from bench.targets import load_targets
from bench.train import TrainConfig

ROWS = 2000  # split 1400 / 300 / 300
NAMES = ["x1", "x2", "x3", "x4", "x5"]
SWEEP = ["--encodings", "raw,log", "--target-encodings", "asinh", "--seeds", "1", "--device", "cpu"]
FACTOR = 3  # log inputs beat raw ones by more than this on both paths (measured: 31.5x on the file, 10.2x on the formula)


def seed_frame(rows=ROWS):
    X, y, _ = load_targets()["seed"].sample(rows, seed=0)
    return pd.DataFrame(X.numpy(), columns=NAMES).assign(y=y.numpy())


@pytest.fixture(scope="module")
def seed_csv(tmp_path_factory):
    path = tmp_path_factory.mktemp("data") / "seed-data.csv"
    seed_frame().to_csv(path, index=False)
    return path


def errors_by_encoding(out):
    records, _ = load_records(out)
    assert all(r["status"] == "ok" for r in records)
    return {r["encoding"]: r["metrics"]["median_rel_err"] for r in records}


@pytest.fixture(scope="module")
def data_out(seed_csv, tmp_path_factory):
    out = tmp_path_factory.mktemp("runs") / "data"
    assert main(["--data", str(seed_csv), "--target", "y", *SWEEP, "--steps", "300", "--out", str(out)]) == 0
    return out


def test_a_data_file_ranks_encodings_as_its_formula_does(data_out, tmp_path):
    formula_out = tmp_path / "formula"
    assert main(["--targets", "seed", *SWEEP, "--steps", "300", "--train-size", "1400", "--set", "val_size=300",
                 "--test-size", "300", "--out", str(formula_out)]) == 0
    on_file, on_formula = errors_by_encoding(data_out), errors_by_encoding(formula_out)
    assert sorted(on_file, key=on_file.get) == sorted(on_formula, key=on_formula.get) == ["log", "raw"]
    assert on_file["raw"] / on_file["log"] > FACTOR and on_formula["raw"] / on_formula["log"] > FACTOR


def test_records_name_the_file_by_its_hash_and_say_where_it_is(data_out, seed_csv):
    records, _ = load_records(data_out)
    sha256 = hashlib.sha256(seed_csv.read_bytes()).hexdigest()
    for record in records:
        assert record["target"] == "seed-data" and record["data_file"] == {"path": str(seed_csv.resolve()), "sha256": sha256}
        assert record["config"]["target_definition"] == {"data_file": {
            "sha256": sha256, "target": "y", "features": NAMES, "split_column": None, "drop_missing": False, "products": []}}
        assert str(seed_csv.parent) not in json.dumps(record["config"])  # a moved file keeps its records
        assert record["rejected_share"] == 0


def planned(argv, capsys):
    """Run bench.run with `argv`: its line 'N runs planned, D already recorded ..., T to run'."""
    assert main(argv) == 0
    return next(line for line in capsys.readouterr().err.splitlines() if "runs planned" in line)


def test_the_same_command_resumes_a_moved_file_too_and_a_changed_file_is_new_input(seed_csv, tmp_path, capsys):
    path, out = shutil.copy(seed_csv, tmp_path / "seed-data.csv"), tmp_path / "out"
    argv = ["--data", str(path), "--target", "y", *SWEEP, "--steps", "20", "--set", "eval_every=10", "--out", str(out)]
    assert "0 already recorded" in planned(argv, capsys)
    first = {p.name: p.stat().st_mtime_ns for p in (out / "runs").iterdir()}
    assert "2 already recorded in" in planned(argv, capsys)
    (tmp_path / "moved").mkdir()
    moved = shutil.copy(path, tmp_path / "moved" / "seed-data.csv")
    assert "0 to run" in planned([argv[0], str(moved), *argv[2:]], capsys)
    assert {p.name: p.stat().st_mtime_ns for p in (out / "runs").iterdir()} == first
    frame = pd.read_csv(path)
    frame.loc[17, "x3"] *= 1.5
    frame.to_csv(path, index=False)
    assert "0 already recorded" in planned(argv, capsys)
    records, _ = load_records(out)
    assert len(records) == 4 and len({r["config"]["target_definition"]["data_file"]["sha256"] for r in records}) == 2


def test_rows_are_the_seeds_split_capped_by_the_sizes(seed_csv):
    target = TableTarget.load(seed_csv, "y")
    train, val, test = target.table.split(3)
    data = sample_data(target, 3, 100, 10_000, None)
    assert data.X_test is None and data.y_test is None and data.rejected == 0
    assert torch.equal(data.X_train, torch.from_numpy(target.table.X[train[:100]]))
    assert torch.equal(data.y_val, torch.from_numpy(target.table.y[val])) and data.X_train.dtype == torch.float64
    assert torch.equal(sample_data(target, 3, 5, 5, 7).y_test, torch.from_numpy(target.table.y[test[:7]]))


def test_models_that_need_a_formula_are_skipped_with_a_note(seed_csv):
    target = TableTarget.load(seed_csv, "y")
    models = ["mlp", "gplearn", "seed-asker", "seed-answer", "signomial", "asker-2-asinh-target"]
    cells, skipped = plan([target], ["raw"], ["none"], models, 1, TrainConfig())
    assert {c.model for c in cells} == {"mlp", "gplearn", "signomial"}  # the signomial trains on the file's rows
    assert skipped["seed-asker on seed-data"] == "the target declares no scale (its loss divides by it)"
    for model in ("seed-answer", "asker-2-asinh-target"):
        assert "a data file has none" in skipped[f"{model} on seed-data"]
    with pytest.raises(UserError, match="drop them with --data"):
        target.under(Conditions(noise=0.1))


def refused(argv, out, capsys, fragment):
    """bench.run with `argv` is one line holding `fragment`, exit 2, and `out` is not created."""
    assert cli.main_guard(lambda: main([*argv, "--out", str(out)])) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and err.startswith("error: ") and fragment in err, err
    assert not out.exists()


FLAGS = [  # (arguments after --data FILE, a fragment of the one-line refusal)
    (["--target", "y", "--targets", "seed"], "--data runs its file's target: drop --targets"),
    (["--target", "y", "--targets-file", "t.toml"], "--data runs its file's target: drop --targets"),
    ([], "--data needs --target COLUMN"),
    (["--target", "y", "--noise", "0.01"], "--noise changes how a formula is drawn"),
    (["--target", "y", "--train-rows", "100"], "--train-rows changes how a formula is drawn"),
    (["--target", "y", "--noise-kind", "relative"], "--noise-kind changes how a formula is drawn"),
    (["--target", "y", "--products", "x3*x9"], "unknown name(s) x9"),
    (["--target", "y", "--products", "x3+x4"], "must be a product of powers of variables"),
    (["--target", "y", "--models", "seed-answer"], "nothing to run, every cell was skipped"),
]


@pytest.mark.parametrize("argv, fragment", FLAGS, ids=[f[1][:30] for f in FLAGS])
def test_bad_flags_are_one_line_and_write_nothing(seed_csv, tmp_path, capsys, argv, fragment):
    refused(["--data", str(seed_csv), *argv], tmp_path / "out", capsys, fragment)


@pytest.mark.parametrize("argv, fragment", [(["--target", "y"], "--target applies to a data file; add --data FILE"),
                                             (["--features", "x1"], "--features applies to a data file"),
                                             (["--drop-missing"], "--drop-missing applies to a data file")])
def test_data_flags_without_data_are_refused(tmp_path, capsys, argv, fragment):
    refused(["--targets", "seed", *argv], tmp_path / "out", capsys, fragment)


def with_value(frame, column, row, value):
    frame = frame.astype({column: object})
    frame.loc[row, column] = value
    return frame


BAD_DATA = [  # (how to change the file, extra arguments, a fragment of the one-line refusal)
    (lambda f: f, ["--target", "Y"], "no target column 'Y'; did you mean 'y'?"),
    (lambda f: f, ["--target", "y", "--features", "x1,x_3"], "no feature column 'x_3'; did you mean 'x3'?"),
    (lambda f: with_value(f, "x3", 4, "12,5"), ["--target", "y"], "feature column 'x3' is not numeric"),
    (lambda f: f.assign(x4=f["x4"].where(f.index > 1), y=f["y"].where(f.index != 9)), ["--target", "y"],
     "NaN, infinite or empty values per column: x4 2, y 1; fill them in the file or drop those rows with --drop-missing"),
    (lambda f: with_value(f, "x1", 3, np.inf).astype({"x1": float}), ["--target", "y"], "x1 1;"),
    (lambda f: f.assign(x2=3.0), ["--target", "y"], "feature column 'x2' is constant"),
    (lambda f: f.head(60), ["--target", "y"], "too few rows to split"),
]


@pytest.mark.parametrize("change, argv, fragment", BAD_DATA, ids=["target", "feature", "text", "nan", "inf", "constant",
                                                                  "few-rows"])
def test_bad_data_is_one_line_and_writes_nothing(tmp_path, capsys, change, argv, fragment):
    path = tmp_path / "bad.csv"
    change(seed_frame(300)).to_csv(path, index=False)
    refused(["--data", str(path), *argv], tmp_path / "out", capsys, fragment)


def test_a_file_too_large_for_memory_is_refused(tmp_path, monkeypatch, capsys):
    path = tmp_path / "big.csv"
    seed_frame(300).to_csv(path, index=False)
    monkeypatch.setattr(datafile, "available_memory", lambda: 10_000)
    refused(["--data", str(path), "--target", "y"], tmp_path / "out", capsys, "use a sample of its rows")


def test_drop_missing_drops_and_says_how_many(tmp_path, capsys):
    path = tmp_path / "holes.csv"
    seed_frame(300).assign(x3=lambda f: f["x3"].where(f.index % 50 != 7)).to_csv(path, index=False)
    out = tmp_path / "out"
    argv = ["--data", str(path), "--target", "y", "--drop-missing", *SWEEP, "--encodings", "log", "--steps", "10",
            "--set", "eval_every=5", "--out", str(out)]
    assert main(argv) == 0
    assert "note: dropped 6 row(s)" in capsys.readouterr().err
    [record] = load_records(out)[0]
    assert record["status"] == "ok" and record["config"]["target_definition"]["data_file"]["drop_missing"] is True

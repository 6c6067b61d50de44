"""`python -m bench.inspect`: each column's range and shape, and the encodings it recommends with their evidence."""

import json

import numpy as np
import pandas as pd
import pytest

from bench import inspect
from bench.datafile import load_table
from bench.targets import load_targets


@pytest.fixture(scope="module")
def seed_file(tmp_path_factory):
    X, y, _ = load_targets()["seed"].sample(2000, seed=0)
    frame = pd.DataFrame(X.numpy(), columns=["x1", "x2", "x3", "x4", "x5"]).assign(y=y.numpy())
    path = tmp_path_factory.mktemp("seed") / "seed.csv"
    frame.to_csv(path, index=False)
    return path


def by_name(diagnosis):
    return {column["name"]: column for column in diagnosis["columns"]}


def test_seed_wants_log_inputs_and_an_asinh_target(seed_file):
    diagnosis = inspect.diagnose(load_table(seed_file, "y"))
    columns = by_name(diagnosis)
    assert 1 < columns["x3"]["decades"] < 2 and 2.5 < columns["x4"]["decades"] <= 3
    assert columns["x1"]["decades"] < 1 and columns["y"]["role"] == "target" and columns["y"]["both_signs"]
    assert columns["y"]["heavy_tailed"] and not columns["x4"]["heavy_tailed"]
    assert diagnosis["input_encoding"]["encoding"] == "log" and diagnosis["edges"] == diagnosis["pairs"] == []
    evidence = diagnosis["input_encoding"]["evidence"]
    assert "x3 (1.7)" in evidence and "x4 (3.0)" in evidence and "at an equal budget" in evidence
    assert diagnosis["target_encoding"]["encoding"] == "asinh"
    assert diagnosis["rows"] == 2000 and diagnosis["split"] == [1400, 300, 300]
    json.dumps(diagnosis)  # a report can embed it


def test_signs_and_zeros_are_reported(tmp_path):
    rng = np.random.default_rng(0)
    n = 500
    frame = pd.DataFrame({"s": rng.normal(size=n), "z": np.where(np.arange(n) % 4 == 0, 0.0, rng.uniform(1, 5, n)),
                          "k": rng.integers(1, 9, n), "y": rng.uniform(1, 2, n)})
    frame.to_parquet(tmp_path / "signs.parquet")
    diagnosis = inspect.diagnose(load_table(tmp_path / "signs.parquet", "y"))
    columns = by_name(diagnosis)
    assert columns["s"]["both_signs"] and columns["s"]["zeros"] == 0
    assert not columns["z"]["both_signs"] and columns["z"]["zeros"] == 0.25
    assert columns["k"]["integer"] and not columns["s"]["integer"]
    assert diagnosis["input_encoding"]["encoding"] == "log"  # s comes near 0: its non-zero |s| span decades
    evidence = diagnosis["input_encoding"]["evidence"]
    assert "s (both signs)" in evidence and "z (25% zeros)" in evidence and "sign(x) column" in evidence
    assert diagnosis["target_encoding"]["encoding"] == "standard"


def test_a_pole_at_a_range_end_wants_edges(tmp_path):
    rng = np.random.default_rng(0)
    n = 3000
    gamma, v = rng.uniform(1, 2, n), 10 ** rng.uniform(2, 4, n)
    pd.DataFrame({"gamma": gamma, "v": v, "y": v / (gamma - 1)}).to_csv(tmp_path / "pole.csv", index=False)
    diagnosis = inspect.diagnose(load_table(tmp_path / "pole.csv", "y"))
    assert diagnosis["input_encoding"]["encoding"] == "edges+log"
    [edge] = diagnosis["edges"]
    assert edge["column"] == "gamma" and edge["end"] == "low"
    assert -1.2 < edge["power"] < -0.5  # |y| ~ d^-1, flattened near 0 because the observed min is not exactly 1


def test_two_features_over_the_same_range_want_diff(tmp_path):
    rng = np.random.default_rng(0)
    n = 3000
    w0, w, q = rng.uniform(1, 3, n), rng.uniform(1, 3, n), 10 ** rng.uniform(0, 3, n)
    pd.DataFrame({"w0": w0, "w": w, "q": q, "y": q / (w0**2 - w**2)}).to_csv(tmp_path / "peak.csv", index=False)
    diagnosis = inspect.diagnose(load_table(tmp_path / "peak.csv", "y"))
    assert [p["columns"] for p in diagnosis["pairs"]] == [["w0", "w"]] and diagnosis["pairs"][0]["overlap"] > 0.99
    assert diagnosis["input_encoding"]["encoding"] == "diff+log"
    assert "w0 and w (100%)" in diagnosis["input_encoding"]["evidence"]


def test_the_command_prints_an_aligned_table(seed_file, capsys):
    assert inspect.main(["--data", str(seed_file), "--target", "y", "--features", "x3,x4"]) == 0
    lines = capsys.readouterr().out.splitlines()
    header = next(line for line in lines if line.startswith("column"))
    rows = [line for line in lines if line.split()[:1] in (["x3"], ["x4"], ["y"])]
    assert len(rows) == 3 and all(row.index(row.split()[2]) == header.index("min") for row in rows)
    assert any(line.startswith("input encoding to try first: log") for line in lines)
    assert any(line.startswith("target encoding to try first: asinh") for line in lines)


def test_markdown_holds_the_table_and_the_recommendations(seed_file):
    text = inspect.markdown(inspect.diagnose(load_table(seed_file, "y")))
    assert "| column | role | min |" in text and "| x4 | feature |" in text
    assert "**Input encoding: `log`**" in text and "**Target encoding: `asinh`**" in text

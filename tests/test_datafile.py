"""A user's data file as a benchmark input: exact loading, content hashes, splits, and one-line refusals of bad data."""

import hashlib
import subprocess
import sys

import numpy as np
import pandas as pd
import pytest

from bench import cli, datafile
from bench import inspect as inspect_cli
from bench.datafile import load_table
from bench.errors import UserError
from bench.targets import load_targets

NAMES = ["x1", "x2", "x3", "x4", "x5"]


@pytest.fixture(scope="module")
def seed_frame():
    X, y, _ = load_targets()["seed"].sample(300, seed=0)
    frame = pd.DataFrame(X.numpy(), columns=NAMES)
    frame["y"] = y.numpy()
    return frame


def write(frame, path):
    if path.suffix == ".csv":
        frame.to_csv(path, index=False)
    else:
        frame.to_parquet(path)
    return path


@pytest.mark.parametrize("suffix", [".csv", ".parquet", ".pq"])
def test_loads_the_same_float64_values(tmp_path, seed_frame, suffix):
    path = write(seed_frame, tmp_path / f"seed{suffix}")
    table = load_table(path, "y")
    assert table.names == NAMES and table.target == "y" and table.dropped == 0 and table.groups is None
    assert table.X.dtype == table.y.dtype == np.float64
    assert np.array_equal(table.X, seed_frame[NAMES].to_numpy()) and np.array_equal(table.y, seed_frame["y"].to_numpy())
    assert table.sha256 == hashlib.sha256(path.read_bytes()).hexdigest() and table.path == str(path)


def test_features_are_chosen_and_non_numeric_columns_left_out_by_default(tmp_path, seed_frame):
    path = write(seed_frame.assign(label="a", fold=np.arange(len(seed_frame)) % 20), tmp_path / "extra.csv")
    assert load_table(path, "y").names == NAMES + ["fold"]
    assert load_table(path, "y", split_column="fold").names == NAMES
    table = load_table(path, "x5", features=["x4", "x1"])
    assert table.names == ["x4", "x1"] and np.array_equal(table.y, seed_frame["x5"].to_numpy())
    as_text = write(seed_frame.astype({"x2": str}), tmp_path / "text.parquet")  # numbers stored as strings
    assert np.array_equal(load_table(as_text, "y").X, seed_frame[NAMES].to_numpy())


def test_the_hash_follows_the_content(tmp_path, seed_frame):
    path = write(seed_frame, tmp_path / "seed.csv")
    before = load_table(path, "y").sha256
    assert load_table(write(seed_frame, tmp_path / "copy.csv"), "y").sha256 == before
    changed = seed_frame.copy()
    changed.loc[7, "x3"] += 1
    assert load_table(write(changed, path), "y").sha256 != before


def test_random_splits(tmp_path, seed_frame):
    table = load_table(write(seed_frame, tmp_path / "seed.csv"), "y")
    train, val, test = table.split(0)
    assert (len(train), len(val), len(test)) == (210, 45, 45)
    assert np.array_equal(np.sort(np.concatenate([train, val, test])), np.arange(len(seed_frame)))
    for first, again in zip(table.split(0), table.split(0)):
        assert np.array_equal(first, again)
    other = table.split(1)  # another seed redraws training and validation rows; the test rows stay for every seed
    assert np.array_equal(other[2], test) and not np.array_equal(other[0], train)


@pytest.mark.parametrize("val_name", ["val", "Validation"])
def test_a_given_split_is_the_same_for_every_seed(tmp_path, seed_frame, val_name):
    labels = np.array(["train", val_name, "TEST"])[np.arange(len(seed_frame)) % 3]
    table = load_table(write(seed_frame.assign(part=labels), tmp_path / "given.csv"), "y", split_column="part")
    assert table.names == NAMES
    for seed in range(3):
        train, val, test = table.split(seed)
        assert np.array_equal(train, np.arange(0, 300, 3)) and np.array_equal(val, np.arange(1, 300, 3))
        assert np.array_equal(test, np.arange(2, 300, 3))


def test_groups_stay_whole(tmp_path, seed_frame):
    groups = np.array([f"site-{i % 30}" for i in range(len(seed_frame))])
    table = load_table(write(seed_frame.assign(site=groups), tmp_path / "groups.parquet"), "y", split_column="site")
    assert list(table.groups) == list(groups)
    splits = table.split(0)
    assert np.array_equal(np.sort(np.concatenate(splits)), np.arange(len(seed_frame)))
    assert not set.intersection(*({*groups[part]} for part in splits))  # no group in two splits
    assert all(len(part) >= datafile.MIN_SPLIT_ROWS for part in splits)
    assert all(np.array_equal(a, b) for a, b in zip(splits, table.split(0)))
    other = table.split(1)
    assert np.array_equal(other[2], splits[2]) and not np.array_equal(other[1], splits[1])


def test_drop_missing_drops_and_counts(tmp_path, seed_frame):
    holes = seed_frame.copy()
    holes.loc[[3, 9], "x3"] = np.nan
    holes.loc[5, "y"] = np.inf
    path = write(holes, tmp_path / "holes.csv")
    with pytest.raises(UserError, match=r"x3 2, y 1; .*--drop-missing"):
        load_table(path, "y")
    table = load_table(path, "y", drop_missing=True)
    assert table.dropped == 3 and len(table.y) == len(seed_frame) - 3
    assert np.array_equal(table.X, seed_frame.drop(index=[3, 5, 9])[NAMES].to_numpy())


def with_value(frame, column, row, value):
    frame = frame.astype({column: object})
    frame.loc[row, column] = value
    return frame


# (name, file name, how to change the seed frame, load_table's arguments, a fragment the one-line message must hold)
BAD = [
    ("missing", "absent.csv", None, {}, "not found"),
    ("suffix", "seed.xlsx", lambda f: f, {}, "unknown format '.xlsx'; use a .csv, .parquet or .pq file"),
    ("not-parquet", "seed.parquet", "garbage", {}, "cannot read"),
    ("empty-csv", "seed.csv", "", {}, "cannot read"),
    ("target-misspelled", "seed.csv", lambda f: f, {"target": "Y"}, "no target column 'Y'; did you mean 'y'?"),
    ("feature-misspelled", "seed.csv", lambda f: f, {"features": ["x1", "x_3"]}, "did you mean 'x3'?"),
    ("split-misspelled", "seed.csv", lambda f: f.assign(fold=1), {"split_column": "flod"}, "did you mean 'fold'?"),
    ("feature-text", "seed.csv", lambda f: with_value(f, "x3", 4, "12,5"), {}, "feature column 'x3' is not numeric: "
     "data row 5 holds '12,5'"),
    ("target-text", "seed.parquet", lambda f: with_value(f.astype({"y": str}), "y", 0, "n.a."), {},
     "target column 'y' is not numeric: data row 1 holds 'n.a.'"),
    ("nan", "seed.csv", lambda f: f.assign(x4=f["x4"].where(f.index > 1)), {}, "x4 2"),
    ("inf", "seed.parquet", lambda f: with_value(f, "x1", 3, -np.inf).astype({"x1": float}), {}, "x1 1"),
    ("constant-feature", "seed.csv", lambda f: f.assign(x2=3.0), {}, "feature column 'x2' is constant"),
    ("constant-target", "seed.csv", lambda f: f.assign(y=0.0), {}, "target column 'y' is constant"),
    ("few-rows", "seed.csv", lambda f: f.head(60), {}, "at least 67 rows"),
    ("few-rows-after-drop", "seed.csv", lambda f: f.assign(x3=f["x3"].where(f.index < 50)), {"drop_missing": True},
     "at least 67 rows"),
    ("few-groups", "seed.csv", lambda f: f.assign(g=f.index % 2), {"split_column": "g"}, "more and smaller groups"),
    ("given-split-incomplete", "seed.csv", lambda f: f.assign(s=np.where(f.index < 250, "train", "test")),
     {"split_column": "s"}, "train/validation/test would get 250/0/50"),
    ("target-as-feature", "seed.csv", lambda f: f, {"features": ["x1", "y"]}, "is the target, so it cannot also be"),
    ("split-as-feature", "seed.csv", lambda f: f.assign(g=f.index % 20), {"features": ["x1", "g"], "split_column": "g"},
     "is the split column"),
    ("split-is-target", "seed.csv", lambda f: f, {"split_column": "y"}, "both the target and the split column"),
    ("no-features", "seed.csv", lambda f: f[["y"]].assign(name="a"), {}, "no numeric column besides the target"),
]


def bad_file(tmp_path, seed_frame, file_name, change):
    path = tmp_path / file_name
    if isinstance(change, str):
        path.write_text(change)
    elif change is not None:
        changed = change(seed_frame.copy())
        if path.suffix == ".parquet":
            changed.to_parquet(path)
        else:
            changed.to_csv(path, index=False)
    return path


def arguments(path, kwargs):
    argv = ["--data", str(path), "--target", kwargs.get("target", "y")]
    if "features" in kwargs:
        argv += ["--features", ",".join(kwargs["features"])]
    if "split_column" in kwargs:
        argv += ["--split-column", kwargs["split_column"]]
    return argv + (["--drop-missing"] if kwargs.get("drop_missing") else [])


@pytest.mark.parametrize("name, file_name, change, kwargs, fragment", BAD, ids=[case[0] for case in BAD])
def test_bad_data_is_one_line_with_its_fix(tmp_path, monkeypatch, capsys, seed_frame, name, file_name, change, kwargs,
                                           fragment):
    path = bad_file(tmp_path, seed_frame, file_name, change)
    with pytest.raises(UserError) as error:
        load_table(path, **{"target": "y", **kwargs})
    assert fragment in str(error.value) and "\n" not in str(error.value)
    monkeypatch.chdir(tmp_path)
    before = sorted(tmp_path.iterdir())
    assert cli.main_guard(lambda: inspect_cli.main(arguments(path, kwargs))) == 2
    out, err = capsys.readouterr()
    assert out == "" and err.count("\n") == 1 and err.startswith("error: ") and fragment in err
    assert sorted(tmp_path.iterdir()) == before


def test_a_file_too_large_for_memory_is_refused_before_reading(tmp_path, monkeypatch, seed_frame):
    monkeypatch.setattr(datafile, "available_memory", lambda: 10_000)
    monkeypatch.setattr(pd, "read_csv", lambda *args, **kwargs: pytest.fail("read despite the memory check"))
    for path in (write(seed_frame, tmp_path / "seed.csv"), write(seed_frame, tmp_path / "seed.parquet")):
        with pytest.raises(UserError, match=r"needs about .* of memory to load .* GB available; use a sample of its rows$"):
            load_table(path, "y")


def test_an_unreadable_file_is_refused(tmp_path, monkeypatch, seed_frame):
    def denied(file, digest):
        raise PermissionError(13, "Permission denied")

    monkeypatch.setattr(hashlib, "file_digest", denied)  # chmod cannot stop root, who runs these tests in CI
    with pytest.raises(UserError, match="^cannot read data file .*: Permission denied; check its permissions$"):
        load_table(write(seed_frame, tmp_path / "seed.csv"), "y")


def test_the_command_exits_2_with_one_line(tmp_path):
    result = subprocess.run([sys.executable, "-m", "bench.inspect", "--data", "absent.csv", "--target", "y"],
                            capture_output=True, text=True, cwd=tmp_path)
    assert result.returncode == 2 and result.stdout == ""
    assert result.stderr.count("\n") == 1 and "not found; check the path" in result.stderr
    assert list(tmp_path.iterdir()) == []

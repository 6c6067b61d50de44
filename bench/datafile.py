"""A user's own measurements as a benchmark input: a CSV or Parquet table, a target column and feature columns.

API for `bench.run --data FILE --target COLUMN [--features a,b] [--drop-missing] [--split-column C]`:

    table = load_table(path, target, features=None, drop_missing=False, split_column=None)  # UserError if bad
    train, val, test = table.split(seed)  # row indices into table.X and table.y, one triple per run seed

`load_table` checks everything before returning, so a caller that loads first writes nothing for a bad file.
Records should name the data by `table.sha256` (the file's bytes), not by its path: a changed file is a new input.

Rules:
- Format by suffix: `.csv` (pandas), `.parquet` or `.pq` (pyarrow).
- Features: the columns named, or by default every column but the target and the split column that holds
  numbers: a text column counts if any of its values is a number, so a typo in a numeric column is refused
  with its value shown rather than the column silently left out.
- Rows with NaN or infinite values (or no split value) are refused, or dropped with `drop_missing`.
- A constant feature or target is refused: it carries nothing a model could use.
- Rows: each of the three splits needs at least MIN_SPLIT_ROWS rows (67 rows at the default 15 % / 15 %).
- Memory: the file's data (a CSV's size, a Parquet file's uncompressed size from its footer) times
  MEMORY_FACTOR must fit in the memory available, or the file is refused before it is read.
- Splits (`Table.split`): a random split seeded by (seed, file hash); with a split column whose values are
  all train, val (or validation) or test, in any case, that split for every seed; with any other split
  column, its values are groups, each kept whole in one split (groups shuffled by the seed and dealt to test,
  then validation, then train, each taking groups until its share of the rows is reached).
"""

import difflib
import hashlib
import math
import os
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd

from bench.data import derive_seed
from bench.errors import UserError

FORMATS = {".csv": "CSV", ".parquet": "Parquet", ".pq": "Parquet"}
MIN_SPLIT_ROWS = 10  # rows each of train, validation and test must hold
MEMORY_FACTOR = 5  # the parsed frame, pandas' parsing buffers and the float64 copies, as a multiple of the data
SPLIT_NAMES = {"train", "val", "validation", "test"}  # a split column of only these gives the split itself


@dataclass
class Table:
    """A loaded data file: X (n × d) and y as float64, the feature names and where the rows came from."""

    X: np.ndarray
    y: np.ndarray
    names: list[str]
    target: str
    sha256: str  # of the file's bytes
    path: str
    dropped: int = 0  # rows dropped for missing values (drop_missing)
    groups: np.ndarray | None = None  # the split column's values
    ignored: tuple = ()  # columns left out of the default features because they hold no number

    def ignored_note(self):
        """A note naming the columns left out of the default features, or None."""
        return None if not self.ignored else (f"note: {self.path}: left out column(s) {', '.join(self.ignored)}, which "
                                              "hold no number (name them in --features to see why they cannot be read)")

    def split(self, seed, val_share=0.15, test_share=0.15):
        """(train, val, test) sorted row indices, deterministic from `seed` and the file's hash. UserError when a
        split would hold fewer than MIN_SPLIT_ROWS rows."""
        if not (0 < val_share and 0 < test_share and val_share + test_share < 1):
            raise UserError(f"validation and test shares must be above 0 and sum below 1, got {val_share} and {test_share}")
        n = len(self.y)
        # The test rows are the same for every seed (drawn from the file's hash alone): a search tunes on the
        # tuning seed's training and validation rows (bench/tune.py), so no seed may test on rows a choice was
        # made on. Seeds redraw the rest.
        fixed, rng = (np.random.default_rng(derive_seed(part, "split", self.sha256)) for part in ("test", seed))
        n_val, n_test = int(n * val_share), int(n * test_share)
        if self.groups is None:
            order = fixed.permutation(n)
            rest = order[n_test:][rng.permutation(n - n_test)]
            parts = rest[n_val:], rest[:n_val], order[:n_test]
            shortest = min(val_share, test_share, 1 - val_share - test_share)
            fix = (f"add rows: with validation and test shares of {val_share:g} and {test_share:g} that takes at least "
                   f"{math.ceil(MIN_SPLIT_ROWS / shortest)} rows")
        elif given_split(self.groups):
            labels = _labels(self.groups)
            parts = [np.flatnonzero(np.isin(labels, names)) for names in (["train"], ["val", "validation"], ["test"])]
            fix = "move rows between the split column's train, val and test"
        else:
            codes, uniques = pd.factorize(self.groups)
            counts = np.bincount(codes, minlength=len(uniques))
            tested = _first_groups(fixed.permutation(len(uniques)), counts, n_test)
            others = np.setdiff1d(np.arange(len(uniques)), tested)
            validated = _first_groups(others[rng.permutation(len(others))], counts, n_val)
            parts = [np.flatnonzero(~np.isin(codes, np.concatenate([tested, validated]))),
                     np.flatnonzero(np.isin(codes, validated)), np.flatnonzero(np.isin(codes, tested))]
            fix = f"groups are kept whole, so use more and smaller groups than these {len(uniques)}"
        sizes = "/".join(str(len(part)) for part in parts)
        if min(len(part) for part in parts) < MIN_SPLIT_ROWS:
            raise UserError(f"{self.path}: too few rows to split: train/validation/test would get {sizes} rows, and each "
                            f"needs at least {MIN_SPLIT_ROWS}; {fix}")
        return tuple(np.sort(part) for part in parts)


def _first_groups(order, counts, rows):
    """The groups, in `order`, that are dealt out before `rows` rows are reached (laid end to end)."""
    starts = np.cumsum(counts[order]) - counts[order]
    return order[starts < rows]


def given_split(groups):
    """True when every value of the split column is train, val, validation or test (in any case)."""
    return set(_labels(pd.unique(groups))) <= SPLIT_NAMES


def _labels(values):
    return pd.Series(values).astype(str).str.strip().str.lower().to_numpy()


def load_table(path, target, features=None, drop_missing=False, split_column=None):
    """Read `path` (CSV or Parquet) into a checked Table; every problem is a one-line UserError naming its fix."""
    path = Path(path)
    kind = FORMATS.get(path.suffix.lower())
    if kind is None:
        raise UserError(f"data file {path}: unknown format {path.suffix or '(no suffix)'!r}; use a .csv, .parquet or .pq file")
    if not path.is_file():
        raise UserError(f"data file {path} not found; check the path")
    sha256 = file_sha256(path)
    frame = _read(path, kind)
    frame.columns = [str(column) for column in frame.columns]
    names = _columns(frame, path, target, features, split_column)
    values = np.column_stack([_numeric(frame[name], name, path, name == target) for name in names + [target]])
    bad = ~np.isfinite(values)
    if split_column is not None:
        bad = np.column_stack([bad, frame[split_column].isna().to_numpy()])
    counts = bad.sum(axis=0)
    if counts.any() and not drop_missing:
        listed = ", ".join(f"{name} {count}" for name, count in zip(names + [target, split_column], counts) if count)
        raise UserError(f"{path}: NaN, infinite or empty values per column: {listed}; fill them in the file or drop "
                        "those rows with --drop-missing")
    keep = ~bad.any(axis=1)
    values = values[keep]
    for column, name in enumerate(names + [target]):
        if len(values) and values[:, column].min() == values[:, column].max():
            what = f"target column {name!r}" if name == target else f"feature column {name!r}"
            fix = "nothing to learn; choose another --target" if name == target else "leave it out with --features"
            raise UserError(f"{path}: {what} is constant ({values[0, column]:g} in every row): {fix}")
    groups = None if split_column is None else frame[split_column].to_numpy()[keep]
    ignored = () if features is not None else tuple(c for c in frame.columns if c not in (*names, target, split_column))
    table = Table(values[:, :-1], values[:, -1], names, target, sha256, str(path), int((~keep).sum()), groups, ignored)
    table.split(0)  # enough rows for each split (for groups: as seed 0 deals them)
    return table


def file_sha256(path):
    """The sha256 of the file's bytes, as hex; UserError when it cannot be read."""
    try:
        with open(path, "rb") as file:
            return hashlib.file_digest(file, "sha256").hexdigest()
    except OSError as error:
        raise UserError(f"cannot read data file {path}: {error.strerror}; check its permissions") from None


def _read(path, kind):
    """The file as a DataFrame, after checking that it fits in memory."""
    if kind == "CSV":
        _check_memory(path, path.stat().st_size)
        return _parse(path, kind, pd.read_csv)
    parquet = _pyarrow_parquet(path)
    metadata = _parse(path, kind, lambda path: parquet.ParquetFile(path).metadata)
    _check_memory(path, sum(metadata.row_group(i).total_byte_size for i in range(metadata.num_row_groups)))
    return _parse(path, kind, lambda path: parquet.read_table(path).to_pandas())


def _parse(path, kind, read):
    """read(path), with a parser's complaint about the file turned into a UserError."""
    try:
        return read(path)
    except Exception as error:
        detail = (str(error).strip().splitlines() or [type(error).__name__])[0]
        header = " with a header row" if kind == "CSV" else ""
        raise UserError(f"cannot read {path} as {kind} ({detail}); check that it is a {kind} file{header}") from None


def _pyarrow_parquet(path):
    try:
        import pyarrow.parquet
    except ImportError:
        raise UserError(f"reading Parquet file {path} needs pyarrow; pip install pyarrow, or save the table as CSV") from None
    return pyarrow.parquet


def available_memory():
    """Host memory free for new work: MemAvailable, else total memory (bench.resources asks here too)."""
    try:
        with open("/proc/meminfo") as meminfo:
            for line in meminfo:
                if line.startswith("MemAvailable:"):
                    return int(line.split()[1]) * 1024
    except OSError:
        pass
    return os.sysconf("SC_PHYS_PAGES") * os.sysconf("SC_PAGE_SIZE")


def _check_memory(path, data_bytes):
    need, available = MEMORY_FACTOR * data_bytes, available_memory()
    if need > available:
        raise UserError(f"data file {path} needs about {need / 1e9:.3g} GB of memory to load ({MEMORY_FACTOR}x its "
                        f"{data_bytes / 1e9:.3g} GB of data); this machine has {available / 1e9:.3g} GB available; "
                        "use a sample of its rows")


def _columns(frame, path, target, features, split_column):
    """The feature names, after checking that the target, the features and the split column exist and differ."""
    columns = list(frame.columns)
    if len(set(columns)) < len(columns):
        twice = sorted({name for name in columns if columns.count(name) > 1})
        raise UserError(f"{path}: column name(s) {', '.join(map(repr, twice))} appear more than once; rename them")
    for name, what in [(target, "target"), (split_column, "split")] + [(name, "feature") for name in features or []]:
        if name is not None and name not in columns:
            lowered = {column.lower(): column for column in columns}
            close = difflib.get_close_matches(name.lower(), lowered, n=1)
            hint = f"did you mean {lowered[close[0]]!r}?" if close else f"its columns: {', '.join(columns[:20])}" + (
                ", ..." if len(columns) > 20 else "")
            raise UserError(f"{path} has no {what} column {name!r}; {hint}")
    if split_column == target:
        raise UserError(f"{path}: column {target!r} cannot be both the target and the split column; choose one")
    if features is None:
        names = [name for name in columns if name not in (target, split_column) and _holds_numbers(frame[name])]
        if not names:
            raise UserError(f"{path} has no numeric column besides the target and the split column; add feature columns")
        return names
    for name in features:
        if name in (target, split_column):
            role = "target" if name == target else "split column"
            raise UserError(f"{path}: column {name!r} is the {role}, so it cannot also be a feature; remove it from --features")
    return list(features)


def _holds_numbers(series):
    """A numeric column, or a text column with at least one number in it (its other values are then refused)."""
    return pd.api.types.is_numeric_dtype(series) or _coerced(series).notna().any()


def _coerced(series):
    textual = pd.api.types.is_object_dtype(series) or pd.api.types.is_string_dtype(series)
    return pd.to_numeric(series, errors="coerce") if textual else pd.Series(np.nan, index=series.index)


def _numeric(series, name, path, is_target):
    """A column as float64; a value that is no number is a UserError that shows it."""
    if pd.api.types.is_numeric_dtype(series):
        return series.to_numpy(dtype=np.float64, na_value=np.nan)
    numbers = _coerced(series)
    wrong = np.flatnonzero(numbers.isna().to_numpy() & series.notna().to_numpy())
    if len(wrong):
        what = "target" if is_target else "feature"
        fix = "fix such values in the file" + ("" if is_target else " or leave the column out with --features")
        raise UserError(f"{path}: {what} column {name!r} is not numeric: data row {wrong[0] + 1} holds "
                        f"{series.iloc[wrong[0]]!r} ({len(wrong)} such row{'s' * (len(wrong) > 1)}); {fix}")
    return numbers.to_numpy(dtype=np.float64, na_value=np.nan)

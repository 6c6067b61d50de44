"""A data file as a target: `TableTarget` stands wherever the harness uses a formula's `Target`.

Its three sets are the file's rows as `Table.split(seed)` deals them, not draws (bench.data.sample_data takes
them from `rows`). It has no formula (`formula` is None), no scale, no declared ranges (so `edges` learns each
column's range on the training rows) and only the clean data conditions. Models that draw fresh points from a
formula or read its declared variables refuse it through `needs_formula`, a registry `accepts` hook. Its
`definition()`, hashed into every record's config, names the file by its sha256 and never by its path: a moved
file resumes where it stopped, a changed file is new input.
"""

import re
from dataclasses import dataclass, field
from pathlib import Path

import torch

from bench.conditions import Conditions
from bench.data import Data
from bench.datafile import Table, load_table
from bench.errors import UserError
from bench.targets import MAX_NAME_CHARS, product_exponents


def needs_formula(target):
    """`Model.accepts` for models that draw fresh points from a formula or read its declared variables: None for
    a formula target as drawn cleanly; why not for a data file, or under data conditions (fresh draws would
    bypass the rows, noise and ranges the conditions set)."""
    if target.formula is None:
        return "it needs a formula (it draws fresh points from it or reads its declared variables); a data file has none"
    if target.conditions.changed():
        return "it draws fresh points from the formula, which data conditions (rows, noise, ranges) cannot reach"
    return None


@dataclass(eq=False)
class TableTarget:
    """The target column of a loaded Table, predicted from its feature columns; `products` are formulas of the
    feature names for the `product` encoding (e.g. 'x3*x4')."""

    table: Table
    name: str  # the file's stem, made safe for record file names (a record's `target`)
    split_column: str | None = None
    drop_missing: bool = False
    products: list[str] = field(default_factory=list)
    angles: list[str] = field(default_factory=list)  # feature columns that are angles, for the `angle` encoding
    conditions: Conditions = field(default_factory=Conditions)
    formula = None  # a data file has none: the hook that models and the harness read
    scale = None

    @classmethod
    def load(cls, path, column, features=None, drop_missing=False, split_column=None, products=(), name=None,
             angles=()):
        """Load and check the file (bench.datafile.load_table): a one-line UserError for bad data. `name`
        defaults to the file's stem."""
        table = load_table(path, column, features, drop_missing, split_column)
        name = name or re.sub(r"[^\w.+-]", "-", Path(path).stem)[:MAX_NAME_CHARS]
        return cls(table, name, split_column, drop_missing, list(products), list(angles))

    @property
    def names(self):
        return self.table.names

    @property
    def description(self):
        return f"data file {self.table.path}: column {self.table.target} from {', '.join(self.names)}"

    @property
    def data_file(self):
        """Where the data came from, for a record: the file's absolute path and its sha256."""
        return {"path": str(Path(self.table.path).resolve()), "sha256": self.table.sha256}

    def definition(self):
        """What names the data in every record's config: the file's content hash and how it was read, not its path."""
        return {"data_file": {"sha256": self.table.sha256, "target": self.table.target, "features": self.names,
                              "split_column": self.split_column, "drop_missing": self.drop_missing,
                              "products": self.products} | ({"angles": self.angles} if self.angles else {})}

    def under(self, conditions):
        """This target under `conditions`: only the clean ones, as a file's rows cannot be redrawn."""
        if conditions != Conditions():
            raise UserError("data conditions (--train-rows, --noise, --noise-kind, --extrapolate, --extra-features) "
                            "change how a formula is drawn; drop them with --data")
        return self

    def check(self):
        """Raise UserError now for a product that is not a product of powers of feature columns, or an angle
        that is not a feature column."""
        self.product_exponents()
        self.angle_columns()

    def angle_columns(self):
        unknown = [a for a in self.angles if a not in self.names]
        if unknown:
            raise UserError(f"--angles: {unknown[0]!r} is not a feature column; choose from {', '.join(self.names)}")
        return tuple(self.names.index(a) for a in self.angles)

    def product_exponents(self):
        return product_exponents(self.name, self.products, self.names)

    def evaluate_scale(self, X):
        return None

    def ranges(self):
        return None

    def example_inputs(self, n):
        """The file's first n rows of inputs, to size an encoder's output by."""
        return torch.from_numpy(self.table.X[:n])

    def rows(self, seed, train_size, val_size, test_size, device="cpu"):
        """The training, validation and test rows of `seed`'s split as float64 tensors on `device`. The sizes
        cap them: each set is the first (in file order) that many rows of its split; no test set without
        `test_size`. Nothing is redrawn (`rejected` 0)."""
        sets = []
        for rows, size in zip(self.table.split(seed), (train_size, val_size, test_size)):
            rows = None if size is None else rows[:size]
            sets += [None, None] if rows is None else [torch.tensor(self.table.X[rows], device=device),
                                                         torch.tensor(self.table.y[rows], device=device)]
        return Data(*sets, 0.0)

"""`bench.RecipeRegressor`: the suite's recipe (what `python -m bench.fit` runs on a file) as a scikit-learn regressor.

`fit(X, y)` runs bench.suite's recipe on the rows (bench.fit.run_recipe; no candidates where a first-stage run is
exact), keeps the run with the
lowest validation error, trains its job again and keeps the exported pipeline (what bench.load reads), all in a
temporary folder; `predict` runs that pipeline. The validation rows are `X_val, y_val`, or `validation_fraction`
of the rows drawn by `random_state`; they are also the rows the protocol scores as its test set, so
`leaderboard_` reports validation errors only.
"""

import hashlib
import tempfile
from dataclasses import dataclass
from pathlib import Path

import numpy as np
from sklearn.base import BaseEstimator, RegressorMixin
from sklearn.utils.validation import check_is_fitted, validate_data

from bench.data import derive_seed
from bench.export import export_run
from bench.exported import load
from bench.fit import choose, label, leaderboard, run_recipe
from bench.records import load_records
from bench.suite import BUDGETS, Budget
from bench.tabletarget import TableTarget

MIN_ROWS = 4  # fewer rows cannot be split into training and validation rows
COLUMNS = ["pipeline", "seed", "val_error", "val_median_rel_err", "seconds", "status", "chosen"]  # leaderboard_'s


@dataclass
class HeldRows:
    """Rows in memory in the place of a data file's Table: the split is the one given (validation rows scored as
    the test rows too), the same for every seed."""

    X: np.ndarray
    y: np.ndarray
    names: list
    parts: tuple
    target: str = "y"
    path: str = "(rows in memory)"
    dropped: int = 0

    @property
    def sha256(self):
        digest = hashlib.sha256()
        for array in (self.X, self.y, *self.parts):
            digest.update(np.ascontiguousarray(array).tobytes())
        return digest.hexdigest()

    def split(self, seed):
        return self.parts


class RecipeRegressor(RegressorMixin, BaseEstimator):
    """The benchmark's recipe, chosen on validation: the pipelines of `python -m bench.suite` (the shared mlp under
    several encodings, polished unless a first-stage run is exact; LightGBM; the signomial where no feature is 0)
    trained on X, y, the best on validation kept.

    `budget`: "quick" or "default" (bench.suite.BUDGETS), or a bench.suite.Budget, e.g. a smaller one for tests.
    `random_state`: the runs' seed (initial weights, batches) and the draw of the validation rows. After `fit`:
    `leaderboard_` (a DataFrame, one row per run, by validation error) and `best_` (the chosen pipeline).
    """

    def __init__(self, budget="default", random_state=0, validation_fraction=0.15, device="cpu"):
        self.budget, self.random_state = budget, random_state
        self.validation_fraction, self.device = validation_fraction, device

    def _budget(self):
        if isinstance(self.budget, Budget):
            return self.budget
        if self.budget not in BUDGETS:
            raise ValueError(f"budget={self.budget!r}: choose {' or '.join(map(repr, BUDGETS))}, or pass a bench.suite.Budget")
        return BUDGETS[self.budget]

    def fit(self, X, y, X_val=None, y_val=None):
        X, y = validate_data(self, X, y, dtype=np.float64, y_numeric=True)
        if not isinstance(self.random_state, (int, np.integer)) or self.random_state < 0:
            raise ValueError(f"random_state={self.random_state!r}: give a whole number >= 0 (it is the runs' seed)")
        budget = self._budget()
        if X_val is None:
            if not 0 < self.validation_fraction < 1:
                raise ValueError(f"validation_fraction={self.validation_fraction}: must lie strictly between 0 and 1")
            if len(y) < MIN_ROWS:
                raise ValueError(f"RecipeRegressor needs at least {MIN_ROWS} samples to hold some out for validation, "
                                 f"got {len(y)} sample(s); pass X_val and y_val")
            order = np.random.default_rng(derive_seed(int(self.random_state), "validation")).permutation(len(y))
            held = max(1, round(self.validation_fraction * len(y)))
            train, val = np.sort(order[held:]), np.sort(order[:held])
        else:
            X_val, y_val = validate_data(self, X_val, y_val, dtype=np.float64, y_numeric=True, reset=False)
            train, val = np.arange(len(y)), len(y) + np.arange(len(y_val))
            X, y = np.concatenate([X, X_val]), np.concatenate([y, y_val])
        if np.ptp(y) == 0:
            raise ValueError(f"y is constant ({y[0]:g} in every row): there is nothing to learn")
        names = [str(n) for n in getattr(self, "feature_names_in_", [f"x{i}" for i in range(X.shape[1])])]
        target = TableTarget(HeldRows(np.array(X), np.array(y), names, (train, val, val)), "rows")
        with tempfile.TemporaryDirectory(prefix="recipe-") as work:
            records = run_recipe(target, budget, [int(self.random_state)], self.device, Path(work),
                                 command=["bench.RecipeRegressor.fit"], progress=False)
            best = choose(records, "the fit's runs")
            export_run(work, load_records(work)[0], best, Path(work) / "model", target=target)
            self.pipeline_ = load(Path(work) / "model")
        board = leaderboard(records, best)
        self.leaderboard_ = board.assign(val_median_rel_err=[next(r.get("val_median_rel_err") for r in records
                                                                  if r["key"] == key) for key in board.key])[COLUMNS]
        self.best_ = label(best)
        return self

    def predict(self, X):
        check_is_fitted(self)
        X = validate_data(self, X, dtype=np.float64, reset=False)
        return self.pipeline_.predict(X)

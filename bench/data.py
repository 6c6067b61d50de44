"""The three draws of every (target, seed): training pool, validation set and test set, drawn independently.

Every choice (settings, the step to keep, a tuning winner) is made on validation; the test set is read once
per finished run, for its reported metrics. All models draw through here, so they share the same points, and
the target's conditions (bench/conditions.py) apply to all of them alike: the model sees the first
`train_rows` rows of the pool, noise reaches the training and validation targets only, and an extrapolation
test set lies outside the training domain.
"""

import zlib
from dataclasses import dataclass

import torch

SIZES = ("train_size", "val_size", "test_size")  # the settings every model has: what the harness draws


def own_settings(settings):
    """A model's own settings (its hyperparameters and budget): `settings` without the draw sizes."""
    return {key: value for key, value in settings.items() if key not in SIZES}


def derive_seed(*parts):
    """A stable 31-bit seed from any parts (run seed, purpose, encoding names)."""
    return zlib.crc32("/".join(map(str, parts)).encode()) & 0x7FFFFFFF


@dataclass
class Data:
    X_train: torch.Tensor
    y_train: torch.Tensor
    X_val: torch.Tensor
    y_val: torch.Tensor
    X_test: torch.Tensor | None  # None for a tuning search's draws: it never reads a test set
    y_test: torch.Tensor | None
    rejected: float  # the largest share of draws redrawn (non-finite or beyond float32 y) over the drawn sets


def sample_data(target, seed, train_size, val_size, test_size, device="cpu"):
    """Training pool, validation and test sets for (target, seed) under the target's conditions, float64 on
    `device`. A data file (bench/tabletarget.py) has no formula to draw from: its sets are the rows of its
    split for `seed`, each the first `train_size`, `val_size` or `test_size` rows of its part of the split."""
    if target.formula is None:
        return target.rows(seed, train_size, val_size, test_size, device)
    conditions = target.conditions
    conditions.check_pool(train_size)
    X_train, y_train, rejected_train = target.sample(train_size, derive_seed(seed, "train"), device)
    X_train, y_train = X_train[: conditions.train_rows], y_train[: conditions.train_rows]
    X_val, y_val, rejected_val = target.sample(conditions.val_rows(val_size), derive_seed(seed, "val"), device)
    noise = torch.Generator(device).manual_seed(derive_seed(seed, "noise"))
    y_train, y_val = (conditions.add_noise(y, noise, reference=y_train) for y in (y_train, y_val))
    if test_size is None:  # a tuning search: no test point is ever drawn
        return Data(X_train, y_train, X_val, y_val, None, None, max(rejected_train, rejected_val))
    X_test, y_test, rejected_test = target.sample(test_size, derive_seed(seed, "test"), device, conditions.extrapolate)
    return Data(X_train, y_train, X_val, y_val, X_test, y_test, max(rejected_train, rejected_val, rejected_test))


def scale_on_test(target, data):
    """The target's declared scale on the test points as numpy (for the normalized L1), or None."""
    scale = target.evaluate_scale(data.X_test)
    return None if scale is None else scale.cpu().numpy()

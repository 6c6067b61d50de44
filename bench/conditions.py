"""The data a user actually has: few rows, noisy targets, test points beyond the measured domain, irrelevant inputs.

A `Conditions` travels with its target (`Target.under`), so every model draws the same data through
`bench.data.sample_data`. The defaults are the clean benchmark (the whole pool, no noise, test points inside
the domain, no extra inputs); only the conditions that differ from them enter a run's config, so clean runs
keep their records.
"""

import math
from dataclasses import dataclass, fields

import torch

from bench.errors import UserError

NOISE_KINDS = {
    "rms": "SRBench's convention: y + level * RMS(y) * eps, one noise scale for every point",
    "relative": "y * (1 + level * eps): the same relative error at every scale, like a measuring instrument",
}
EXTRA_RANGE = (1e-3, 1e3)  # an irrelevant input is log-uniform over these six decades
MIN_VAL_ROWS = 64  # the smallest validation set a small-data run holds out


@dataclass(frozen=True)
class Conditions:
    train_rows: int | None = None  # rows of the training pool the model sees (its first ones); None: all
    noise: float = 0.0  # noise level on the training and validation targets (never on the test targets)
    noise_kind: str = "rms"
    extrapolate: float = 1.0  # test ranges widened by this factor, test points outside the training domain
    extra_features: int = 0  # irrelevant log-uniform inputs appended to X

    def __post_init__(self):
        if self.train_rows is not None and self.train_rows < 1:
            raise UserError(f"--train-rows must be at least 1, got {self.train_rows}")
        if not (math.isfinite(self.noise) and self.noise >= 0):
            raise UserError(f"--noise must be a finite level >= 0 (0.01 is 1 %), got {self.noise}")
        if self.noise_kind not in NOISE_KINDS:
            raise UserError(f"unknown --noise-kind {self.noise_kind!r}; choose {' or '.join(NOISE_KINDS)}")
        if not (math.isfinite(self.extrapolate) and self.extrapolate >= 1):
            raise UserError(f"--extrapolate must be a factor >= 1 (1: test inside the domain), got {self.extrapolate}")
        if self.extra_features < 0:
            raise UserError(f"--extra-features must be 0 or more, got {self.extra_features}")

    def changed(self):
        """The conditions that differ from the clean benchmark, for a run's config; with noise, its kind too."""
        clean = Conditions()
        changed = {f.name: getattr(self, f.name) for f in fields(self) if getattr(self, f.name) != getattr(clean, f.name)}
        changed.pop("noise_kind", None)
        return changed | ({"noise_kind": self.noise_kind} if self.noise else {})

    def check_pool(self, pool, whose="the"):
        """Refuse `train_rows` larger than a training pool of `pool` rows (`whose`: "mlp's", ...)."""
        if self.train_rows is not None and pool is not None and self.train_rows > pool:
            raise UserError(f"--train-rows {self.train_rows} is larger than {whose} training pool ({pool} rows); "
                            "lower it or raise --train-size")

    def val_rows(self, val_size):
        """A small-data user holds out a fifth of their rows: n // 4 validation rows beside n training rows."""
        return val_size if self.train_rows is None else min(val_size, max(self.train_rows // 4, MIN_VAL_ROWS))

    def add_noise(self, y, generator, reference):
        """y with this noise; the RMS convention measures RMS(y) on the clean `reference` targets."""
        if not self.noise:
            return y
        eps = torch.randn(y.shape, generator=generator, dtype=y.dtype, device=y.device)
        if self.noise_kind == "rms":
            return y + self.noise * torch.sqrt(torch.mean(reference**2)) * eps
        return y * (1 + self.noise * eps)


def extra_names(taken, count):
    """The names of `count` irrelevant inputs (log-uniform over EXTRA_RANGE), clashing with none of `taken`."""
    names, k = [], 0
    while len(names) < count:
        k += 1
        if f"extra{k}" not in taken:
            names.append(f"extra{k}")
    return names


def parse_axis(text, kind, flag):
    """'a,b,c' for an axis flag: a list of `kind` values (int or float) in the order given, duplicates dropped."""
    values = []
    for item in (part.strip() for part in text.split(",")):
        try:
            values.append(kind(item))
        except ValueError:
            raise UserError(f"{flag} {text!r}: {item!r} is not {'a whole number' if kind is int else 'a number'}; "
                            f"give one value or a comma-separated list, e.g. {flag} 0,0.01") from None
    return list(dict.fromkeys(values))


def grid(train_rows, noise, noise_kinds, extrapolate, extra_features):
    """Every distinct combination of the axis values (each a list), checked (noise 0 has no kind)."""
    combos = (Conditions(n, level, kind, factor, k) for n in train_rows for level in noise for kind in noise_kinds
              for factor in extrapolate for k in extra_features)
    return list({tuple(c.changed().items()): c for c in combos}.values())


def describe(conditions):
    """'train_rows=1000, noise=0.01, noise_kind=rms', or 'clean'."""
    return ", ".join(f"{k}={v}" for k, v in conditions.changed().items()) or "clean"

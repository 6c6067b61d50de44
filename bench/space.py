"""Search spaces: declarative ranges per setting, drawn through Optuna, overridable from the command line.

`--space lr=1e-4:1e-2` sets a log-uniform range, `--space depth=2:5` an integer range (both ends whole
numbers), `--space width=64,128` a list of choices.
"""

import math
from dataclasses import dataclass

from bench.errors import UserError


@dataclass(frozen=True)
class LogUniform:
    low: float
    high: float

    def suggest(self, trial, name):
        return trial.suggest_float(name, self.low, self.high, log=True)

    def __str__(self):
        return f"log-uniform {self.low:g} to {self.high:g}"


@dataclass(frozen=True)
class IntRange:
    low: int
    high: int

    def suggest(self, trial, name):
        return trial.suggest_int(name, self.low, self.high)

    def __str__(self):
        return f"integer {self.low} to {self.high}"


@dataclass(frozen=True)
class Choice:
    values: tuple

    def suggest(self, trial, name):
        return trial.suggest_categorical(name, self.values)

    def __str__(self):
        return "one of " + ", ".join(map(str, self.values))


def draw(space, trial):
    """One setting per entry of `space`, drawn by the Optuna `trial` (or the settings a function space returns)."""
    if callable(space):
        return space(trial)
    return {name: spec.suggest(trial, name) for name, spec in space.items()}


def describe(space):
    """The space as text: each range, or the function's name for an authors' space with conditional parts."""
    if callable(space):
        function = getattr(space, "func", space)
        arguments = "".join(f", {a!r}" for a in getattr(space, "args", ()))
        return {"function": f"{function.__module__}.{function.__qualname__}(trial{arguments})"}
    return {name: str(spec) for name, spec in space.items()}


def _number(text, where):
    try:
        value = float(text)
    except ValueError:
        raise UserError(f"--space {where}: {text!r} is not a number") from None
    if not math.isfinite(value):
        raise UserError(f"--space {where}: {text!r} is not a finite number")
    return int(value) if value.is_integer() and "." not in text and "e" not in text.lower() else value


def parse_override(item, space):
    """KEY=LOW:HIGH or KEY=A,B,C for a KEY of `space`; returns (KEY, spec)."""
    key, sep, text = item.partition("=")
    if not sep or key not in space:
        raise UserError(f"--space {item!r}: expected KEY=LOW:HIGH or KEY=A,B with KEY one of {', '.join(space)}")
    if ":" in text:
        low, _, high = text.partition(":")
        low, high = _number(low, item), _number(high, item)
        if low >= high:
            raise UserError(f"--space {item!r}: low ({low:g}) >= high ({high:g}); make low < high")
        if isinstance(low, int) and isinstance(high, int) and not isinstance(space[key], LogUniform):
            return key, IntRange(low, high)
        if low <= 0:
            raise UserError(f"--space {item!r}: a log-uniform range needs 0 < low; raise low")
        return key, LogUniform(float(low), float(high))
    values = tuple(_number(v.strip(), item) for v in text.split(",") if v.strip())
    if not values:
        raise UserError(f"--space {item!r}: no values; write KEY=LOW:HIGH or KEY=A,B")
    return key, Choice(values)

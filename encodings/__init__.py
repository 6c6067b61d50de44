"""Registered encodings, by name. Installed as `bench.encodings` (the name `encodings` is the stdlib's).

An input-encoding spec is one name or several joined by '+', applied left to right: `product+log`
appends the target's products, then takes logs. A target encoding is a single name.
"""

from collections.abc import Callable
from dataclasses import dataclass

from sklearn.pipeline import make_pipeline

from bench.errors import UserError

from .angle import Angles
from .edges import Edges
from .log import Asinh, SignedLog
from .pairs import MAX_PAIRS, Differences
from .ple import PiecewiseLinear
from .product import Products
from .quantile import Power, Quantile
from .scale import Identity, MinMax, Standard


@dataclass(frozen=True)
class Encoding:
    """A registered encoder: `build(target)` returns an unfitted transformer."""

    build: Callable
    description: str
    needs_products: bool = False
    mlp_only: bool = False  # part of the mlp's first layer (periodic): no scikit-learn baseline can take it
    reads_raw_inputs: bool = False  # computes from the inputs as drawn (products, ranges): first in a spec


INPUT_ENCODINGS = {
    "raw": Encoding(lambda target: Identity(), "inputs as drawn"),
    "minmax": Encoding(lambda target: MinMax(), "each column's training range mapped to [0, 1]"),
    "standard": Encoding(lambda target: Standard(), "zero mean, unit variance"),
    "log": Encoding(lambda target: SignedLog(), "standardized log|x|, plus a sign channel where x can be <= 0"),
    "asinh": Encoding(lambda target: Asinh(), "standardized asinh(x / median|x|): a signed log"),
    "product": Encoding(lambda target: Products(*_declared_products(target)),
                        "inputs plus the target's declared products (e.g. x3*x4)", needs_products=True,
                        reads_raw_inputs=True),
    "edges": Encoding(lambda target: Edges(None if target is None else target.ranges()),
                      "inputs plus each uniformly drawn input's distance to the ends of its range (use as "
                      "edges+log: a pole at a range's end becomes linear)",
                      reads_raw_inputs=True),
    "diff": Encoding(lambda target: Differences(None if target is None else target.ranges()),
                     f"inputs plus xi − xj and xi + xj for each pair of inputs whose ranges coincide (at most "
                     f"{MAX_PAIRS} pairs; use as diff+log: a pole where two inputs meet becomes linear)",
                     reads_raw_inputs=True),
    "angle": Encoding(lambda target: Angles(*_declared_angles(target)),
                      "inputs plus sin, cos, sin(θ/2) and cos(θ/2) of each input declared an angle (use as angle+log)",
                      reads_raw_inputs=True),
    "quantile": Encoding(lambda target: Quantile(), "each column through its training CDF to a standard normal"),
    "power": Encoding(lambda target: Power(), "Yeo-Johnson power transform, standardized"),
    "ple": Encoding(lambda target: PiecewiseLinear(), "piecewise-linear encoding on 16 quantile bins per column"),
    "periodic": Encoding(lambda target: Standard(), "standardized, then trainable periodic embeddings (PLR) "
                         "as the mlp's first layer; mlp only", mlp_only=True),
}

DEFAULT_INPUT_ENCODINGS = ["raw", "minmax", "standard", "log", "product+log"]  # bench.run's default grid

TARGET_ENCODINGS = {
    "none": Encoding(lambda target: Identity(), "y as is"),
    "standard": Encoding(lambda target: Standard(), "zero mean, unit variance"),
    "asinh": Encoding(lambda target: Asinh(), "standardized asinh(y / median|y|): a signed log of y"),
    "quantile": Encoding(lambda target: Quantile(), "y through its training CDF to a standard normal"),
}


def _declared_products(target):
    """The target's products and its input names, for the `product` encoder."""
    if target is None or not target.products:
        raise UserError("encoding 'product' needs declared products (a target's `products`); choose another encoding")
    return target.product_exponents(), target.names


def _declared_angles(target):
    """The target's angle columns and its input names, for the `angle` encoder."""
    columns = () if target is None else target.angle_columns()
    if not columns:
        raise UserError("encoding 'angle' needs inputs declared angles (a variable's angle = true in a targets file, "
                        "--angles for a data file); choose another encoding")
    return columns, target.names


def check_input_encoding(spec):
    """Raise UserError unless every part of `spec` ('log' or 'product+log') is registered."""
    parts = spec.split("+")
    for part in parts:
        if part not in INPUT_ENCODINGS:
            raise UserError(f"unknown encoding {part!r}; choose from {', '.join(INPUT_ENCODINGS)} "
                            "(join several with '+', e.g. product+log)")
    raw = [INPUT_ENCODINGS[part].reads_raw_inputs for part in parts]
    if raw != sorted(raw, reverse=True):  # those that read the inputs as drawn append columns: they come first
        readers = [p for p, reads in zip(parts, raw) if reads]
        raise UserError(f"encoding {spec!r}: {', '.join(readers)} read(s) the inputs as drawn, so they come first; "
                        f"write {'+'.join(readers + [p for p, reads in zip(parts, raw) if not reads])}")


def needs_angles(spec):
    return "angle" in spec.split("+")


def needs_products(spec):
    return any(INPUT_ENCODINGS[part].needs_products for part in spec.split("+"))


def uses_periodic(spec):
    """True when the spec ends the input side with the mlp's periodic embeddings."""
    return any(INPUT_ENCODINGS[part].mlp_only for part in spec.split("+"))


def build_input_encoder(spec, target):
    """An unfitted transformer for `spec`; a Pipeline when it names several encodings."""
    check_input_encoding(spec)
    steps = [INPUT_ENCODINGS[part].build(target) for part in spec.split("+")]
    return steps[0] if len(steps) == 1 else make_pipeline(*steps)


def build_target_encoder(name, target):
    if name not in TARGET_ENCODINGS:
        raise UserError(f"unknown target encoding {name!r}; choose from {', '.join(TARGET_ENCODINGS)}")
    return TARGET_ENCODINGS[name].build(target)

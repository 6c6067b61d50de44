"""Targets: an equation and its input domain, read from TOML and sampled in float64 on a device."""

import math
import tomllib
from dataclasses import dataclass, field, replace
from pathlib import Path

import sympy
import torch

from bench.conditions import EXTRA_RANGE, Conditions, extra_names
from bench.errors import UserError
from bench.formula import compile_formula, parse_formula

BUILTIN_FILE = Path(__file__).with_name("targets.toml")
DISTS = ("uniform", "log-uniform", "integer")
SIGNS = ("+", "-", "+-")
FLOAT32_MAX = float(torch.finfo(torch.float32).max)
FLOAT32_TINY = float(torch.finfo(torch.float32).tiny)  # float32's smallest normal; min_abs_y = "float32-normal"
MAX_REJECTED = 0.5  # a target that rejects more than this share of its draws is an error
MAX_FILE_BYTES = 1_000_000  # a targets file beyond this is refused before it is parsed
MAX_NAME_CHARS = 100  # a target's name is part of its records' file names

_TARGET_KEYS = {"description", "difficulty", "formula", "max_rejected", "min_abs_y", "scale", "products", "variables"}
_VARIABLE_KEYS = {"low", "high", "dist", "sign", "angle"}


@dataclass
class Variable:
    """One input: bounds (expressions of earlier variables), a distribution and a sign rule."""

    name: str
    low: sympy.Expr
    high: sympy.Expr
    dist: str = "uniform"
    sign: str = "+"
    angle: bool = False  # an angle in radians, for the `angle` encoding


@dataclass
class Target:
    """An equation y = f(x) over a sampled domain; ground truth is float64."""

    name: str
    formula: str
    variables: list[Variable]
    expr: sympy.Expr
    description: str = ""
    scale: sympy.Expr | None = None
    products: list[str] = field(default_factory=list)
    source: dict = field(default_factory=dict)  # the TOML table (and constants) as written
    conditions: Conditions = field(default_factory=Conditions)  # the data a user has (bench/conditions.py)
    difficulty: str = ""  # a suite's label for it, e.g. "easy"
    min_abs_y: float = 0.0  # rows with |y| below this are rejected and redrawn
    max_rejected: float = MAX_REJECTED  # rejecting a larger share of draws is an error (a domain mostly invalid)

    def under(self, conditions):
        """This target as drawn under `conditions`: its irrelevant inputs appended after its own."""
        own = self.variables[: len(self.variables) - self.conditions.extra_features]
        low, high = (sympy.Float(bound) for bound in EXTRA_RANGE)
        extras = [Variable(name, low, high, "log-uniform", "+")
                  for name in extra_names([v.name for v in own], conditions.extra_features)]
        return replace(self, variables=own + extras, conditions=conditions)

    @property
    def names(self):
        return [v.name for v in self.variables]

    @property
    def symbols(self):
        return [sympy.Symbol(name) for name in self.names]

    def definition(self):
        """The target as written in its TOML (constants included): hashed into every run's config."""
        return self.source

    def evaluate(self, X):
        """y = f(X) for X of shape (n, d), in X's dtype and on its device."""
        return self._fn("formula", self.expr)(*X.T) * torch.ones_like(X[:, 0])

    def evaluate_scale(self, X):
        """The declared `scale` (for the normalized L1), or None."""
        return None if self.scale is None else self._fn("scale", self.scale)(*X.T) * torch.ones_like(X[:, 0])

    def product_exponents(self):
        """Each declared product as (name, coefficient, {column: power}) for the `product` encoder."""
        return product_exponents(self.name, self.products, self.names)

    def example_inputs(self, n):
        """n rows of inputs to size an encoder's output by (bench/resources.py): draws with seed 0."""
        return self.sample(n, seed=0)[0]

    def ranges(self):
        """Each variable's (name, low, high, dist) as plain data, bounds written as formulas (the `edges` encoder's)."""
        return tuple((v.name, str(v.low), str(v.high), v.dist) for v in self.variables)

    def angle_columns(self):
        """The indices of the inputs declared angles (the `angle` encoding's)."""
        return tuple(j for j, v in enumerate(self.variables) if v.angle)

    def bounds(self, X):
        """(low, high), each (n, d): the range each row's |x_j| was drawn from (bounds may use earlier inputs)."""
        columns, n = list(X.T), X.shape[0]
        low = [self._bound(v, "low", columns[:j], n, X.device) for j, v in enumerate(self.variables)]
        high = [self._bound(v, "high", columns[:j], n, X.device) for j, v in enumerate(self.variables)]
        return torch.stack(low, dim=1).to(X.dtype), torch.stack(high, dim=1).to(X.dtype)

    def check(self):
        """Raise UserError now, before any run, if the domain cannot be sampled (bad bounds, mostly NaN)."""
        try:
            self.sample(1024, seed=0)
        except UserError:
            raise
        except Exception as error:  # e.g. an operation torch cannot apply to these values
            raise UserError(f"target {self.name!r}: cannot evaluate it on its domain ({type(error).__name__}: "
                            f"{error}); simplify the formula or its bounds") from None

    def sample(self, n, seed, device="cpu", beyond=1.0):
        """Draw n valid rows: (X, y, rejected share). Rows with non-finite or beyond-float32 values, or |y| below
        `min_abs_y`, are redrawn.
        With `beyond` > 1, every range is widened by that factor (see `widen`) and only rows outside the domain
        (some variable out of its own range) are kept: an extrapolation test set."""
        generator = torch.Generator(device).manual_seed(seed)
        parts, drawn, finite, kept = [], 0, 0, 0
        while kept < n:
            size = max(2 * (n - kept), 1024)
            X, inside = self._draw(size, generator, device, beyond)
            y = self.evaluate(X)
            valid = torch.isfinite(y) & (y.abs() <= FLOAT32_MAX) & (y.abs() >= self.min_abs_y) & torch.isfinite(X).all(dim=1)
            drawn, finite = drawn + size, finite + int(valid.sum())
            if 1 - finite / drawn > self.max_rejected:
                tiny = f" or below min_abs_y ({self.min_abs_y:g})" if self.min_abs_y else ""
                raise UserError(f"target {self.name!r}: {1 - finite / drawn:.0%} of draws give y that is NaN, "
                                f"infinite, beyond float32{tiny}; narrow the variables' bounds to where the formula "
                                "is finite" + (f", or lower --extrapolate {beyond}" if beyond > 1 else ""))
            keep = valid & ~inside if beyond > 1 else valid
            kept += int(keep.sum())
            if drawn > 1000 * max(n, 1024):
                raise UserError(f"target {self.name!r}: almost no draw lands outside its domain with --extrapolate "
                                f"{beyond}; raise the factor")
            parts.append((X[keep], y[keep]))
        X = torch.cat([p[0] for p in parts])[:n]
        y = torch.cat([p[1] for p in parts])[:n]
        return X, y, 1 - finite / drawn

    def _draw(self, n, generator, device, beyond=1.0):
        """(X, inside): n rows, and whether each lies inside the domain (every variable within its own bounds)."""
        columns, inside = [], torch.ones(n, dtype=torch.bool, device=device)
        for v in self.variables:
            low = self._bound(v, "low", columns, n, device)
            high = self._bound(v, "high", columns, n, device)
            if bool((low >= high).any()):
                raise UserError(f"target {self.name!r}: variable {v.name} has low >= high on some draws; "
                                "make low < high everywhere")
            if v.dist == "log-uniform" and bool((low <= 0).any()):
                raise UserError(f"target {self.name!r}: log-uniform variable {v.name} needs low > 0; "
                                "raise its low bound or use dist = \"uniform\"")
            if v.dist == "integer":
                low, high = torch.ceil(low), torch.ceil(high)
                if bool((low >= high).any()):
                    raise UserError(f"target {self.name!r}: integer variable {v.name} has no integer in "
                                    "[low, high) on some draws; widen its bounds")
                high = high - 1  # the largest integer drawn
            wide_low, wide_high = widen(low, high, v.dist, beyond) if beyond > 1 else (low, high)
            u = torch.rand(n, generator=generator, dtype=torch.float64, device=device)
            if v.dist == "uniform":
                x = wide_low + (wide_high - wide_low) * u
            elif v.dist == "log-uniform":
                x = torch.exp(torch.log(wide_low) + (torch.log(wide_high) - torch.log(wide_low)) * u)
            else:
                wide_low, wide_high = torch.ceil(wide_low), torch.floor(wide_high)
                x = torch.minimum(torch.floor(wide_low + (wide_high - wide_low + 1) * u), wide_high)
            inside &= (x >= low) & (x <= high)
            if v.sign == "-":
                x = -x
            elif v.sign == "+-":
                flip = torch.rand(n, generator=generator, dtype=torch.float64, device=device) < 0.5
                x = torch.where(flip, -x, x)
            columns.append(x)
        return torch.stack(columns, dim=1), inside

    def _bound(self, variable, which, columns, n, device):
        expr = getattr(variable, which)
        fn = self._fn(f"{variable.name}.{which}", expr, self.symbols[: len(columns)])
        value = fn(*columns) if columns else fn()
        return torch.as_tensor(value, dtype=torch.float64, device=device).expand(n)

    def _fn(self, key, expr, symbols=None):
        cache = self.__dict__.setdefault("_compiled", {})
        if key not in cache:
            cache[key] = compile_formula(expr, self.symbols if symbols is None else symbols)
        return cache[key]

    def __getstate__(self):  # compiled functions do not pickle; workers recompile them
        return {k: v for k, v in self.__dict__.items() if k != "_compiled"}


def product_exponents(name, products, names):
    """Each product formula in `products` (over the input `names`) as (text, coefficient, {column: power});
    target `name` is named in errors."""
    out = []
    for text in products:
        expr = parse_formula(text, f"target {name!r}: product {text!r}", names)
        coefficient, factors = expr.as_coeff_mul()
        powers = {}
        for factor in factors:
            base, power = factor.as_base_exp()
            if not (isinstance(base, sympy.Symbol) and power.is_number):
                raise UserError(f"target {name!r}: product {text!r} must be a product of powers of "
                                "variables, e.g. 'x3*x4' or 'x5/x2**2'")
            powers[names.index(str(base))] = float(power)
        out.append((text, float(coefficient), powers))
    return out


def widen(low, high, dist, factor):
    """A range widened by `factor` about its centre: in log space for a log-uniform variable, linearly
    otherwise. A range that starts at or above 0 keeps its sign: its low end moves to at most low / factor."""
    if dist == "log-uniform":
        centre, half = (torch.log(low) + torch.log(high)) / 2, (torch.log(high) - torch.log(low)) / 2
        return torch.exp(centre - factor * half), torch.exp(centre + factor * half)
    centre, half = (low + high) / 2, (high - low) / 2
    wide_low = centre - factor * half
    return torch.where(low >= 0, torch.maximum(wide_low, low / factor), wide_low), centre + factor * half


def _parse_target(name, table, constant_values, where):
    where = f"{where}: target {name!r}"
    if not isinstance(table, dict):
        raise UserError(f"{where}: expected a table like [targets.{name}]")
    unknown = sorted(set(table) - _TARGET_KEYS)
    if unknown:
        raise UserError(f"{where}: unknown key(s) {', '.join(map(repr, unknown))}; "
                        f"allowed: {', '.join(sorted(_TARGET_KEYS))}")
    if "formula" not in table:
        raise UserError(f"{where}: missing 'formula'; add e.g. formula = \"x1*x2\"")
    raw_variables = table.get("variables")
    if not isinstance(raw_variables, dict) or not raw_variables:
        raise UserError(f"{where}: missing variables; add a [targets.{name}.variables] table")
    variables = []
    for var_name, spec in raw_variables.items():
        at = f"{where}: variable {var_name!r}"
        _check_name(var_name, at)
        if var_name in constant_values:
            raise UserError(f"{at}: also declared as a constant; rename one of them")
        if not isinstance(spec, dict):
            raise UserError(f"{at}: expected a table like {{ low = 0, high = 1 }}")
        unknown = sorted(set(spec) - _VARIABLE_KEYS)
        if unknown:
            raise UserError(f"{at}: unknown key(s) {', '.join(map(repr, unknown))}; allowed: low, high, dist, sign, angle")
        if not isinstance(spec.get("angle", False), bool):
            raise UserError(f"{at}: angle must be true or false")
        missing = [key for key in ("low", "high") if key not in spec]
        if missing:
            raise UserError(f"{at}: missing {' and '.join(missing)}; give both bounds")
        dist, sign = spec.get("dist", "uniform"), spec.get("sign", "+")
        if dist not in DISTS:
            raise UserError(f"{at}: unknown dist {dist!r}; choose one of {', '.join(DISTS)}")
        if sign not in SIGNS:
            raise UserError(f"{at}: unknown sign {sign!r}; choose one of {', '.join(SIGNS)}")
        bounds = {}
        for key in ("low", "high"):
            bounds[key] = parse_formula(spec[key], f"{at}: {key}", list(raw_variables), constant_values)
            later = sorted(str(s) for s in bounds[key].free_symbols if str(s) not in {v.name for v in variables})
            if later:
                raise UserError(f"{at}: {key} refers to {later[0]}, which is not declared before it; "
                                f"declare {later[0]} earlier")
        low, high = bounds["low"], bounds["high"]
        if low.is_number and high.is_number:
            if float(low) >= float(high):
                raise UserError(f"{at}: low ({float(low):g}) >= high ({float(high):g}); make low < high")
            if dist == "log-uniform" and float(low) <= 0:
                raise UserError(f"{at}: log-uniform needs 0 < low; raise low or use dist = \"uniform\"")
        variables.append(Variable(var_name, low, high, dist, sign, spec.get("angle", False)))
    names = [v.name for v in variables]
    expr = parse_formula(table["formula"], f"{where}: formula", names, constant_values)
    scale = table.get("scale")
    scale = None if scale is None else parse_formula(scale, f"{where}: scale", names, constant_values)
    products = table.get("products", [])
    if not isinstance(products, list) or not all(isinstance(p, str) for p in products):
        raise UserError(f"{where}: products must be a list of strings, e.g. [\"x3*x4\"]")
    difficulty = table.get("difficulty", "")
    if not isinstance(difficulty, str):
        raise UserError(f"{where}: difficulty must be a string, e.g. difficulty = \"easy\"")
    min_abs_y = _min_abs_y(table["min_abs_y"], where) if "min_abs_y" in table else 0.0
    max_rejected = table.get("max_rejected", MAX_REJECTED)
    if isinstance(max_rejected, bool) or not isinstance(max_rejected, (int, float)) or not 0 < max_rejected < 1:
        raise UserError(f"{where}: max_rejected must be a share between 0 and 1, e.g. 0.9, got {max_rejected!r}")
    source = {"table": table, "constants": {k: constant_values[k] for k in sorted(constant_values)}}
    target = Target(name, table["formula"], variables, expr, str(table.get("description", "")), scale, products,
                    source, difficulty=difficulty, min_abs_y=min_abs_y, max_rejected=float(max_rejected))
    target.product_exponents()  # validates the products now rather than at encoding time
    return target


def target_from_definition(name, definition):
    """The Target that `definition` (a record's `target_definition`, Target.definition()) describes, parsed again."""
    return _parse_target(name, definition["table"], definition["constants"], "the record")


def _min_abs_y(value, where):
    """min_abs_y as a number: "float32-normal" (float32's smallest normal, as SRSD rejects) or a positive number."""
    if value == "float32-normal":
        return FLOAT32_TINY
    if isinstance(value, bool) or not isinstance(value, (int, float)) or not 0 < value < math.inf:
        raise UserError(f"{where}: min_abs_y must be \"float32-normal\" or a positive number, got {value!r}")
    return float(value)


def _check_name(name, at):
    """A variable or constant name must be an ASCII identifier: Python reads look-alike letters as others."""
    if not name.isascii():
        raise UserError(f"{at}: not an ASCII name; use ASCII letters, digits and '_' (look-alike letters are refused)")
    if not name.isidentifier():
        raise UserError(f"{at}: not a valid name; use letters, digits and '_', not starting with a digit")


def parse_targets(text, where):
    """Targets declared in TOML `text`; `where` names the source in error messages."""
    if len(text) > MAX_FILE_BYTES:
        raise UserError(f"{where}: {len(text):,} characters; a targets file may hold {MAX_FILE_BYTES:,}")
    try:
        document = tomllib.loads(text)
    except tomllib.TOMLDecodeError as error:
        raise UserError(f"{where}: not valid TOML ({error}); fix the syntax") from None
    except RecursionError:
        raise UserError(f"{where}: arrays or tables nest too deep to read; flatten them") from None
    unknown = sorted(set(document) - {"constants", "targets"})
    if unknown:
        raise UserError(f"{where}: unknown table(s) {', '.join(map(repr, unknown))}; use [constants] and [targets.NAME]")
    constants, targets = document.get("constants", {}), document.get("targets", {})
    if not isinstance(constants, dict) or not isinstance(targets, dict):
        raise UserError(f"{where}: [constants] and [targets] must be tables; write [constants] and [targets.NAME]")
    for key, value in constants.items():
        _check_name(key, f"{where}: constant {key!r}")
        if isinstance(value, bool) or not isinstance(value, (int, float)) or not math.isfinite(value):
            raise UserError(f"{where}: constant {key!r} must be a finite number, got {value!r}")
    if not targets:
        raise UserError(f"{where}: no targets; add a [targets.NAME] table")
    for name in targets:
        if not (0 < len(name) <= MAX_NAME_CHARS and name.isprintable()):
            raise UserError(f"{where}: target {name[:MAX_NAME_CHARS]!r}: a target's name must be 1 to {MAX_NAME_CHARS} "
                            "printable characters; rename it")
    return {name: _parse_target(name, table, constants, where) for name, table in targets.items()}


def load_targets(files=()):
    """Built-in targets plus those in `files`; a name defined twice is an error."""
    targets = parse_targets(BUILTIN_FILE.read_text(), str(BUILTIN_FILE.name))
    for file in files:
        try:
            with open(file, "rb") as handle:
                data = handle.read(MAX_FILE_BYTES + 1)  # bounded: the file may be huge, or endless like /dev/zero
        except OSError as error:
            raise UserError(f"cannot read targets file {file} ({error.strerror}); check the path") from None
        if len(data) > MAX_FILE_BYTES:
            raise UserError(f"targets file {file} is larger than {MAX_FILE_BYTES:,} bytes; split it or trim it")
        try:
            text = data.decode("utf-8")
        except UnicodeDecodeError:
            raise UserError(f"targets file {file} is not UTF-8 text; save it as UTF-8") from None
        for name, target in parse_targets(text, str(file)).items():
            if name in targets:
                raise UserError(f"{file}: target {name!r} is already defined; rename it")
            targets[name] = target
    return targets

"""`operon`: symbolic regression by Operon's genetic programming (pyoperon, the `sr` extra), SRBench's settings.

SRBench's Operon (cavalab/srbench, experiment/methods/operon/regressor.py): NSGA-II on R² and length, one
Levenberg-Marquardt iteration on each offspring's constants, a population of 1,000, brood size 5, balanced
tree creation, tournament selection, keep-best reinsertion, 10^6 evaluations, 300 s; its Optuna search picks
the symbols among four sets and the length among 10 to 50. Here: its first symbol set (+ - * /), the longest
length (50, depth 10: pyoperon's default, as in SRBench's tuned parameters), raw x and y as in SRBench's
ground-truth track (experiment/evaluate_model.py, -sym_data), 2,000 training rows and a sweep's budget
(DEFAULTS). From the final Pareto front SRBench keeps the model of least description length; with a
validation set this keeps the shortest model within 1 % of the lowest validation error (the project's rule).
`operon-scaled` is the fair user's variant (`scaled_settings`). Operon holds y in float32: the scale y is divided
by is raised above median |y| where that would carry the largest |y| past FLOAT32_SQUARE_LIMIT (`target_scale`).
In a sweep's cell the settings may also name `fit_rows` (fit on the first N training rows, as SRBench caps its
training rows) and `n_threads` (else the job's threads).

The model is read back as a formula through the project's grammar (bench/formula.py) only, and checked for
being the target's formula (bench/solution.py).
"""

import re
import time
import warnings

import numpy as np
import sympy
import torch

from bench.data import derive_seed, own_settings
from bench.errors import UserError
from bench.formula import parse_formula
from bench.metrics import validation_error
from bench.solution import encoded_solution_details

# SRBench's fixed settings for Operon (experiment/methods/operon/regressor.py, `default_params`)
SRBENCH = {"objectives": ["r2", "length"], "optimizer_iterations": 1, "population_size": 1000, "brood_size": 5,
           "offspring_generator": "basic", "initialization_method": "btc", "female_selector": "tournament",
           "male_selector": "tournament", "reinserter": "keep-best", "epsilon": 1e-5}
# 500k evaluations (SRBench 2021's budget for Operon) take about 35 s on one busy core at 2,000 rows, half that
# on two; the time limit stops a slower fit at a minute.
DEFAULTS = SRBENCH | {"allowed_symbols": "add,sub,mul,div,constant,variable", "max_length": 50, "max_depth": 10,
                      "max_evaluations": 500_000, "max_time": 60}
TOLERANCE = 0.01  # front models within this relative margin of the best validation error count as equal
FLOAT32_SQUARE_LIMIT = float(np.sqrt(np.finfo(np.float32).max))  # about 1.8e19: its square is still a float32

# pyoperon's infix strings: numbers, variables X1..Xd, the functions its symbols print as, + - * / ^ and brackets
_TOKEN = re.compile(r"\s*(?:(?P<number>\d+(?:\.\d*)?(?:[eE][-+]?\d+)?)|(?P<variable>X\d+)|(?P<name>[a-z]+)"
                    r"|(?P<operator>[-+*/^()]))")
_FUNCTIONS = {"exp", "log", "sin", "cos", "tan", "tanh", "sqrt"}
_PRECISION = 50  # decimals pyoperon prints: every float32 constant down to 1e-38 with its digits


def settings(config, train_size):
    """Sizes, SRBench's settings and the budget."""
    return {"train_size": train_size or 2_000, "val_size": config.val_size, "test_size": config.test_size, **DEFAULTS}


def scaled_settings(config, train_size):
    """`operon-scaled`, the fair user's variant (on `log` inputs): y / median|y| (`target_scale`), and exp and log
    among the symbols, to undo the logs."""
    return settings(config, train_size) | {"scaled": True, "allowed_symbols": "add,sub,mul,div,exp,log,constant,variable"}


class Operon:
    """pyoperon's SymbolicRegressor (keyword arguments over DEFAULTS) with the model chosen on validation and read
    back as a formula (`model_string_`, `expression`). `scale_target` fits y / median|y|, the fair user's habit."""

    def __init__(self, scale_target=False, **params):
        self.scale_target, self.params = scale_target, DEFAULTS | params

    def fit(self, X, y, X_val=None, y_val=None):
        from pyoperon.sklearn import SymbolicRegressor

        self.regressor_ = SymbolicRegressor(**self.params)
        self.y_scale_ = target_scale(y) if self.scale_target else 1.0
        self.regressor_.fit(X, np.asarray(y) / self.y_scale_)
        self.model_ = self.regressor_.model_  # pyoperon's choice: least description length
        if X_val is not None:
            front = sorted(self.regressor_.pareto_front_, key=lambda m: m["length"])
            errors = [validation_error(self._evaluate(m["tree"], X_val), y_val) for m in front]
            self.model_ = next(m["tree"] for m, e in zip(front, errors) if e <= min(errors) * (1 + TOLERANCE))
        names = [f"X{i + 1}" for i in range(np.shape(X)[1])]
        with warnings.catch_warnings():  # "Model contains no variables": the formula says so
            warnings.simplefilter("ignore")
            self.model_string_ = self.regressor_.get_model_string(self.model_, _PRECISION, names)
        return self

    def _evaluate(self, tree, X):
        return self.regressor_.evaluate_model(tree, X).astype(np.float64) * self.y_scale_

    def predict(self, X):
        return self._evaluate(self.model_, X)

    def expression(self, columns=None):
        """The model as a sympy expression of `columns` (one expression per input column; default X1, X2, ...)."""
        names = [f"X{i + 1}" for i in range(self.regressor_.n_features_in_)]
        expr = parse_formula(grammar_text(self.model_string_, len(names)), "operon's model", names)
        columns = sympy.symbols(names) if columns is None else columns
        return self.y_scale_ * expr.xreplace({sympy.Symbol(n): c for n, c in zip(names, columns)})


def target_scale(y):
    """What `scale_target` divides y by: median |y|, the fair user's habit, raised where needed so that the largest
    |y| / scale stays within FLOAT32_SQUARE_LIMIT. Operon holds y in float32: a median below 1 would otherwise carry
    a y near float32's largest (SRSD's III.14.14 spans 1e-6 to 1.7e38) to inf, and its fit to NaN."""
    magnitudes = np.abs(np.asarray(y, np.float64))
    scale = max(float(np.median(magnitudes)), float(magnitudes.max()) / FLOAT32_SQUARE_LIMIT)
    return scale if scale > 0 else 1.0


def grammar_text(model_string, inputs):
    """pyoperon's infix model string in the formula grammar's syntax: whitelisted tokens only, numbers with decimals
    read back as the float32 constants Operon holds (integers, such as square's 2, stay exact); anything else is
    refused."""
    out, position, text = [], 0, model_string.rstrip()
    while position < len(text):
        match = _TOKEN.match(text, position)
        token = match and match.group(match.lastgroup)
        if not match or (match.lastgroup == "name" and token not in _FUNCTIONS) or (
                match.lastgroup == "variable" and not 1 <= int(token[1:]) <= inputs):
            raise UserError(f"operon's model: unexpected {text[position:position + 20].strip()!r} in its model string; "
                            f"expected numbers, X1..X{inputs}, {', '.join(sorted(_FUNCTIONS))}, + - * / ^ and brackets")
        out.append(str(np.float32(token)) if match.lastgroup == "number" and not token.isdigit() else token)
        position = match.end()
    return " ".join(out)


class OperonCell(Operon):
    """Operon in a sweep's cell (bench/protocol.py): the run's seed, the job's threads, and a `report_` whose details
    hold the formula in the target's variables and the symbolic-solution check. `fit_rows` in the settings: it fits
    the first N training rows only."""

    def __init__(self, settings, context):
        params = {"n_threads": torch.get_num_threads()} | {
            k: v for k, v in own_settings(settings).items() if k not in ("scaled", "fit_rows")}
        super().__init__(settings.get("scaled", False), **params, random_state=derive_seed(context.seed, "init", "operon"))
        self.context, self.fit_rows = context, settings.get("fit_rows")

    def fit(self, X, y, X_val=None, y_val=None):
        tick = time.perf_counter()
        super().fit(X[: self.fit_rows], y[: self.fit_rows], X_val, y_val)
        seconds = time.perf_counter() - tick
        generations = int(self.regressor_.stats_["generations"])
        details = {"model_string": self.model_string_, "y_scale": self.y_scale_, "length": int(self.model_.Length),
                   "generations": generations, "threads": self.params["n_threads"]}
        details |= encoded_solution_details(self.expression, self.context.split.input_encoder, self.context.target)
        self.report_ = {"details": details, "device": "cpu (pyoperon)", "train_seconds": seconds,
                        "train_samples": len(y[: self.fit_rows]) * generations}
        return self

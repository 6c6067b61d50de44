"""`gplearn`: genetic-programming symbolic regression, what a user might pick instead of a network.

gplearn's SymbolicRegressor searches expressions over the grid's input encoding (our encoders, fitted on the
training set). A fair set-up needs four things the defaults lack: encoded inputs (its protected division returns
1 when |denominator| < 0.001, which is all of x4's range in raw units), y in units of its typical size s = median
|y| on the training set (its constants lie in [-1, 1]; y = 6.7e-11 m1 m2 (...) is out of reach otherwise), an
`exp` to undo log inputs, and a scale-free fitness (its mean absolute error is ruled by the largest |y|). The
expression found, for y / s, is stored in the record's details with s, and so is s times it in the target's
variables (the encoder's columns written out), simplified, with the symbolic-solution check (bench/solution.py).
"""

import operator
import time

import numpy as np
import sympy
from gplearn.fitness import make_fitness
from gplearn.functions import make_function
from gplearn.genetic import SymbolicRegressor

from bench.data import derive_seed
from bench.metrics import relative_errors
from bench.solution import encoded_solution_details

EXP_LIMIT = 50.0  # exp's argument is clipped to +-this, so no program overflows


def _exp(x):
    return np.exp(np.clip(x, -EXP_LIMIT, EXP_LIMIT))


def _capped_relative_error(y, y_pred, w):
    return float(np.average(np.minimum(relative_errors(y_pred, y), 1.0), weights=w))


EXP = make_function(function=_exp, name="exp", arity=1)
CAPPED_RELATIVE_ERROR = make_fitness(function=_capped_relative_error, greater_is_better=False)
# gplearn's functions in sympy; the protected ones as what they compute away from their guards (SRBench's reading)
SYMPY_FUNCTIONS = {"add": operator.add, "sub": operator.sub, "mul": operator.mul, "div": operator.truediv,
                   "neg": operator.neg, "inv": lambda a: 1 / a, "log": lambda a: sympy.log(sympy.Abs(a)),
                   "sqrt": lambda a: sympy.sqrt(sympy.Abs(a)), "abs": sympy.Abs, "exp": sympy.exp, "max": sympy.Max,
                   "min": sympy.Min, "sin": sympy.sin, "cos": sympy.cos, "tan": sympy.tan}


def make_regressor(settings, seed, feature_names):
    """The SymbolicRegressor the settings describe (population, generations, parsimony, function set)."""
    functions = [EXP if name == "exp" else name for name in settings["function_set"].split(",")]
    return SymbolicRegressor(population_size=settings["population_size"], generations=settings["generations"],
                             function_set=functions, metric=CAPPED_RELATIVE_ERROR,
                             parsimony_coefficient=settings["parsimony_coefficient"], feature_names=feature_names,
                             random_state=seed, n_jobs=1)


def program_expression(program, columns):
    """A gplearn program (its prefix list of functions, column indices and constants) as a sympy expression of
    `columns`, built node by node (no text is parsed)."""
    stack = []
    for node in reversed(program):
        if isinstance(node, int | np.integer):
            stack.append(columns[node])
        elif isinstance(node, float):
            stack.append(sympy.Float(node))
        else:
            stack.append(SYMPY_FUNCTIONS[node.name](*[stack.pop() for _ in range(node.arity)]))
    return stack[0]


class GPlearn:
    """gplearn as the protocol's estimator: one expression for y / s on the encoded inputs (target encoding
    none), s = median |y| on the training rows; the expression found is in `report_["details"]`."""

    def __init__(self, settings, context):
        self.settings, self.context = settings, context

    def fit(self, X, y, X_val=None, y_val=None):
        c = self.context
        features = [str(name) for name in c.split.input_encoder.get_feature_names_out(c.target.names)]
        self.regressor_ = make_regressor(self.settings, derive_seed(c.seed, "init", "gplearn"), features)
        self.y_scale_ = float(np.median(np.abs(y)))
        tick = time.perf_counter()
        self.regressor_.fit(X, y / self.y_scale_)
        seconds = time.perf_counter() - tick
        program = self.regressor_._program
        details = {"expression": str(program), "y_scale": self.y_scale_, "length": int(program.length_),
                   "depth": int(program.depth_), "inputs": f"y / y_scale as a function of the {c.split.encoding} "
                   f"encoding's columns: {', '.join(features)}"}
        details |= encoded_solution_details(lambda columns: self.y_scale_ * program_expression(program.program, columns),
                                            c.split.input_encoder, c.target)
        self.report_ = {"details": details, "device": "cpu (gplearn)", "train_seconds": seconds,
                        "train_samples": len(y) * self.settings["generations"]}
        return self

    def predict(self, X):
        return self.regressor_.predict(X) * self.y_scale_

"""`gplearn`: genetic-programming symbolic regression, what a user might pick instead of a network.

gplearn's SymbolicRegressor searches expressions over the grid's input encoding (our encoders, fitted on the
training set). A fair set-up needs four things the defaults lack: encoded inputs (its protected division returns
1 when |denominator| < 0.001, which is all of x4's range in raw units), y in units of its typical size s = median
|y| on the training set (its constants lie in [-1, 1]; y = 6.7e-11 m1 m2 (...) is out of reach otherwise), an
`exp` to undo log inputs, and a scale-free fitness (its mean absolute error is ruled by the largest |y|). The
expression found, for y / s, is stored in the record's details with s.
"""

import time

import numpy as np
from bench.encodings import build_input_encoder
from gplearn.fitness import make_fitness
from gplearn.functions import make_function
from gplearn.genetic import SymbolicRegressor

from bench.data import derive_seed, sample_data, scale_on_test
from bench.metrics import convergence, outcome, relative_errors, validation_error

EXP_LIMIT = 50.0  # exp's argument is clipped to +-this, so no program overflows


def _exp(x):
    return np.exp(np.clip(x, -EXP_LIMIT, EXP_LIMIT))


def _capped_relative_error(y, y_pred, w):
    return float(np.average(np.minimum(relative_errors(y_pred, y), 1.0), weights=w))


EXP = make_function(function=_exp, name="exp", arity=1)
CAPPED_RELATIVE_ERROR = make_fitness(function=_capped_relative_error, greater_is_better=False)


def make_regressor(settings, seed, feature_names):
    """The SymbolicRegressor the settings describe (population, generations, parsimony, function set)."""
    functions = [EXP if name == "exp" else name for name in settings["function_set"].split(",")]
    return SymbolicRegressor(population_size=settings["population_size"], generations=settings["generations"],
                             function_set=functions, metric=CAPPED_RELATIVE_ERROR,
                             parsimony_coefficient=settings["parsimony_coefficient"], feature_names=feature_names,
                             random_state=seed, n_jobs=1)


def run_gplearn(target, seed, cells, settings, device):
    """Fit one expression per input encoding on the training set (target encoding none) and score it."""
    data = sample_data(target, seed, settings["train_size"], settings["val_size"], settings["test_size"], device)
    scale = scale_on_test(target, data)
    X_train, y_train, X_val, y_val, X_test, y_test = data.numpy()
    results = []
    for encoding, _ in cells:
        encoder = build_input_encoder(encoding, target).fit(X_train)
        features = [str(name) for name in encoder.get_feature_names_out(target.names)]
        regressor = make_regressor(settings, derive_seed(seed, "init", "gplearn"), features)
        s = float(np.median(np.abs(y_train)))
        tick = time.perf_counter()
        regressor.fit(encoder.transform(X_train), y_train / s)
        fit_seconds = time.perf_counter() - tick
        tick = time.perf_counter()
        prediction = regressor.predict(encoder.transform(X_test)) * s
        predict_seconds = time.perf_counter() - tick
        program = regressor._program
        details = {"expression": str(program), "y_scale": s, "length": int(program.length_), "depth": int(program.depth_),
                   "inputs": f"y / y_scale as a function of the {encoding} encoding's columns: {', '.join(features)}"}
        throughput = {"device": "cpu (gplearn)", "ensemble_size": 1, "train_seconds": fit_seconds,
                      "train_samples_per_s": len(y_train) * settings["generations"] / fit_seconds,
                      "infer_samples_per_s": len(y_test) / predict_seconds}
        results.append({"curve": [], "convergence": convergence([]), "throughput": throughput, "details": details,
                        "rejected_share": data.rejected,
                        "val_median_rel_err": validation_error(regressor.predict(encoder.transform(X_val)) * s, y_val),
                        **outcome(prediction, y_test, scale)})
    return results

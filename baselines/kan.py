"""`kan`: a Kolmogorov-Arnold network (pykan, the `kan` extra) with pykan's usual recipe, read back as a formula.

pykan's recipe (Liu et al., "KAN: Kolmogorov-Arnold Networks", and its tutorials): a [d, hidden, 1] network of
cubic B-spline edges trained by LBFGS, then grid extension, each finer grid initialized from the coarser fit and
trained again; here the grid kept is the one whose network validates best (the project's choice metric). Where
the kept network is accurate on its validation rows (R² > SOLVED_R2, what a symbolic solution must reach on
held-out rows), pykan's `auto_symbolic` snaps every edge to a function of a small library and LBFGS refits their
affine constants: the formula it returns is written in the target's variables (through the input encoder's
columns and the target encoder's inverse) and goes through the symbolic-solution check (bench/solution.py); the
symbolic network replaces the splines only if it validates better. Through the asinh target's inverse a formula
is sinh of the network's: it is a symbolic solution only where that inner formula is asinh(y / s) itself.

The network fits the first `fit_rows` training rows (pykan's examples use 1,000; every LBFGS evaluation is a pass
over them), in float32 on one CPU thread (its tensors are small: more threads mostly wait on each other), with
one seed fixing its initialization and pykan's row shuffles (the global random generators pykan seeds are
restored afterwards). pykan's spline least squares are solved by numpy in float64 (`curve2coef`): torch's CPU
least squares (MKL) return float32 digits that vary with the arrays' memory alignment, so the same fit differed
from run to run. pykan's own writes (checkpoints, logs, progress bars) are switched off or kept out of the
output.
"""

import contextlib
import copy
import importlib
import io
import random
import time
import warnings

import numpy as np
import sympy
import torch
from bench.encodings.log import Asinh
from bench.encodings.scale import Affine, Identity

from bench.data import derive_seed
from bench.metrics import SOLVED_R2, regression_metrics
from bench.solution import encoded_solution_details

PYKAN_LEAST_SQUARES_USERS = ("kan.spline", "kan.KANLayer", "kan.MultKAN")  # the modules that bind curve2coef
VALIDATION_LOG_ROWS = 256  # validation rows pykan's fit reports its "test" loss on (its log only; choices use all)


def settings(config, train_size):
    """Sizes and the budget: grids 3, 10 and 20 (pykan's grid extension, shortened), 10 LBFGS steps each (pykan's
    LBFGS takes up to 20 evaluations a step), on at most 1,000 rows."""
    return {"train_size": train_size or 2_000, "val_size": config.val_size, "test_size": config.test_size,
            "hidden": 5, "spline_order": 3, "grids": [3, 10, 20], "steps": 10, "fit_rows": 1_000,
            "symbolic_rows": 128, "symbolic_steps": 10, "library": "x,x^2,x^3,1/x,1/x^2,sqrt,exp,log,sin"}


@contextlib.contextmanager
def one_thread():
    """torch on one thread inside, the caller's thread count restored afterwards."""
    threads = torch.get_num_threads()
    torch.set_num_threads(1)
    try:
        yield
    finally:
        torch.set_num_threads(threads)


def curve2coef(x_eval, y_eval, grid, k):
    """pykan's `curve2coef` (the B-spline coefficients that best fit curves y_eval, shape (batch, in, out), at
    x_eval, shape (batch, in)), solved by numpy's least squares in float64: same result on every run."""
    from kan.spline import B_batch

    basis = B_batch(x_eval, grid, k).detach().double().permute(1, 0, 2).numpy()  # (in, batch, coefficients)
    curves = y_eval.detach().double().permute(1, 0, 2).numpy()  # (in, batch, out)
    if not (np.isfinite(basis).all() and np.isfinite(curves).all()):
        raise RuntimeError("kan: non-finite activations in the spline least squares")
    coef = np.stack([np.linalg.lstsq(b, c, rcond=None)[0].T for b, c in zip(basis, curves)])  # (in, out, coeffs)
    return torch.from_numpy(np.ascontiguousarray(coef)).to(y_eval.dtype)  # pykan views its gradients flat


@contextlib.contextmanager
def pykan_quietly(seed):
    """pykan's calls with its prints and progress bars captured, its warnings silenced, its spline least squares
    run-to-run reproducible (`curve2coef`), and torch's, numpy's and random's global generators seeded by `seed`
    inside and restored afterwards."""
    states = torch.random.get_rng_state(), np.random.get_state(), random.getstate()
    modules = [importlib.import_module(name) for name in PYKAN_LEAST_SQUARES_USERS]
    pykans = [module.curve2coef for module in modules]
    torch.manual_seed(seed)
    np.random.seed(seed)
    random.seed(seed)
    sink = io.StringIO()
    try:
        for module in modules:
            module.curve2coef = curve2coef
        with contextlib.redirect_stdout(sink), contextlib.redirect_stderr(sink), warnings.catch_warnings():
            warnings.simplefilter("ignore")
            yield
    finally:
        for module, pykan in zip(modules, pykans):
            module.curve2coef = pykan
        torch.random.set_rng_state(states[0])
        np.random.set_state(states[1])
        random.setstate(states[2])


def decoded_expression(expr, target_encoder):
    """`expr`, a formula of the encoded target, as a formula of y through the target encoder's inverse; ValueError
    for an encoder without a symbolic inverse here (only none, standard and asinh have one)."""
    if isinstance(target_encoder, Identity):
        return expr
    if isinstance(target_encoder, Affine):
        return expr * float(target_encoder.scale_[0]) + float(target_encoder.shift_[0])
    if isinstance(target_encoder, Asinh):
        inner = expr * float(target_encoder.std_[0]) + float(target_encoder.mean_[0])
        return sympy.sinh(inner) * float(target_encoder.scale_[0])
    raise ValueError(f"no symbolic inverse for the {type(target_encoder).__name__} target encoding")


class KANRegressor:
    """pykan's KAN as the protocol's estimator (bench/protocol.py): grid extension chosen on validation, then
    auto_symbolic where the network fits; `report_["details"]` holds the grids' validation errors, the formula and
    the symbolic-solution check."""

    def __init__(self, settings, context):
        self.settings, self.context = settings, context

    def fit(self, X, y, X_val, y_val):
        with one_thread():
            return self._fit(X, y, X_val, y_val)

    def _fit(self, X, y, X_val, y_val):
        from kan import KAN

        s, rows = self.settings, slice(self.settings["fit_rows"])
        seed = derive_seed(self.context.seed, "init", "kan")
        train = torch.tensor(X[rows], dtype=torch.float32)
        dataset = {"train_input": train, "train_label": torch.tensor(y[rows], dtype=torch.float32)[:, None],
                   "test_input": torch.tensor(X_val[:VALIDATION_LOG_ROWS], dtype=torch.float32),
                   "test_label": torch.tensor(y_val[:VALIDATION_LOG_ROWS], dtype=torch.float32)[:, None]}
        width = [train.shape[1], s["hidden"], 1]
        tick = time.perf_counter()
        grid_errors, best, network = {}, None, None
        for grid in s["grids"]:
            with pykan_quietly(seed):
                coarser, network = network, KAN(width=width, grid=grid, k=s["spline_order"], seed=seed, auto_save=False)
                if coarser is not None:  # pykan's refine(), without the checkpoint it insists on writing
                    network.initialize_from_another_model(coarser, train)
                diverged = not self._trained(network, dataset, s["steps"])
            error = self.context.val_error(self._predict(network, X_val))
            grid_errors[str(grid)] = error
            if diverged or not np.isfinite(error):
                break
            if best is None or error < best[0]:
                best = error, grid, network
        if best is None:
            raise FloatingPointError(f"kan: training diverged at grid {s['grids'][0]} (non-finite activations)")
        error, grid, self.network_ = best
        details = {"grid": grid, "grid_val_errors": grid_errors, "hidden": s["hidden"], "kept": "spline"}
        details |= self._symbolic(dataset, X_val, y_val, error, seed)
        self.report_ = {"details": details, "device": "cpu (pykan)", "train_seconds": time.perf_counter() - tick,
                        "train_samples": len(train) * s["steps"] * len(grid_errors)}
        return self

    def _symbolic(self, dataset, X_val, y_val, spline_error, seed):
        """auto_symbolic on a copy of the kept network where it fits (its formula checked), kept if it validates
        better; the details of what was tried."""
        s = self.settings
        r2 = regression_metrics(self.context.split.decode(self._predict(self.network_, X_val)),
                                self.context.split.y_val)["r2"]
        if not r2 > SOLVED_R2:
            return {"symbolic_solution": False, "symbolic_solution_note": f"no formula: the network's validation "
                    f"R² is {r2:.6g}, not above {SOLVED_R2}, where auto_symbolic is tried"}
        symbolic = copy.deepcopy(self.network_)
        with pykan_quietly(seed):
            symbolic(dataset["train_input"][: s["symbolic_rows"]])  # the activations auto_symbolic fits its functions to
            symbolic.auto_symbolic(lib=s["library"].split(","), verbose=0)
            fitted = self._trained(symbolic, dataset, s["symbolic_steps"], update_grid=False)
        error = self.context.val_error(self._predict(symbolic, X_val)) if fitted else np.inf
        split, target = self.context.split, self.context.target
        details = {"symbolic_val_error": error} | encoded_solution_details(
            lambda columns: decoded_expression(self._formula(symbolic, columns), split.target_encoder),
            split.input_encoder, target)
        if error < spline_error:
            self.network_, details["kept"] = symbolic, "symbolic"
        return details

    @staticmethod
    def _trained(network, dataset, steps, update_grid=True):
        """pykan's LBFGS fit; False where it diverged (its grid update then meets non-finite activations, and
        `curve2coef` raises)."""
        try:
            network.fit(dataset, opt="LBFGS", steps=steps, update_grid=update_grid, log=steps + 1)
        except RuntimeError:
            return False
        return all(torch.isfinite(p).all() for p in network.parameters())

    @staticmethod
    def _formula(network, columns):
        """The symbolic network's output as a sympy expression of `columns` (the encoded inputs)."""
        with warnings.catch_warnings():  # pykan converts its constants from tensors that require grad
            warnings.simplefilter("ignore")
            return network.symbolic_formula(var=list(columns))[0][0]

    @staticmethod
    def _predict(network, X):
        with torch.no_grad():
            return network(torch.tensor(X, dtype=torch.float32))[:, 0].double().numpy()

    def predict(self, X):
        with one_thread():
            return self._predict(self.network_, X)

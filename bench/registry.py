"""Every model a sweep can run, by name: the shared `mlp`, the question's two recipes, scikit-learn baselines,
TabM, RealMLP, gradient-boosting libraries and symbolic regression.

A model is an estimator built by `make(settings, context)` (bench/protocol.py runs it: draws, encodes, scores);
the shared `mlp` instead trains a job's cells as one ensemble (`fit_many`). `settings` are the parts of the
sweep's TrainConfig the model uses; they are hashed into each record. A new model is one file with its class
and one line below.
"""

import importlib.util
from collections.abc import Callable
from dataclasses import asdict, dataclass
from functools import partial

from baselines import kan, operon, realmlp, tabm_model
from baselines.asker_ladder import CHANGES, FIXED, LADDER, LEAVE_ONE_OUT, RUNGS, LadderRow, description, model_for
from baselines.boosting import BOOSTERS, BoostedTrees, booster_settings
from baselines.question_recipes import Recipe
from baselines.signomial_model import SignomialModel, nonzero_inputs, sign_definite
from baselines.sklearn_models import BASELINES, make_baseline
from baselines.symbolic import GPlearn
from bench.errors import UserError
from bench.space import Choice, IntRange, LogUniform
from bench.tabletarget import needs_formula
from bench.train import DEFAULT_LEFT_OUT, LBFGS_SETTINGS, RUN_ONLY_OFF, STAGE_SETTINGS, fit_members

# The mlp's search space (rtdl's and TabM's habits: learning rate and weight decay log-uniform, a few widths
# and depths, the periodic embeddings' frequency scale log-uniform over decades), sized for 2 CPU cores.
MLP_SPACE = {"lr": LogUniform(3e-4, 1e-1), "weight_decay": LogUniform(1e-6, 1e-2), "width": Choice((64, 128)),
             "depth": IntRange(2, 4), "batch_size": Choice((256, 512)), "frequency_scale": LogUniform(1e-2, 1e1)}


@dataclass(frozen=True)
class Model:
    make: Callable | None  # (settings, context) -> an unfitted estimator (None for a batched model)
    description: str
    settings: Callable  # (TrainConfig, train_size or None) -> dict
    encodings: tuple | None = None  # the only input encodings it takes (None: any)
    target_encodings: tuple | None = None  # likewise for target encodings
    fit_many: Callable | None = None  # (splits, member settings, settings, seed, device): the ensemble engine
    tensors: bool = False  # fits on float64 tensors on the run's device (else float64 numpy)
    needs_scale: bool = False
    # What tuning searches (None: not tunable): {setting: bench.space range}, which --space can change, or,
    # for a model whose authors' space has conditional parts, a function (optuna trial) -> settings.
    space: dict | Callable | None = None
    requires: tuple[str, str] | None = None  # (module, extra): what it imports beyond the main install
    accepts: Callable | None = None  # (target) -> None, or why the model cannot take that target (None: any)

    @property
    def batched(self):
        """Whether a job's cells train together, as one ensemble."""
        return self.fit_many is not None


def _mlp_settings(config, train_size):
    """Every TrainConfig field; the polish's only when it polishes, the rollback's only when it is on, the stages'
    only when there are several, the dtype only when not float32, so runs without them keep their keys."""
    settings = asdict(config) | ({"train_size": train_size} if train_size else {})
    off = {k for k, value in (RUN_ONLY_OFF | DEFAULT_LEFT_OUT).items() if getattr(config, k) == value}
    off |= set(LBFGS_SETTINGS) if "lbfgs_iters" in off else set()
    off |= set(STAGE_SETTINGS) if "stages" in off else set()
    return {k: v for k, v in settings.items() if k not in off}


def _recipe_settings(config, train_size):
    keys = ("steps", "val_size", "test_size", "eval_every")
    return {k: getattr(config, k) for k in keys} | {"train_size": train_size or 20_000}


def _ladder_settings(recipe, config, train_size):
    return _recipe_settings(config, train_size) | asdict(recipe)


def _signomial_settings(config, train_size):
    return _ladder_settings(FIXED, config, train_size) | {"merge_distance": 0.25, "prune_tolerance": 0.01,
                                                          "max_denominator": 3}


def _gplearn_settings(config, train_size):
    return {"train_size": train_size or 2_000, "val_size": config.val_size, "test_size": config.test_size,
            "population_size": 1000, "generations": 20, "parsimony_coefficient": 0.001,
            "function_set": "add,sub,mul,div,neg,inv,log,exp"}


def _baseline_settings(baseline, config, train_size):
    return baseline.defaults | {"train_size": train_size or baseline.train_size, "val_size": config.val_size,
                                "test_size": config.test_size}


MODELS = {
    "mlp": Model(None, "the shared Torch MLP (all its cells train as one batched ensemble)", _mlp_settings,
                 fit_many=fit_members, tensors=True, space=MLP_SPACE),
    "seed-asker": Model(partial(Recipe, "seed-asker"), "the asker's CustomNet, loss and optimizer (raw inputs)",
                        _recipe_settings, encodings=("raw",), target_encodings=("none",), tensors=True,
                        needs_scale=True, accepts=needs_formula),
    "seed-answer": Model(partial(Recipe, "seed-answer"), "the answer's ReLU MLP, batch 64, MSE on raw y",
                         _recipe_settings, target_encodings=("none",), tensors=True, accepts=needs_formula),
} | {
    name: Model(partial(make_baseline, name), f"scikit-learn: {b.description}",
                partial(_baseline_settings, b), space=b.space)
    for name, b in BASELINES.items()
} | {
    "tabm": Model(tabm_model.make_tabm, "TabM (tabm package): k=32 BatchEnsemble MLP, 3x512, its authors' training",
                  partial(tabm_model.settings, False), space=partial(tabm_model.space, False)),
    "tabm-shipped": Model(tabm_model.make_tabm, "TabM as its example ships it: quantile-normal inputs, piecewise-linear "
                          "embeddings (48 bins), 2x512, standardized y", partial(tabm_model.settings, True),
                          encodings=("raw",), target_encodings=("standard", "none"),
                          space=partial(tabm_model.space, True)),
    "realmlp": Model(realmlp.make_realmlp, "RealMLP-TD (pytabkit), its tuned defaults and own preprocessing; as shipped "
                     "on raw inputs", realmlp.settings, space=realmlp.space, requires=("pytabkit", "sota")),
} | {
    name: Model(lambda settings, context, name=name: BoostedTrees(name, settings, context.seed),
                f"{b.description}; trees ignore monotone input encodings, not the target encoding",
                partial(booster_settings, name), space=b.space, requires=(b.module, "sota"))
    for name, b in BOOSTERS.items()
} | {
    name: Model(LadderRow, description(name), partial(_ladder_settings, recipe), encodings=("raw",),
                target_encodings=("none",), tensors=True, needs_scale=recipe.target_space == "raw",
                accepts=sign_definite)
    for name, recipe in LADDER.items() if name != "seed-asker"  # rung 0 is seed-asker itself
} | {
    "gplearn": Model(GPlearn, "symbolic regression (gplearn) on y / median|y|, exp added, relative-error fitness",
                     _gplearn_settings, target_encodings=("none",)),
    "signomial": Model(SignomialModel, "the asker's network with the ladder's fixed recipe, read back as a formula",
                       _signomial_settings, encodings=("raw", "diff"), target_encodings=("none",), tensors=True,
                       accepts=nonzero_inputs),
    "operon": Model(operon.OperonCell, "symbolic regression (Operon, pyoperon) with SRBench's settings, 500k evaluations",
                    operon.settings, target_encodings=("none",), requires=("pyoperon", "sr")),
    "operon-scaled": Model(operon.OperonCell, "Operon as a fair user runs it: log inputs, y / median|y|, exp and log "
                           "added", operon.scaled_settings, encodings=("log",), target_encodings=("none",),
                           requires=("pyoperon", "sr")),
    "kan": Model(kan.KANRegressor, "Kolmogorov-Arnold network (pykan): LBFGS, grids 3, 10, 20 chosen on validation, "
                 "auto_symbolic where it fits", kan.settings, requires=("kan", "kan")),
}


# The ablation ladder's rows in order, as the report names them: (label, model name, kind).
LADDER_ROWS = [(f"{k}. posted recipe" if k == 0 else f"{k}. + {CHANGES[k - 1].name}", name, "rung")
               for k, name in enumerate(RUNGS)] + [(f"fixed − {name}", model_for(recipe), "leave-one-out")
                                                     for name, recipe in LEAVE_ONE_OUT.items()]


def check_installed(name):
    """Raise UserError, naming the extra to install, when model `name` needs a module that is not installed."""
    requires = MODELS[name].requires
    if requires and importlib.util.find_spec(requires[0]) is None:
        module, extra = requires
        raise UserError(f"model {name} needs {module}, which is not installed; pip install -e \".[{extra}]\"")


"""Every model a sweep can run, by name: the shared `mlp`, the question's two recipes, scikit-learn baselines.

A model runs a job: one (target, seed, settings) and a list of (encoding, target encoding) cells.
`settings` are the parts of the sweep's TrainConfig the model uses; they are hashed into each record.
"""

from collections.abc import Callable
from dataclasses import asdict, dataclass
from functools import partial

from baselines.asker_ladder import FIXED, LADDER, description, run_rung
from baselines.question_recipes import run_recipe
from baselines.signomial_model import run_signomial, sign_definite
from baselines.sklearn_models import BASELINES, run_baseline
from baselines.symbolic import run_gplearn
from bench.train import run_mlp


@dataclass(frozen=True)
class Model:
    run: Callable  # (target, seed, cells, settings, device) -> one result dict per cell
    description: str
    settings: Callable  # (TrainConfig, train_size or None) -> dict
    encodings: tuple | None = None  # the only input encodings it takes (None: any)
    target_encodings: tuple | None = None  # likewise for target encodings
    batched: bool = False  # cells of one job train together (the ensemble engine)
    needs_scale: bool = False
    space: Callable | None = None  # (optuna trial) -> settings to try when tuning (None: not tunable)
    accepts: Callable | None = None  # (target) -> None, or why the model cannot take that target (None: any)


def _mlp_settings(config, train_size):
    return asdict(config) | ({"train_size": train_size} if train_size else {})


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


def _baseline_settings(default_size, config, train_size):
    return {"train_size": train_size or default_size, "val_size": config.val_size, "test_size": config.test_size}


MODELS = {
    "mlp": Model(run_mlp, "the shared Torch MLP (all its cells train as one batched ensemble)", _mlp_settings,
                 batched=True),
    "seed-asker": Model(partial(run_recipe, "seed-asker"), "the asker's CustomNet, loss and optimizer (raw inputs)",
                        _recipe_settings, encodings=("raw",), target_encodings=("none",), needs_scale=True),
    "seed-answer": Model(partial(run_recipe, "seed-answer"), "the answer's ReLU MLP, batch 64, MSE on raw y",
                         _recipe_settings, target_encodings=("none",)),
} | {
    name: Model(partial(run_baseline, name), f"scikit-learn: {b.description}",
                partial(_baseline_settings, b.train_size))
    for name, b in BASELINES.items()
} | {
    name: Model(run_rung, description(name), partial(_ladder_settings, recipe),
                encodings=("raw",), target_encodings=("none",), needs_scale=recipe.target_space == "raw",
                accepts=sign_definite)
    for name, recipe in LADDER.items() if name != "seed-asker"  # rung 0 is seed-asker itself
} | {
    "gplearn": Model(run_gplearn, "symbolic regression (gplearn) on y / median|y|, exp added, relative-error fitness",
                     _gplearn_settings, target_encodings=("none",)),
    "signomial": Model(run_signomial, "the asker's network with the ladder's fixed recipe, read back as a formula",
                       _signomial_settings, encodings=("raw",), target_encodings=("none",), accepts=sign_definite),
}


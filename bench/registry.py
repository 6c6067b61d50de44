"""Every model a sweep can run, by name: the shared `mlp`, the question's two recipes, scikit-learn baselines.

A model runs a job: one (target, seed, settings) and a list of (encoding, target encoding) cells.
`settings` are the parts of the sweep's TrainConfig the model uses; they are hashed into each record.
"""

from collections.abc import Callable
from dataclasses import asdict, dataclass
from functools import partial

from baselines.question_recipes import run_recipe
from baselines.sklearn_models import BASELINES, run_baseline
from bench.space import Choice, IntRange, LogUniform
from bench.train import run_mlp

# The mlp's search space (rtdl's and TabM's habits: learning rate and weight decay log-uniform, a few widths
# and depths, the periodic embeddings' frequency scale log-uniform over decades), sized for 2 CPU cores.
MLP_SPACE = {"lr": LogUniform(3e-4, 3e-2), "weight_decay": LogUniform(1e-6, 1e-2), "width": Choice((64, 128)),
             "depth": IntRange(2, 4), "batch_size": Choice((256, 512)), "frequency_scale": LogUniform(1e-2, 1e1)}


@dataclass(frozen=True)
class Model:
    run: Callable  # (target, seed, cells, settings, device) -> one result dict per cell
    description: str
    settings: Callable  # (TrainConfig, train_size or None) -> dict
    encodings: tuple | None = None  # the only input encodings it takes (None: any)
    target_encodings: tuple | None = None  # likewise for target encodings
    batched: bool = False  # cells of one job train together (the ensemble engine)
    needs_scale: bool = False
    space: dict | None = None  # setting -> bench.space range to search when tuning (None: not tunable)


def _mlp_settings(config, train_size):
    return asdict(config) | ({"train_size": train_size} if train_size else {})


def _recipe_settings(config, train_size):
    keys = ("steps", "val_size", "test_size", "eval_every")
    return {k: getattr(config, k) for k in keys} | {"train_size": train_size or 20_000}


def _baseline_settings(baseline, config, train_size):
    return baseline.defaults | {"train_size": train_size or baseline.train_size, "val_size": config.val_size,
                                "test_size": config.test_size}


MODELS = {
    "mlp": Model(run_mlp, "the shared Torch MLP (all its cells train as one batched ensemble)", _mlp_settings,
                 batched=True, space=MLP_SPACE),
    "seed-asker": Model(partial(run_recipe, "seed-asker"), "the asker's CustomNet, loss and optimizer (raw inputs)",
                        _recipe_settings, encodings=("raw",), target_encodings=("none",), needs_scale=True),
    "seed-answer": Model(partial(run_recipe, "seed-answer"), "the answer's ReLU MLP, batch 64, MSE on raw y",
                         _recipe_settings, target_encodings=("none",)),
} | {
    name: Model(partial(run_baseline, name), f"scikit-learn: {b.description}",
                partial(_baseline_settings, b), space=b.space)
    for name, b in BASELINES.items()
}


"""The ablation ladder: the asker's posted recipe, fixed one change at a time, and the fixed recipe with each
change taken out again.

CHANGES is the whole design. Rung 0 is the posted recipe (`seed-asker`); rung k is rung k-1 with change k; the
last rung is the fixed recipe, and `fixed-without-X` is the fixed recipe with change X reverted to the posted
value. So any two rows differ by exactly the changes their names say (tests check it on the configs). Every
row starts from the asker's initial weights and sees the asker's batches: nothing else differs.
"""

from dataclasses import dataclass, replace

from baselines.signomial import Recipe, Rows, fit

ASKER = Recipe()


@dataclass(frozen=True)
class Change:
    name: str
    field: str  # the Recipe field it sets
    value: object
    why: str


CHANGES = (
    Change("standardized-log", "inputs", "standardized-log",
           "log x4 is about -10 and log x3 about +9: exp of a layer on raw logs starts with terms of random size "
           "e^+-10, and each exponent moves at a different speed; standardized logs put every input on one scale"),
    Change("asinh-target", "target_space", "asinh",
           "L1 of (y_hat - y) / (x5/x2) is huge wherever the second term dominates; the net predicts y / median|y| "
           "and is scored in asinh space, a smooth, scale-free loss"),
    Change("small-init", "init_gain", 0.3,
           "both exponent layers start 0.3x PyTorch's default, so the composed exponents start about 10x smaller: "
           "terms start as gentle power laws that gradient steps can steer (0.1x stalled more often at 0.19)"),
    Change("one-cycle", "lr_schedule", "one-cycle",
           "warm up to the same peak rate, then anneal to nearly 0, instead of waiting for a plateau"),
    Change("lbfgs-polish", "polish_iters", 1000,
           "float64 L-BFGS on a fixed training sample: second-order steps finish what Adam's noisy steps cannot"),
)


def _rungs():
    rungs, recipe = {"seed-asker": ASKER}, ASKER
    for number, change in enumerate(CHANGES, 1):
        recipe = replace(recipe, **{change.field: change.value})
        rungs[f"asker-{number}-{change.name}"] = recipe
    return rungs


RUNGS = _rungs()  # name -> Recipe, in ladder order; the first is the posted recipe, the last the fixed one
FIXED = list(RUNGS.values())[-1]
# Change name -> the fixed recipe without it; without the last change it is the rung before the last.
LEAVE_ONE_OUT = {c.name: replace(FIXED, **{c.field: getattr(ASKER, c.field)}) for c in CHANGES}
LADDER = RUNGS | {f"fixed-without-{name}": recipe for name, recipe in LEAVE_ONE_OUT.items()
                  if recipe not in RUNGS.values()}  # every row's model name -> its Recipe


def description(name):
    """What a ladder row is, in words (for --list)."""
    if name in RUNGS:
        k = list(RUNGS).index(name)
        return f"ablation ladder rung {k}: the asker's posted recipe + " + ", ".join(c.name for c in CHANGES[:k])
    return f"the asker's network, fixed recipe (rung {len(CHANGES)}) without {name.removeprefix('fixed-without-')}"


def model_for(recipe):
    """The name of the ladder model that runs `recipe` (the first, when a rung and a row coincide)."""
    return next(name for name, candidate in LADDER.items() if candidate == recipe)


class LadderRow:
    """One ladder row (its recipe is in `settings`) as the protocol's estimator, on the raw inputs and y."""

    def __init__(self, settings, context):
        self.settings, self.context = settings, context

    def fit(self, X, y, X_val, y_val):
        c = self.context
        self.fitted_, curve, seconds, samples, diverged_at = fit(Recipe.from_settings(self.settings), c.target, c.seed,
                                                                 Rows(X, y, X_val, y_val), self.settings, c.device)
        self.report_ = {"curve": curve, "diverged_at_step": diverged_at, "last_step": curve[-1]["step"] if curve else None,
                        "train_samples": samples, "train_seconds": seconds}
        return self

    def predict(self, X):
        return self.fitted_.predict(X)

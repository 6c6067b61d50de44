"""The suite's references (`python -m bench.suite --references fixed,operon,operon-scaled,kan`): comparisons on
every equation, run after the recipe's stages and timed apart from them; the recipe never chooses them.

Each reference draws the recipe's sets (the same seed, training pool, validation and test rows: the suite
budget's sizes); an outside method fits the first `fit_rows` rows of the pool, at a budget stated per suite
budget (OVERRIDES):
  fixed          the recipe's own mlp on one fixed pipeline (edges+log inputs, asinh target), its Adam steps and
                 as many L-BFGS iterations as a finalist: what the recipe's choice adds, at equal polish
  operon         Operon with SRBench's settings on raw inputs and raw y (SRBench's ground-truth track) and SRBench
                 2021's budget, 500,000 evaluations (an evaluation limit, so a seed fixes the result), one thread,
                 2,000 rows (SRBench caps training at 10,000); the 300 s time limit is only a safety net
  operon-scaled  the same on log inputs, y / median|y|, exp and log among its symbols
  kan            pykan's recipe at its default budget (baselines/kan.py: grids 3, 10, 20, 10 LBFGS steps each,
                 1,000 rows) on raw and on log inputs, both with the recipe's asinh target: whether input
                 encodings matter to KANs as they do to the mlp
"""

from dataclasses import dataclass, replace

import bench.cli as cli
from bench.errors import UserError
from bench.sweep import plan
from bench.train import TrainConfig


@dataclass(frozen=True)
class Reference:
    """A reference: the registry's model and the (input encoding, target encoding) pipelines it runs; `polished`:
    the suite's mlp at its budget, polished as long as a finalist (an outside method has OVERRIDES instead)."""

    model: str
    pipelines: tuple
    polished: bool = False


REFERENCES = {
    "fixed": Reference("mlp", (("edges+log", "asinh"),), polished=True),
    "operon": Reference("operon", (("raw", "none"),)),
    "operon-scaled": Reference("operon-scaled", (("log", "none"),)),
    "kan": Reference("kan", (("raw", "asinh"), ("log", "asinh"))),
}
_OPERON = {"fit_rows": 2_000, "n_threads": 1, "max_evaluations": 500_000, "max_time": 300}
_OPERON_QUICK = {"fit_rows": 1_000, "n_threads": 1, "max_evaluations": 20_000, "max_time": 60}
# Per suite budget, each reference's settings over its model's defaults.
OVERRIDES = {
    "default": {"operon": _OPERON, "operon-scaled": _OPERON, "kan": {}},
    "quick": {"operon": _OPERON_QUICK, "operon-scaled": _OPERON_QUICK,
              "kan": {"fit_rows": 500, "grids": [3, 10], "steps": 5}},
}


def parse(text):
    """`--references`' value: comma-separated reference names, checked."""
    names = cli.names(text)
    unknown = [n for n in names if n not in REFERENCES]
    if unknown:
        raise UserError(f"unknown reference {', '.join(unknown)}; choose from {', '.join(REFERENCES)}")
    return names


def models(names):
    """The registry models the references `names` run (to check their extras before any work)."""
    return [REFERENCES[name].model for name in names]


def stage_name(name):
    return f"reference {name}"


def run_keys(planned, polished):
    """The run keys of the references that are (`polished`) or are not the recipe's own polished mlp, among the
    suite's planned {stage name: run keys}: runs the recipe never chooses."""
    names = {stage_name(n) for n, reference in REFERENCES.items() if reference.polished == polished}
    return set().union(*(keys for name, keys in planned.items() if name in names))


def reference_stages(names, targets, budget_name, budget, seeds, device):
    """(stage name, cells) per reference in `names`: every target and seed, on the recipe's draws (the sizes of
    `budget`, a bench.suite.Budget), under the reference's settings for the suite budget `budget_name`."""
    outside = TrainConfig(val_size=budget.val_size, test_size=budget.test_size)
    for name in names:
        reference = REFERENCES[name]
        if reference.polished:
            config, train_size, overrides = budget.mlp_config(budget.finalist_lbfgs_iters), None, {}
        else:
            config, train_size, overrides = outside, budget.train_size, OVERRIDES[budget_name][name]
        cells = [cell for encoding, target_encoding in reference.pipelines
                 for cell in plan(targets, [encoding], [target_encoding], [reference.model], seeds, config,
                                  train_size, device)[0]]
        yield stage_name(name), [replace(c, settings=c.settings | overrides) for c in cells]

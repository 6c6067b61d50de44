"""The memory check before a sweep: plausible estimates, jobs at once add up, remote runs are not compared."""

from dataclasses import replace

import pytest

from bench import resources
from bench.conditions import Conditions
from bench.errors import UserError
from bench.sweep import group, plan
from bench.targets import load_targets
from bench.train import TrainConfig

SEED = load_targets()["seed"]


def cells(encodings=("raw", "minmax", "standard", "log", "product+log"), models=("mlp",), seeds=1, train_size=None):
    return plan([SEED], list(encodings), ["none", "standard", "asinh", "quantile"], list(models), seeds, TrainConfig(),
                train_size)[0]


def estimates(planned):
    widths = {resources.width_key(c.target, c.encoding): resources.encoded_width(c.target, c.encoding) for c in planned}
    return [resources.job_bytes(job, widths) for job in group(planned)]


def test_the_default_job_is_estimated_at_a_few_hundred_megabytes_and_fits():
    (need,) = estimates(cells())
    assert 100e6 < need < 2e9  # 200k + 100k draws, 20 members of width <= 6, as bench/train.py holds them
    resources.check_memory(cells(), "cpu")


def test_wider_encodings_need_more():
    assert estimates(cells(["ple"]))[0] > 5 * estimates(cells(["raw"]))[0]  # 16 bins per column


def test_jobs_that_run_at_once_add_up(monkeypatch):
    planned = cells(seeds=2)
    one = max(estimates(planned))
    monkeypatch.setattr(resources, "available_bytes", lambda device: 1.5 * one)
    resources.check_memory(planned, "cpu", jobs=1)
    with pytest.raises(UserError, match=r"--train-size 200000 needs about .* for 2 jobs at once \(--jobs\); this machine "
                                        r"has .* available; lower --train-size or --jobs"):
        resources.check_memory(planned, "cpu", jobs=2)


def test_cluster_runs_are_only_checked_for_sizes_no_tensor_can_hold(monkeypatch):
    monkeypatch.setattr(resources, "available_bytes", lambda device: 0)
    resources.check_memory(cells(), "cpu", remote=True)
    with pytest.raises(UserError, match="cannot be drawn at all"):
        resources.check_memory(cells(train_size=10**20), "cpu", remote=True)


def test_irrelevant_inputs_widen_the_estimate():
    clean = plan([SEED], ["log"], ["asinh"], ["mlp"], 1, TrainConfig())[0]
    wide = plan([SEED], ["log"], ["asinh"], ["mlp"], 1, TrainConfig(), conditions=[Conditions(extra_features=20)])[0]
    assert estimates(wide)[0] > 2 * estimates(clean)[0]


def test_float64_networks_need_more_memory_than_float32_ones():
    planned = cells(["log"])
    wide = [replace(c, settings=c.settings | {"dtype": "float64"}) for c in planned]
    assert estimates(wide)[0] > 1.2 * estimates(planned)[0]  # the networks' copies of the inputs, twice as wide

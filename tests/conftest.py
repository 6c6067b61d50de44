"""Shared by the tests: the device benchmarks run on, and what the saved benchmark JSON adds."""

import pytest
import torch

from bench.cli import resolve_device
from bench.device import device_name

DEVICE = resolve_device("auto")


@pytest.hookimpl(tryfirst=True)
def pytest_configure(config):
    """`pytest --benchmark-only` times the benchmarks that pyproject's addopts (--benchmark-disable) runs once."""
    if config.getoption("benchmark_only", default=False):
        config.option.benchmark_enable = True


@pytest.fixture(scope="session")
def device():
    return DEVICE


def pytest_benchmark_update_json(config, benchmarks, output_json):
    """Samples/s per benchmark (extra_info['samples'] over the median call), the device and torch version."""
    for benchmark in output_json["benchmarks"]:
        info = benchmark["extra_info"]
        if "samples" in info:
            info["samples_per_s"] = info["samples"] / benchmark["stats"]["median"]
    output_json["device"] = device_name(DEVICE)
    output_json["torch_version"] = torch.__version__

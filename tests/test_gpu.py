"""The CUDA path (skipped without CUDA; scripts/gpu_check.sh runs it): the graph-captured training step."""

import pytest
import torch

from bench.data import sample_data
from bench.model import EnsembleMLP, MLPConfig
from bench.step import WARMUP_STEPS, TrainingStep
from bench.targets import load_targets
from bench.train import TrainConfig, encode_member, train_members

pytestmark = [pytest.mark.gpu, pytest.mark.skipif(not torch.cuda.is_available(), reason="needs CUDA")]

WIDTHS, SEEDS = [5, 3, 6], [11, 12, 13]


def training_step(cuda_graph, nan_member=None):
    generator = torch.Generator().manual_seed(0)
    Z = torch.randn(4096, len(WIDTHS), max(WIDTHS), generator=generator)
    for m, width in enumerate(WIDTHS):
        Z[:, m, width:] = 0
    t = torch.randn(4096, len(WIDTHS), generator=generator)
    if nan_member is not None:
        t[:, nan_member] = float("nan")
    model = EnsembleMLP(WIDTHS, SEEDS, MLPConfig(width=32, depth=2)).cuda()
    return TrainingStep(model, Z.cuda(), t.cuda(), batch_size=64, seed=5, lr=1e-3, cuda_graph=cuda_graph)


def test_cuda_graph_step_matches_the_eager_step():
    eager, graphed = training_step(cuda_graph=False), training_step(cuda_graph=True)
    for i in range(WARMUP_STEPS + 10):
        eager(1e-3 * (i + 1))
        graphed(1e-3 * (i + 1))
    assert graphed.graph is not None
    for a, b in zip(eager.model.parameters(), graphed.model.parameters()):
        torch.testing.assert_close(a, b, rtol=1e-5, atol=1e-6)
    assert int(graphed.steps) == WARMUP_STEPS + 10


def test_graph_replays_do_not_sync_and_still_flag_a_diverging_member():
    step = training_step(cuda_graph=True, nan_member=2)
    for _ in range(WARMUP_STEPS + 1):
        step(1.0)
    torch.cuda.set_sync_debug_mode("error")
    try:
        for _ in range(10):
            step(1.0)
    finally:
        torch.cuda.set_sync_debug_mode("default")
    assert step.first_bad_step.tolist() == [-1, -1, 1]


def test_train_members_runs_on_cuda():
    target = load_targets()["seed"]
    config = TrainConfig(steps=100, eval_every=50, train_size=4000, test_size=2000, val_size=1000)
    data = sample_data(target, 0, config.train_size, config.val_size, config.test_size, "cuda")
    members = [encode_member(target, data, "log", "standard"), encode_member(target, data, "product+log", "asinh")]
    results = train_members(target, 0, members, data, config, "cuda")
    assert [r["status"] for r in results] == ["ok", "ok"]
    assert results[0]["throughput"]["device"] == torch.cuda.get_device_name()

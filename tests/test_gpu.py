"""The CUDA path (skipped without CUDA; scripts/gpu_check.sh runs it): the graph-captured training step."""

import pytest
import torch

from bench.model import EnsembleMLP, MLPConfig
from bench.registry import MODELS
from bench.step import WARMUP_STEPS, TrainingStep
from bench.sweep import Cell, group, run_job
from bench.targets import load_targets
from bench.train import TrainConfig

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


def test_an_mlp_job_runs_on_cuda_in_full_float32():
    target = load_targets()["seed"]
    config = TrainConfig(steps=100, eval_every=50, train_size=4000, test_size=2000, val_size=1000)
    cells = [Cell(target, "log", "standard", "mlp", 0, MODELS["mlp"].settings(config, None), "cuda"),
             Cell(target, "product+log", "asinh", "mlp", 0, MODELS["mlp"].settings(config, None), "cuda")]
    [job] = group(cells)
    records = run_job(job, "cuda", threads=1)
    assert [r["status"] for r in records] == ["ok", "ok"]
    assert records[0]["throughput"]["device"] == torch.cuda.get_device_name()
    assert records[0]["env"]["tf32"] is False and not torch.backends.cuda.matmul.allow_tf32

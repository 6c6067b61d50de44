"""Throughput benchmarks: per input encoding, the `mlp` training step, inference and the encoder's transform;
and target sampling. Plain `pytest` runs each body once (a quick test); `pytest --benchmark-only` times them.

Every timed call ends with a device synchronization on CUDA, so the clock sees the work and not its launch.
extra_info["samples"] is what one call processes; conftest adds samples/s to the saved JSON.
"""

from dataclasses import replace

import pytest
from bench.encodings import INPUT_ENCODINGS, build_input_encoder, uses_periodic

from bench.device import synchronize
from bench.model import EnsembleMLP
from bench.step import TrainingStep
from bench.targets import load_targets
from bench.train import TrainConfig, predict

CONFIG = TrainConfig()
N = 16_384  # rows per inference, transform and sampling call

# every input encoding but `angle`, which needs inputs declared angles (the seed has none)
BENCHED = [name for name in INPUT_ENCODINGS if name != "angle"]


def synchronized(fn, device, *args):
    def call():
        out = fn(*args)
        synchronize(device)
        return out

    return call


@pytest.fixture(scope="module")
def seed_target():
    return load_targets()["seed"]


@pytest.fixture(scope="module")
def pool(seed_target, device):
    X, y, _ = seed_target.sample(20_000, 0, device)
    return X, ((y - y.mean()) / y.std()).float()


def encoded(encoding, target, X, device):
    """The pool encoded for one single-member `mlp`: inputs (n, 1, width) and that model."""
    Z = build_input_encoder(encoding, target).fit(X).transform(X).float()[:, None]
    mlp = replace(CONFIG.mlp, periodic=uses_periodic(encoding))
    return Z, EnsembleMLP([Z.shape[2]], [0], mlp).to(device)


@pytest.mark.parametrize("encoding", BENCHED)
def test_mlp_training_step(benchmark, encoding, seed_target, pool, device):
    X, y = pool
    Z, model = encoded(encoding, seed_target, X, device)
    step = TrainingStep(model, Z, y[:, None], CONFIG.batch_size, seed=0, lr=CONFIG.lr)
    benchmark.extra_info["samples"] = CONFIG.batch_size
    benchmark.pedantic(synchronized(step, device, 1.0), rounds=20, iterations=10, warmup_rounds=2)
    assert step.taken >= 1


@pytest.mark.parametrize("encoding", BENCHED)
def test_mlp_inference(benchmark, encoding, seed_target, pool, device):
    Z, model = encoded(encoding, seed_target, pool[0], device)
    benchmark.extra_info["samples"] = N
    out = benchmark.pedantic(synchronized(predict, device, model, Z[:N]), rounds=10, warmup_rounds=1)
    assert out.shape == (1, N)


@pytest.mark.parametrize("encoding", BENCHED)
def test_encoder_transform(benchmark, encoding, seed_target, pool, device):
    X = pool[0]
    encoder = build_input_encoder(encoding, seed_target).fit(X)
    benchmark.extra_info["samples"] = N
    out = benchmark.pedantic(synchronized(encoder.transform, device, X[:N]), rounds=10, warmup_rounds=1)
    assert out.shape[0] == N


@pytest.mark.parametrize("name", ["seed", "seed-coded"])
def test_target_sampling(benchmark, name, device):
    target = load_targets()[name]
    benchmark.extra_info["samples"] = N
    X, y, _ = benchmark.pedantic(synchronized(target.sample, device, N, 1, device), rounds=10, warmup_rounds=1)
    assert X.shape[0] == y.shape[0] == N

"""Reliability: resume after SIGKILL and SIGINT, determinism, and the same records from a dask cluster."""

import json
import math
import signal
import subprocess
import sys
import time

import pytest

from bench.records import load_records
from bench.run import main

# 5 encodings x 3 target encodings x 2 seeds of `linear`: 30 small jobs, each written as it finishes (large
# enough draws that the sweep is still running when the test interrupts it)
SWEEP = ["-m", "bench.run", "--targets", "seed", "--models", "linear", "--seeds", "2",
         "--encodings", "raw,minmax,standard,log,asinh", "--target-encodings", "none,standard,asinh",
         "--train-size", "100000", "--test-size", "100000"]
PLANNED = 30
TINY_MLP = ["--targets", "seed", "--encodings", "raw,log", "--target-encodings", "asinh", "--seeds", "1",
            "--steps", "40", "--set", "eval_every=20", "--test-size", "2000", "--set", "train_size=2000",
            "--models", "mlp,ridge"]


def start(out):
    """The sweep as a child process that takes Ctrl-C as a user's terminal sends it, even when this test runs in
    the background (where a shell starts its jobs with SIGINT ignored, and Python keeps it ignored)."""
    return subprocess.Popen([sys.executable, *SWEEP, "--out", str(out)], stderr=subprocess.PIPE, text=True,
                            preexec_fn=lambda: signal.signal(signal.SIGINT, signal.SIG_DFL))


def wait_for_records(out, count, process, limit=120):
    deadline = time.monotonic() + limit
    while len(list((out / "runs").glob("*.json"))) < count:
        assert process.poll() is None, "the sweep ended before it could be interrupted"
        assert time.monotonic() < deadline, "the sweep wrote no records in time"
        time.sleep(0.05)


def finish_and_check(out, kept):
    result = subprocess.run([sys.executable, *SWEEP, "--out", str(out)], capture_output=True, text=True)
    assert result.returncode == 0, result.stderr
    assert f"{len(kept)} already recorded" in result.stderr
    records, broken = load_records(out)
    assert not broken and len(records) == PLANNED
    assert len({r["key"] for r in records}) == PLANNED  # each planned run exactly once
    for name, (content, mtime) in kept.items():  # nothing finished before the kill was redone
        path = out / "runs" / name
        assert path.read_bytes() == content and path.stat().st_mtime_ns == mtime


def finished(out):
    return {p.name: (p.read_bytes(), p.stat().st_mtime_ns) for p in (out / "runs").glob("*.json")}


@pytest.mark.slow
def test_resume_after_sigkill(tmp_path):
    process = start(tmp_path)
    wait_for_records(tmp_path, 3, process)
    process.kill()
    process.wait()
    kept = finished(tmp_path)
    assert 3 <= len(kept) < PLANNED
    for content, _ in kept.values():
        json.loads(content)
    finish_and_check(tmp_path, kept)


@pytest.mark.slow
def test_ctrl_c_is_one_clean_line_and_keeps_finished_runs(tmp_path):
    process = start(tmp_path)
    wait_for_records(tmp_path, 3, process)
    process.send_signal(signal.SIGINT)
    _, err = process.communicate(timeout=60)
    assert process.returncode == 130
    assert "Traceback" not in err
    assert err.strip().splitlines()[-1].startswith("interrupted: finished runs are kept")
    finish_and_check(tmp_path, finished(tmp_path))


def metrics_by_run(out):
    return {(r["model"], r["encoding"], r["target_encoding"]): r["metrics"] for r in load_records(out)[0]}


def test_same_command_twice_gives_identical_metrics(tmp_path):
    for out in ("a", "b"):
        assert main(TINY_MLP + ["--out", str(tmp_path / out)]) == 0
    first, second = metrics_by_run(tmp_path / "a"), metrics_by_run(tmp_path / "b")
    assert len(first) == 4 and first == second


@pytest.mark.slow
def test_a_dask_cluster_writes_the_same_records_as_local_workers(tmp_path):
    distributed = pytest.importorskip("distributed")
    with distributed.LocalCluster(n_workers=1, threads_per_worker=1, host="127.0.0.1", dashboard_address=None,
                                  processes=True) as cluster:
        assert main(TINY_MLP + ["--out", str(tmp_path / "dask"), "--scheduler", cluster.scheduler_address]) == 0
    assert main(TINY_MLP + ["--out", str(tmp_path / "local"), "--jobs", "2"]) == 0
    dask_runs, local_runs = metrics_by_run(tmp_path / "dask"), metrics_by_run(tmp_path / "local")
    assert len(dask_runs) == 4 and dask_runs == local_runs
    assert sorted(p.name for p in (tmp_path / "dask" / "runs").iterdir()) == sorted(
        p.name for p in (tmp_path / "local" / "runs").iterdir())


def test_records_are_strict_json_without_nan_or_infinity_tokens(tmp_path):
    from bench.records import prepare_out, write_record

    prepare_out(tmp_path)
    record = {"config": {"target": "t", "model": "m", "encoding": "e", "target_encoding": "n", "seed": 0},
              "metrics": {"median_rel_err": float("nan"), "p99_rel_err": float("inf"), "r2": 0.5},
              "curve": [{"median_rel_err": float("-inf")}]}
    path = write_record(tmp_path, record)

    def refuse(token):
        raise ValueError(f"bare {token} in a record")

    loaded = json.loads(path.read_text(), parse_constant=refuse)  # scores keep their non-finite values as strings
    assert loaded["metrics"] == {"median_rel_err": "NaN", "p99_rel_err": "Infinity", "r2": 0.5}
    assert loaded["curve"] == [{"median_rel_err": None}]
    [read] = load_records(tmp_path)[0]  # and read back as the floats they were
    assert math.isnan(read["metrics"]["median_rel_err"]) and read["metrics"]["p99_rel_err"] == math.inf

"""bench.run end to end on tiny budgets: records, resume, user targets, divergence, errors, worker processes."""

import json
import subprocess
import sys

import pandas as pd
import pytest

from bench.records import load_frame, load_records
from bench.run import main

TINY = ["--steps", "40", "--set", "eval_every=20", "--test-size", "2000", "--set", "train_size=2000",
        "--set", "val_size=1000", "--seeds", "1"]
RECORD_KEYS = {"target", "encoding", "target_encoding", "model", "seed", "status", "config", "metrics", "curve",
               "convergence", "throughput", "env", "memory"}
METRICS = {"median_rel_err", "p90_rel_err", "p99_rel_err", "r2", "acc_1pct", "solved", "norm_l1", "nonfinite_share"}
THREE = """
[targets.signed]
formula = "a * b**2"
[targets.signed.variables]
a = { low = 1, high = 10, sign = "+-" }
b = { low = 0.1, high = 10, dist = "log-uniform" }

[targets.counted]
formula = "n / (k + 1)"
[targets.counted.variables]
n = { low = 1, high = 20, dist = "integer" }
k = { low = 0, high = "n" }

[targets.greek]
formula = "gamma**2 + exp(-beta)"
[targets.greek.variables]
gamma = { low = -2, high = 2 }
beta = { low = 0, high = 1 }
"""


def run(*args):
    return main(list(args) + TINY)


def test_sweep_writes_one_record_per_cell_and_resumes(tmp_path, capsys):
    args = ["--targets", "seed", "--encodings", "raw,log", "--target-encodings", "none,asinh", "--out", str(tmp_path)]
    assert run(*args) == 0
    records, broken = load_records(tmp_path)
    assert len(records) == 4 and not broken
    for record in records:
        assert RECORD_KEYS <= record.keys() and record["status"] == "ok"
        assert set(record["metrics"]) == METRICS and len(record["curve"]) == 2
        assert record["throughput"]["ensemble_size"] == 4
    before = {p.name: p.stat().st_mtime_ns for p in (tmp_path / "runs").iterdir()}
    capsys.readouterr()
    assert run(*args) == 0
    assert "4 already recorded" in capsys.readouterr().err
    assert {p.name: p.stat().st_mtime_ns for p in (tmp_path / "runs").iterdir()} == before
    frame = load_frame(records)
    assert isinstance(frame, pd.DataFrame) and "metrics.median_rel_err" in frame and len(frame) == 4


def test_changing_a_setting_makes_new_runs(tmp_path):
    args = ["--targets", "seed", "--encodings", "log", "--target-encodings", "asinh", "--out", str(tmp_path)]
    run(*args)
    run(*args, "--set", "width=8")
    records, _ = load_records(tmp_path)
    assert sorted(r["config"]["settings"]["width"] for r in records) == [8, 64]


def test_user_targets_file_runs_end_to_end(tmp_path):
    file = tmp_path / "three.toml"
    file.write_text(THREE)
    assert run("--targets-file", str(file), "--targets", "signed,counted,greek", "--encodings", "log,standard",
               "--target-encodings", "asinh", "--out", str(tmp_path / "out")) == 0
    records, _ = load_records(tmp_path / "out")
    assert len(records) == 6
    for record in records:
        assert record["status"] == "ok"
        assert all(pd.notna(v) and abs(v) < float("inf") for k, v in record["metrics"].items() if k != "solved")


def test_a_diverging_run_is_recorded_and_the_sweep_goes_on(tmp_path):
    assert run("--targets", "seed", "--encodings", "raw", "--target-encodings", "none", "--set", "lr=1e30",
               "--set", "schedule=constant", "--out", str(tmp_path)) == 0
    [record] = load_records(tmp_path)[0]
    assert record["status"] == "diverged" and record["diverged_at_step"] >= 1 and record["metrics"] is None


@pytest.mark.parametrize("flag, value, message", [
    ("--targets", "sead", "unknown target 'sead'; choose from seed, seed-coded"),
    ("--encodings", "lg", "unknown encoding 'lg'"),
    ("--target-encodings", "log", "unknown target encoding 'log'"),
    ("--models", "xgbost", "unknown model 'xgbost'"),
    ("--set", "widht=3", "--set 'widht=3': expected KEY=VALUE"),
])
def test_unknown_names_are_one_line_and_exit_2(tmp_path, flag, value, message):
    result = subprocess.run([sys.executable, "-m", "bench.run", flag, value, "--out", str(tmp_path)],
                            capture_output=True, text=True, cwd=tmp_path)
    assert result.returncode == 2
    assert message in result.stderr and len(result.stderr.strip().splitlines()) == 1
    assert not (tmp_path / "runs").exists() or not any((tmp_path / "runs").iterdir())


def test_list_names_everything_registered(capsys):
    assert main(["--list"]) == 0
    out = capsys.readouterr().out
    for name in ("seed-coded", "product", "asinh", "seed-asker", "sklearn-mlp"):
        assert name in out


def test_worker_processes_import_the_encodings_folder(tmp_path):
    """`encodings` is a stdlib name: the folder is installed as bench.encodings, also in joblib workers."""
    result = subprocess.run([sys.executable, "-m", "bench.run", "--targets", "seed", "--encodings", "log",
                             "--target-encodings", "none", "--models", "mlp,linear", "--jobs", "2",
                             "--out", str(tmp_path), *TINY], capture_output=True, text=True, cwd=tmp_path)
    assert result.returncode == 0, result.stderr
    records, _ = load_records(tmp_path)
    assert sorted(r["model"] for r in records) == ["linear", "mlp"]
    probe = "import bench.encodings.log as m, encodings; print(m.__file__); print(encodings.__file__)"
    out = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True, cwd=tmp_path).stdout
    ours, stdlib = out.split()
    assert ours.endswith("encodings/log.py") and "bench" not in stdlib and ours != stdlib


def test_records_are_plain_json(tmp_path):
    run("--targets", "seed", "--encodings", "log", "--target-encodings", "asinh", "--out", str(tmp_path))
    [path] = (tmp_path / "runs").glob("*.json")
    record = json.loads(path.read_text())
    assert path.name.startswith("seed_mlp_log_asinh_s0_") and record["key"] in path.name


def test_runs_failed_for_want_of_a_resource_are_tried_again_and_finished_ones_are_not(tmp_path, capsys):
    """Out of memory is tried again; a failure of the pipeline itself (the same seed fails the same way) is final
    unless --redo, so re-running a finished sweep runs nothing."""
    args = ["--targets", "seed", "--encodings", "log", "--target-encodings", "none,asinh", "--out", str(tmp_path)]
    run(*args)
    paths = sorted((tmp_path / "runs").glob("*.json"))
    failed = json.loads(paths[0].read_text()) | {"status": "failed", "error": "RuntimeError: out of memory"}
    paths[0].write_text(json.dumps(failed))
    kept = paths[1].stat().st_mtime_ns
    capsys.readouterr()
    run(*args)
    assert "1 already recorded" in capsys.readouterr().err
    assert json.loads(paths[0].read_text())["status"] == "ok" and paths[1].stat().st_mtime_ns == kept
    own = json.loads(paths[0].read_text()) | {"status": "failed", "error": "ValueError: Input contains NaN."}
    paths[0].write_text(json.dumps(own))
    run(*args)
    assert "2 already recorded" in capsys.readouterr().err and json.loads(paths[0].read_text())["status"] == "failed"
    run(*args, "--redo")
    assert json.loads(paths[0].read_text())["status"] == "ok"


def test_the_thread_budget_follows_omp_num_threads(monkeypatch):
    from bench.sweep import backend, cpu_budget

    monkeypatch.setenv("OMP_NUM_THREADS", "1")
    assert cpu_budget() == 1 and backend(jobs=1).threads == 1
    monkeypatch.delenv("OMP_NUM_THREADS")
    assert cpu_budget() >= 1 and backend(jobs=2).threads == max(1, cpu_budget() // 2)

"""bench.throughput's table: one row per measurement, the architecture named, bad sizes refused."""

import pandas as pd
import pytest

from bench import cli, throughput


def test_a_small_measurement_writes_its_table(tmp_path, capsys):
    argv = ["--members", "2", "--steps", "1", "--rounds", "1", "--width", "8", "--batch-size", "16", "--threads", "1",
            "--out", str(tmp_path)]
    assert throughput.main(argv) == 0
    [table] = tmp_path.glob("throughput-*-width8-batch16.csv")
    rows = pd.read_csv(table)
    assert rows["measurement"].tolist()[:2] == ["per-model", "ensemble"]
    assert rows.loc[:1, ["models", "width", "batch_size"]].values.tolist() == [[2, 8, 16], [2, 8, 16]]
    assert (rows["gflop_per_s"] > 0).all() and rows["ceiling_share"].iloc[-1] == 1
    assert "ensemble_speedup=" in capsys.readouterr().out


def test_float64_is_measured_beside_float32_in_one_run(tmp_path, capsys):
    argv = ["--members", "2", "--steps", "1", "--rounds", "1", "--width", "8", "--batch-size", "16", "--threads", "1",
            "--float64", "--out", str(tmp_path)]
    assert throughput.main(argv) == 0
    [table] = tmp_path.glob("throughput-*-width8-batch16-float64.csv")
    rows = pd.read_csv(table)
    assert rows["measurement"].tolist()[:3] == ["per-model", "ensemble", "ensemble float64"]
    assert (rows["model_samples_per_s"].iloc[:3] > 0).all()
    assert "float64_cost=" in capsys.readouterr().out


@pytest.mark.parametrize("flag", ["--width", "--batch-size"])
def test_a_size_below_one_is_refused(flag, tmp_path, capsys):
    with pytest.raises(SystemExit) as stop:
        throughput.main([flag, "0", "--out", str(tmp_path)])
    assert stop.value.code == 2 and flag in capsys.readouterr().err and not any(tmp_path.iterdir())


def test_sizes_with_tuning_are_refused(tmp_path, capsys):
    assert cli.main_guard(lambda: throughput.main(["--tuning", "--width", "32", "--out", str(tmp_path)])) == 2
    assert "--width and --batch-size" in capsys.readouterr().err and not any(tmp_path.iterdir())


def test_the_suite_measurement_compares_batched_and_one_equation_at_a_time(tmp_path, capsys, monkeypatch):
    from bench import suite
    monkeypatch.setitem(suite.BUDGETS, "quick", suite.BUDGETS["quick"].__class__(
        steps=20, lbfgs_iters=0, finalist_lbfgs_iters=0, train_size=500, val_size=200, test_size=200, trees=5,
        signomial_steps=10))
    assert throughput.main(["--equations", "2", "--threads", "1", "--out", str(tmp_path)]) == 0
    [table] = tmp_path.glob("suite-*.csv")
    rows = pd.read_csv(table)
    assert rows["mode"].tolist() == ["batched across equations", "one equation at a time"]
    assert (rows["equations"] == 2).all() and (rows["pipelines"] == 7).all() and (rows["equations_per_hour"] > 0).all()
    assert "suite_speedup=" in capsys.readouterr().out

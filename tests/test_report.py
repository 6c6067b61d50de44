"""bench.report on synthetic records (JSON written directly, nothing trained): aggregation with known answers,
the whole report on a folder with diverged, failed and unreadable records, and its command line."""

import math

import numpy as np
import pytest

from bench import cli
from bench.metrics import convergence
from bench.records import config_key, load_records, prepare_out, runs_dir, write_record
from bench.report import figures, frames, sweeps, tables
from bench.report import main as report_main

T_975_2, T_975_1 = 4.302652729911275, 12.706204736174707  # scipy.stats.t.ppf(0.975, df) for df = 2, 1


def record(model="mlp", encoding="log", target_encoding="asinh", seed=0, err=0.1, status="ok", target="seed"):
    """One run record as bench.run writes it; the learning curve falls as err * 100 / step."""
    config = {"target": target, "encoding": encoding, "target_encoding": target_encoding, "model": model,
              "seed": seed, "settings": {"steps": 100, "train_size": 1000, "test_size": 1000}}
    ok, failed = status == "ok", status == "failed"
    curve = [] if failed or model == "knn" else [
        {"step": s, "seconds": s / 100, "samples": 256 * s, "median_rel_err": err * 100 / s} for s in (25, 50, 75, 100)]
    return {"target": target, "encoding": encoding, "target_encoding": target_encoding, "model": model, "seed": seed,
            "status": status, "error": None if ok else f"{status} on purpose: seed {seed}",
            "config": config, "key": config_key(config),
            "metrics": {"median_rel_err": err, "p90_rel_err": 3 * err, "p99_rel_err": 10 * err, "r2": 0.9,
                        "acc_1pct": 0.5, "solved": False, "norm_l1": 2 * err} if ok else None,
            "curve": curve, "convergence": None if failed else convergence(curve),
            "throughput": None if failed else {"device": "cpu (2 threads)", "ensemble_size": 4 if model == "mlp" else 1,
                                               "train_samples_per_s": 1e4, "infer_samples_per_s": 1e6},
            "memory": {"peak_rss_mb": 100.0}, "env": {"device": "cpu (2 threads)", "python": "3.11.7", "torch": "2.13"},
            "finished": f"2026-01-0{seed + 1}T00:00:00+0000",
            "rel_err_quantiles": {"levels": [0.1, 0.5, 0.9], "rel_err": [err / 10, err, 10 * err]} if ok else None}


def synthetic_records():
    """Seven pipelines on `seed`, two seeds each, with means 0.02, 0.06, 0.3 (one seed diverged), 0.5, 1, 1.5 and
    none (both failed)."""
    cells = {("mlp", "log", "asinh"): [0.01, 0.03], ("knn", "log", "none"): [0.05, 0.07],
             ("mlp", "log", "none"): [0.3, None], ("mlp", "raw", "asinh"): [0.4, 0.6],
             ("mlp", "raw", "none"): [1.0, 1.0], ("seed-asker", "raw", "none"): [1.0, 2.0],
             ("linear", "raw", "none"): [None, None]}
    return [record(model, encoding, target_encoding, seed, err if err is not None else 0.0,
                   "ok" if err is not None else "failed" if model == "linear" else "diverged")
            for (model, encoding, target_encoding), errs in cells.items() for seed, err in enumerate(errs)]


@pytest.fixture(scope="module")
def runs():
    return frames.runs_frame(synthetic_records())


@pytest.fixture(scope="module")
def ranked(runs):
    return tables.ranking(runs)


def test_mean_interval_is_a_t_interval():
    mean, low, high = tables.mean_interval([1.0, 2.0, 3.0])
    assert mean == pytest.approx(2.0)
    assert (low, high) == pytest.approx((2 - T_975_2 / math.sqrt(3), 2 + T_975_2 / math.sqrt(3)))


def test_mean_interval_with_one_value_has_no_bounds():
    mean, low, high = tables.mean_interval([5.0, np.nan])
    assert mean == 5.0 and np.isnan(low) and np.isnan(high)


def test_ranking_orders_by_mean_and_puts_pipelines_without_ok_runs_last(ranked):
    order = list(zip(ranked["model"], ranked["encoding"], ranked["target_encoding"]))
    assert order == [("mlp", "log", "asinh"), ("knn", "log", "none"), ("mlp", "log", "none"), ("mlp", "raw", "asinh"),
                     ("mlp", "raw", "none"), ("seed-asker", "raw", "none"), ("linear", "raw", "none")]
    assert ranked["median_rel_err"].iloc[:6].tolist() == pytest.approx([0.02, 0.06, 0.3, 0.5, 1.0, 1.5])
    assert ranked["rank"].iloc[:6].tolist() == [1, 2, 3, 4, 5, 6] and np.isnan(ranked["rank"].iloc[6])


def test_ranking_interval_counts_and_statuses(ranked):
    best = ranked.iloc[0]
    assert (best["ci_low"], best["ci_high"]) == pytest.approx((0.02 - T_975_1 * 0.01, 0.02 + T_975_1 * 0.01))
    assert best["p90_rel_err"] == pytest.approx(0.06) and best["norm_l1"] == pytest.approx(0.04)
    half = ranked.set_index(["model", "encoding", "target_encoding"]).loc[("mlp", "log", "none")]
    assert (half["runs"], half["ok"], half["not_ok"]) == (2, 1, "1 diverged") and np.isnan(half["ci_low"])
    assert ranked.iloc[6]["not_ok"] == "2 failed"


def test_headline_factors_over_raw_inputs_and_the_asker(ranked):
    head = tables.headlines(ranked).iloc[0]
    assert (head["model"], head["encoding"], head["target_encoding"]) == ("mlp", "log", "asinh")
    assert (head["raw_encoding"], head["raw_target_encoding"]) == ("raw", "asinh")
    assert head["factor_vs_raw"] == pytest.approx(25.0)
    assert head["factor_vs_asker"] == pytest.approx(75.0)


def test_convergence_counts_the_seeds_that_reached_each_level(runs, ranked):
    table = tables.convergence_table(runs, ranked).set_index(["model", "encoding", "target_encoding"])
    best = table.loc[("mlp", "log", "asinh")]
    assert (best["reached_10pct"], best["steps_to_10pct"]) == (2, pytest.approx(37.5))  # steps 25 and 50
    assert (best["reached_1pct"], best["steps_to_1pct"]) == (1, pytest.approx(100))  # only err 0.01 gets there
    assert ("knn", "log", "none") not in table.index  # no learning curve


def test_throughput_and_not_ok_tables(runs):
    throughput = tables.throughput_table(runs).set_index("model")
    assert throughput.loc["mlp", "ensemble_train_samples_per_s"] == pytest.approx(4e4)
    assert throughput.loc["mlp", "runs"] == 8  # with the diverged run: it measured its ensemble too
    not_ok = tables.not_ok_table(runs)
    assert sorted(not_ok["status"]) == ["diverged", "failed", "failed"]


@pytest.fixture(scope="module")
def reported(tmp_path_factory):
    """A report written from a folder with the synthetic records plus one file that is not JSON."""
    out = tmp_path_factory.mktemp("results")
    runs_dir(out).mkdir()
    for r in synthetic_records():
        write_record(out, r)
    (runs_dir(out) / "half-written.json").write_text("{")
    assert report_main.main(["--out", str(out)]) == 0
    return out


def test_report_shows_runs_that_diverged_or_failed(reported):
    summary = (reported / "summary.md").read_text()
    assert "14 runs: 11 ok, 1 diverged, 2 failed" in summary
    section = summary.split("## Runs not ok")[1].split("##")[0]
    assert "diverged on purpose: seed 1" in section and section.count("failed on purpose") == 2
    assert "| 0/2 (2 failed) |" in summary and "| 1/2 (1 diverged) |" in summary
    assert "half-written.json" in summary


def test_report_headline_marks_cpu_and_gives_factors(reported):
    summary = (reported / "summary.md").read_text()
    headline = next(line for line in summary.splitlines() if line.startswith("- **seed**"))
    assert "mlp, log inputs, target encoding asinh" in headline
    assert "25× lower than raw inputs" in headline and "75× lower than seed-asker" in headline
    assert "CPU result" in headline and "**CPU results**" in summary
    assert "python -m bench.run --targets seed" in summary and f"python -m bench.report --out {reported}" in summary


def test_report_writes_every_table_and_figure(reported):
    for name in ["ranking", "headlines", "convergence", "throughput", "not_ok", "environment"]:
        assert (reported / f"{name}.csv").stat().st_size > 0
    for name in figures.FIGURES:
        assert (reported / f"{name}.png").read_bytes()[:4] == b"\x89PNG"


def test_a_folder_where_every_run_failed_still_gets_a_summary(tmp_path):
    prepare_out(tmp_path)
    for seed in (0, 1):
        write_record(tmp_path, record(seed=seed, status="failed"))
    assert report_main.main(["--out", str(tmp_path)]) == 0
    summary = (tmp_path / "summary.md").read_text()
    assert "2 runs: 0 ok, 0 diverged, 2 failed" in summary and "No ok runs." in summary
    assert "| 0/2 (2 failed) |" in summary and not list(tmp_path.glob("*.png"))


def test_an_out_path_that_is_a_file_is_one_line_and_exit_2(tmp_path, capsys):
    path = tmp_path / "results"
    path.write_text("")
    assert cli.main_guard(lambda: report_main.main(["--out", str(path)])) == 2
    assert capsys.readouterr().err.count("\n") == 1


def test_an_empty_folder_runs_the_quick_sweep_first(tmp_path, monkeypatch):
    seen = {}

    def fake_sweep(args, quiet=False):
        seen["args"] = args
        prepare_out(args.out)
        write_record(args.out, record(seed=0, err=0.2))
        write_record(args.out, record(seed=1, err=0.3))
        return [], 0

    monkeypatch.setattr("bench.run.sweep", fake_sweep)
    monkeypatch.setattr(report_main, "write_report", lambda records, broken, out: seen.update(records=records) or [])
    assert report_main.main(["--out", str(tmp_path / "new"), "--quick"]) == 0
    [command] = sweeps.QUICK_SWEEP.commands
    assert seen["args"].steps == int(command[command.index("--steps") + 1])
    assert seen["args"].out == str(tmp_path / "new") and len(seen["records"]) == 2


@pytest.mark.parametrize("sweep", [sweeps.QUICK_SWEEP, sweeps.DEFAULT_SWEEP], ids=lambda s: s.name)
def test_the_built_in_sweeps_are_valid_bench_run_commands(sweep):
    for command in sweep.commands:
        keys = sweeps.planned_keys(list(command))
        assert keys and len(keys) > 10


@pytest.mark.parametrize("sizes", [["--set", "train_size=5000"], ["--train-size", "5000"]])
def test_the_reproduce_command_plans_exactly_the_recorded_runs(tmp_path, sizes):
    from bench.run import parser, train_config
    from bench.sweep import plan
    from bench.targets import load_targets

    argv = ["--targets", "seed", "--encodings", "raw,log", "--target-encodings", "none,asinh",
            "--models", "mlp,seed-asker,linear", "--seeds", "2", "--steps", "300", "--set", "eval_every=50", *sizes]
    args = parser().parse_args(argv)
    cells, _ = plan([load_targets([])["seed"]], args.encodings, args.target_encodings, args.models, args.seeds,
                    train_config(args), args.train_size)
    runs_dir(tmp_path).mkdir()
    for cell in cells:
        write_record(tmp_path, {"config": cell.config, "key": cell.key})
    records, _ = load_records(tmp_path)
    assert sweeps.planned_keys(sweeps.sweep_arguments(records)) == {c.key for c in cells}
    assert "It plans exactly the 18 runs recorded here" in sweeps.reproduction(records, tmp_path)[-1]



def test_records_of_the_quick_sweep_reproduce_as_its_commands(tmp_path):
    from bench.run import parser, train_config
    from bench.sweep import plan
    from bench.targets import load_targets

    targets = load_targets([])
    for command in sweeps.QUICK_SWEEP.commands:
        args = parser().parse_args(list(command))
        cells, _ = plan([targets[n] for n in args.targets], args.encodings, args.target_encodings, args.models,
                        args.seeds, train_config(args), args.train_size)
        runs_dir(tmp_path).mkdir(exist_ok=True)
        for cell in cells:
            write_record(tmp_path, {"config": cell.config, "key": cell.key})
    records, _ = load_records(tmp_path)
    lines = sweeps.reproduction(records, tmp_path)
    assert "quick sweep" in lines[-1] and lines[1].startswith("python -m bench.run --targets seed,seed-coded")


def test_a_pipeline_that_diverged_on_some_seeds_cannot_take_the_headline():
    records = [record("mlp", "log", "none", 0, 0.001), record("mlp", "log", "none", 1, status="diverged"),
               record("mlp", "log", "asinh", 0, 0.01), record("mlp", "log", "asinh", 1, 0.03)]
    heads = tables.headlines(tables.ranking(frames.runs_frame(records)))
    assert (heads.loc[0, "target_encoding"], heads.loc[0, "median_rel_err"]) == ("asinh", pytest.approx(0.02))


def test_runs_under_another_budget_are_left_out_not_pooled_as_seeds():
    longer = record(seed=0, err=0.001)
    longer["config"]["settings"] = {**longer["config"]["settings"], "steps": 9999}
    kept, left_out = frames.one_budget([record(seed=0), record(seed=1), longer])
    assert left_out == 1 and all(r["config"]["settings"]["steps"] == 100 for r in kept)


def test_an_interrupted_built_in_sweep_is_resumed(tmp_path, monkeypatch):
    calls = []
    monkeypatch.setattr(report_main, "sweep_keys", lambda sweep, device="cpu": {"a", "b"})
    monkeypatch.setattr(report_main, "run_sweep", lambda sweep, out: calls.append(sweep.name))
    monkeypatch.setattr(report_main, "write_report", lambda records, broken, out: [])
    runs_dir(tmp_path).mkdir()
    write_record(tmp_path, {**record(), "key": "a"})
    assert report_main.main(["--out", str(tmp_path)]) == 0 and calls == ["default"]
    write_record(tmp_path, {**record(seed=1), "key": "b"})
    assert report_main.main(["--out", str(tmp_path)]) == 0 and calls == ["default"]  # complete: nothing to run


def test_a_folder_with_one_target_encoding_reports_without_error(tmp_path):
    runs_dir(tmp_path).mkdir()
    for seed in (0, 1):
        write_record(tmp_path, record(seed=seed, err=0.1 + seed / 10))
    assert report_main.main(["--out", str(tmp_path)]) == 0
    assert (tmp_path / "final_error.png").exists() and (tmp_path / "summary.md").exists()

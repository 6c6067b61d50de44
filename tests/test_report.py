"""bench.report on synthetic records (JSON written directly, nothing trained): aggregation with known answers,
the whole report on a folder with diverged, failed and unreadable records, and its command line."""

import math

import numpy as np
import pandas as pd
import pytest

from bench import builtin, cli
from bench.metrics import convergence
from bench.records import config_key, load_records, prepare_out, runs_dir, write_record
from bench.report import figures, frames, markdown, stats, sweeps, tables, verdict
from bench.report.ladder import agreement_table, ladder_table

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
            "finished": f"2026-01-0{seed + 1}T00:00:00+0000", "val_error": err if ok else None,
            "command": ["python", "-m", "bench.run", "--targets", target, "--models", model, "--encodings", encoding,
                        "--target-encodings", target_encoding, "--steps", "100", "--out", "results"],
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


def tuned_record(encoding, target_encoding, seed, steps, err, target="other"):
    """A tuned mlp run at a budget of `steps`, as bench.run --tune writes it."""
    r = record("mlp", encoding, target_encoding, seed, err, target=target)
    r["config"]["settings"] |= {"steps": steps, "lr": 0.003, "width": 128, "rollback": 4.0}
    r["config"]["tuned"] = {"trials": 8, "search_steps": 100, "round_size": 8,
                            "space": {"lr": "log-uniform", "width": "one of 64, 128"}}
    r["key"] = config_key(r["config"])
    r["val_error"] = err
    r["tuning"] = {"trials": 8, "search_steps": 100, "val_error": err, "seconds": 1.5,
                   "params": {"lr": 0.003, "width": 128}}
    r["kept_step"] = steps
    r["command"] = ["python", "-m", "bench.run", "--targets", target, "--encodings", encoding, "--target-encodings",
                    target_encoding, "--steps", str(steps), "--tune", "8", "--tune-steps", "100", "--out", "results"]
    return r


def ladder_records():
    """Four tuned pipelines at 100 and 400 steps; the order at 400 swaps the last two."""
    errors = {("log", "asinh"): (0.1, 0.01), ("standard", "asinh"): (0.2, 0.05), ("raw", "asinh"): (0.3, 0.2),
              ("raw", "none"): (0.5, 0.1)}
    return [tuned_record(encoding, target_encoding, seed, steps, err * (1 + 0.1 * seed))
            for (encoding, target_encoding), by_budget in errors.items()
            for steps, err in zip((100, 400), by_budget) for seed in range(2)]


def test_ladder_and_rank_agreement_between_budgets():
    ladder = ladder_table(frames.runs_frame(ladder_records()))
    assert sorted(ladder["steps"].unique()) == [100, 400] and len(ladder) == 8
    [row] = agreement_table(ladder).itertuples(index=False)
    assert (row.small_steps, row.large_steps, row.pipelines) == (100, 400, 4)
    assert row.kendall_tau == pytest.approx(2 / 3) and row.same_winner and row.winner_large == "log+asinh"


def test_rank_agreement_is_not_given_over_fewer_than_four_pipelines():
    three = [r for r in ladder_records() if r["encoding"] != "standard"]
    assert agreement_table(ladder_table(frames.runs_frame(three))).empty
    assert np.isnan(stats.rank_agreement(pd.Series([1, 2, 3]), pd.Series([1, 2, 3]))[0])


def test_a_budget_only_the_winner_reached_is_in_the_ladder_but_not_in_the_agreement():
    polished = [tuned_record("log", "asinh", seed, 400, 0.001) for seed in range(2)]
    for r in polished:
        r["config"]["settings"]["lbfgs_iters"] = 300
        r["key"] = config_key(r["config"])
    ladder = ladder_table(frames.runs_frame(ladder_records() + polished))
    assert sorted(ladder["steps"].unique()) == [100, 400, 700]
    [row] = agreement_table(ladder).itertuples(index=False)
    assert (row.small_steps, row.large_steps, row.pipelines) == (100, 400, 4)


def test_pipelines_are_ranked_and_chosen_within_their_budget_only():
    ranked = tables.ranking(frames.runs_frame(ladder_records()))
    assert sorted(ranked["budget"].unique()) == ["100 steps", "400 steps"]
    for _, table in ranked.groupby("budget"):
        assert sorted(table["rank"]) == [1, 2, 3, 4] and table["runs"].tolist() == [2, 2, 2, 2]
        [chosen] = table[table["chosen"]].itertuples()
        assert (chosen.encoding, chosen.target_encoding, chosen.vs_best) == ("log", "asinh", "best")


@pytest.fixture(scope="module")
def runs():
    return frames.with_failures_counted(frames.runs_frame(synthetic_records()))


@pytest.fixture(scope="module")
def ranked(runs):
    return tables.ranking(runs)


def test_mean_interval_is_a_t_interval():
    mean, low, high = stats.mean_interval([1.0, 2.0, 3.0])
    assert mean == pytest.approx(2.0)
    assert (low, high) == pytest.approx((2 - T_975_2 / math.sqrt(3), 2 + T_975_2 / math.sqrt(3)))


def test_mean_interval_with_one_value_has_no_bounds():
    mean, low, high = stats.mean_interval([5.0, np.nan])
    assert mean == 5.0 and np.isnan(low) and np.isnan(high)


# A failed or diverged run counts as the target's worst error (2.0, seed-asker's seed 1), at least 1.
GEOMETRIC = [math.sqrt(0.01 * 0.03), math.sqrt(0.05 * 0.07), math.sqrt(0.4 * 0.6), math.sqrt(0.3 * 2.0), 1.0,
             math.sqrt(2.0), 2.0]


def test_ranking_orders_by_geometric_mean_with_failures_counted(ranked):
    order = list(zip(ranked["model"], ranked["encoding"], ranked["target_encoding"]))
    assert order == [("mlp", "log", "asinh"), ("knn", "log", "none"), ("mlp", "raw", "asinh"), ("mlp", "log", "none"),
                     ("mlp", "raw", "none"), ("seed-asker", "raw", "none"), ("linear", "raw", "none")]
    assert ranked["median_rel_err"].tolist() == pytest.approx(GEOMETRIC)
    assert str(ranked["rank"].dtype) == "Int64" and ranked["rank"].tolist() == [1, 2, 3, 4, 5, 6, 7]
    assert ranked["chosen"].tolist() == [True] + [False] * 6
    assert ranked["val_error"].iloc[3] == np.inf and ranked["solved"].iloc[6] == 0  # failures: never chosen


def test_a_pipeline_that_diverges_on_one_seed_ranks_below_an_equal_one_that_does_not():
    steady = [record("mlp", "log", "asinh", seed, 0.01) for seed in range(3)]
    shaky = [record("mlp", "log", "none", seed, 0.01) for seed in range(2)] + [
        record("mlp", "log", "none", 2, status="diverged")]
    ranked = tables.ranking(frames.with_failures_counted(frames.runs_frame(steady + shaky)))
    assert ranked["target_encoding"].tolist() == ["asinh", "none"] and ranked["rank"].tolist() == [1, 2]
    assert ranked["chosen"].tolist() == [True, False]
    assert ranked["median_rel_err"].iloc[1] == pytest.approx((0.01 * 0.01 * 1.0) ** (1 / 3))  # the failure as 1


def test_ranking_interval_on_log10_and_integer_status_counts(ranked):
    best = ranked.iloc[0]
    logs = np.log10([0.01, 0.03])
    half = T_975_1 * logs.std(ddof=1) / math.sqrt(2)
    assert (best["ci_low"], best["ci_high"]) == pytest.approx((10 ** (logs.mean() - half), 10 ** (logs.mean() + half)))
    assert best["p90_rel_err"] == pytest.approx(3 * GEOMETRIC[0]) and best["norm_l1"] == pytest.approx(0.04)
    assert (best["not_ok"], best["diverged"], best["failed"]) == (0, 0, 0)
    one = ranked.set_index(["model", "encoding", "target_encoding"]).loc[("mlp", "log", "none")]
    assert (one["runs"], one["ok"], one["diverged"], one["not_ok"]) == (2, 1, 1, 1) and np.isfinite(one["ci_low"])
    assert (ranked.iloc[6]["failed"], ranked.iloc[6]["not_ok"]) == (2, 2)


def test_paired_comparison_with_the_best_calls_ties_and_gaps(ranked):
    verdicts = ranked.set_index(["model", "encoding", "target_encoding"])["vs_best"]
    assert verdicts[("mlp", "log", "asinh")] == "best"
    assert verdicts[("seed-asker", "raw", "none")] == "worse"  # 1 and 2 against 0.01 and 0.03: p = 0.03
    factor, p, n = stats.paired_comparison(pd.Series([0.01, 0.02, 0.04]), pd.Series([0.1, 0.2, 0.4]))
    assert (factor, p, n) == (pytest.approx(10.0), 0.0, 3) and stats.verdict(factor, p, n) == "worse"
    factor, p, n = stats.paired_comparison(pd.Series([0.01, 0.02, 0.04]), pd.Series([0.02, 0.01, 0.041]))
    assert stats.verdict(factor, p, n) == "tie" and p > 0.5


def test_geometric_interval_counts_exact_zeros_at_the_floor():
    mean, _, _ = stats.geometric_interval([0.0, 1e-16])
    assert mean == pytest.approx(1e-16)


def test_the_verdict_factors_compare_pipelines_at_one_budget_chosen_on_validation(runs, ranked):
    head = verdict.verdicts(ranked, runs).iloc[0]
    assert (head["model"], head["encoding"], head["target_encoding"]) == ("mlp", "log", "asinh")
    assert (head["raw_lead_encoding"], head["raw_rival_encoding"], head["raw_rival_target_encoding"]) == (
        "log", "raw", "asinh")
    assert head["raw_factor"] == pytest.approx(GEOMETRIC[2] / GEOMETRIC[0]) and head["raw_n"] == 2
    assert head["asker_factor"] == pytest.approx(GEOMETRIC[5] / GEOMETRIC[0])
    assert head["raw_lead_budget"] == head["asker_lead_budget"] == "100 steps"


def test_the_best_is_chosen_on_validation_not_on_test():
    looks_good_on_test = [{**record("mlp", "raw", "asinh", s, 0.001), "val_error": 0.5} for s in range(2)]
    good_on_validation = [{**record("mlp", "log", "asinh", s, 0.01), "val_error": 0.01} for s in range(2)]
    runs = frames.runs_frame(looks_good_on_test + good_on_validation)
    ranked = tables.ranking(runs)
    head = verdict.verdicts(ranked, runs).iloc[0]
    assert head["encoding"] == "log" and ranked.set_index("encoding").loc["raw", "rank"] == 1
    assert ranked.set_index("encoding").loc["raw", "vs_best"] == "better"


def test_a_factor_across_budgets_is_never_made():
    short = [record("mlp", "raw", "asinh", s, 0.5) for s in range(2)]
    long = [record("mlp", "log", "asinh", s, 0.001) for s in range(2)]
    for r in long:
        r["config"]["settings"]["steps"] = 4000
    asker = [record("seed-asker", "raw", "none", s, 1.0) for s in range(2)]
    for r in asker:
        r["config"]["settings"]["steps"] = 3000
    runs = frames.runs_frame(short + long + asker)
    head = verdict.verdicts(tables.ranking(runs), runs).iloc[0]
    assert head["raw_lead_budget"] == "4,000 steps" and np.isnan(head["raw_factor"])  # raw ran 100 steps only
    assert np.isnan(head["asker_factor"])  # no mlp ran the asker's 3,000 steps
    assert "lower than" not in verdict.verdict_text(head)


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
    for r in synthetic_records() + ladder_records():
        write_record(out, r)
    (runs_dir(out) / "half-written.json").write_text("{")
    assert builtin.main(["--out", str(out)]) == 0
    return out


def test_report_shows_runs_that_diverged_or_failed(reported):
    summary = (reported / "summary.md").read_text()
    assert "30 runs: 27 ok, 1 diverged, 2 failed" in summary and "half-written.json" in summary
    assert "Kendall's tau = 0.67 over 4 pipelines" in (reported / "budget_ladder.md").read_text()
    reproduce = (reported / "environment.md").read_text()  # from every record
    assert "--targets other" in reproduce and "--steps 100 " in reproduce and "--steps 400 " in reproduce
    not_ok = (reported / "not_ok.md").read_text()
    assert "diverged on purpose: seed 1" in not_ok and not_ok.count("failed on purpose") == 2
    ranking = (reported / "ranking.md").read_text()
    assert "| 0/2 (2 failed) |" in ranking and "| 1/2 (1 diverged) |" in ranking


def test_the_summary_opens_with_the_verdict_and_links_a_page_per_section(reported):
    summary = (reported / "summary.md").read_text()
    first_screen = summary.splitlines()[:40]
    verdict_line = next(line for line in first_screen if line.startswith("- **seed**"))
    assert "`mlp` log → asinh at 100 steps" in verdict_line and "Measured on CPU." in verdict_line
    assert "28.3× lower than `mlp` raw → asinh" in verdict_line and "81.6× lower than `seed-asker`" in verdict_line
    for name in markdown.PAGES:
        assert f"]({name}.md)" in summary and (reported / f"{name}.md").read_text().startswith("# ")
    assert f"python -m bench.report --out {reported}" in (reported / "environment.md").read_text()


def test_report_writes_every_table_and_figure(reported):
    for name in ["ranking", "headlines", "convergence", "throughput", "not_ok", "environment"]:
        assert (reported / f"{name}.csv").stat().st_size > 0
    for name in figures.FIGURES:
        assert (reported / f"{name}.png").read_bytes()[:4] == b"\x89PNG"


def test_a_folder_where_every_run_failed_still_gets_a_summary(tmp_path):
    prepare_out(tmp_path)
    for seed in (0, 1):
        write_record(tmp_path, record(seed=seed, status="failed"))
    assert builtin.main(["--out", str(tmp_path)]) == 0
    summary = (tmp_path / "summary.md").read_text()
    assert "2 runs: 0 ok, 0 diverged, 2 failed" in summary and "No run to judge." in summary
    assert "| 0/2 (2 failed) |" in (tmp_path / "ranking.md").read_text() and not list(tmp_path.glob("*.png"))


def test_an_out_path_that_is_a_file_is_one_line_and_exit_2(tmp_path, capsys):
    path = tmp_path / "results"
    path.write_text("")
    assert cli.main_guard(lambda: builtin.main(["--out", str(path)])) == 2
    assert capsys.readouterr().err.count("\n") == 1


def test_an_empty_folder_asked_to_sweep_runs_the_quick_sweep_first(tmp_path, monkeypatch):
    seen = {}

    def fake_sweep(args, quiet=False, command=None):
        seen.setdefault("args", []).append(args)
        prepare_out(args.out)
        write_record(args.out, record(seed=0, err=0.2))
        write_record(args.out, record(seed=1, err=0.3))
        return [], 0

    monkeypatch.setattr(builtin, "run", fake_sweep)
    monkeypatch.setattr(builtin, "write_report", lambda records, broken, out: seen.update(records=records) or [])
    assert builtin.main(["--out", str(tmp_path / "new"), "--sweep", "--quick"]) == 0
    commands = sweeps.QUICK_SWEEP.commands
    assert [args.steps for args in seen["args"]] == [int(c[c.index("--steps") + 1]) if "--steps" in c else None
                                                     for c in commands]
    assert all(args.out == str(tmp_path / "new") for args in seen["args"]) and len(seen["records"]) == 2


@pytest.mark.parametrize("sweep", [sweeps.QUICK_SWEEP, sweeps.DEFAULT_SWEEP], ids=lambda s: s.name)
def test_the_built_in_sweeps_are_valid_bench_run_commands(sweep, tmp_path):
    for command in sweep.commands:
        keys = builtin.planned_keys(list(command), tmp_path)
        if "--tune" in command:  # its settings wait for searches that are not stored in tmp_path
            assert keys is None and builtin.planned_keys([c for c in command if c != "--tune"], tmp_path) is None
        else:
            assert keys


def test_a_record_names_the_command_that_made_it(tmp_path):
    from bench.run import main

    argv = ["--targets", "seed", "--encodings", "log", "--target-encodings", "asinh", "--steps", "300", "--seeds", "1"]
    assert main([*argv, "--out", str(tmp_path)]) == 0
    [run], _ = load_records(tmp_path)
    assert run["command"] == ["python", "-m", "bench.run", *argv, "--out", str(tmp_path)]
    assert sweeps.reproduction([run], tmp_path)[1] == "python -m bench.run " + " ".join(argv) + f" --out {tmp_path}"


def test_tuned_records_reproduce_as_tuned_commands_one_per_budget(tmp_path):
    argv = ["--targets", "seed", "--encodings", "log", "--target-encodings", "asinh", "--seeds", "1", "--steps", "40",
            "--set", "eval_every=20", "--set", "train_size=2000", "--set", "val_size=500", "--test-size", "500",
            "--tune", "2", "--tune-steps", "40", "--out", str(tmp_path)]
    from bench.run import main

    assert main(argv) == 0 and main(argv[:-4] + ["--steps", "80", "--tune-steps", "40", "--out", str(tmp_path)]) == 0
    records, _ = load_records(tmp_path)
    lines = sweeps.reproduction(records, tmp_path)
    commands = [line for line in lines if line.startswith("python -m bench.run")]
    assert len(commands) == 2 and all("--tune 2 " in c and "--tune-steps 40" in c for c in commands)


def test_records_of_a_built_in_sweep_reproduce_as_its_commands_in_its_order(tmp_path):
    commands = sweeps.QUICK_SWEEP.commands
    records = [{**record(seed=k), "command": ["python", "-m", "bench.run", *c, "--out", str(tmp_path)]}
               for k, c in enumerate(reversed(commands))]
    lines = sweeps.reproduction(records, tmp_path)
    assert "quick sweep" in lines[-1] and lines[1:1 + len(commands)] == [
        f"python -m bench.run {' '.join(c)} --out {tmp_path}" for c in commands]
    older = {**record(seed=5)}
    del older["command"]
    assert "1 of the 4 records were made before records kept their command" in sweeps.reproduction(
        [*records, older], tmp_path)[-1]


def test_a_pipeline_that_diverged_on_some_seeds_cannot_take_the_verdict():
    records = [record("mlp", "log", "none", 0, 0.001), record("mlp", "log", "none", 1, status="diverged"),
               record("mlp", "log", "asinh", 0, 0.01), record("mlp", "log", "asinh", 1, 0.03)]
    runs = frames.with_failures_counted(frames.runs_frame(records))
    heads = verdict.verdicts(tables.ranking(runs), runs)
    assert (heads.loc[0, "target_encoding"], heads.loc[0, "median_rel_err"]) == ("asinh", pytest.approx(math.sqrt(3e-4)))


def test_runs_under_another_budget_are_ranked_apart_not_pooled_as_seeds():
    longer = record(seed=0, err=0.001)
    longer["config"]["settings"] = {**longer["config"]["settings"], "steps": 9999}
    shorter = [record(seed=s) for s in (0, 1)]
    ranked = tables.ranking(frames.runs_frame([*shorter, longer]))
    assert ranked["budget"].tolist() == ["100 steps", "9,999 steps"] and ranked["runs"].tolist() == [2, 1]


def test_a_built_in_sweep_runs_when_the_folder_holds_none_or_part_of_it_and_never_over_other_runs(tmp_path):
    command = ("--targets", "seed", "--encodings", "raw,log", "--target-encodings", "none", "--models", "linear",
               "--seeds", "1")
    sweep = sweeps.Sweep("tiny", (command,), 1)
    keys = sorted(builtin.planned_keys(list(command), tmp_path))
    first = {**record(model="linear", encoding="raw", target_encoding="none"), "key": keys[0]}
    second = {**record(model="linear", encoding="log", target_encoding="none"), "key": keys[1]}
    assert builtin.unfinished(sweep, [], tmp_path)  # empty
    assert builtin.unfinished(sweep, [first], tmp_path)  # interrupted
    assert not builtin.unfinished(sweep, [first, second], tmp_path)  # complete
    assert not builtin.unfinished(sweep, [first, {**record(), "key": "someone else's"}], tmp_path)


def test_a_tuned_command_of_a_built_in_sweep_claims_its_runs_before_its_searches_are_stored(tmp_path):
    command = ("--targets", "other", "--encodings", "log", "--target-encodings", "asinh", "--models", "mlp",
               "--seeds", "2", "--steps", "400", "--tune", "8", "--tune-steps", "100")
    sweep = sweeps.Sweep("tuned", (command,), 1)
    ours = [r for r in ladder_records() if r["encoding"] == "log" and r["config"]["settings"]["steps"] == 400]
    assert all(builtin.made_by(r, sweep, set()) for r in ours)
    assert not any(builtin.made_by(r, sweep, set()) for r in ladder_records() if r["encoding"] != "log")
    assert builtin.unfinished(sweep, ours, tmp_path)  # its search is not stored: not complete


def test_a_tuned_command_claims_its_other_models_runs_and_keeps_them_with_its_mlp_runs():
    command = ("--targets", "other", "--encodings", "log", "--target-encodings", "asinh", "--models", "mlp,hgb",
               "--seeds", "1", "--steps", "400", "--tune", "8", "--tune-steps", "100")
    sweep = sweeps.Sweep("tuned", (command,), 1)
    mlp = tuned_record("log", "asinh", 0, 400, 0.01)
    hgb = tuned_record("log", "asinh", 0, 400, 0.02)
    hgb["model"] = hgb["config"]["model"] = "hgb"
    del hgb["config"]["settings"]["rollback"]  # only the mlp has run-only settings
    assert builtin.made_by(hgb, sweep, set()) and builtin.made_by(mlp, sweep, set())


def test_when_another_model_wins_the_headline_also_names_the_best_shared_mlp():
    records = [record("signomial", "raw", "none", seed, 1e-12) for seed in range(2)] + [
        record("mlp", "log", "asinh", seed, 0.01) for seed in range(2)] + [
        record("mlp", "raw", "asinh", seed, 0.5) for seed in range(2)]
    runs = frames.runs_frame(records)
    head = verdict.verdicts(tables.ranking(runs), runs).iloc[0]
    assert (head["model"], head["mlp_model"], head["mlp_encoding"]) == ("signomial", "mlp", "log")
    assert head["raw_factor"] == pytest.approx(50.0)  # raw inputs against the best mlp, not the winner
    text = verdict.verdict_text(head)
    assert "`signomial` raw → none at 100 steps" in text and "Best shared mlp: `mlp` log → asinh" in text


def test_untunable_models_of_a_tuned_command_count_as_its_runs(tmp_path):
    command = ("--targets", "seed", "--encodings", "raw", "--target-encodings", "none", "--models", "linear,hgb",
               "--seeds", "1", "--tune", "2")
    sweep = sweeps.Sweep("mixed", (command,), 1)
    [key] = builtin.planned_keys(["--targets", "seed", "--encodings", "raw", "--target-encodings", "none",
                                 "--models", "linear", "--seeds", "1"], tmp_path)
    linear = {**record(model="linear", encoding="raw", target_encoding="none"), "key": key}
    assert builtin.without_tuning(list(command)) == list(command[:-2])
    assert builtin.without_tuning(["--shared-architecture", *command, "--finalists", "1"]) == list(command[:-2])
    assert builtin.unfinished(sweep, [linear], tmp_path)  # hgb's tuned runs are still missing


def test_a_run_made_without_rollback_is_told_apart_from_a_built_in_command_s():
    current = tuned_record("log", "asinh", 0, 400, 0.01)
    older = tuned_record("log", "asinh", 0, 400, 0.02)
    del older["config"]["settings"]["rollback"]  # records from before the rollback: it was off
    older["key"] = config_key(older["config"])
    command = ("--targets", "other", "--encodings", "log", "--target-encodings", "asinh", "--models", "mlp",
               "--seeds", "1", "--steps", "400", "--tune", "8", "--tune-steps", "100")
    sweep = sweeps.Sweep("tuned", (command,), 1)
    assert builtin.made_by(current, sweep, set()) and not builtin.made_by(older, sweep, set())


def test_cpu_and_gpu_runs_of_a_pipeline_are_never_pooled_as_seeds():
    gpu = [record(seed=s, err=0.5) for s in (0, 1)]
    for r in gpu:
        r["config"]["device_type"] = "cuda"
    ranked = tables.ranking(frames.runs_frame([record(seed=s, err=0.01) for s in (0, 1)] + gpu))
    assert sorted(ranked["device_type"]) == ["cpu", "cuda"] and list(ranked["runs"]) == [2, 2]


def test_a_generated_readme_block_is_rewritten_between_its_markers_only(tmp_path):
    from bench.report.frontpage import write_block

    readme = tmp_path / "README.md"
    readme.write_text("# T\n\nkept\n<!-- suite -->\nold\n<!-- /suite -->\nafter\n")
    assert write_block("suite", "new sentence.", readme)
    assert readme.read_text() == "# T\n\nkept\n<!-- suite -->\nnew sentence.\n<!-- /suite -->\nafter\n"
    empty = tmp_path / "EMPTY.md"
    empty.write_text("<!-- suite -->\n<!-- /suite -->\n")
    assert write_block("suite", "filled", empty) and empty.read_text() == "<!-- suite -->\nfilled\n<!-- /suite -->\n"
    before = readme.read_text()
    assert not write_block("other", "x", readme) and not write_block("suite", "x", tmp_path / "absent.md")
    assert readme.read_text() == before and not (tmp_path / "absent.md").exists()


def test_rendering_the_same_records_again_writes_the_same_bytes(reported):
    before = {path.name: path.read_bytes() for path in reported.iterdir() if path.is_file()}
    assert builtin.main(["--out", str(reported)]) == 0
    after = {path.name: path.read_bytes() for path in reported.iterdir() if path.is_file()}
    assert after.keys() == before.keys() and [name for name in before if after[name] != before[name]] == []


def test_the_default_sweep_runs_every_compared_pipeline_on_at_least_five_seeds_at_shared_budgets():
    commands = [list(c) for c in sweeps.DEFAULT_SWEEP.commands]
    assert all(int(c[c.index("--seeds") + 1]) >= 5 for c in commands)
    steps = {c[c.index("--models") + 1]: int(c[c.index("--steps") + 1]) for c in commands if "--steps" in c}
    assert steps[sweeps.LADDER_ROWS] in {int(c[c.index("--steps") + 1]) for c in commands if "mlp" in c}


def test_runs_of_one_pipeline_and_budget_under_other_settings_are_another_row_not_more_seeds():
    plain = [record(seed=s, err=0.1) for s in (0, 1)]
    other = [record(seed=s, err=0.2) for s in (0, 1)]
    for r in other:
        r["config"]["settings"]["lr"] = 0.5
    ranked = tables.ranking(frames.runs_frame(plain + other))
    assert ranked["runs"].tolist() == [2, 2] and ranked["settings_key"].nunique() == 2
    assert ranked["vs_best"].tolist() == ["best", "worse"]  # compared, not pooled: a constant factor of 2


def test_a_run_whose_validation_error_was_not_finite_is_never_chosen():
    records = [record("mlp", "log", "asinh", s, 0.001) for s in (0, 1)] + [
        record("mlp", "raw", "asinh", s, 0.1) for s in (0, 1)]
    records[0]["val_error"] = None  # inf, as JSON keeps it
    ranked = tables.ranking(frames.runs_frame(records))
    assert ranked.set_index("encoding").loc["log", "val_error"] == np.inf
    assert ranked.set_index("encoding")["chosen"].to_dict() == {"log": False, "raw": True}


def test_equal_validation_errors_are_broken_by_name_never_by_test_error():
    records = [{**record("mlp", enc, "asinh", s, err), "val_error": 0.01}
               for enc, err in (("raw", 0.001), ("log", 0.5)) for s in (0, 1)]
    ranked = tables.ranking(frames.runs_frame(records))
    assert ranked.set_index("encoding")["chosen"].to_dict() == {"raw": False, "log": True}  # "log" < "raw"


def test_the_heatmap_picks_each_cell_s_target_encoding_on_validation_never_by_test_error():
    records = [{**record("mlp", "log", target_encoding, s, err), "val_error": 0.01}  # a tie: broken by name
               for target_encoding, err in (("asinh", 0.5), ("none", 0.001)) for s in (0, 1)]
    cells = figures.heatmap_cells(tables.ranking(frames.runs_frame(records)))
    assert cells[["target_encoding", "median_rel_err"]].values.tolist() == [["asinh", 0.5]]

"""The suite's aggregate verdicts (bench.report.suite) on small planted frames and records: solve counts and
intervals, the order of the solve-rate table, wins, which pipelines the rank statistics compare, the recipe's
choice on validation with failures charged, roles, per-seed rates and the files written."""

import math
import shlex

import numpy as np
import pandas as pd
import pytest

from bench.report.leaderboard import RECIPE_LABEL
from bench.report.stage_time import recipe_minutes, stage_markdown, stage_minutes
from bench.report.suite import error_matrix, failures, headline, per_equation, solve_rates, wins, with_recipe, write_suite_report
from bench.targets import load_targets


def planted(finalist_everywhere=False):
    """Three equations: `full` runs on all (solves 1), `fails` on all (a failure counts as -inf R², +inf
    error), `finalist` (a finalist's runs) on one (solves it), or on all."""
    rows = []
    for target, difficulty in (("a", "easy"), ("b", "easy"), ("c", "hard")):
        rows.append({"target": target, "difficulty": difficulty, "seed": 0, "pipeline": "full",
                     "r2": 0.9995 if target == "a" else 0.9, "median_rel_err": 0.01, "finalist": False,
                     "role": "reference"})
        rows.append({"target": target, "difficulty": difficulty, "seed": 0, "pipeline": "fails",
                     "r2": -np.inf, "median_rel_err": np.inf, "finalist": False, "role": "reference"})
        if finalist_everywhere or target == "b":
            rows.append({"target": target, "difficulty": difficulty, "seed": 0, "pipeline": "finalist",
                         "r2": 0.99999, "median_rel_err": 0.001, "finalist": True, "role": "finalist"})
    return pd.DataFrame(rows)


def test_solve_rates_count_intervals_and_put_complete_pipelines_first():
    rates = solve_rates(planted())
    overall = rates[rates["difficulty"] == "all"]
    assert overall["pipeline"].tolist() == ["full", "fails", "finalist"]  # 1/3 and 0/3 before 1/1
    full = overall.set_index("pipeline").loc["full"]
    assert (full["solved"], full["runs"]) == (1, 3)
    assert full["ci_low"] == pytest.approx(0.0615, abs=1e-3) and full["ci_high"] == pytest.approx(0.7923, abs=1e-3)
    easy = rates[(rates["difficulty"] == "easy") & (rates["pipeline"] == "full")].iloc[0]
    assert (easy["solved"], easy["runs"]) == (1, 2)


@pytest.mark.parametrize("finalist_everywhere", [False, True])
def test_rank_statistics_compare_only_fixed_pipelines_run_on_every_equation(finalist_everywhere):
    matrix = error_matrix(planted(finalist_everywhere))  # a finalist is picked per equation: never a fixed pipeline
    assert list(matrix.columns) == ["fails", "full"]
    assert wins(matrix) == {"fails": [], "full": ["a", "b", "c"]}


def test_the_headline_quotes_the_recipe_and_its_fixed_pipeline_by_r2_and_precision():
    frame = planted(finalist_everywhere=True).assign(suite="s")
    frame["chosen"] = frame["finalist"]
    sentence = headline(with_recipe(frame), frame, "cpu", "full", "its best fixed pipeline")
    assert "R² > 0.999 on **3 of 3** (100%, 95 % interval 44% to 100%; easy 2/2, hard 1/1)" in sentence
    assert "a median relative error ≤ 1e-5 on **0 of 3**" in sentence
    assert "its best fixed pipeline, full, reaches R² > 0.999 on 1 (33%) and ≤ 1e-5 on 0 (0%)" in sentence


def record(target, key, encoding, val_error, r2, median=1e-3, seed=0, model="mlp", status="ok", lbfgs=0,
           nonfinite_share=0.0, details=None):
    """A planted run record as bench.suite writes it (only the keys the suite report reads)."""
    metrics = None if status != "ok" else {"r2": r2, "median_rel_err": median, "nonfinite_share": nonfinite_share}
    return {"target": target, "key": key, "encoding": encoding, "target_encoding": "asinh", "model": model,
            "seed": seed, "status": status, "metrics": metrics, "val_error": val_error, "details": details,
            "config": {"settings": {"lbfgs_iters": lbfgs} if lbfgs else {}}, "job_seconds": 4.0, "job_size": 2,
            "env": {"device": "cpu (1 threads)"}}


CHOSEN = {"a": (None, "s", "easy"), "b": (None, "s", "hard")}


def test_a_validation_best_run_with_non_finite_test_predictions_is_chosen_and_counts_as_a_failure():
    records = [record("a", "a-log", "log", val_error=0.001, r2=-math.inf, median=0.5, nonfinite_share=0.01),
               record("a", "a-raw", "raw", val_error=0.01, r2=0.9999),
               record("b", "b-log", "log", val_error=0.002, r2=0.99999),
               record("b", "b-raw", "raw", val_error=math.inf, r2=math.nan, status="diverged")]
    frame = per_equation(records, CHOSEN)
    assert frame.loc[frame["chosen"], "key"].tolist() == ["a-log", "b-log"]  # never swapped for the next run
    failed = frame.set_index("key").loc["a-log"]
    assert failed["r2"] == -math.inf and failed["median_rel_err"] == math.inf
    rates = solve_rates(with_recipe(frame)).set_index(["pipeline", "difficulty"])
    assert rates.loc[(RECIPE_LABEL, "all"), ["solved", "runs"]].tolist() == [1, 2]
    assert rates.loc[("mlp raw→asinh", "all"), ["solved", "runs"]].tolist() == [1, 2]  # the diverged run counted


def test_roles_keep_candidates_and_the_fixed_reference_out_of_the_references_and_the_recipe_choice():
    records = [record("a", "cand", "log", val_error=0.01, r2=0.99, lbfgs=250),
               record("a", "fin", "edges+log", val_error=0.002, r2=0.9999, lbfgs=2000),
               record("a", "fixed", "log", val_error=0.0001, r2=0.99999, lbfgs=2000),
               record("a", "ref", "raw", val_error=0.1, r2=0.5)]
    frame = per_equation(records, {"a": CHOSEN["a"]}, finalists={"fin", "fixed"}, candidates={"cand"},
                         fixed_reference={"fixed"})
    roles = frame.groupby("key")["role"].apply(sorted).to_dict()
    assert roles == {"cand": ["candidate"], "fin": ["finalist"], "fixed": ["finalist", "fixed reference"],
                     "ref": ["reference"]}
    labels = dict(zip(frame["role"] + "/" + frame["key"], frame["pipeline"]))
    assert labels["candidate/cand"] == "candidate mlp log→asinh + 250 L-BFGS"
    assert labels["fixed reference/fixed"] == "mlp log→asinh + 2,000 L-BFGS"
    assert frame.loc[frame["chosen"], ["key", "role"]].values.tolist() == [["fixed", "finalist"]]
    alone = per_equation(records, {"a": CHOSEN["a"]}, finalists={"fin"}, candidates={"cand"}, fixed_reference={"fixed"})
    assert alone.loc[alone["chosen"], "key"].tolist() == ["fin"]  # the fixed reference is compared, never chosen


def test_several_seeds_give_per_seed_counts_and_an_interval_over_equations():
    records = [record(t, f"{t}{s}", "log", val_error=0.01, r2=0.9999 if (t, s) != ("b", 2) else 0.9, seed=s)
               for t in ("a", "b") for s in (0, 1, 2)]
    frame = per_equation(records, CHOSEN)
    rates = solve_rates(with_recipe(frame)).set_index(["pipeline", "difficulty"]).loc[(RECIPE_LABEL, "all")]
    assert rates["per_seed"] == "seed 0: 2/2, seed 1: 2/2, seed 2: 1/2"
    assert rates["equations"] == 2 and rates["rate"] == pytest.approx(5 / 6)
    assert rates["interval"] == "bootstrap over equations"
    assert (rates["ci_low"], rates["ci_high"]) == (pytest.approx(2 / 3), 1.0)  # the means of {1, 2/3} resampled
    sentence = headline(with_recipe(frame), frame, "cpu")
    assert "**2, 2 and 1 of 2** on seeds 0, 1 and 2 (mean 83%, 95 % interval over equations 67% to 100%" in sentence
    assert "— on the seed(s) no recipe was designed on (1 and 2), a mean 75% (95 % interval over equations 50% to " \
           "100%) —" in sentence  # seed 0 apart: earlier recipes were judged on it
    one = per_equation([r for r in records if r["seed"] == 0], CHOSEN)
    assert "designed on" not in headline(with_recipe(one), one, "cpu")


def test_write_suite_report_writes_symbolic_solutions_tiers_and_a_leaderboard(tmp_path):
    checked = {"symbolic_solution": True}
    records = [record(t, f"{t}-{m}", "raw", val_error=v, r2=r2, median=e, model=m, details=d)
               for t in ("a", "b") for m, v, r2, e, d in (
                   ("mlp", 0.01, 0.9999, 1e-4, None), ("lightgbm", 0.05, 0.99, 1e-2, None),
                   ("signomial", 1e-9 if t == "a" else 0.2, 1.0 if t == "a" else 0.5, 1e-12 if t == "a" else 0.3,
                    checked if t == "a" else {"symbolic_solution": False}))]
    chosen = {t: (load_targets()["seed"], "s", d) for t, (_, _, d) in CHOSEN.items()}
    written = write_suite_report(records, chosen, tmp_path)
    assert {"per_equation.csv", "precision_tiers.csv", "leaderboard.csv", "precision_profile.png"} <= set(written)
    table = pd.read_csv(tmp_path / "per_equation.csv", keep_default_na=False)
    symbolic = dict(zip(table["key"], table["symbolic_solution"].astype(str)))
    assert symbolic == {"a-mlp": "", "a-lightgbm": "", "a-signomial": "true", "b-mlp": "", "b-lightgbm": "",
                        "b-signomial": "false"}
    board = pd.read_csv(tmp_path / "leaderboard.csv").set_index("pipeline")
    assert board.loc[RECIPE_LABEL, ["R² > 0.999 hits", "≤ 1e-5 hits", "symbolic hits", "symbolic runs"]].tolist() == [
        2, 1, 1, 2]  # the signomial's exact formula on a, the mlp on b
    assert board.loc[RECIPE_LABEL, "median seconds per equation"] == pytest.approx(6.0)  # three runs of 2 s each
    assert np.isnan(board.loc["lightgbm raw→asinh", "symbolic runs"])
    summary = (tmp_path / "summary.md").read_text()
    assert summary.index("## Leaderboard") < summary.index("## Published") < summary.index("## Solve rate")
    assert "Of the recipe's 2 chosen runs (equation × seed), 1 reach a median relative error ≤ 1e-5: signomial 1, " \
           "mlp 0." in summary  # the signomial's exact formula on a; b's chosen mlp is at 1e-4
    tiers = pd.read_csv(tmp_path / "precision_tiers.csv")
    row = tiers[(tiers["pipeline"] == RECIPE_LABEL) & (tiers["difficulty"] == "all") & (tiers["tier"] == "≤ 1e-3")]
    assert row[["hits", "runs"]].values.tolist() == [[2, 2]]


def test_wall_time_counts_the_recipe_s_part_of_the_invocations_that_ran_the_reported_seeds(tmp_path):
    from bench.report.suite import wall_time

    (tmp_path / "wall_times.csv").write_text(
        "finished,runs_run,seconds,command,part\n"
        't,10,2650,"python -m bench.suite srsd-easy --out results/suite --jobs 2",recipe\n'
        't,10,3000,"python -m bench.suite srsd-easy --first-seed 1 --seeds 2 --jobs 2",recipe\n'
        't,10,900,"python -m bench.suite srsd-easy --first-seed 1 --references operon",references\n')
    assert wall_time(tmp_path, [1]) == (" Wall time: 3,000 s (50.0 min) over 1 logged invocation(s) (seed(s) 1 and 2: "
                                        "50.0 min for 10 runs; an invocation that resumed runs only what was left). "
                                        "The references (comparisons, `--references`) took 15.0 min more, logged apart.")
    assert "5,650 s" in wall_time(tmp_path, [0, 2])  # seeds 1 and 2 ran in the second invocation
    assert wall_time(tmp_path, [5]) == ""


def test_the_wall_time_log_reads_a_command_s_seeds_as_bench_suite_parses_them():
    from bench.report.suite import seeds_of
    from bench.suite import parser

    for argv in (["srsd-easy"], ["srsd-easy", "--seeds", "3"], ["srsd-easy", "--first-seed", "4", "--seeds", "2"]):
        args = parser().parse_args(argv)
        assert list(seeds_of(shlex.join(["python", "-m", "bench.suite", *argv]))) == list(
            range(args.first_seed, args.first_seed + args.seeds))


def test_the_failure_table_names_the_seed_of_each_unsolved_pair():
    targets = load_targets()
    frame = pd.DataFrame([{"target": "seed", "difficulty": "easy", "seed": seed, "pipeline": "log", "chosen": True,
                           "r2": r2, "median_rel_err": 0.01} for seed, r2 in ((1, 0.9), (0, 0.5), (2, 0.99999))])
    table = failures(frame, {"seed": (targets["seed"], "s", "easy")})
    assert table["seed"].tolist() == [0, 1] and table["R²"].tolist() == ["0.5000", "0.9000"]


def test_stage_time_sums_each_run_s_share_of_its_job_once_per_seed_and_totals_the_recipe():
    def run(key, seed, model="mlp", encoding="raw", lbfgs=0, seconds=4.0, size=2):
        return {**record("a", key, encoding, val_error=0.1, r2=0.5, seed=seed, model=model, lbfgs=lbfgs),
                "job_seconds": seconds, "job_size": size}

    records = [run("ref1", 1, seconds=60.0, size=1),  # seed 1 first: the columns still come out in seed order
               run("lgb1", 1, model="lightgbm", seconds=30.0, size=1),
               run("ref", 0, seconds=120.0, size=2),  # a share of 60 s
               run("lgb", 0, model="lightgbm", seconds=30.0, size=1),
               run("cand", 0, encoding="log", lbfgs=250, seconds=240.0, size=4),
               run("fin", 0, encoding="edges+log", lbfgs=2000, seconds=90.0, size=1),
               run("fixed", 0, encoding="log", lbfgs=2000, seconds=30.0, size=1),
               run("op", 0, model="operon", seconds=120.0, size=1)]
    frame = per_equation(records, {"a": CHOSEN["a"]}, finalists={"fin"}, candidates={"cand"},
                         fixed_reference={"fin", "fixed"}, other_methods={"op"})
    table = stage_minutes(frame)
    assert list(table.columns) == [0, 1]
    assert list(table.index) == ["mlp at one budget", "lightgbm", "candidates", "finalists",
                                 "the recipe (the stages above)", "fixed reference, mlp log→asinh + 2,000 L-BFGS",
                                 "operon raw→asinh"]
    assert table[0].tolist()[:5] == pytest.approx([1.0, 0.5, 1.0, 1.5, 4.0])  # the finalist once, as the recipe's
    assert table.loc["fixed reference, mlp log→asinh + 2,000 L-BFGS", 0] == pytest.approx(0.5)
    assert np.isnan(table.loc["candidates", 1]) and np.isnan(table.loc["the recipe (the stages above)", 1])
    assert "| operon raw→asinh | 2.0 | – |" in stage_markdown(table)
    assert recipe_minutes(table) == ""  # seed 1 ran no candidates: its total is unknown, not a partial sum
    assert recipe_minutes(stage_minutes(frame[frame["seed"] == 0])).startswith(
        " Per seed, the recipe's runs took 4.0 minutes of one worker (seed(s) 0;")

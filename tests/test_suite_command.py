"""python -m bench.suite: the recipe and the references over a suite's equations, batched across equations,
resumable, with its verdicts; bad input is one line and exit 2."""

import pandas as pd
import pytest

from bench import suite
from bench.cli import main_guard
from bench.protocol import evaluate, evaluate_many
from bench.registry import MODELS
from bench.suites import load_suite
from bench.sweep import Cell, group
from bench.train import TrainConfig

EASY = load_suite("srsd-easy")
TWO = "feynman-i-12-1,feynman-i-27-6"  # a product the signomial reads back exactly; a sum of inverses it cannot


def test_a_quick_suite_writes_its_verdicts_and_resumes(tmp_path, capsys):
    out = tmp_path / "suite"
    argv = ["srsd-easy", "--targets", TWO, "--budget", "quick", "--references", "fixed", "--out", str(out)]
    assert suite.main(argv) == 0
    table = pd.read_csv(out / "per_equation.csv")
    assert set(table.columns) >= {"target", "suite", "difficulty", "pipeline", "chosen", "r2", "median_rel_err", "seconds"}
    assert set(table["target"]) == set(TWO.split(",")) and (table["difficulty"] == "easy").all()
    assert table.groupby("target")["chosen"].sum().tolist() == [1, 1]
    for name, runs in table.groupby("target"):  # the chosen run has the lowest validation error of the recipe's own
        own = runs[runs["role"].isin(["reference", "candidate", "finalist"])]
        assert runs.loc[runs["chosen"], "val_error"].iloc[0] == own["val_error"].min()
        [fixed] = runs.loc[runs["role"] == "fixed reference", "pipeline"]  # one fixed pipeline, polished as long
        assert fixed == "mlp edges+log→asinh + 300 L-BFGS", name  # as a finalist, on every equation
    exact = table[table["target"] == "feynman-i-12-1"]  # read back exactly: nothing left to polish
    assert exact.loc[exact["chosen"], "pipeline"].tolist() == ["signomial diff→none"]
    assert exact.loc[exact["chosen"], "val_error"].iloc[0] <= suite.EXACT
    assert not exact["role"].isin(["candidate", "finalist"]).any()
    runs = table[table["target"] == "feynman-i-27-6"]
    candidates = runs[runs["role"] == "candidate"]  # the quick budget's short polish
    assert candidates["pipeline"].str.endswith(" + 100 L-BFGS").all()
    # the engineered candidates run where their features add a column: d1 and d2 are a pair of one range
    assert len(candidates) == len(suite.RECIPE) - 1  # no angle
    [finalist] = runs.loc[runs["role"] == "finalist", "pipeline"]  # and its longer one
    best = candidates.sort_values("val_error")["pipeline"].iloc[0]  # the candidate that validates best
    assert finalist.removeprefix("finalist ") == best.removeprefix("candidate ").replace(" + 100 L-BFGS", " + 300 L-BFGS")
    summary = (out / "summary.md").read_text()
    assert "## Solve rate" in summary and "SRBench 2021" in summary and "recipe (chosen on validation)" in summary
    capsys.readouterr()
    assert suite.main(argv) == 0  # everything recorded: nothing runs again
    assert "0 to run" in capsys.readouterr().err
    times = pd.read_csv(out / "wall_times.csv")  # one row per part of an invocation that ran something
    assert times["part"].tolist() == list(suite.PARTS) and (times["runs_run"] > 0).all()
    assert times["command"].str.startswith("python -m bench.suite").all()
    recipe = times.loc[times["part"] == "recipe", "seconds"].sum()
    assert f"Wall time: {recipe:,.0f} s" in (out / "summary.md").read_text()


def test_an_equation_with_an_exact_run_gets_no_candidates(tmp_path):
    """A run of the first stages validating at EXACT or below ends its (equation, seed) there; one just above it,
    or an exact run on another seed, does not."""
    from bench.records import write_record

    budget = suite.BUDGETS["quick"]
    targets = [EASY["feynman-i-12-1"], EASY["feynman-i-27-6"]]
    staged = suite.stages(targets, budget, [0, 1], "cpu", tmp_path)
    earlier = [cell for _ in range(3) for cell in next(staged)[1]]
    signomials = {(c.target.name, c.seed): c for c in earlier if c.model == "signomial"}
    for (name, seed), cell in signomials.items():
        error = suite.EXACT if (name, seed) == ("feynman-i-12-1", 0) else 1.01 * suite.EXACT
        write_record(tmp_path, {"key": cell.key, "config": cell.config, "val_error": error, "status": "ok",
                                "target": name, "encoding": cell.encoding, "metrics": None})
    name, candidates = next(staged)
    assert name == suite.CANDIDATES
    slots = {(c.target.name, c.seed) for c in candidates}
    assert slots == {("feynman-i-12-1", 1), ("feynman-i-27-6", 0), ("feynman-i-27-6", 1)}


@pytest.mark.parametrize("argv, message", [
    (["srsd-nope"], "unknown suite 'srsd-nope'"),
    ([], "name a suite"),
    (["srsd-easy", "--seeds", "0"], "--seeds"),
    (["srsd-easy", "--targets", "feynman-zzz"], "unknown target 'feynman-zzz'"),
])
def test_bad_input_is_one_line_exit_2_and_writes_nothing(tmp_path, capsys, argv, message):
    out = tmp_path / "out"
    try:
        code = main_guard(lambda: suite.main([*argv, "--out", str(out)]))
    except SystemExit as stop:  # argparse's own refusals
        code = stop.code
    err = capsys.readouterr().err.strip()
    assert code == 2
    assert len(err.splitlines()) == 1 and message in err and not out.exists()


def test_a_file_with_no_targets_is_refused(tmp_path, capsys):
    empty = tmp_path / "empty.toml"
    empty.write_text("# nothing yet\n")
    assert main_guard(lambda: suite.main(["--targets-file", str(empty), "--out", str(tmp_path / "o")])) == 2
    err = capsys.readouterr().err
    assert "no targets" in err and len(err.strip().splitlines()) == 1 and not (tmp_path / "o").exists()


def test_members_of_different_equations_train_as_one_ensemble_as_if_alone():
    config = TrainConfig(steps=60, eval_every=30, train_size=3000, val_size=1000, test_size=1000)
    settings = MODELS["mlp"].settings(config, None)
    targets = [EASY["feynman-i-12-1"], EASY["feynman-i-14-3"]]
    cells = [Cell(t, "log", "asinh", "mlp", 0, settings) for t in targets]
    assert len(group(cells)) == 2 and len(group(cells, targets_per_job=2)) == 1
    together = evaluate_many("mlp", 0, [(t, "log", "asinh") for t in targets], settings, "cpu")
    for target, result in zip(targets, together):
        [alone] = evaluate("mlp", target, 0, [("log", "asinh")], settings, "cpu")
        assert result["kept_step"] == alone["kept_step"]
        assert result["metrics"]["median_rel_err"] == pytest.approx(alone["metrics"]["median_rel_err"], rel=1e-3)


def test_an_equation_that_cannot_be_drawn_fails_its_own_runs_only():
    from bench.targets import parse_targets

    [bad] = parse_targets('[targets.bad]\nformula = "sqrt(a - 0.99)"\n[targets.bad.variables]\na = { low = 0, high = 1 }\n',
                          "bad.toml").values()
    settings = MODELS["mlp"].settings(TrainConfig(steps=20, eval_every=10, train_size=500, val_size=200, test_size=200), None)
    good, broken = evaluate_many("mlp", 0, [(EASY["feynman-i-12-1"], "log", "asinh"), (bad, "log", "asinh")], settings, "cpu")
    assert good["status"] == "ok" and broken["status"] == "failed" and "drawing bad failed" in broken["error"]


def test_models_that_draw_fresh_points_refuse_data_conditions():
    from bench.conditions import Conditions
    from bench.sweep import plan

    seed = load_suite("seed")["seed"]
    cells, skipped = plan([seed], ["raw"], ["none"], ["seed-asker", "signomial", "mlp"], 1, TrainConfig(), None, "cpu",
                          (Conditions(train_rows=500),))
    assert {c.model for c in cells} == {"mlp"} and "data conditions" in skipped["signomial on seed"]


def test_the_finalist_is_the_candidate_that_validates_best_whatever_its_test_set_shows(tmp_path):
    """Statuses as bench.metrics.outcome gives them: on `two`, the log candidate validates best but predicts a NaN
    on its test set: it stays ok and is the finalist (its failure is charged to it, not swapped for the next
    candidate); the standard one validates better still but its loss diverged in training, so it is not ok."""
    import numpy as np

    from bench.metrics import outcome
    from bench.records import write_record

    settings = MODELS["mlp"].settings(TrainConfig(steps=10, lbfgs_iters=5), None)
    one, two = EASY["feynman-i-12-1"], EASY["feynman-i-14-3"]
    y, finite, broken = np.array([1.0, 2.0, 3.0]), np.array([1.0, 2.0, 3.1]), np.array([1.0, np.nan, 3.0])
    outcomes = [(one, "standard", outcome(finite, y, val_error=0.3), 0.3),
                (one, "log", outcome(finite, y, val_error=0.1), 0.1),
                (one, "edges+log", outcome(finite, y, val_error=np.inf), np.inf),
                (two, "standard", outcome(finite, y, diverged_at=3, val_error=0.001), 0.001),
                (two, "log", outcome(broken, y, val_error=0.01), 0.01),
                (two, "edges+log", outcome(finite, y, val_error=0.02), 0.02)]
    assert outcomes[4][2]["status"] == "ok" and outcomes[4][2]["metrics"]["r2"] == -np.inf
    candidates = [Cell(target, encoding, "asinh", "mlp", 0, settings) for target, encoding, _, _ in outcomes]
    for cell, (_, _, result, val_error) in zip(candidates, outcomes):
        write_record(tmp_path, {"key": cell.key, "config": cell.config, "val_error": val_error,
                                "target": cell.target.name, "encoding": cell.encoding, **result})
    longer = MODELS["mlp"].settings(TrainConfig(steps=10, lbfgs_iters=50), None)
    picked = {f.target.name: f for f in suite.finalists(candidates, tmp_path, longer)}
    assert {name: f.encoding for name, f in picked.items()} == {one.name: "log", two.name: "log"}
    assert picked[one.name].settings["lbfgs_iters"] == 50
    assert picked[one.name].key not in {cell.key for cell in candidates}  # a run of its own, recorded beside them


@pytest.mark.parametrize("equations, most, workers, share", [
    (120, 24, 2, 20), (120, 24, 1, 24), (14, 24, 2, 7), (1, 24, 2, 1), (121, 24, 2, 21), (30, 24, 4, 8)])
def test_equations_are_shared_evenly_over_the_workers(equations, most, workers, share):
    assert suite.even_share(equations, most, workers) == share
    jobs = -(-equations // share)
    assert share <= most and (jobs % workers == 0 or jobs < workers)

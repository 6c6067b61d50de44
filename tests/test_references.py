"""bench.suite's references (the fixed pipeline, Operon, KAN): planned on the recipe's draws at their stated budgets,
timed apart, never among the recipe's choices."""

import csv

import pytest

from bench.cli import main_guard
from bench.conditions import Conditions
from bench.errors import UserError
from bench.references import OVERRIDES, REFERENCES, parse, reference_stages, run_keys
from bench.registry import MODELS
from bench.suite import BUDGETS, PARTS, log_wall_time, main, parser, stages
from bench.suites import load_suite


def easy(n=2):
    return [t.under(Conditions()) for t in list(load_suite("srsd-easy").values())[:n]]


def test_names_are_checked():
    assert parse("kan, operon") == ["kan", "operon"]
    with pytest.raises(UserError, match="unknown reference gp.*choose from fixed, operon"):
        parse("gp")
    assert parser().parse_args(["srsd-easy"]).references == []


def test_an_unknown_reference_stops_the_suite_before_any_work(tmp_path, capsys):
    assert main_guard(lambda: main(["srsd-easy", "--references", "nope", "--out", str(tmp_path / "o")])) == 2
    assert "unknown reference nope" in capsys.readouterr().err and not (tmp_path / "o").exists()


@pytest.mark.parametrize("budget_name", list(BUDGETS))
def test_references_draw_the_recipes_rows_under_their_stated_budget(budget_name, tmp_path):
    targets, budget = easy(), BUDGETS[budget_name]
    recipe = next(iter(stages(targets, budget, [0], "cpu", tmp_path)))[1]
    sizes = {(c.target.name, c.seed, c.device_type, *(c.settings[k] for k in ("train_size", "val_size", "test_size")))
             for c in recipe}
    planned = dict(reference_stages(list(REFERENCES), targets, budget_name, budget, [0], "cpu"))
    assert list(planned) == [f"reference {name}" for name in REFERENCES]
    for name, reference in REFERENCES.items():
        cells = planned[f"reference {name}"]
        assert {(c.encoding, c.target_encoding) for c in cells} == set(reference.pipelines)
        assert len(cells) == len(targets) * len(reference.pipelines)
        for cell in cells:
            assert cell.model == reference.model
            assert ({} if reference.polished else OVERRIDES[budget_name][name]).items() <= cell.settings.items()
            assert (cell.target.name, cell.seed, cell.device_type,
                    *(cell.settings[k] for k in ("train_size", "val_size", "test_size"))) in sizes
    assert all(c.settings["n_threads"] == 1 for c in planned["reference operon"])
    # the fixed reference is the recipe's own mlp, its Adam steps polished as long as a finalist
    finalist = MODELS["mlp"].settings(budget.mlp_config(budget.finalist_lbfgs_iters), None)
    assert all(c.settings == finalist for c in planned["reference fixed"])  # a finalist's key where they coincide


def test_the_fixed_reference_and_the_outside_methods_keep_their_roles():
    planned = {"signomial": {"s"}, "reference fixed": {"f"}, "reference operon": {"o"}, "reference kan": {"k1", "k2"}}
    assert run_keys(planned, polished=True) == {"f"}
    assert run_keys(planned, polished=False) == {"o", "k1", "k2"}


def test_wall_times_keep_the_parts_apart_and_an_old_log_gains_the_column(tmp_path):
    (tmp_path / "wall_times.csv").write_text('finished,runs_run,seconds,command\n2026-01-01T00:00:00+0000,10,99,"x"\n')
    log_wall_time(tmp_path, ["python", "-m", "bench.suite"], 3, 12.4, PARTS[1])
    rows = list(csv.DictReader((tmp_path / "wall_times.csv").open()))
    assert [(r["part"], r["seconds"], r["runs_run"]) for r in rows] == [("recipe", "99", "10"), ("references", "12", "3")]


def test_reference_seeds_run_the_references_on_the_first_seeds_only(tmp_path, monkeypatch):
    import bench.suite as suite

    ran = {}
    monkeypatch.setattr(suite, "execute", lambda todo, *args, desc, **kwargs: ran.setdefault(desc, todo))
    argv = ["srsd-easy", "--targets", "feynman-i-12-1", "--budget", "quick", "--seeds", "3", "--references", "operon",
            "--reference-seeds", "1", "--out", str(tmp_path / "o")]
    assert main(argv) == 0
    assert {c.seed for c in ran["mlp at one budget"]} == {0, 1, 2} and {c.seed for c in ran["reference operon"]} == {0}


def test_reference_seeds_without_references_is_one_line_before_any_work(tmp_path, capsys):
    assert main_guard(lambda: main(["srsd-easy", "--reference-seeds", "1", "--out", str(tmp_path / "o")])) == 2
    assert "add --references" in capsys.readouterr().err and not (tmp_path / "o").exists()

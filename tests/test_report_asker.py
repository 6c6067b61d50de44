"""bench.report.asker on synthetic records: the ladder table, its figure and markdown, the recovery lists."""

import pytest

from baselines.asker_ladder import LADDER, RUNGS
from bench.records import write_record
from bench.report import asker


def record(model, target="seed", seed=0, err=0.1, status="ok", details=None, encoding="raw"):
    config = {"target": target, "model": model, "seed": seed, "encoding": encoding, "target_encoding": "none"}
    return {"target": target, "model": model, "seed": seed, "encoding": encoding, "target_encoding": "none",
            "status": status, "error": None if status == "ok" else "diverged on purpose", "config": config,
            "key": f"{target}-{model}-{seed}", "metrics": {"median_rel_err": err, "r2": 0.5} if status == "ok" else None,
            "details": details}


def ladder_records():
    """Every ladder row on two targets, three seeds: error 10^-position (seed 1 twice that), one diverged run."""
    records = [record(model, target, seed, 10.0 ** -k * (2 if seed == 1 else 1))
               for k, model in enumerate(LADDER) for target in ("seed", "seed-coded") for seed in range(3)]
    records[-1] = record(list(LADDER)[-1], "seed-coded", 2, status="diverged")
    return records


SNAPPED = {"formula": "x5/x2 - x2/(2*x3*x4) + x2**2/(2*x1*x3*x4)", "snapped": True, "terms": [{}] * 4,
           "snapped_terms": [{}] * 3}
APPROXIMATE = {"formula": "0.98*x1**0.51", "snapped": False, "terms": [{}] * 2, "snapped_terms": [{}]}


def formula_records():
    return [record("signomial", "seed", details=SNAPPED, err=2e-14),
            record("signomial", "feynman-i-43-43", details=APPROXIMATE, err=0.02),
            record("signomial", "feynman-i-13-12", details=SNAPPED | {"formula": "G*m1*m2/r2"}, err=1e-6),
            record("gplearn", "seed", details={"expression": "div(X4, X1)", "length": 3}, err=0.4, encoding="log")]


def test_ladder_table_has_every_row_in_order_with_mean_worst_and_seed_count():
    table = asker.ladder_table(ladder_records())
    assert table["model"].tolist()[: len(RUNGS)] == list(RUNGS) and table["row"].iloc[0] == "0. posted recipe"
    assert table["kind"].tolist().count("leave-one-out") == 5
    assert table["model"].iloc[-1] == list(RUNGS)[-2]  # the fixed recipe without its last change is the rung before
    assert table["seed mean"].iloc[0] == pytest.approx(4 / 3) and table["seed worst"].iloc[0] == 2.0
    assert table["seed seeds"].iloc[0] == 3 and table["seed mean"].iloc[1] == pytest.approx(4 / 30)
    last = table[table["model"] == list(LADDER)[-1]].iloc[0]
    assert last["seed-coded seeds"] == 3 and last["seed-coded worst"] == pytest.approx(2 * 10.0 ** -(len(LADDER) - 1))


def test_plot_ladder_draws_one_point_per_ok_run_and_nothing_without_ladder_records():
    figure = asker.plot_ladder(ladder_records())
    axis = figure.axes[0]
    assert axis.get_yscale() == "log"
    points = sum(len(c.get_offsets()) for c in axis.collections)
    rows = len(asker.ladder_rows())
    assert points == rows * 6 - 1  # every row on 2 targets x 3 seeds, but the diverged run
    assert asker.plot_ladder(formula_records()) is None


def test_ladder_markdown_shows_the_factor_the_formula_and_the_recovery_list():
    text = asker.ladder_markdown(ladder_records() + formula_records())
    posted_over_fixed = 10.0 ** (len(RUNGS) - 1)
    assert f"by {posted_over_fixed:,.0f}× on `seed` and {posted_over_fixed:,.0f}× on `seed-coded`" in text
    assert "`y = x5/x2 - x2/(2*x3*x4) + x2**2/(2*x1*x3*x4)`" in text
    assert "recovers its target exactly on 1 of 3 runs" in text and "feynman-i-43-43" in text
    assert asker.ladder_markdown(formula_records()) == ""


def test_recovery_and_symbolic_tables_list_each_equation():
    table = asker.recovery_table(formula_records())
    assert table["exact"].tolist() == [False, False, True]  # i-13-12 is snapped but not within 1e-9
    assert table["terms"].tolist() == [3, 2, 3]
    symbolic = asker.symbolic_markdown(formula_records())
    assert "`div(X4, X1)`" in symbolic and "0.4" in symbolic
    assert asker.symbolic_markdown(ladder_records()) == ""


def test_main_writes_the_folders_markdown_next_to_it(tmp_path):
    folder = tmp_path / "signomial-dev"
    (folder / "runs").mkdir(parents=True)
    for r in formula_records():
        r["config"] = r["config"] | {"settings": {}}
        write_record(folder, r)
    assert asker.main([str(folder)]) == 0
    text = (tmp_path / "signomial-dev.md").read_text()
    assert text.startswith("# signomial-dev") and "exactly on 1 of 3 runs" in text and "div(X4, X1)" in text
    assert not (tmp_path / "signomial-dev.png").exists()  # no ladder runs, no ladder figure
    assert asker.main([str(tmp_path / "empty")]) == 2


def test_the_symbolic_summary_counts_accuracy_and_solutions_and_failures_as_neither():
    found = {"formula": "x1*x2", "symbolic_solution": True}
    records = [record("operon", "a", details=found), record("operon", "b", details=found | {"symbolic_solution": False}),
               record("operon", "c", status="diverged"), record("gplearn", "a", details={"expression": "X0"})]
    for r, r2 in zip(records, (1.0, 0.9995, None, 0.2)):
        if r2 is not None:
            r["metrics"]["r2"] = r2
    summary = asker.symbolic_summary(records).set_index("model")
    assert summary.loc["operon", "R² > 0.999"] == "2 (67%)"
    assert summary.loc["operon", "symbolic solutions"] == "1 of 3 checked (33%)"
    assert summary.loc["gplearn", "R² > 0.999"] == "0 (0%)" and "signomial" not in summary.index
    assert summary.loc["gplearn", "symbolic solutions"] == "not checked (records older than the check)"
    assert "SRBench's" in asker.symbolic_markdown(records) and "`x1*x2`" in asker.symbolic_markdown(records)

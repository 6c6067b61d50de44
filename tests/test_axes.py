"""The data-condition axes: the runner's commands, and the report's tables, verdicts and headline sentences."""

import json

import numpy as np
import pandas as pd
import pytest

from bench.axes import LEVELS, commands
from bench.builtin import main as report
from bench.records import write_record
from bench.report.axes import AXES, axes_frame, axes_summary, axis_of, axis_runs, axis_table, smallest_sizes, write_axes
from bench.report.main import conditions_section
from bench.run import data_conditions, parser
from bench.run import main as run

PIPELINES = [("log", "asinh"), ("raw", "asinh"), ("raw", "none")]


def record(pipeline, seed, error, conditions=None, target="seed", r2=0.9, val_error=None, status="ok"):
    """A run under `conditions` whose test median relative error is `error` and validation error `val_error`
    (by default the same); a run that is not ok has no metrics and an infinite validation error."""
    config = {"target": target, "encoding": pipeline[0], "target_encoding": pipeline[1], "model": "mlp", "seed": seed,
              "settings": {"train_size": 200_000}} | ({"conditions": conditions} if conditions else {})
    ok = status == "ok"
    return {"config": config, "key": f"{target}-{pipeline}-{seed}-{json.dumps(conditions, sort_keys=True)}",
            "target": target, "encoding": pipeline[0], "target_encoding": pipeline[1], "model": "mlp", "seed": seed,
            "status": status, "metrics": {"median_rel_err": error, "r2": r2} if ok else None,
            "val_error": (error if val_error is None else val_error) if ok else None}


def planted():
    """seed, 3 seeds: log → asinh wins clean and at noise 0.01, loses to raw → asinh at 0.1 (rms); sizes 1k/10k."""
    records = []
    for seed in range(3):
        jitter = 1 + 0.05 * seed
        for pipeline, clean, noisy, small, mid in zip(PIPELINES, (0.01, 0.1, 1.0), (0.2, 0.05, 1.0),
                                                      (0.5, 0.9, 1.0), (0.05, 0.5, 1.0)):
            records += [record(pipeline, seed, clean * jitter),
                        record(pipeline, seed, clean * 2 * jitter, {"noise": 0.01, "noise_kind": "rms"}),
                        record(pipeline, seed, noisy * jitter, {"noise": 0.1, "noise_kind": "rms"}),
                        record(pipeline, seed, small * jitter, {"train_rows": 1000}),
                        record(pipeline, seed, mid * jitter, {"train_rows": 10_000})]
    return records + [record(PIPELINES[0], 0, 1e-9, {"train_rows": 1000, "noise": 0.1, "noise_kind": "rms"})]


def test_each_axis_runs_the_clean_baseline_then_its_levels_for_seed_and_the_dev_set(tmp_path):
    dev = tmp_path / "dev.toml"
    dev.write_text('[targets.d]\nformula = "x"\n[targets.d.variables]\nx = { low = 1, high = 2 }\n')
    for axis, levels in LEVELS.items():
        lines = commands(axis, str(dev))
        assert len(lines) == 4
        for (clean, moved), group_levels in zip((lines[:2], lines[2:]), levels):
            assert moved == (*clean, *group_levels)
            args = parser().parse_args([*moved, "--out", "x"])
            assert data_conditions(args) and all(c.changed() for c in data_conditions(args))
        assert lines[0][:4] == ("--targets", "seed", "--seeds", "3")
        assert lines[2][:6] == ("--targets-file", str(dev), "--targets", "d", "--seeds", "1")
    assert set(LEVELS) == set(AXES)


def test_records_belong_to_the_axis_they_move_and_runs_moving_two_axes_to_none():
    records = planted()
    assert axis_of(records[0]) == "" and axis_of(records[2]) == "noise" and axis_of(records[3]) == "size"
    assert axis_of(records[-1]) is None
    frame = axes_frame(records)
    assert len(frame) == len(records) - 1 and frame["median_rel_err"].min() > 1e-9


def test_the_reference_loses_only_where_the_planted_errors_say_and_the_headline_says_so(tmp_path):
    sections, sentences, written = write_axes(planted(), tmp_path)
    assert sentences == [sentence for sentence in sentences if "noise on seed, at 0.1 rms" in sentence]
    assert len(sentences) == 1 and "loses to raw → asinh" in sentences[0]
    assert "### Noise" in sections and "### Training-set size" in sections
    assert {"axis_noise.csv", "axis_noise.png", "axis_size.csv", "axis_size.png"} <= set(written)
    assert all((tmp_path / name).exists() for name in written)


def test_an_axis_shows_only_the_pipelines_it_moves_beside_their_clean_runs():
    records = planted() + [record(("quantile", "asinh"), seed, 1e-3) for seed in range(3)]  # clean only
    runs = axis_runs(axes_frame(records), "noise")
    assert "quantile → asinh" not in set(runs["pipeline"]) and set(runs["level"]) == {"0", "0.01 rms", "0.1 rms"}


def test_geometric_means_winners_and_smallest_sizes_match_the_planted_values():
    table = axis_table(axis_runs(axes_frame(planted()), "size"))
    clean = table[(table["level"] == "200,000") & (table["pipeline"] == "log → asinh")].iloc[0]
    assert clean["median_rel_err"] == pytest.approx(0.01 * np.prod([1, 1.05, 1.1]) ** (1 / 3))
    assert clean["winner"] and clean["seeds"] == 3
    sizes = smallest_sizes(table).set_index("pipeline")
    assert sizes.loc["log → asinh", "n_to_10pct"] == 10_000 and pd.isna(sizes.loc["log → asinh", "n_to_1pct"])
    assert pd.isna(sizes.loc["raw → none", "n_to_10pct"])


def test_the_main_report_gains_the_axes_section_and_figures_from_its_axes_folder(tmp_path):
    assert conditions_section(tmp_path) == ("", [])
    for r in planted():
        write_record(tmp_path / "axes", r)
    sections, sentences = conditions_section(tmp_path)
    assert "(axes/axis_noise.png)" in sections and (tmp_path / "axes" / "axis_noise.png").exists()
    assert len(sentences) == 1
    assert axes_summary(planted(), tmp_path, ["python -m bench.axes --axis noise"])[-1] == "summary.md"
    assert "python -m bench.axes --axis noise" in (tmp_path / "summary.md").read_text()


def test_a_results_folder_with_conditioned_runs_ranks_only_clean_ones_and_reports_the_axis(tmp_path):
    argv = ["--targets", "seed", "--encodings", "raw,log", "--target-encodings", "asinh", "--seeds", "2", "--steps",
            "20", "--set", "eval_every=10", "--set", "train_size=2000", "--test-size", "500", "--out", str(tmp_path)]
    assert run(argv + ["--noise", "0,0.1"]) == 0
    assert report(["--out", str(tmp_path)]) == 0
    ranking = pd.read_csv(tmp_path / "ranking.csv")
    assert len(ranking) == 2 and set(ranking["runs"]) == {2}  # the noisy runs are not pooled as seeds
    summary = (tmp_path / "conditions.md").read_text()
    assert "### Noise" in summary and "(axis_noise.png)" in summary and (tmp_path / "axis_noise.png").exists()


def test_a_level_s_winner_is_chosen_on_validation_and_the_reference_is_paired_with_it_on_test(tmp_path):
    """raw → asinh has the lowest test error at 0.1 rms noise but validates worst: log → asinh, chosen on
    validation, stays the winner, and no paired test is made against the pipeline the test set favours."""
    records = [r for r in planted() if r["config"].get("conditions") != {"noise": 0.1, "noise_kind": "rms"}]
    for seed in range(3):
        for pipeline, test, validation in zip(PIPELINES, (0.2, 0.05, 1.0), (0.1, 0.3, 1.0)):
            records.append(record(pipeline, seed, test * (1 + 0.05 * seed), {"noise": 0.1, "noise_kind": "rms"},
                                  val_error=validation))
    frame = axes_frame(records)
    table = axis_table(axis_runs(frame, "noise"))
    noisy = table[table["level"] == "0.1 rms"].set_index("pipeline")
    assert noisy["winner"].sum() == 1 and noisy.loc["log → asinh", "winner"]
    assert noisy["median_rel_err"].idxmin() == "raw → asinh"  # the lowest test error, not chosen
    sections, sentences, _ = write_axes(records, tmp_path)
    assert sentences == [] and "- 0.1 rms: log → asinh stays the winner (0.21)." in sections


def test_runs_that_diverged_count_as_failures_at_their_level_never_dropped():
    """At 1,000 rows log → asinh diverges on one of three seeds: it stays in the table with that seed at the
    level's worst error (at least 1) and R² = −inf, is counted as failed, and cannot be the level's winner."""
    records = [r for r in planted() if not (r["config"].get("conditions") == {"train_rows": 1000}
                                            and r["encoding"] == "log" and r["seed"] == 2)]
    records.append(record(PIPELINES[0], 2, None, {"train_rows": 1000}, status="diverged"))
    frame = axes_frame(records)
    assert len(frame) == len(records) - 1  # only the run moving two axes is left out
    table = axis_table(axis_runs(frame, "size")).set_index(["level", "pipeline"])
    row = table.loc[("1,000", "log → asinh")]
    assert row["seeds"] == 3 and row["failed"] == 1 and row["r2"] == -np.inf and not row["winner"]
    worst = 1.0 * 1.1  # raw → none on seed 2, the worst run at 1,000 rows: the failure's error
    assert row["median_rel_err"] == pytest.approx((0.5 * 0.5 * 1.05 * worst) ** (1 / 3))
    assert table.loc[("1,000", "raw → asinh"), "winner"]

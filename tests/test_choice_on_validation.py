"""Every choice is made on validation alone: a run's status comes from its training and validation, a run whose
test predictions are not finite stays choosable and, once chosen, counts as its pipeline's failure (R² = −inf,
unsolved), never swapped for the next one; that −inf survives the record's JSON."""

import json
import math

import numpy as np
import pandas as pd
import pytest

from bench.metrics import outcome, regression_metrics
from bench.protocol import evaluate
from bench.records import load_records, write_record
from bench.refit import chosen
from bench.registry import MODELS, Model
from bench.report import frames, tables, verdict
from bench.report.ladder import agreement_table, ladder_table
from bench.report.per_equation import best_per_model, per_equation_markdown
from bench.targets import load_targets

SEED = load_targets()["seed"]
SIZES = {"train_size": 300, "val_size": 200, "test_size": 100}


class NanOnTest:
    """Predicts the training mean, and NaN for the first row of a set the size of the test set (never of the
    validation set): a model that validates well and fails on its test rows only."""

    def __init__(self, settings, context):
        self.settings = settings

    def fit(self, X, y, X_val, y_val):
        self.mean_ = float(np.mean(y))
        return self

    def predict(self, X):
        prediction = np.full(len(X), self.mean_)
        if len(X) == self.settings["test_size"]:
            prediction[0] = np.nan
        return prediction


@pytest.fixture
def nan_on_test(monkeypatch):
    monkeypatch.setitem(MODELS, "nan-on-test", Model(NanOnTest, "NaN on its test rows", lambda config, rows: SIZES))
    return "nan-on-test"


def test_the_status_comes_from_training_and_validation_only():
    y, good, broken = np.array([1.0, 2.0, 4.0]), np.array([1.0, 2.0, 4.4]), np.array([1.0, np.inf, 4.0])
    kept = outcome(broken, y, val_error=0.05)
    assert kept["status"] == "ok" and "NaN/inf" in kept["error"]
    assert kept["metrics"]["r2"] == -np.inf and kept["metrics"]["solved"] is False
    assert kept["metrics"]["nonfinite_share"] == pytest.approx(1 / 3) and kept["metrics"]["median_rel_err"] == 0.0
    assert outcome(good, y, val_error=0.05)["metrics"]["nonfinite_share"] == 0.0
    assert "error" not in outcome(good, y, val_error=0.05)
    assert outcome(good, y, val_error=np.inf)["status"] == "diverged"  # validation is where a choice is made
    assert outcome(good, y, diverged_at=7, val_error=0.05)["status"] == "diverged"  # and training


def test_a_run_that_fails_on_test_only_is_ok_kept_by_its_record_and_chosen_on_validation(nan_on_test, tmp_path):
    [result] = evaluate(nan_on_test, SEED, 0, [("raw", "none")], SIZES, "cpu")
    assert result["status"] == "ok" and math.isfinite(result["val_error"])
    assert result["metrics"]["r2"] == -np.inf and result["metrics"]["nonfinite_share"] == pytest.approx(0.01)
    record = {"target": "seed", "encoding": "raw", "target_encoding": "none", "model": "mlp", "seed": 0, "key": "k",
              "config": {"target": "seed", "model": "mlp", "encoding": "raw", "target_encoding": "none", "seed": 0,
                         "settings": SIZES}, **{k: result[k] for k in ("status", "error", "metrics", "val_error")}}
    rival = record | {"key": "r", "encoding": "log", "val_error": result["val_error"] * 2,
                      "config": record["config"] | {"encoding": "log"},
                      "metrics": regression_metrics([1.0, 2.0], [1.0, 2.0])}
    path = write_record(tmp_path, record)
    write_record(tmp_path, rival)
    json.loads(path.read_text(), parse_constant=lambda token: pytest.fail(f"{token} is not strict JSON"))
    assert '"r2": "-Infinity"' in path.read_text()
    records = load_records(tmp_path)[0]
    assert [r["metrics"]["r2"] for r in records if r["key"] == "k"] == [-np.inf]  # −inf, not null
    assert chosen(records, "seed", "here")["key"] == "k"  # export refits the run validation chose


def test_records_made_before_keep_loading_and_their_null_scores_read_as_the_worst(tmp_path):
    runs = tmp_path / "runs"
    runs.mkdir()
    old = {"target": "seed", "status": "ok", "val_error": None, "val_median_rel_err": 0.1,
           "metrics": {"median_rel_err": 34.5, "p99_rel_err": None, "r2": None, "acc_1pct": 0.0, "solved": False}}
    (runs / "old.json").write_text(json.dumps(old))
    [loaded] = load_records(tmp_path)[0]
    assert loaded["metrics"]["r2"] == -np.inf and loaded["metrics"]["p99_rel_err"] == np.inf
    assert loaded["metrics"]["median_rel_err"] == 34.5 and loaded["val_error"] is None
    assert frames.validation_of(loaded) == np.inf


def run_record(encoding, seed, err, val, nonfinite=0.0, status="ok"):
    config = {"target": "seed", "encoding": encoding, "target_encoding": "asinh", "model": "mlp", "seed": seed,
              "settings": {"steps": 100}}
    ok = status == "ok"
    metrics = {"median_rel_err": err, "p90_rel_err": err, "p99_rel_err": err, "r2": -np.inf if nonfinite else 0.99,
               "acc_1pct": 0.5, "solved": False, "nonfinite_share": nonfinite}
    return {"target": "seed", "encoding": encoding, "target_encoding": "asinh", "model": "mlp", "seed": seed,
            "status": status, "error": "test predictions are NaN/inf" if nonfinite else None, "config": config,
            "key": f"{encoding}-{seed}", "metrics": metrics if ok else None, "val_error": val if ok else None,
            "env": {"device": "cpu (2 threads)"}, "throughput": {"device": "cpu (2 threads)"}}


def test_the_pipeline_chosen_on_validation_keeps_its_choice_and_is_charged_with_a_test_failure():
    """log validates best on both seeds, but seed 1's test predictions are not finite: log stays chosen, that seed
    counts at the failure rule's values, and the verdict says one of two failed."""
    records = [run_record("log", 0, 0.01, 0.01), run_record("log", 1, 0.02, 0.01, nonfinite=0.001),
               run_record("raw", 0, 0.5, 0.5), run_record("raw", 1, 0.6, 0.5)]
    runs = frames.runs_frame(records)
    failed = runs[runs["failure"]]
    assert failed[["encoding", "seed"]].values.tolist() == [["log", 1]]
    assert failed["median_rel_err"].iloc[0] == 1.0 and failed["r2"].iloc[0] == -np.inf  # worst (≥ 1), R² −inf
    assert failed["val_error"].iloc[0] == 0.01  # the choice it was part of stands
    ranked = tables.ranking(runs).set_index("encoding")
    assert ranked.loc["log", "chosen"] and (ranked.loc["log", "ok"], ranked.loc["log", "failed"]) == (1, 1)
    assert ranked.loc["log", "r2"] == -np.inf
    [head] = verdict.verdicts(tables.ranking(runs), runs).to_dict("records")
    assert head["encoding"] == "log" and "1 of 2 failed, counted as failures" in verdict.verdict_text(head)
    assert tables.not_ok_table(runs)[["encoding", "seed", "status"]].values.tolist() == [["log", 1, "ok"]]


def test_a_diverged_run_never_takes_the_choice_and_every_failure_is_counted_at_r2_minus_inf():
    records = [run_record("log", 0, 0.01, None, status="diverged"), run_record("raw", 0, 0.5, 0.5)]
    runs = frames.runs_frame(records).set_index("encoding")
    assert runs.loc["log", "val_error"] == np.inf and runs.loc["log", "r2"] == -np.inf
    assert tables.ranking(runs.reset_index()).set_index("encoding").loc["raw", "chosen"]


def test_per_equation_tables_count_failures_and_keep_the_choice_validation_made():
    """On a: log validates best and predicts a NaN on test (a failure, not swapped for raw); on b every run of
    mlp diverged (a failure, not a missing row); lightgbm ran on a only (not a failure on b)."""
    records = [run_record("log", 0, 0.01, 0.01, nonfinite=0.5), run_record("raw", 0, 1e-4, 0.2),
               run_record("log", 0, 0.0, None, status="diverged") | {"target": "b", "key": "b1"},
               run_record("raw", 0, 0.0, None, status="failed") | {"target": "b", "key": "b2"},
               run_record("raw", 0, 1e-4, 0.3) | {"model": "lightgbm", "key": "l"}]
    best = best_per_model(records).set_index(["target", "model"])
    assert best["failed"].to_dict() == {("b", "mlp"): True, ("seed", "lightgbm"): False, ("seed", "mlp"): True}
    assert best.loc[("seed", "mlp"), "encoding"] == "log" and best.loc[("seed", "mlp"), "r2"] == -np.inf
    assert best.loc[("b", "mlp"), "r2"] == -np.inf and not best.loc[("b", "mlp"), "solved"]
    text = per_equation_markdown(best.reset_index(), "T", "cmd", "cpu")
    assert "| b | — | failed |" in text and "| **failed** | 0 | 2 |" in text and "(of 2)" in text


def test_the_ladder_names_each_budget_s_winner_on_validation():
    """log validates best at both budgets though raw has the lower test error at 400 steps."""
    records = []
    for steps, errors in ((100, {"log": (0.1, 0.1), "raw": (0.3, 0.3), "standard": (0.2, 0.2), "minmax": (0.4, 0.4)}),
                          (400, {"log": (0.05, 0.01), "raw": (0.01, 0.05), "standard": (0.03, 0.03),
                                 "minmax": (0.2, 0.2)})):
        for encoding, (test, validation) in errors.items():
            for seed in range(2):
                r = run_record(encoding, seed, test, validation)
                r["config"] = r["config"] | {"tuned": {"trials": 2}, "settings": {"steps": steps}}
                r["key"] = f"{r['key']}-{steps}"
                records.append(r)
    ladder = ladder_table(frames.runs_frame(records))
    [row] = agreement_table(ladder).to_dict("records")
    assert (row["winner_small"], row["winner_large"], row["same_winner"]) == ("log+asinh", "log+asinh", True)
    assert pd.notna(row["kendall_tau"])  # the rank agreement stays a measurement on test errors

"""Tuning: choices follow validation (never test), searches are stored and reused, and bad flags are one line."""

import json

import pytest

from bench import cli, registry, train, tune
from bench.data import derive_seed
from bench.registry import MODELS, Model
from bench.run import main
from bench.space import Choice, IntRange, LogUniform, parse_override
from bench.sweep import plan
from bench.targets import load_targets
from bench.train import TrainConfig
from bench.tune import TUNING_SEED, search, tuned_cells

SEED = load_targets()["seed"]
TINY = {"steps": 40, "eval_every": 20, "train_size": 2000, "val_size": 500, "test_size": 500}


class Planted:
    """A model whose validation error falls with `knob` while its test error rises: only a choice made on
    validation picks the largest knob."""

    def __init__(self, settings, context):
        self.knob = settings["knob"]

    def fit(self, X, y, X_val, y_val):
        self.X_val_, self.y_val_ = X_val, y_val
        return self

    def predict(self, X):
        if X is self.X_val_:  # validation: off by 1/knob
            return self.y_val_ * (1 + 1 / self.knob)
        return X[:, 0] * self.knob


@pytest.fixture
def planted(monkeypatch):
    model = Model(Planted, "planted", lambda config, size: {"knob": 1, "train_size": 200, "val_size": 100,
                                                            "test_size": 100}, space={"knob": IntRange(1, 50)})
    monkeypatch.setitem(registry.MODELS, "planted", model)
    return model


def test_the_choice_follows_validation_not_test(planted, tmp_path):
    cells, _ = plan([SEED], ["raw"], ["none"], ["planted"], 1, TrainConfig())
    [cell] = tuned_cells(cells, 12, 1, {}, tmp_path, "cpu", progress=False)
    history = cell.tuning["history"]
    assert cell.settings["knob"] == max(trial["params"]["knob"] for trial in history)
    assert cell.tuning["val_error"] == min(trial["val_error"] for trial in history)
    assert cell.tuning["tuning_seed"] == TUNING_SEED and cell.config["tuned"]["tuning_seed"] == TUNING_SEED


@pytest.mark.parametrize("model, space", [("mlp", {"lr": LogUniform(1e-3, 1e-2)}), ("knn", {"n_neighbors": IntRange(2, 9)})])
def test_a_search_never_draws_the_test_set(monkeypatch, model, space):
    drawn = []
    sample = type(SEED).sample
    monkeypatch.setattr(type(SEED), "sample", lambda self, n, seed, device="cpu", beyond=1.0: drawn.append(seed) or
                        sample(self, n, seed, device, beyond))
    settings = MODELS[model].settings(TrainConfig(**TINY), 2000)
    search(SEED, model, [("log", "asinh")], settings, space, 2, "cpu", progress=False)
    assert derive_seed(TUNING_SEED, "test") not in drawn and derive_seed(TUNING_SEED, "val") in drawn
    reported = {derive_seed(seed, part) for seed in range(10) for part in ("train", "val", "test")}
    assert TUNING_SEED not in range(10) and not reported & set(drawn)  # no reported seed's rows tune


def test_trials_never_polish_nor_roll_back(monkeypatch):
    seen = []
    fit_ensemble = train.fit_ensemble
    monkeypatch.setattr(train, "fit_ensemble", lambda *args, **kwargs: seen.append(args[1]) or fit_ensemble(*args, **kwargs))
    settings = MODELS["mlp"].settings(TrainConfig(**TINY, lbfgs_iters=50), None)
    assert settings["rollback"] == 4 and settings["lbfgs_iters"] == 50  # what a polished run with rollback holds
    search(SEED, "mlp", [("log", "asinh")], settings, {"lr": LogUniform(1e-3, 1e-2)}, 2, "cpu", progress=False)
    assert seen and all(config.rollback == 0 and config.lbfgs_iters == 0 for config in seen)


def test_batched_trials_score_as_trials_trained_one_at_a_time():
    space = {"lr": LogUniform(1e-3, 3e-2), "width": Choice((16, 32)), "depth": IntRange(1, 2)}
    pipelines = [("log", "asinh"), ("standard", "asinh")]
    together = search(SEED, "mlp", pipelines, TINY, space, 4, "cpu", round_size=4, progress=False)
    alone = search(SEED, "mlp", pipelines, TINY, space, 4, "cpu", round_size=4, batched=False, progress=False)
    for p in pipelines:
        for a, b in zip(together[p]["history"], alone[p]["history"]):
            assert a["params"] == b["params"]
            assert a["val_error"] == pytest.approx(b["val_error"], rel=1e-4)


def test_with_a_shared_architecture_each_round_trains_one_architecture_and_scores_as_alone():
    space = {"lr": LogUniform(1e-3, 3e-2), "width": Choice((16, 32)), "depth": IntRange(1, 3),
             "frequency_scale": LogUniform(1e-2, 1.0)}
    pipelines = [("log", "asinh"), ("standard", "asinh"), ("periodic", "asinh")]
    together = search(SEED, "mlp", pipelines, TINY, space, 6, "cpu", round_size=2, progress=False,
                      shared_architecture=True)
    alone = search(SEED, "mlp", pipelines, TINY, space, 6, "cpu", round_size=2, batched=False, progress=False,
                   shared_architecture=True)
    for start in range(0, 6, 2):
        architectures = {(t["params"]["width"], t["params"]["depth"]) for p in pipelines
                         for t in together[p]["history"][start: start + 2]}
        assert len(architectures) == 1
    for p in pipelines:
        assert together[p]["architecture"] == "shared per round"
        assert len({t["params"]["lr"] for t in together[p]["history"]}) == 6  # member settings still vary
        for a, b in zip(together[p]["history"], alone[p]["history"]):
            assert a["params"] == b["params"]
            assert a["val_error"] == pytest.approx(b["val_error"], rel=1e-4)


def test_a_shared_architecture_search_is_stored_apart_and_named_in_the_record(tmp_path):
    argv = ["--targets", "seed", "--encodings", "log", "--target-encodings", "asinh", "--seeds", "1", "--steps", "40",
            "--set", "eval_every=20", "--set", "train_size=2000", "--set", "val_size=500", "--test-size", "500",
            "--tune", "2", "--space", "width=16,32", "--out", str(tmp_path)]
    assert main(argv) == 0 and main(argv + ["--shared-architecture"]) == 0
    assert len(list((tmp_path / "tuning").glob("*.json"))) == 2
    tuned = sorted((json.loads(p.read_text())["config"]["tuned"] for p in (tmp_path / "runs").glob("*.json")),
                   key=len)
    assert "architecture" not in tuned[0] and tuned[1]["architecture"] == "shared per round"
    # its rounds depend on every pipeline searched with it: another set of pipelines is another search
    assert main(argv[:3] + ["log,standard"] + argv[4:] + ["--shared-architecture"]) == 0
    stored = [json.loads(p.read_text()) for p in (tmp_path / "tuning").glob("*.json")]
    assert len(stored) == 4 and sum(s.get("architecture") == "shared per round" for s in stored) == 3


def test_a_stored_search_is_reused_and_tuned_runs_name_it(tmp_path, capsys):
    argv = ["--targets", "seed", "--encodings", "log", "--target-encodings", "asinh", "--seeds", "1", "--steps", "40",
            "--set", "eval_every=20", "--set", "train_size=2000", "--set", "val_size=500", "--test-size", "500",
            "--tune", "2", "--tune-steps", "40", "--space", "width=16,32", "--out", str(tmp_path)]
    assert main(argv) == 0
    [stored] = (tmp_path / "tuning").glob("*.json")
    before = stored.stat().st_mtime_ns
    assert main(argv + ["--steps", "60"]) == 0  # a longer final budget reuses the same search
    assert stored.stat().st_mtime_ns == before
    records = [json.loads(p.read_text()) for p in (tmp_path / "runs").glob("*.json")]
    assert sorted(r["config"]["settings"]["steps"] for r in records) == [40, 60]
    for record in records:
        assert record["config"]["tuned"]["trials"] == 2 and record["config"]["tuned"]["search_steps"] == 40
        assert record["config"]["settings"]["width"] in (16, 32) and len(record["tuning"]["history"]) == 2


def test_each_data_condition_gets_its_own_search(tmp_path):
    argv = ["--targets", "seed", "--encodings", "log", "--target-encodings", "asinh", "--seeds", "1", "--steps", "40",
            "--set", "eval_every=20", "--set", "train_size=2000", "--set", "val_size=500", "--test-size", "500",
            "--tune", "2", "--space", "width=16,32", "--noise", "0,0.1", "--noise-kind", "relative",
            "--out", str(tmp_path)]
    assert main(argv) == 0
    assert len(list((tmp_path / "tuning").glob("*.json"))) == 2
    records = [json.loads(p.read_text()) for p in (tmp_path / "runs").glob("*.json")]
    histories = {json.dumps(r["config"].get("conditions")): r["tuning"]["history"] for r in records}
    assert len(histories) == 2 and len(set(map(json.dumps, histories.values()))) == 2


@pytest.mark.parametrize("arguments, fragment", [
    (["--tune", "0"], "must be at least 1"),
    (["--tune", "-1"], "must be at least 1"),
    (["--tune", "2", "--space", "learning_rate=1:2"], "expected KEY=LOW:HIGH or KEY=A,B with KEY one of"),
    (["--tune", "2", "--space", "lr=1e-2:1e-4"], "low (0.01) >= high (0.0001); make low < high"),
    (["--tune", "2", "--space", "lr=0:1e-2"], "needs 0 < low"),
    (["--tune", "2", "--space", "width=a,b"], "'a' is not a number"),
    (["--space", "lr=1e-4:1e-2"], "only apply to tuning; add --tune N"),
    (["--shared-architecture"], "only apply to tuning; add --tune N"),
    (["--tune", "2", "--models", "linear"], "none of the models linear is tunable"),
    (["--tune", "2", "--models", "tabm", "--space", "lr=1e-4:1e-2"], "which --space cannot change"),
], ids=lambda value: " ".join(value) if isinstance(value, list) else "")
def test_bad_tuning_flags_are_one_line_exit_2_and_write_nothing(tmp_path, capsys, arguments, fragment):
    out = tmp_path / "results"
    try:
        status = cli.main_guard(lambda: main(arguments + ["--targets", "seed", "--steps", "1", "--out", str(out)]))
    except SystemExit as exit_:
        status = exit_.code
    err = capsys.readouterr().err.strip().splitlines()
    assert status == 2 and len(err) == 1 and fragment in err[0], err
    assert not out.exists()


def test_space_overrides_keep_the_kind_of_range():
    assert parse_override("lr=1e-4:1e-2", MODELS["mlp"].space) == ("lr", LogUniform(1e-4, 1e-2))
    assert parse_override("depth=2:6", MODELS["mlp"].space) == ("depth", IntRange(2, 6))
    assert parse_override("width=32,64", MODELS["mlp"].space) == ("width", Choice((32, 64)))


def test_a_search_on_the_cpu_is_never_reused_by_a_gpu_run():
    settings = MODELS["mlp"].settings(TrainConfig(**TINY), None)
    space = {"lr": LogUniform(1e-3, 1e-2)}
    keys = {device: tune.search_key(SEED, "mlp", ("log", "asinh"), settings, space, 8, 8, device=device)
            for device in ("cpu", "cuda", "cuda:1")}
    assert keys["cpu"] != keys["cuda"] == keys["cuda:1"]
    assert keys["cpu"] == tune.search_key(SEED, "mlp", ("log", "asinh"), settings, space, 8, 8)  # stored CPU searches keep theirs

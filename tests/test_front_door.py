"""The front door is safe: commands write under runs/ (git-ignored) unless told otherwise, the committed results/ only
with --regenerate, and bench.report starts a sweep only when asked; on a fresh clone, the README's quick commands
leave `git status` clean."""

import subprocess
import sys
from pathlib import Path

import pytest

from bench import axes, builtin, cli, run, suite, throughput
from bench.report import sweeps

ROOT = Path(__file__).resolve().parents[1]


@pytest.mark.parametrize("main", [run.main, suite.main, axes.main, throughput.main], ids=lambda m: m.__module__)
def test_a_committed_results_folder_is_refused_without_regenerate(main, capsys):
    out = ROOT / "results" / "not-a-folder-yet"
    argv = {"bench.run": ["--targets", "seed", "--encodings", "log", "--target-encodings", "asinh", "--seeds", "1"],
            "bench.suite": ["seed"], "bench.axes": ["--axis", "size"], "bench.throughput": []}[main.__module__]
    assert cli.main_guard(lambda: main([*argv, "--out", str(out)])) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "--regenerate" in err and not out.exists()


def test_the_default_folders_are_git_ignored_and_the_committed_records_are_not():
    defaults = [run.parser().get_default("out"), suite.parser().get_default("out"), axes.parser().get_default("out"),
                throughput.parser().get_default("out")]
    assert all(Path(d).parts[0] == "runs" for d in defaults)
    ignored = subprocess.run(["git", "check-ignore", *(f"{d}/runs/x.json" for d in defaults)], cwd=ROOT,
                             capture_output=True, text=True)
    assert ignored.stdout.split() == [f"{d}/runs/x.json" for d in defaults]
    assert subprocess.run(["git", "check-ignore", "-q", "results/runs/x.json"], cwd=ROOT).returncode == 1


def test_a_report_on_a_folder_without_records_is_one_line_and_writes_nothing(tmp_path, capsys):
    typo = tmp_path / "reslts"
    assert cli.main_guard(lambda: builtin.main(["--out", str(typo)])) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "--sweep" in err and "min" in err and not typo.exists()
    assert cli.main_guard(lambda: builtin.main(["--out", str(typo), "--quick"])) == 2
    assert "add --sweep" in capsys.readouterr().err and not typo.exists()


def test_regenerating_adds_the_flag_only_where_the_out_is_committed(tmp_path):
    inside = ["python", "-m", "bench.run", "--seeds", "1", "--out", str(ROOT / "results" / "axes")]
    assert cli.regenerating(inside) == [*inside, "--regenerate"]
    assert cli.regenerating([*inside, "--regenerate"]) == [*inside, "--regenerate"]
    outside = ["python", "-m", "bench.run", f"--out={tmp_path}"]
    assert cli.regenerating(outside) == outside and cli.regenerating(["python", "-m", "bench.run"]) == [
        "python", "-m", "bench.run"]


def test_the_reproduction_of_the_committed_sweep_carries_regenerate_and_a_new_folder_does_not(tmp_path):
    records = [{"command": ["python", "-m", "bench.run", *command, "--out", "results"], "finished": str(k)}
               for k, command in enumerate(sweeps.DEFAULT_SWEEP.commands)]
    committed = sweeps.reproduction(records, ROOT / "results")
    assert all(line.endswith("--regenerate") for line in committed if line.startswith("python -m bench.run"))
    assert "`python -m bench.report --sweep --out FOLDER`" in committed[-1]
    fresh = sweeps.reproduction(records, tmp_path)
    assert not any("--regenerate" in line for line in fresh)
    assert sum(line.startswith("python -m bench.run") for line in fresh) == len(sweeps.DEFAULT_SWEEP.commands)


QUICK_COMMANDS = [
    ["-m", "bench.run", "--list"],
    ["-m", "bench.run", "--targets", "seed", "--encodings", "log", "--target-encodings", "asinh", "--seeds", "1",
     "--steps", "20", "--set", "eval_every=10", "--set", "train_size=2000", "--set", "val_size=500", "--test-size", "1000"],
    ["-m", "bench.report", "--out", "runs/sweep"],
    ["-m", "bench.report.claims", "README.md", *sorted(str(p.relative_to(ROOT)) for p in (ROOT / "docs").glob("*.md"))],
]
REFUSED = [["-m", "bench.report", "--out", "results/typo"], ["-m", "bench.run", "--targets", "seed", "--out", "results"]]


@pytest.mark.slow
def test_the_quick_commands_leave_a_fresh_clone_clean(tmp_path):
    clone = tmp_path / "clone"
    subprocess.run(["git", "clone", "-q", str(ROOT), str(clone)], check=True)
    for argv in QUICK_COMMANDS + REFUSED:
        result = subprocess.run([sys.executable, *argv], cwd=clone, capture_output=True, text=True, timeout=900)
        assert result.returncode == (2 if argv in REFUSED else 0), (argv, result.stderr[-2000:])
    status = subprocess.run(["git", "status", "--porcelain"], cwd=clone, capture_output=True, text=True, check=True)
    assert status.stdout == ""
    assert (clone / "runs" / "sweep" / "summary.md").is_file()  # the sweep and its report went to runs/


@pytest.mark.slow
def test_re_rendering_the_committed_results_on_a_fresh_clone_changes_no_file(tmp_path):
    clone = tmp_path / "clone"
    subprocess.run(["git", "clone", "-q", str(ROOT), str(clone)], check=True)
    result = subprocess.run([sys.executable, "-m", "bench.report"], cwd=clone, capture_output=True, text=True, timeout=1800)
    assert result.returncode == 0, result.stderr[-2000:]
    status = subprocess.run(["git", "status", "--porcelain"], cwd=clone, capture_output=True, text=True, check=True)
    assert status.stdout == ""

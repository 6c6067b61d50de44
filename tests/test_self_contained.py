"""The repository stands alone: no tracked file reaches for a folder beside it (the team's shared folder), and
what came from there (the question's thread, the development set) is inside."""

import re
import shutil
import subprocess
from pathlib import Path

import pytest

from bench.suites import SUITES

ROOT = Path(__file__).resolve().parents[1]
OUTSIDE = re.compile(rb"(?:\.\./|/work/)shared/")
# Logs of past invocations name the command each run was made with, verbatim: provenance, not a path to read
LOGS = re.compile(r"^results/.*(?:/runs/[^/]+\.json|/wall_times\.csv)$")


def tracked_files():
    if shutil.which("git") is None or not (ROOT / ".git").exists():
        pytest.skip("not a git checkout")
    listing = subprocess.run(["git", "ls-files", "-z"], cwd=ROOT, capture_output=True, check=True).stdout
    return [name for name in listing.decode().split("\0") if name]


def test_no_tracked_file_refers_to_the_shared_folder_beside_the_repository():
    files = [name for name in tracked_files() if not LOGS.match(name) and (ROOT / name).is_file()]
    assert len(files) > 100
    assert [name for name in files if OUTSIDE.search((ROOT / name).read_bytes())] == []


def test_the_question_and_the_development_set_live_in_the_repository():
    summary = (ROOT / "docs" / "question" / "summary-en.md").read_text()
    assert "`question-ru.txt` beside this file" in summary and (ROOT / "docs" / "question" / "question-ru.txt").is_file()
    assert SUITES["srsd-dev"] == ROOT / "bench" / "suites" / "srsd-dev.toml"

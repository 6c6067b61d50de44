"""Every `python -m` entry point answers --help with a whole description, and every flag the README and docs/
give a command is one its --help lists."""

import ast
import re
import runpy
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
PAGES = [ROOT / "README.md", *sorted((ROOT / "docs").glob("*.md"))]
FENCE = re.compile(r"^```[^\n]*\n(.*?)^```", re.M | re.S)
INLINE = re.compile(r"`([^`\n]+)`")
MENTION = re.compile(r"(?:python -m )?\b(bench(?:\.\w+)+)((?:(?!\bbench\.|[;|#]|&&|\bpython\b).)*)")
FLAG = re.compile(r"(?<![\w-])--[a-z][a-z0-9-]*")


def entry_points():
    """Modules that run as `python -m NAME`: a package with __main__.py, or a module with a __main__ guard."""
    found = set()
    for path in (ROOT / "bench").rglob("*.py"):
        parts = path.relative_to(ROOT).with_suffix("").parts
        if path.name == "__main__.py":
            found.add(".".join(parts[:-1]))
        elif 'if __name__ == "__main__":' in path.read_text():
            found.add(".".join(parts))
    return sorted(found)


ENTRY_POINTS = entry_points()


def docstring(module):
    """The docstring of the file `python -m MODULE` runs."""
    path = ROOT.joinpath(*module.split("."))
    path = path / "__main__.py" if path.is_dir() else path.with_suffix(".py")
    return ast.get_docstring(ast.parse(path.read_text())) or ""


def help_text(module, monkeypatch, capsys):
    """`python -m MODULE --help`, run in this process."""
    monkeypatch.setattr(sys, "argv", [module, "--help"])
    with pytest.raises(SystemExit) as exit_:
        runpy.run_module(module, run_name="__main__", alter_sys=True)
    assert exit_.value.code == 0
    return capsys.readouterr().out


def code_snippets(text):
    """The code a page holds: each line of its fenced blocks (continuation lines joined) and each inline span."""
    snippets = []
    for block in FENCE.findall(text):
        snippets += block.replace("\\\n", " ").splitlines()
    prose = FENCE.sub("", text)
    snippets += INLINE.findall(prose)
    return snippets


def documented_flags():
    """{command: {flag: first page that gives it}} for every `bench.X ... --flag` in the README and docs/."""
    flags = {}
    for page in PAGES:
        for snippet in code_snippets(page.read_text()):
            for command, rest in MENTION.findall(snippet):
                for flag in FLAG.findall(rest):
                    flags.setdefault(command, {}).setdefault(flag, page.name)
    return flags


def test_the_commands_the_task_names_are_found():
    assert {"bench.run", "bench.suite", "bench.report", "bench.axes", "bench.throughput", "bench.inspect",
            "bench.export", "bench.report.claims", "bench.report.asker"} <= set(ENTRY_POINTS)


@pytest.mark.filterwarnings("ignore::RuntimeWarning")  # runpy: the module is already imported by another test
@pytest.mark.parametrize("module", ENTRY_POINTS)
def test_help_is_whole_and_lists_every_flag_the_docs_give_it(module, monkeypatch, capsys):
    text = help_text(module, monkeypatch, capsys)
    assert text.startswith(f"usage: python -m {module}")
    description = " ".join(text.split("\n\n")[1].split())  # between the usage lines and the argument groups
    assert not description.startswith(("options:", "positional arguments:")), f"{module} --help has no description"
    doc = docstring(module)
    if doc and description.startswith(" ".join(doc.splitlines()[0].split())):  # taken from the docstring: all of it
        paragraph = " ".join(doc.split("\n\n")[0].split())
        assert paragraph in description, f"{module} --help cuts its docstring's first paragraph: {description!r}"
    missing = {flag: page for flag, page in documented_flags().get(module, {}).items() if flag not in text}
    assert not missing, f"{module} --help lacks flags the docs give it: {missing}"


def test_every_command_the_docs_run_exists():
    commands = {m for page in PAGES for m in re.findall(r"python -m (bench(?:\.\w+)+)", page.read_text())}
    assert commands and commands <= set(ENTRY_POINTS), commands - set(ENTRY_POINTS)


def test_the_flag_reader_finds_flags_per_command_and_stops_at_the_next_one():
    snippet = "python -m bench.run --targets seed --out x; python -m bench.report --sweep  # --not-a-flag"
    assert [(c, FLAG.findall(rest)) for c, rest in MENTION.findall(snippet)] == [
        ("bench.run", ["--targets", "--out"]), ("bench.report", ["--sweep"])]
    assert code_snippets("text `bench.suite --budget quick` and\n```bash\npython -m bench.axes \\\n  --axis size\n```\n") == [
        "python -m bench.axes    --axis size", "bench.suite --budget quick"]

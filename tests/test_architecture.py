"""Data flows one way: no import cycle anywhere, and the report reads records without the code that makes them."""

import ast
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
PACKAGES = {"bench": ROOT / "bench", "bench.encodings": ROOT / "encodings", "baselines": ROOT / "baselines"}
RUNNERS = ("bench.run", "bench.train", "bench.tune", "baselines")  # what makes records


def modules():
    """Every project module's dotted name -> its file."""
    found = {}
    for package, folder in PACKAGES.items():
        for path in folder.rglob("*.py"):
            parts = path.relative_to(folder).with_suffix("").parts
            name = ".".join((package, *parts))
            found[name.removesuffix(".__init__")] = path
    return found


def imports(path, name, known):
    """The project modules that the module `name` at `path` imports, anywhere in it (functions included)."""
    package = name if path.name == "__init__.py" else name.rpartition(".")[0]
    out = set()
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.Import):
            targets = [alias.name for alias in node.names]
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                base = ".".join(package.split(".")[: len(package.split(".")) - node.level + 1] + ([base] if base else []))
            targets = [base] + [f"{base}.{alias.name}" for alias in node.names]
        else:
            continue
        out |= {t for t in targets if t in known}
    return out - {name}


def graph():
    known = modules()
    return {name: imports(path, name, known) for name, path in known.items()}


def cycles(edges):
    """The groups of modules that import one another (strongly connected components of more than one)."""
    index, low, stack, on_stack, found, counter = {}, {}, [], set(), [], [0]

    def visit(v):  # Tarjan's strongly connected components
        index[v] = low[v] = counter[0]
        counter[0] += 1
        stack.append(v)
        on_stack.add(v)
        for w in edges[v]:
            if w not in index:
                visit(w)
                low[v] = min(low[v], low[w])
            elif w in on_stack:
                low[v] = min(low[v], index[w])
        if low[v] == index[v]:
            component = set()
            while True:
                w = stack.pop()
                on_stack.discard(w)
                component.add(w)
                if w == v:
                    break
            if len(component) > 1:
                found.append(sorted(component))

    for v in edges:
        if v not in index:
            visit(v)
    return found


def test_no_module_imports_itself_through_others():
    assert cycles(graph()) == []


def test_the_report_imports_nothing_that_makes_records():
    report = {name: deps for name, deps in graph().items() if name.startswith("bench.report")}
    offending = {name: sorted(d for d in deps if d.startswith(RUNNERS)) for name, deps in report.items()}
    assert {name: deps for name, deps in offending.items() if deps} == {}


def test_the_cycle_finder_finds_a_planted_cycle(tmp_path, monkeypatch):
    (tmp_path / "a.py").write_text("from bench import b\n")
    (tmp_path / "b.py").write_text("def f():\n    from bench.a import x\n")
    known = {"bench.a": tmp_path / "a.py", "bench.b": tmp_path / "b.py"}
    assert imports(known["bench.a"], "bench.a", known) == {"bench.b"}
    assert imports(known["bench.b"], "bench.b", known) == {"bench.a"}  # an import inside a function counts
    assert cycles({"bench.a": {"bench.b"}, "bench.b": {"bench.a"}, "bench.c": {"bench.a"}}) == [["bench.a", "bench.b"]]

"""The package's import graph: one-way layers, no circles, no private names across modules.

The layers are those of ``docs/architecture.md``.  Every ``import`` in the
package is read with :mod:`ast` (function-level imports included: a lazy import
that runs upward is still an upward dependency), so the checks need no import
of moodbridge itself and fail with the offending module and line.
"""
from __future__ import annotations

import ast
import subprocess
import sys
from collections import defaultdict
from dataclasses import dataclass
from pathlib import Path

import pytest

SRC = Path(__file__).resolve().parents[1] / "src"
PACKAGE = SRC / "moodbridge"

#: top-level module or package -> layer (a module may import its own layer and the ones below)
LAYERS: dict[str, int] = {
    "errors": 0, "fileio": 0, "registry": 0, "validate": 0, "paths": 0, "numeric": 0, "engine": 0,
    "emotion": 1, "media": 1,
    "encoders": 2, "semantic": 2,
    "affect": 3,
    "library": 4,
    "pairing": 5, "align": 5, "search": 5, "evaluate": 5, "generate": 5, "recommend": 5, "study": 5,
    "train": 5,
    "jobs": 6,
    "cli": 7, "web": 7,
}
#: the facade (``import moodbridge``, lazy names) and the ``python -m`` entry point sit outside the layers
FACADE = {"moodbridge", "moodbridge.__main__"}
#: packages that run-time code (everything but these and the faces) must never import
TRAINING = {"train"}


@dataclass(frozen=True)
class Edge:
    source: str
    target: str
    line: int
    names: tuple[str, ...]


def _modules() -> dict[str, Path]:
    mods = {}
    for path in PACKAGE.rglob("*.py"):
        parts = list(path.relative_to(SRC).with_suffix("").parts)
        if parts[-1] == "__init__":
            parts = parts[:-1]
        mods[".".join(parts)] = path
    return mods


MODULES = _modules()


def _resolve(module: str, node: ast.ImportFrom, is_package: bool) -> str:
    if node.level == 0:
        return node.module or ""
    base = module.split(".")
    if not is_package:
        base = base[:-1]
    base = base[: len(base) - (node.level - 1)]
    return ".".join(base + ([node.module] if node.module else []))


def _known(name: str) -> str | None:
    while name and name not in MODULES:
        name = name.rsplit(".", 1)[0] if "." in name else ""
    return name or None


def _edges() -> list[Edge]:
    edges = []
    for module, path in MODULES.items():
        tree = ast.parse(path.read_text(encoding="utf-8"), filename=str(path))
        is_package = path.name == "__init__.py"
        for node in ast.walk(tree):
            if isinstance(node, ast.Import):
                for alias in node.names:
                    target = _known(alias.name) if alias.name.startswith("moodbridge") else None
                    if target and target != module:
                        edges.append(Edge(module, target, node.lineno, ()))
            elif isinstance(node, ast.ImportFrom):
                base = _resolve(module, node, is_package)
                if not base.startswith("moodbridge"):
                    continue
                for alias in node.names:
                    full = f"{base}.{alias.name}"
                    if full in MODULES:  # ``from pkg import submodule``
                        if full != module:
                            edges.append(Edge(module, full, node.lineno, ()))
                        continue
                    target = _known(base)
                    if target and target != module:
                        edges.append(Edge(module, target, node.lineno, (alias.name,)))
    return edges


EDGES = _edges()


def _top(module: str) -> str:
    parts = module.split(".")
    return parts[1] if len(parts) > 1 else ""


def _cycles(graph: dict[str, set[str]]) -> list[list[str]]:
    """Strongly connected components with more than one node (Tarjan)."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    found: list[list[str]] = []
    counter = [0]
    sys.setrecursionlimit(max(10_000, sys.getrecursionlimit()))

    def visit(v: str) -> None:
        index[v] = low[v] = counter[0]
        counter[0] += 1
        stack.append(v)
        on_stack.add(v)
        for w in graph.get(v, ()):
            if w not in index:
                visit(w)
                low[v] = min(low[v], low[w])
            elif w in on_stack:
                low[v] = min(low[v], index[w])
        if low[v] == index[v]:
            comp = []
            while True:
                w = stack.pop()
                on_stack.discard(w)
                comp.append(w)
                if w == v:
                    break
            if len(comp) > 1:
                found.append(sorted(comp))

    for v in sorted(graph):
        if v not in index:
            visit(v)
    return found


def test_every_top_level_module_has_a_layer() -> None:
    tops = {_top(m) for m in MODULES if m not in FACADE}
    assert tops - set(LAYERS) == set(), "give these a layer in LAYERS and docs/architecture.md"


def test_no_import_circles_between_modules() -> None:
    graph: dict[str, set[str]] = defaultdict(set)
    for e in EDGES:
        graph[e.source].add(e.target)
    assert _cycles(graph) == []


def test_no_import_circles_between_packages() -> None:
    graph: dict[str, set[str]] = defaultdict(set)
    for e in EDGES:
        if e.source in FACADE or e.target in FACADE:
            continue
        a, b = _top(e.source), _top(e.target)
        if a != b:
            graph[a].add(b)
    assert _cycles(graph) == []


def test_no_import_runs_up_a_layer() -> None:
    upward = [
        f"{e.source} (line {e.line}) imports {e.target}: layer {LAYERS[_top(e.source)]} -> {LAYERS[_top(e.target)]}"
        for e in EDGES
        if e.source not in FACADE and e.target not in FACADE
        and LAYERS.get(_top(e.target), -1) > LAYERS.get(_top(e.source), -1)
    ]
    assert upward == []


def test_run_time_code_never_imports_the_training_package() -> None:
    faces = {"cli", "jobs", "web"} | TRAINING
    bad = [f"{e.source} (line {e.line}) imports {e.target}" for e in EDGES
           if _top(e.target) in TRAINING and _top(e.source) not in faces and e.source not in FACADE]
    assert bad == []


def test_no_private_name_is_imported_from_another_module() -> None:
    bad = [f"{e.source} (line {e.line}) imports {n} from {e.target}" for e in EDGES for n in e.names
           if n.startswith("_") and not n.startswith("__")]
    assert bad == []


def test_private_modules_are_used_only_inside_their_package() -> None:
    bad = []
    for e in EDGES:
        parts = e.target.split(".")
        for i, part in enumerate(parts):
            if part.startswith("_") and not part.startswith("__"):
                owner = ".".join(parts[:i])
                if not (e.source == owner or e.source.startswith(owner + ".")):
                    bad.append(f"{e.source} (line {e.line}) imports private module {e.target}")
    assert bad == []


def test_the_checks_see_an_upward_import_and_a_circle() -> None:
    """The graph machinery itself: a planted circle and an upward edge are found."""
    assert _cycles({"a": {"b"}, "b": {"c"}, "c": {"a"}, "d": {"a"}}) == [["a", "b", "c"]]
    tree = ast.parse("from moodbridge.jobs.pair import run_pair\n")
    node = tree.body[0]
    assert isinstance(node, ast.ImportFrom)
    assert _known(_resolve("moodbridge.emotion.va", node, False)) == "moodbridge.jobs.pair"
    assert LAYERS[_top("moodbridge.jobs.pair")] > LAYERS[_top("moodbridge.emotion.va")]


CLI_MODULES = sorted(m for m in MODULES if m.startswith("moodbridge.cli."))


def test_there_are_cli_modules() -> None:
    assert len(CLI_MODULES) >= 5


@pytest.mark.parametrize("module", CLI_MODULES)
def test_each_cli_module_imports_on_its_own(module: str) -> None:
    proc = subprocess.run([sys.executable, "-c", f"import {module}"], capture_output=True, text=True, timeout=120)
    assert proc.returncode == 0, proc.stderr[-2000:]


def test_import_moodbridge_is_cheap_and_lazy() -> None:
    code = (
        "import sys, time\n"
        "t = time.perf_counter()\n"
        "import moodbridge\n"
        "dt = time.perf_counter() - t\n"
        "heavy = sorted(m for m in ('torch', 'numpy', 'librosa', 'faiss', 'sklearn', 'pandas') if m in sys.modules)\n"
        "print(dt, ','.join(heavy))\n"
        "names = [n for n in moodbridge.__all__ if n not in dir(moodbridge.__class__)]\n"
        "print(' '.join(sorted(moodbridge.__all__)))\n"
    )
    proc = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120)
    assert proc.returncode == 0, proc.stderr
    first, names = proc.stdout.splitlines()[:2]
    seconds, heavy = first.split(" ")
    assert heavy == "", f"import moodbridge loaded {heavy}"
    assert float(seconds) < 0.5
    for name in ("Library", "VA", "estimate", "pair", "expand", "search", "train_space", "evaluate_space"):
        assert name in names.split()


def test_the_lazy_names_resolve_to_the_real_objects() -> None:
    import moodbridge
    from moodbridge.emotion import VA
    from moodbridge.jobs.pair import run_pair
    from moodbridge.library import Library

    assert moodbridge.Library is Library
    assert moodbridge.VA is VA
    assert moodbridge.pair is run_pair
    import moodbridge.search.index  # the subpackage of the same name does not shadow the entry point
    from moodbridge.jobs.search import run_search
    from moodbridge.search import build_index

    assert moodbridge.search is run_search and callable(build_index)
    with pytest.raises(AttributeError, match="no attribute 'nonsense'"):
        moodbridge.nonsense  # noqa: B018

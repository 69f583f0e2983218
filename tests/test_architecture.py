"""The shape of the house (../shared/ARCHITECTURE.md), checked on the source.

Imports flow downward: ``backends/`` imports only ``dlcore._validate`` and the
network contract ``dlcore.network`` of the package above it; module-level
imports between dlcore's modules form no cycle; no module is much over 400
lines; hot loops are dispatched by methods, not by tables or sentinels.
"""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
PACKAGE = ROOT / "dlcore"
BACKENDS = ROOT / "backends"
#: What backends/ may import of dlcore (besides dlcore.backends itself).
BACKENDS_MAY_IMPORT = {"dlcore._validate", "dlcore.network"}
MAX_LINES = 410


def _module_name(path: Path) -> str:
    if path.is_relative_to(BACKENDS):
        parts = ["dlcore", "backends", *path.relative_to(BACKENDS).with_suffix("").parts]
    else:
        parts = ["dlcore", *path.relative_to(PACKAGE).with_suffix("").parts]
    if parts[-1] == "__init__":
        parts.pop()
    return ".".join(parts)


def _sources() -> list[Path]:
    return sorted([*PACKAGE.rglob("*.py"), *BACKENDS.rglob("*.py")])


def _imports(path: Path, *, top_level_only: bool) -> set[str]:
    """The dlcore modules ``path`` imports (relative imports resolved)."""
    tree = ast.parse(path.read_text(encoding="utf-8"))
    module = _module_name(path)
    package = module if path.name == "__init__.py" else module.rpartition(".")[0]
    nodes = tree.body if top_level_only else list(ast.walk(tree))
    found: set[str] = set()
    for node in nodes:
        if isinstance(node, ast.Import):
            names = [alias.name for alias in node.names]
        elif isinstance(node, ast.ImportFrom):
            if node.level:
                base = package.split(".")
                base = base[: len(base) - node.level + 1]
                stem = ".".join(base + ([node.module] if node.module else []))
            else:
                stem = node.module or ""
            # `from . import x` may name a submodule: keep both candidates
            names = [stem] + [f"{stem}.{alias.name}" for alias in node.names]
        else:
            continue
        found.update(n for n in names if n == "dlcore" or n.startswith("dlcore."))
    known = {_module_name(p) for p in _sources()}
    return {n for n in found if n in known and n != module}


@pytest.mark.parametrize("path", sorted(BACKENDS.rglob("*.py")), ids=lambda p: p.name)
def test_backends_import_only_the_lower_layers(path: Path) -> None:
    bad = {
        n
        for n in _imports(path, top_level_only=False)
        if not n.startswith("dlcore.backends") and n not in BACKENDS_MAY_IMPORT
    }
    assert not bad, (
        f"{path.name} imports {sorted(bad)}; backends/ may use only {BACKENDS_MAY_IMPORT}"
    )


def test_no_import_cycle_at_module_level() -> None:
    graph = {_module_name(p): _imports(p, top_level_only=True) for p in _sources()}
    # a package's __init__ re-exports its modules; importing the package is not a cycle
    for name, deps in graph.items():
        graph[name] = {d for d in deps if not name.startswith(d + ".") and d != "dlcore"}
    state: dict[str, int] = {}
    stack: list[str] = []

    def visit(node: str) -> None:
        state[node] = 1
        stack.append(node)
        for dep in sorted(graph.get(node, ())):
            if state.get(dep) == 1:
                cycle = [*stack[stack.index(dep) :], dep]
                pytest.fail(f"import cycle: {' -> '.join(cycle)}")
            if dep not in state:
                visit(dep)
        stack.pop()
        state[node] = 2

    for node in sorted(graph):
        if node not in state:
            visit(node)


@pytest.mark.parametrize("path", _sources(), ids=lambda p: _module_name(p))
def test_one_concept_per_module(path: Path) -> None:
    lines = len(path.read_text(encoding="utf-8").splitlines())
    assert lines <= MAX_LINES, f"{path} has {lines} lines: two concepts? split it"


@pytest.mark.parametrize("path", _sources(), ids=lambda p: _module_name(p))
def test_no_dispatch_by_table_or_sentinel(path: Path) -> None:
    tree = ast.parse(path.read_text(encoding="utf-8"))
    for node in ast.walk(tree):
        if isinstance(node, ast.Name) and node.id in ("NotImplemented", "KERNELS"):
            pytest.fail(f"{path.name}:{node.lineno} uses {node.id}: override a Backend method")
        if isinstance(node, ast.Attribute) and node.attr in ("get_kernel", "_dlcore_generic_loop"):
            pytest.fail(f"{path.name}:{node.lineno} uses .{node.attr}: override a Backend method")

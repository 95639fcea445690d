"""The layering contracts of DESIGN.md, enforced on the source: no import cycle anywhere, tools never import
each other, erpcore imports no tool, the domain imports no I/O framework, opskit is a leaf.

Every `import` counts, also those inside functions and under TYPE_CHECKING: a function-level import is how a
cycle hides, and a type-only cycle is still two modules that cannot be read apart.
"""

from __future__ import annotations

import ast
from collections.abc import Iterator
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
TOOLS = ("monitor", "runbooks", "loadtest", "archive", "advisor", "backup", "failover")
PACKAGES = ("erpcore", "erpops", "opskit", *TOOLS)
FRAMEWORKS = ("sqlalchemy", "fastapi", "starlette", "pydantic", "psycopg", "typer", "httpx")


def _module_name(path: Path) -> str:
    parts = path.relative_to(ROOT).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def _modules() -> dict[str, Path]:
    found = {}
    for package in PACKAGES:
        for path in sorted((ROOT / package).rglob("*.py")):
            if "migrations" not in path.parts:
                found[_module_name(path)] = path
    return found


MODULES = _modules()


def _imported(path: Path) -> Iterator[str]:
    """Every module name `path` imports (absolute; relative imports resolved against its package)."""
    name = _module_name(path)
    package = name if path.name == "__init__.py" else name.rpartition(".")[0]
    for node in ast.walk(ast.parse(path.read_text(), str(path))):
        if isinstance(node, ast.Import):
            yield from (alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                anchor = package.split(".")[: len(package.split(".")) - node.level + 1]
                base = ".".join([*anchor, base]) if base else ".".join(anchor)
            yield base
            yield from (f"{base}.{alias.name}" for alias in node.names)


def _graph() -> dict[str, set[str]]:
    """Module -> the project modules it imports (a `from pkg import sub` counts as importing pkg.sub)."""
    return {name: {m for m in _imported(path) if m in MODULES and m != name} for name, path in MODULES.items()}


GRAPH = _graph()


def _cycles(graph: dict[str, set[str]]) -> list[list[str]]:
    """Strongly connected components of more than one module (Tarjan), each sorted."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    found: list[list[str]] = []

    def visit(node: str) -> None:
        index[node] = low[node] = len(index)
        stack.append(node)
        on_stack.add(node)
        for nxt in sorted(graph[node]):
            if nxt not in index:
                visit(nxt)
                low[node] = min(low[node], low[nxt])
            elif nxt in on_stack:
                low[node] = min(low[node], index[nxt])
        if low[node] == index[node]:
            component = []
            while True:
                top = stack.pop()
                on_stack.discard(top)
                component.append(top)
                if top == node:
                    break
            if len(component) > 1:
                found.append(sorted(component))

    for node in sorted(graph):
        if node not in index:
            visit(node)
    return found


def test_the_graph_sees_the_imports_it_must() -> None:
    """A guard on the parser itself: known edges (module level and function level) are in the graph."""
    assert "erpcore.services.unit_of_work" in GRAPH["erpcore.services.steps.journal"]
    assert "erpcore.services.handlers" in GRAPH["erpcore.services.bootstrap"]
    assert GRAPH["erpcore.services.unit_of_work"].isdisjoint({"erpcore.services.bootstrap", "erpcore.api.deps"})


def test_cycle_finder_finds_a_planted_cycle() -> None:
    assert _cycles({"a": {"b"}, "b": {"c"}, "c": {"a"}, "d": {"a"}}) == [["a", "b", "c"]]


def test_no_import_cycle_anywhere() -> None:
    assert _cycles(GRAPH) == []


def _top(module: str) -> str:
    return module.split(".", 1)[0]


@pytest.mark.parametrize("tool", TOOLS)
def test_tools_never_import_each_other(tool: str) -> None:
    others = set(TOOLS) - {tool}
    offending = sorted(f"{name} -> {dep}" for name, deps in GRAPH.items() if _top(name) == tool
                       for dep in deps if _top(dep) in others)
    assert offending == []


def test_erpcore_imports_no_tool_and_not_the_root_cli() -> None:
    offending = sorted(f"{name} -> {dep}" for name, deps in GRAPH.items() if _top(name) == "erpcore"
                       for dep in deps if _top(dep) in (*TOOLS, "erpops"))
    assert offending == []


def test_opskit_is_a_leaf() -> None:
    offending = sorted(f"{name} -> {dep}" for name, deps in GRAPH.items() if _top(name) == "opskit"
                       for dep in deps if _top(dep) != "opskit")
    assert offending == []


def test_the_domain_is_plain_python() -> None:
    """erpcore.domain imports no I/O framework and nothing of erpcore outside the domain but its exceptions."""
    offending = []
    for name, path in MODULES.items():
        if not name.startswith("erpcore.domain"):
            continue
        for imported in _imported(path):
            if _top(imported) in FRAMEWORKS or (imported.startswith("erpcore.") and
                                                 not imported.startswith(("erpcore.domain", "erpcore.exceptions"))):
                offending.append(f"{name} -> {imported}")
    assert offending == []


def test_in_transaction_steps_never_import_the_services_that_own_a_transaction() -> None:
    owners = {"erpcore.services.sales", "erpcore.services.purchasing", "erpcore.services.master",
              "erpcore.services.bootstrap"}
    offending = sorted(f"{name} -> {dep}" for name, deps in GRAPH.items()
                       if name.startswith(("erpcore.services.steps", "erpcore.services.handlers"))
                       for dep in deps & owners)
    assert offending == []

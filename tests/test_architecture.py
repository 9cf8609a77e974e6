"""The rules of DESIGN.md section 1, checked on ctxlog's import graph as built from its source (AST).

Every import of a ctxlog module by another is an edge, those under ``if TYPE_CHECKING:`` and inside
functions included: a cycle is a cycle whenever it bites. ``from X import name`` is an edge to the
submodule ``X.name`` when there is one, else to ``X`` itself (its ``__init__``, the package face).
"""

from __future__ import annotations

import ast
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

import ctxlog
import ctxlog.audit
import ctxlog.ledger
import ctxlog.web

ROOT = Path(__file__).resolve().parents[1]
PACKAGE = ROOT / "ctxlog"
LAYERS = ("ledger", "projections", "manager", "audit", "cli", "testing", "web", "integrations")
MAX_MODULE_LINES = 300
MAX_FUNCTION_LINES = 50


@dataclass(frozen=True)
class Edge:
    source: str
    target: str
    names: tuple[str, ...]
    line: int


def module_name(path: Path) -> str:
    parts = path.relative_to(ROOT).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


MODULES: dict[str, Path] = {module_name(p): p for p in sorted(PACKAGE.rglob("*.py"))}


def _base(source: str, node: ast.ImportFrom) -> str:
    if not node.level:
        return node.module or ""
    package = source if MODULES[source].name == "__init__.py" else source.rsplit(".", 1)[0]
    for _ in range(node.level - 1):
        package = package.rsplit(".", 1)[0]
    return f"{package}.{node.module}" if node.module else package


def edges_of(source: str) -> Iterator[Edge]:
    tree = ast.parse(MODULES[source].read_text(encoding="utf-8"))
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            for alias in node.names:
                if alias.name.split(".")[0] == "ctxlog":
                    yield Edge(source, alias.name, (), node.lineno)
        elif isinstance(node, ast.ImportFrom):
            base = _base(source, node)
            if base.split(".")[0] != "ctxlog":
                continue
            plain = tuple(a.name for a in node.names if f"{base}.{a.name}" not in MODULES)
            for alias in node.names:
                if f"{base}.{alias.name}" in MODULES:
                    yield Edge(source, f"{base}.{alias.name}", (), node.lineno)
            if plain:
                yield Edge(source, base, plain, node.lineno)


EDGES = [edge for source in MODULES for edge in edges_of(source)]


def layer(module: str) -> str:
    parts = module.split(".")
    return parts[1] if len(parts) > 1 and parts[1] in LAYERS else module


def where(edge: Edge) -> str:
    return f"{edge.source}:{edge.line} -> {edge.target}"


def cycles() -> list[list[str]]:
    """Strongly connected components of more than one module (or a module importing itself)."""
    graph: dict[str, set[str]] = {m: set() for m in MODULES}
    for e in EDGES:
        if e.target in graph:
            graph[e.source].add(e.target)
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    found: list[list[str]] = []

    def visit(v: str) -> None:  # Tarjan; the graph is small enough for recursion
        index[v] = low[v] = len(index)
        stack.append(v)
        for w in graph[v]:
            if w not in index:
                visit(w)
                low[v] = min(low[v], low[w])
            elif w in stack:
                low[v] = min(low[v], index[w])
        if low[v] == index[v]:
            component = []
            while True:
                w = stack.pop()
                component.append(w)
                if w == v:
                    break
            if len(component) > 1 or v in graph[v]:
                found.append(sorted(component))

    for v in graph:
        if v not in index:
            visit(v)
    return found


def test_the_graph_sees_the_packages_edges() -> None:
    """A check on the checker: known edges are found, so an empty result below means something."""
    targets = {(e.source, e.target) for e in EDGES}
    assert ("ctxlog.manager.session", "ctxlog.ledger") in targets
    assert ("ctxlog.cli.commands_tree", "ctxlog.audit") in targets
    assert ("ctxlog.projections.folds", "ctxlog.ledger") in targets


def test_no_import_cycles() -> None:
    assert cycles() == []


def test_ledger_imports_only_errors_and_itself() -> None:
    bad = [
        where(e) for e in EDGES if layer(e.source) == "ledger" and layer(e.target) not in ("ledger", "ctxlog.errors")
    ]
    assert bad == []


def test_projections_import_nothing_above_them() -> None:
    allowed = {"projections", "ctxlog.errors", "ledger"}
    bad = [where(e) for e in EDGES if layer(e.source) == "projections" and layer(e.target) not in allowed]
    assert bad == []


def test_projections_use_only_the_ledgers_event_vocabulary() -> None:
    vocabulary = {"Record", "Event", "decode_event"} | {n for n in ctxlog.ledger.__all__ if n[0].isupper()}
    vocabulary -= {"Ledger", "Anchor", "ExportHeader", "VerifyResult", "RunInfo", "Progress"}
    bad = [
        f"{where(e)} ({name})"
        for e in EDGES
        if layer(e.source) == "projections" and e.target == "ctxlog.ledger"
        for name in e.names
        if name not in vocabulary
    ]
    assert bad == []


def test_the_command_side_never_imports_the_read_side_or_the_interfaces() -> None:
    above = {"audit", "cli", "web", "integrations"}
    bad = [where(e) for e in EDGES if layer(e.source) == "manager" and layer(e.target) in above]
    assert bad == []


def test_the_read_side_never_imports_the_interfaces() -> None:
    bad = [where(e) for e in EDGES if layer(e.source) == "audit" and layer(e.target) in {"cli", "web", "integrations"}]
    assert bad == []


def test_integrations_go_through_the_public_api() -> None:
    """Adapters use the face, the read side, the manager and the ledger facade, never a store."""
    allowed = {"integrations", "ctxlog", "ctxlog.errors", "audit", "manager", "ledger"}
    bad = [where(e) for e in EDGES if layer(e.source) == "integrations" and layer(e.target) not in allowed]
    assert bad == []


def test_nothing_but_integrations_imports_them() -> None:
    """``import ctxlog`` never needs an extra: no other layer imports an adapter."""
    bad = [where(e) for e in EDGES if layer(e.target) == "integrations" and layer(e.source) != "integrations"]
    assert bad == []


def test_the_session_imports_nothing_of_the_manager() -> None:
    bad = [where(e) for e in EDGES if e.source == "ctxlog.manager.session" and layer(e.target) == "manager"]
    assert bad == []


def test_packages_are_entered_through_their_face() -> None:
    """Across layers, import a package (its ``__init__`` and ``__all__``), never one of its modules."""
    bad = [
        where(e)
        for e in EDGES
        if layer(e.source) not in ("testing", layer(e.target))
        and layer(e.target) in LAYERS
        and e.target != f"ctxlog.{layer(e.target)}"
    ]
    assert bad == []


def test_faces_export_only_what_they_hold() -> None:
    """Names imported from a package face are in its ``__all__``."""
    faces = {
        f"ctxlog.{name}": __import__(f"ctxlog.{name}", fromlist=["__all__"])
        for name in LAYERS
        if f"ctxlog.{name}" in MODULES
    }
    faces["ctxlog"] = ctxlog
    bad = [
        f"{where(e)} ({name})"
        for e in EDGES
        if e.target in faces and layer(e.source) != layer(e.target)
        for name in e.names
        if name not in faces[e.target].__all__
    ]
    assert bad == []


def test_cli_imports_only_public_names_of_ctxlog_and_audit() -> None:
    """(and of ``ctxlog.web``, whose ``serve`` and ``report`` are the commands of those names)"""
    public = {
        "ctxlog": set(ctxlog.__all__),
        "ctxlog.audit": set(ctxlog.audit.__all__),
        "ctxlog.web": set(ctxlog.web.__all__),
    }
    bad = []
    for e in EDGES:
        if layer(e.source) != "cli" or layer(e.target) == "cli":
            continue
        if e.target not in public or not set(e.names) <= public[e.target]:
            bad.append(f"{where(e)} {e.names}")
    assert bad == []


def test_the_viewer_uses_only_the_public_read_api() -> None:
    """``web/`` reads ledgers through the public names of ``ctxlog`` and ``ctxlog.audit`` only."""
    public = {"ctxlog": set(ctxlog.__all__), "ctxlog.audit": set(ctxlog.audit.__all__)}
    bad = [
        f"{where(e)} {e.names}"
        for e in EDGES
        if layer(e.source) == "web"
        and layer(e.target) != "web"
        and (e.target not in public or not set(e.names) <= public[e.target])
    ]
    assert bad == []


def test_importing_ctxlog_and_its_cli_needs_no_web_extra() -> None:
    """Starlette, uvicorn and sse-starlette are imported by ``web/server.py`` alone, which only
    ``ctxlog.web`` imports, inside a function."""
    holders = {
        name
        for name, path in MODULES.items()
        if any(
            isinstance(node, ast.Import | ast.ImportFrom)
            and any(
                (getattr(node, "module", None) or alias.name).split(".")[0] in ("starlette", "uvicorn", "sse_starlette")
                for alias in node.names
            )
            for node in ast.walk(ast.parse(path.read_text(encoding="utf-8")))
        )
    }
    assert holders <= {"ctxlog.web.server", "ctxlog.web"}
    top = ast.parse(MODULES["ctxlog.web"].read_text(encoding="utf-8")).body
    assert not [n for n in top if isinstance(n, ast.ImportFrom) and "server" in {a.name for a in n.names}]


STORE_NAMES = {"Store", "SQLiteStore", "PostgresStore", "open_store"}


def test_no_store_outside_the_ledger() -> None:
    """Nothing outside ``ledger/`` (and the shipped store tests) names a store or reaches for one."""
    bad = []
    for name, path in MODULES.items():
        if layer(name) in ("ledger", "testing"):
            continue
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if isinstance(node, ast.Attribute) and node.attr in ("store", "_store"):
                bad.append(f"{name}:{node.lineno} .{node.attr}")
            if isinstance(node, ast.Name) and node.id in STORE_NAMES:
                bad.append(f"{name}:{node.lineno} {node.id}")
    assert bad == []


def test_no_module_reaches_into_another_objects_private_attributes() -> None:
    """``x._name`` only on ``self`` or ``cls``: other objects are used through their public surface."""
    bad = []
    for name, path in MODULES.items():
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if (
                isinstance(node, ast.Attribute)
                and node.attr.startswith("_")
                and not node.attr.startswith("__")
                and not (isinstance(node.value, ast.Name) and node.value.id in ("self", "cls"))
            ):
                bad.append(f"{name}:{node.lineno} .{node.attr}")
    assert bad == []


@pytest.mark.parametrize("name", sorted(MODULES))
def test_every_module_declares_its_names(name: str) -> None:
    """Each module has an ``__all__`` (httpx style), and every name in it exists."""
    tree = ast.parse(MODULES[name].read_text(encoding="utf-8"))
    declared = [
        node
        for node in tree.body
        if isinstance(node, ast.Assign) and any(isinstance(t, ast.Name) and t.id == "__all__" for t in node.targets)
    ]
    if MODULES[name].name == "__main__.py":
        return
    assert declared, f"{name} has no __all__"
    module = __import__(name, fromlist=["__all__"])
    assert [n for n in module.__all__ if not hasattr(module, n)] == []


@pytest.mark.parametrize("name", sorted(MODULES))
def test_modules_and_functions_are_small(name: str) -> None:
    source = MODULES[name].read_text(encoding="utf-8")
    assert len(source.splitlines()) <= MAX_MODULE_LINES
    long = [
        f"{node.name} ({node.end_lineno - node.lineno + 1} lines)"
        for node in ast.walk(ast.parse(source))
        if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef)
        and node.end_lineno is not None
        and node.end_lineno - node.lineno + 1 > MAX_FUNCTION_LINES
    ]
    assert long == []


def test_no_shims_that_re_export_old_paths() -> None:
    """The flat modules of the old layout are gone, not kept as aliases."""
    old = ["replay", "timetravel", "operation", "arguments", "policies", "steps", "treediff", "values", "demo"]
    assert [m for m in old if (PACKAGE / f"{m}.py").exists()] == []
    assert not (PACKAGE / "ledger" / "log.py").exists() and not (PACKAGE / "audit.py").exists()

"""The shape the CLI promises: small modules, no SQL, each command the audit function of its name."""

from __future__ import annotations

import ast
import inspect
import re
from pathlib import Path

import pytest

from ctxlog import audit, web
from ctxlog.cli import main

CLI = Path(__file__).resolve().parents[2] / "ctxlog" / "cli"
MODULES = sorted(CLI.glob("*.py"))


@pytest.mark.parametrize("module", MODULES, ids=lambda p: p.name)
def test_cli_modules_are_small(module: Path) -> None:
    assert len(module.read_text(encoding="utf-8").splitlines()) <= 400


@pytest.mark.parametrize("module", MODULES, ids=lambda p: p.name)
def test_cli_holds_no_sql_and_no_storage_access(module: Path) -> None:
    source = module.read_text(encoding="utf-8")
    assert not re.search(r"\b(SELECT|INSERT|UPDATE|DELETE)\b", source)
    imported = {node.module or "" for node in ast.walk(ast.parse(source)) if isinstance(node, ast.ImportFrom)} | {
        alias.name for node in ast.walk(ast.parse(source)) if isinstance(node, ast.Import) for alias in node.names
    }
    assert not {"sqlite3", "sqlite_utils", "ledger.sqlite", "ledger.log", "ledger.store"} & imported


# -- each command is the audit function of its own name ------------------------------------------

RENDERING = {"as_json", "follow"}
"""Options that only choose how a result is printed (``log --follow`` prints ``audit.follow``'s records)."""
SAME_THING = {"ledger": "path", "fmt": "format", "output": "out"}
"""Command parameters whose function parameter has another name (a file becomes a stream, ...)."""
LIBRARY_ONLY = {"progress", "name", "ready"}
"""Function parameters the command fills itself: its progress bar, the name of its input file,
what it prints once it serves."""
VIEWER = {"serve", "report"}
"""Commands whose function is in ``ctxlog.web`` (the viewer), not in ``ctxlog.audit``."""


def _home(command: str) -> object:
    return web if command in VIEWER else audit


def _function(command: str) -> object:
    return getattr(_home(command), "import_" if command == "import" else command)


@pytest.mark.parametrize("command", sorted(main.commands))
def test_every_command_has_an_audit_function_of_its_name(command: str) -> None:
    assert callable(_function(command))


@pytest.mark.parametrize("command", sorted(main.commands))
def test_every_command_takes_the_options_of_its_function(command: str) -> None:
    function_params = set(inspect.signature(_function(command)).parameters) - LIBRARY_ONLY  # type: ignore[arg-type]
    command_params = {SAME_THING.get(p.name, p.name) for p in main.commands[command].params} - RENDERING
    if command == "demo":  # the run is always chosen: demo, demo-2 ...
        function_params -= {"run"}
    assert function_params == command_params


class Called(Exception):
    """Raised by a stand-in audit function to show which one a command called."""


@pytest.mark.parametrize("command", sorted(main.commands))
def test_every_command_calls_the_audit_function_of_its_name(
    command: str, cli: object, demo_db: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    name = "import_" if command == "import" else command
    calls: list[str] = []

    def stand_in(path: str, *args: object, **kwargs: object) -> None:
        calls.append(path)
        raise Called(name)

    monkeypatch.setattr(_home(command), name, stand_in)
    arguments = {
        "get": [demo_db, "records"],
        "diff": [demo_db, "loaded", "validated"],
        "replay": [demo_db, "--until", "validated"],
        "import": [str(tmp_path / "new.db"), str(tmp_path / "export.jsonl")],
        "migrate": [demo_db, str(tmp_path / "migrated.db")],
        "report": [demo_db, "-o", str(tmp_path / "run.html")],
        "fork": [demo_db, "--at", "validated", "--as", "copy"],
    }.get(command, [demo_db])
    (tmp_path / "export.jsonl").write_text("")
    with pytest.raises(Called, match=name):
        cli(command, *arguments)  # type: ignore[operator]
    assert calls == [arguments[0]]

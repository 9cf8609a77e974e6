"""The shape the CLI promises: small modules, no SQL, commands over ctxlog.audit only."""

from __future__ import annotations

import ast
import re
from pathlib import Path

import pytest

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

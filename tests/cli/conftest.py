"""Fixtures for the command line: a CLI invoker and small ledgers with known contents."""

from __future__ import annotations

import sqlite3
from collections.abc import Callable
from pathlib import Path

import pytest
from click.testing import CliRunner, Result

from ctxlog import ContextManager
from ctxlog.audit import demo as write_demo
from ctxlog.cli import main
from ctxlog.ledger import Ledger

Invoke = Callable[..., Result]

KEY = b"correct horse battery staple"


@pytest.fixture
def cli() -> Invoke:
    """Run ``ctxlog ARGS...``; a Python exception other than SystemExit is a bug and is re-raised."""
    runner = CliRunner()

    def invoke(*args: object, input: str | bytes | None = None) -> Result:
        result = runner.invoke(main, [str(a) for a in args], input=input)
        if result.exception is not None and not isinstance(result.exception, SystemExit):
            raise result.exception
        return result

    return invoke


@pytest.fixture
def demo_db(tmp_path: Path) -> str:
    """The sample run ``demo`` (47 events; checkpoints loaded=9, validated=38, finished=47)."""
    path = str(tmp_path / "ctx.db")
    write_demo(path, run="demo")
    return path


@pytest.fixture
def two_runs_db(tmp_path: Path) -> str:
    """Runs ``alpha`` (offsets 1-2) and ``beta`` (offsets 3-4), each setting ``x``."""
    path = str(tmp_path / "two.db")
    for run, value in (("alpha", 1), ("beta", 2)):
        with ContextManager(path, run=run) as mgr:
            mgr.set("x", value)
    return path


@pytest.fixture
def key_file(tmp_path: Path) -> str:
    path = tmp_path / "ledger.key"
    path.write_bytes(KEY + b"\n")
    return str(path)


@pytest.fixture
def keyed_db(tmp_path: Path) -> str:
    """A keyed (HMAC-SHA256) ledger with run ``k`` under KEY."""
    path = str(tmp_path / "keyed.db")
    with ContextManager(path, run="k", key=KEY) as mgr:
        mgr.set("secret", "s3")
        mgr.checkpoint("one")
    return path


@pytest.fixture
def empty_db(tmp_path: Path) -> str:
    """A ctxlog ledger with its schema and no events."""
    path = str(tmp_path / "empty.db")
    Ledger.open(path).close()
    return path


def tamper(path: str, sql: str, params: tuple = ()) -> None:
    """Change a ledger behind ctxlog's back (dropping the append-only triggers first)."""
    conn = sqlite3.connect(path)
    try:
        conn.execute("DROP TRIGGER IF EXISTS events_no_update")
        conn.execute("DROP TRIGGER IF EXISTS events_no_delete")
        conn.execute(sql, params)
        conn.commit()
    finally:
        conn.close()


def one_error_line(result: Result) -> str:
    """The single ``Error: ...`` line a user error prints on stderr (asserting there is just one)."""
    lines = result.stderr.splitlines()
    assert len(lines) == 1, result.stderr
    assert lines[0].startswith("Error: ") and "Traceback" not in result.output
    return lines[0]

"""Fixtures for the command line: a CLI invoker, a key file and small ledgers with known contents.

The ledgers other test packages read too (``demo_db``, ``empty_db``, ``keyed``) are in
``tests/conftest.py``; the attacker who edits a ledger behind ctxlog's back is ``tests/attack.py``.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest
from click.testing import CliRunner, Result

from ctxlog import ContextManager
from ctxlog.cli import main

from ..conftest import KEY

Invoke = Callable[..., Result]


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
def two_runs_db(tmp_path: Path) -> str:
    """Runs ``alpha`` (offsets 1-2) and ``beta`` (offsets 3-4), each setting ``x``."""
    path = str(tmp_path / "two.db")
    for run, value in (("alpha", 1), ("beta", 2)):
        with ContextManager(path, run=run) as mgr:
            mgr.set("x", value)
    return path


@pytest.fixture
def key_file(tmp_path: Path) -> str:
    """A file holding KEY, the key of the ``keyed`` ledger, as ``--key-file`` reads it."""
    path = tmp_path / "ledger.key"
    path.write_bytes(KEY + b"\n")
    return str(path)


def one_error_line(result: Result) -> str:
    """The single ``Error: ...`` line a user error prints on stderr (asserting there is just one)."""
    lines = result.stderr.splitlines()
    assert len(lines) == 1, result.stderr
    assert lines[0].startswith("Error: ") and "Traceback" not in result.output
    return lines[0]

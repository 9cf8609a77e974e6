"""PostgreSQL is optional: the core never imports psycopg for a file, and its tests skip (or, under
CI, fail) with the reason on a machine without a server."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
ONE_PG_TEST = "tests/ledger/test_postgres_store.py::test_url_opens_a_postgres_store"


def test_a_file_ledger_never_imports_psycopg(tmp_path: Path) -> None:
    code = (
        "import sys, ctxlog\n"
        f"with ctxlog.ContextManager({str(tmp_path / 'x.db')!r}, run='r') as m: m.set('a', 1)\n"
        f"assert ctxlog.audit.verify({str(tmp_path / 'x.db')!r}).ok\n"
        "assert not [m for m in sys.modules if m.startswith('psycopg')], 'psycopg imported'\n"
    )
    subprocess.run([sys.executable, "-c", code], check=True, cwd=ROOT)


def _pytest_without_a_server(ci: bool) -> subprocess.CompletedProcess[str]:
    env = {k: v for k, v in os.environ.items() if k != "CI"}
    env["PG_BINDIR"] = "/nonexistent"
    if ci:
        env["CI"] = "true"
    return subprocess.run(
        [sys.executable, "-m", "pytest", "-rs", "-p", "no:cacheprovider", ONE_PG_TEST],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )


def test_without_a_server_the_postgres_tests_skip_saying_why() -> None:
    done = _pytest_without_a_server(ci=False)
    assert done.returncode == 0, done.stdout[-2000:]
    assert "1 skipped" in done.stdout and "no PostgreSQL server for the tests" in done.stdout


def test_under_ci_a_missing_server_fails_them() -> None:
    done = _pytest_without_a_server(ci=True)
    assert done.returncode != 0
    assert "under CI the PostgreSQL backend must be tested" in done.stdout

"""Opening a SQLite ledger file: read-only ones even where the reader may not write, busy files
waited on, and the schema ctxlog creates for each version, to compare a file's with."""

from __future__ import annotations

import contextlib
import os
import sqlite3
import time
import urllib.parse
from collections.abc import Callable

from .schema import SCHEMAS

__all__ = ["BUSY_TIMEOUT_MS", "LOCK_RETRIES", "connect", "retry_locked", "schema_rows"]

BUSY_TIMEOUT_MS = 10_000
LOCK_RETRIES = 3


def connect(path: str, readonly: bool) -> sqlite3.Connection:
    """A connection to ``path``; read-only ones open with ``mode=ro``, and when that cannot create
    the shared-memory file (a directory the reader may not write) and no write-ahead log is there,
    with ``immutable=1``: an auditor without write access to the ledger's directory can read it."""
    if not readonly:
        return sqlite3.connect(path, isolation_level=None, check_same_thread=False)
    uri = "file:" + urllib.parse.quote(os.path.abspath(path)) + "?mode=ro"
    conn = sqlite3.connect(uri, uri=True, isolation_level=None, check_same_thread=False)
    try:
        conn.execute("SELECT count(*) FROM sqlite_master").fetchone()
        return conn
    except sqlite3.OperationalError as exc:
        conn.close()
        cannot = "unable to open" in str(exc) or "readonly database" in str(exc)  # no -shm may be made here
        if not cannot or os.path.exists(path + "-wal"):
            raise
    return sqlite3.connect(uri + "&immutable=1", uri=True, isolation_level=None, check_same_thread=False)


def retry_locked(statement: Callable[[], object]) -> None:
    """Run ``statement``, trying again a few times while another connection holds the lock
    (each try already waits up to ``busy_timeout``)."""
    for attempt in range(LOCK_RETRIES):
        try:
            statement()
            return
        except sqlite3.OperationalError as exc:
            if ("locked" not in str(exc) and "busy" not in str(exc)) or attempt == LOCK_RETRIES - 1:
                raise
            time.sleep(0.005 * (attempt + 1))


def schema_rows(version: int) -> set[tuple[str, str, str, str | None]]:
    """sqlite_master as ctxlog creates it for ``version``, read off a new in-memory database."""
    with contextlib.closing(sqlite3.connect(":memory:")) as conn:
        conn.executescript(SCHEMAS[version])
        return set(conn.execute("SELECT type, name, tbl_name, sql FROM sqlite_master"))

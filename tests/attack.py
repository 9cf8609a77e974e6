"""Writing past the append-only guard, as whoever holds the database can, on either engine.

SQLite: the triggers dropped. PostgreSQL: a superuser session with triggers off. Both take
sqlite3's ``?`` placeholders, so one attack script serves both engines. This is the one copy of
the attacker the tests use: :func:`attacker` for several statements on one connection,
:func:`tamper` for one statement (also the body of the conformance suites' ``tamper`` method).
"""

from __future__ import annotations

import contextlib
import sqlite3
from collections.abc import Iterator
from typing import Any

from ctxlog.ledger import is_url


@contextlib.contextmanager
def attacker(location: str) -> Iterator[Any]:
    """An autocommit connection to the ledger at ``location`` (a path or a URL) that UPDATE and
    DELETE go through."""
    if is_url(location):
        import psycopg

        with psycopg.connect(location, autocommit=True) as conn:
            conn.execute("SET session_replication_role = replica")
            yield QmarkConnection(conn)
        return
    with contextlib.closing(sqlite3.connect(location, isolation_level=None)) as db:
        db.execute("DROP TRIGGER IF EXISTS events_no_update")
        db.execute("DROP TRIGGER IF EXISTS events_no_delete")
        yield db


def tamper(location: str, sql: str, params: tuple = ()) -> None:
    """Run one statement (``?`` placeholders) on the ledger at ``location`` behind ctxlog's back."""
    with attacker(location) as conn:
        conn.execute(sql, params)


class QmarkConnection:
    """psycopg with sqlite3's ``?`` placeholders."""

    pg = True

    def __init__(self, conn: Any) -> None:
        self.conn = conn

    def execute(self, sql: str, params: tuple = ()) -> Any:
        return self.conn.execute(sql.replace("?", "%s"), params)

"""Writing past the append-only guard, as whoever holds the database can, on either engine.

SQLite: the triggers dropped. PostgreSQL: a superuser session with triggers off. Both take
sqlite3's ``?`` placeholders, so one attack script serves both engines.
"""

from __future__ import annotations

import contextlib
import sqlite3
from collections.abc import Iterator
from typing import Any

from ctxlog.ledger import is_url


@contextlib.contextmanager
def attacker(path: str) -> Iterator[Any]:
    """An autocommit connection to the ledger at ``path`` that UPDATE and DELETE go through."""
    if is_url(path):
        import psycopg

        with psycopg.connect(path, autocommit=True) as conn:
            conn.execute("SET session_replication_role = replica")
            yield QmarkConnection(conn)
        return
    with contextlib.closing(sqlite3.connect(path, isolation_level=None)) as db:
        db.execute("DROP TRIGGER events_no_update")
        db.execute("DROP TRIGGER events_no_delete")
        yield db


class QmarkConnection:
    """psycopg with sqlite3's ``?`` placeholders."""

    pg = True

    def __init__(self, conn: Any) -> None:
        self.conn = conn

    def execute(self, sql: str, params: tuple = ()) -> Any:
        return self.conn.execute(sql.replace("?", "%s"), params)

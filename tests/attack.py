"""Writing past the append-only guard, as whoever holds the database can, on either engine.

SQLite: the triggers dropped, and put back afterwards. PostgreSQL: a superuser session with
triggers off. Both take
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
from ctxlog.ledger.chain import Chain
from ctxlog.ledger.codec import canonical


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
        triggers = db.execute("SELECT sql FROM sqlite_master WHERE type = 'trigger' AND tbl_name = 'events'").fetchall()
        db.execute("DROP TRIGGER IF EXISTS events_no_update")
        db.execute("DROP TRIGGER IF EXISTS events_no_delete")
        db.execute("PRAGMA ignore_check_constraints = ON")  # offsets and seqs below 1 too
        try:
            yield db
        finally:  # put the guard back as it was: the schema shows no trace of the attack
            for (sql,) in triggers:
                db.execute(sql)


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


COLUMNS = '"offset", run, seq, ts, kind, context, cause, payload, hash'


def rows(conn: Any) -> list[tuple]:
    """Every row as the attacker reads it, the hash as hex (schema 2 stores it as bytes; a byte
    flipped in the file may have made the cell text of the same bytes, which hex() reads alike)."""
    as_hex = "encode(hash, 'hex')" if getattr(conn, "pg", False) else "lower(hex(hash))"
    columns = COLUMNS.replace("hash", as_hex)
    return [(*row[:8], _hex(row[8])) for row in conn.execute(f'SELECT {columns} FROM events ORDER BY "offset"')]


def set_hash(conn: Any, offset: int, digest: str) -> None:
    """Write the hash of the row at ``offset`` as the schema stores it."""
    conn.execute('UPDATE events SET hash = ? WHERE "offset" = ?', (bytes.fromhex(digest), offset))


def genesis(conn: Any) -> str:
    """The hash row 1 links to, as anyone holding the file can compute it for an unkeyed ledger."""
    meta = dict(conn.execute("SELECT key, value FROM meta").fetchall())
    return Chain().genesis(meta) if meta.get("schema_version") != "1" else "0" * 64


def rehash(conn: Any, start: int) -> None:
    """Recompute plain SHA-256 links from ``start`` on, as an attacker without a key can."""
    every = rows(conn)
    previous = next((r[8] for r in every if r[0] == start - 1), None) or genesis(conn)
    for row in every:
        if row[0] < start:
            continue
        digest = Chain().link(previous, canonical(*row[:8]))
        set_hash(conn, row[0], digest)
        previous = digest


def _hex(value: Any) -> str:
    return bytes(value).hex() if isinstance(value, (bytes, bytearray, memoryview)) else str(value)

"""The same-work floor: raw ``sqlite3`` doing what ctxlog stores, and none of its Python logic.

Everything it writes or checks comes from ctxlog's own modules, so it follows the library as it
changes: the schema (``ctxlog.ledger.sqlite.schema.SCHEMAS`` of the current schema version, its
``INSERT`` and ``COLUMNS``), the meta table and the genesis hash (``ctxlog.ledger.meta.new_meta``,
``Chain().genesis``), the bytes a row's hash covers (``ctxlog.ledger.codec.canonical``), the link
(the ``hashlib.sha256(previous + row)`` call ``Chain.digest`` makes) and the pragmas ctxlog's
SQLite store sets. The statements of a write transaction are the ones ctxlog itself issued for
the same operation, read off SQLite's trace hook (``probe.py``): today ``BEGIN IMMEDIATE``,
``PRAGMA data_version``, the ``INSERT``, ``COMMIT``. What it does not do is ctxlog's added work:
checking and encoding the value, folding it into the live tree, the snapshot cache, Python-side
bookkeeping.

A floor file is a real ledger: the rows it appends after a copy of a ctxlog ledger continue that
ledger's chain, so ``ctxlog.audit.verify`` accepts it (the cases check that).
"""

from __future__ import annotations

import contextlib
import hashlib
import os
import shutil
import sqlite3
import time
from collections.abc import Iterable, Sequence

import msgspec
import probe
import raw

import ctxlog
from ctxlog.ledger.chain import Chain
from ctxlog.ledger.codec import canonical
from ctxlog.ledger.meta import new_meta
from ctxlog.ledger.sqlite.connection import BUSY_TIMEOUT_MS
from ctxlog.ledger.sqlite.schema import COLUMNS, INSERT, SCHEMAS, SELECT
from ctxlog.ledger.store import SCHEMA_VERSION

Template = tuple[list[str], list[str]]
"""A write transaction's statements before and after its event inserts."""

FALLBACK: Template = (["BEGIN IMMEDIATE", "PRAGMA data_version"], ["COMMIT"])
"""What ctxlog's SQLite store issues around an append, should the probe fail."""


def connect(path: str, synchronous: str = "FULL") -> sqlite3.Connection:
    """A writer connection with ctxlog's pragmas: autocommit driver, busy timeout, WAL, ``synchronous``."""
    conn = sqlite3.connect(path, isolation_level=None, check_same_thread=False)
    conn.execute(f"PRAGMA busy_timeout = {BUSY_TIMEOUT_MS}")
    conn.execute("PRAGMA journal_mode = WAL")
    conn.execute(f"PRAGMA synchronous = {synchronous}")
    return conn


def reader(path: str) -> sqlite3.Connection:
    """A read-only connection, as ctxlog's readers open one."""
    conn = sqlite3.connect(f"file:{os.path.abspath(path)}?mode=ro", uri=True, isolation_level=None)
    conn.execute(f"PRAGMA busy_timeout = {BUSY_TIMEOUT_MS}")
    return conn


class Floor:
    """A ledger file written by raw sqlite3: ctxlog's schema, meta, row bytes and chain."""

    def __init__(self, path: str, synchronous: str = "FULL", meta: dict[str, str] | None = None) -> None:
        raw.remove_db(path)
        self.path = path
        self.conn = connect(path, synchronous)
        self.conn.executescript(SCHEMAS[SCHEMA_VERSION])
        self.meta = meta if meta is not None else new_meta(Chain())
        self.conn.executemany("INSERT INTO meta (key, value) VALUES (?, ?)", sorted(self.meta.items()))
        self.offset = 0
        self.prev = bytes.fromhex(Chain().genesis(self.meta))
        self.seqs: dict[str, int] = {}
        self._cell = (lambda digest: digest) if SCHEMA_VERSION >= 2 else bytes.hex

    @classmethod
    def copy_of(cls, src: str, dst: str, synchronous: str = "FULL", batch: int = 10_000) -> Floor:
        """A floor file holding the meta and every row of the ctxlog ledger ``src``, inserted raw."""
        with contextlib.closing(reader(src)) as conn:
            meta = dict(conn.execute("SELECT key, value FROM meta"))
        floor = cls(dst, synchronous, meta)
        with contextlib.closing(reader(src)) as conn:
            cursor = conn.execute(f'SELECT {COLUMNS} FROM events ORDER BY "offset"')
            for rows in iter(lambda: cursor.fetchmany(batch), []):
                floor.conn.execute("BEGIN IMMEDIATE")
                floor.conn.executemany(INSERT, rows)
                floor.conn.execute("COMMIT")
                last = rows[-1]
                floor.offset, floor.prev = last[0], last[8] if isinstance(last[8], bytes) else bytes.fromhex(last[8])
                for row in rows:
                    floor.seqs[row[1]] = row[2]
        return floor

    def rows(self, run: str, context: str, cause: int | None, kind: str, payloads: Iterable[str]) -> list[tuple]:
        """Rows for ``payloads`` after the head, hashed and linked (advances the head)."""
        sha, cell, now = hashlib.sha256, self._cell, time.time_ns
        offset, prev, seq = self.offset, self.prev, self.seqs.get(run, 0)
        out = []
        for payload in payloads:
            offset += 1
            seq += 1
            ts = now()
            prev = sha(prev + canonical(offset, run, seq, ts, kind, context, cause, payload)).digest()
            out.append((offset, run, seq, ts, kind, context, cause, payload, cell(prev)))
        self.offset, self.prev, self.seqs[run] = offset, prev, seq
        return out

    def append_each(
        self, run: str, context: str, cause: int | None, kind: str, payloads: Sequence[str], template: Template
    ) -> None:
        """One write transaction per row, each issuing ``template``'s statements around its INSERT."""
        before, after = template
        execute, sha, cell, now = self.conn.execute, hashlib.sha256, self._cell, time.time_ns
        offset, prev, seq = self.offset, self.prev, self.seqs.get(run, 0)
        for payload in payloads:
            offset += 1
            seq += 1
            ts = now()
            prev = sha(prev + canonical(offset, run, seq, ts, kind, context, cause, payload)).digest()
            for statement in before:
                execute(statement).fetchall()
            execute(INSERT, (offset, run, seq, ts, kind, context, cause, payload, cell(prev)))
            for statement in after:
                execute(statement).fetchall()
        self.offset, self.prev, self.seqs[run] = offset, prev, seq

    def append_batch(
        self, run: str, context: str, cause: int | None, kind: str, payloads: Sequence[str], template: Template
    ) -> None:
        """All rows in one write transaction: hashed and linked, then one executemany."""
        before, after = template
        rows = self.rows(run, context, cause, kind, payloads)
        for statement in before:
            self.conn.execute(statement).fetchall()
        self.conn.executemany(INSERT, rows)
        for statement in after:
            self.conn.execute(statement).fetchall()

    def close(self) -> None:
        self.conn.close()


def read_verify(path: str, sql: str, *, decode: bool) -> int:
    """Read the rows ``sql`` selects (ctxlog's own row scan, as it issued it), recompute each row's
    link from the ledger's genesis and compare it with the stored hash, check the offsets are
    dense, and (``decode``) decode each payload with msgspec; return the row count."""
    conn = reader(path)
    try:
        meta = dict(conn.execute("SELECT key, value FROM meta"))
        prev = bytes.fromhex(Chain().genesis(meta))
        sha, loads, expected = hashlib.sha256, msgspec.json.decode, 1
        hexed = None
        for offset, run, seq, ts, kind, context, cause, payload, digest in conn.execute(sql):
            if offset != expected:
                raise AssertionError(f"floor: offset {expected} missing")
            link = sha(prev + canonical(offset, run, seq, ts, kind, context, cause, payload)).digest()
            if hexed is None:
                hexed = isinstance(digest, str)
            if (link.hex() if hexed else link) != digest:
                raise AssertionError(f"floor: chain broken at {offset}")
            if decode:
                loads(payload)
            prev, expected = link, expected + 1
        return expected - 1
    finally:
        conn.close()


def default_scan(run: str | None) -> str:
    """ctxlog's row scan as the schema module spells its columns (when the probe finds none)."""
    where = f" WHERE run = '{run}' ORDER BY seq" if run is not None else ' ORDER BY "offset"'
    return f"SELECT {SELECT[SCHEMA_VERSION]} FROM events{where}"


def templates(ledger: str, run: str, scratch: str, synchronous: str = "FULL") -> tuple[Template, Template, str]:
    """ctxlog's statements for one durable ``set()`` and for a ``transaction()`` of three, probed on
    a copy of ``ledger`` in a step of ``run``: (single, batch, how they were found)."""
    raw.remove_db(scratch)
    raw.checkpoint_wal(ledger)
    shutil.copyfile(ledger, scratch)
    try:
        with probe.traced() as statements:
            mgr = ctxlog.ContextManager(scratch, run=run, synchronous=synchronous)
        try:
            mgr.enter_step("probe")
            for i in range(3):
                mgr.set("probe", i)
            statements.clear()
            mgr.set("probe", {"one": 1})
            single = probe.append_template(list(statements))
            statements.clear()
            with mgr.transaction():
                for i in range(3):
                    mgr.set("probe", i)
            batch = probe.append_template(list(statements))
        finally:
            mgr.close()
        return single, batch, "probed"
    except ValueError as exc:
        return FALLBACK, FALLBACK, f"probe failed ({exc}); the store's statements as read in its code"
    finally:
        raw.remove_db(scratch)


def scan_of(fn, *, whole: bool = False, run: str | None = None) -> str:  # type: ignore[no-untyped-def]
    """The row scan ctxlog issued while running ``fn`` (the schema's columns if none is found)."""
    try:
        return probe.row_scan(probe.statements_of(fn), whole=whole)
    except ValueError:
        return default_scan(None if whole else run)

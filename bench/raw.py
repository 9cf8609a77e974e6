"""Raw ``sqlite3`` baselines, as careful as ctxlog: same pragmas, same payload bytes, a SHA-256 chain.

The raw table is the floor of what ctxlog stores: ``"offset" INTEGER PRIMARY KEY, payload TEXT,
hash TEXT``, where ``hash = sha256(bytes.fromhex(previous_hash) + payload_utf8)``. Writers take the
write lock with ``BEGIN IMMEDIATE`` like ctxlog and keep the previous hash in memory.

Payloads are the exact texts ctxlog stored, read back from a ctxlog ledger (:func:`ledger_payloads`),
so both sides write the same bytes.
"""

from __future__ import annotations

import hashlib
import os
import shutil
import sqlite3
import time
from collections.abc import Iterable

import msgspec

GENESIS = "0" * 64
RAW_SCHEMA = 'CREATE TABLE raw ("offset" INTEGER PRIMARY KEY, payload TEXT NOT NULL, hash TEXT NOT NULL)'
INSERT = 'INSERT INTO raw ("offset", payload, hash) VALUES (?, ?, ?)'


def connect(path: str, synchronous: str = "FULL") -> sqlite3.Connection:
    """A connection with ctxlog's pragmas: autocommit driver, WAL, the given synchronous, busy timeout."""
    conn = sqlite3.connect(path, isolation_level=None, check_same_thread=False)
    conn.execute("PRAGMA busy_timeout = 10000")
    conn.execute("PRAGMA journal_mode = WAL")
    conn.execute(f"PRAGMA synchronous = {synchronous}")
    return conn


def remove_db(path: str) -> None:
    for suffix in ("", "-wal", "-shm", "-journal"):
        if os.path.exists(path + suffix):
            os.remove(path + suffix)


class RawLog:
    """An append-only raw table with an in-memory head, like an application would keep."""

    def __init__(self, path: str, synchronous: str = "FULL") -> None:
        remove_db(path)
        self.path = path
        self.conn = connect(path, synchronous)
        self.conn.execute(RAW_SCHEMA)
        self.offset, self.head = 0, GENESIS

    def chain(self, payloads: list[str]) -> list[tuple[int, str, str]]:
        """Rows for ``payloads`` after the current head, with their chain hashes (advances the head)."""
        rows = []
        offset, head = self.offset, self.head
        sha, fromhex = hashlib.sha256, bytes.fromhex
        for payload in payloads:
            offset += 1
            head = sha(fromhex(head) + payload.encode()).hexdigest()
            rows.append((offset, payload, head))
        self.offset, self.head = offset, head
        return rows

    def append_each(self, payloads: list[str]) -> None:
        """One transaction per row: BEGIN IMMEDIATE, INSERT, COMMIT (the durable-single baseline)."""
        execute = self.conn.execute
        offset, head = self.offset, self.head
        sha, fromhex = hashlib.sha256, bytes.fromhex
        for payload in payloads:
            offset += 1
            head = sha(fromhex(head) + payload.encode()).hexdigest()
            execute("BEGIN IMMEDIATE")
            execute(INSERT, (offset, payload, head))
            execute("COMMIT")
        self.offset, self.head = offset, head

    def append_batch(self, payloads: list[str]) -> None:
        """One transaction for all: the chain computed, then executemany (the batched baseline)."""
        rows = self.chain(payloads)
        self.conn.execute("BEGIN IMMEDIATE")
        self.conn.executemany(INSERT, rows)
        self.conn.execute("COMMIT")

    def close(self) -> None:
        self.conn.close()


def ledger_payloads(path: str, *, kind: str | None = None, last: int | None = None) -> list[str]:
    """Payload texts of a ctxlog ledger in offset order (of one kind; the last ``last`` of them)."""
    conn = sqlite3.connect(f"file:{path}?mode=ro", uri=True)
    try:
        where = "WHERE kind = ?" if kind else ""
        params: tuple = (kind,) if kind else ()
        if last is not None:
            rows = conn.execute(
                f'SELECT payload FROM events {where} ORDER BY "offset" DESC LIMIT ?', params + (last,)
            ).fetchall()
            rows.reverse()
        else:
            rows = conn.execute(f'SELECT payload FROM events {where} ORDER BY "offset"', params).fetchall()
    finally:
        conn.close()
    return [r[0] for r in rows]


def build_raw_table(path: str, payloads: list[str], batch: int = 10_000) -> None:
    """A raw table holding ``payloads`` with their chain (synchronous=NORMAL, batches of ``batch``)."""
    log = RawLog(path, "NORMAL")
    for start in range(0, len(payloads), batch):
        log.append_batch(payloads[start : start + batch])
    log.close()
    checkpoint_wal(path)


def replay_raw(path: str, *, decode: bool = True) -> int:
    """Read every row, decode its payload with msgspec (unless not ``decode``), verify the chain;
    return the row count."""
    conn = sqlite3.connect(f"file:{path}?mode=ro", uri=True, isolation_level=None)
    try:
        cursor = conn.execute('SELECT "offset", payload, hash FROM raw ORDER BY "offset"')
        return check_raw_rows(iter(lambda: cursor.fetchmany(512), []), decode=decode)
    finally:
        conn.close()


def check_raw_rows(pages: Iterable[list[tuple[int, str, str]]], *, decode: bool = True) -> int:
    """The raw baselines' replay, on any engine: decode each ``(id, payload, hash)`` row's payload
    (unless not ``decode``) and verify its link and its place; return the row count."""
    loads = msgspec.json.decode if decode else len
    sha, fromhex = hashlib.sha256, bytes.fromhex
    head, expected = GENESIS, 1
    for rows in pages:
        for offset, payload, digest in rows:
            if offset != expected:
                raise AssertionError(f"raw table: row {expected} missing")
            loads(payload)
            if sha(fromhex(head) + payload.encode()).hexdigest() != digest:
                raise AssertionError(f"raw table: chain broken at {offset}")
            head, expected = digest, expected + 1
    return expected - 1


def checkpoint_wal(path: str) -> None:
    """Fold the WAL into the main file and truncate it, so file sizes compare like for like."""
    conn = sqlite3.connect(path, isolation_level=None)
    try:
        conn.execute("PRAGMA busy_timeout = 10000")
        conn.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    finally:
        conn.close()


def file_bytes(path: str) -> int:
    """Bytes on disk: the database file plus its WAL."""
    return sum(os.path.getsize(path + s) for s in ("", "-wal") if os.path.exists(path + s))


def table_bytes(path: str) -> dict[str, int]:
    """Bytes of pages per table, its indexes counted with it (SQLite's ``dbstat``)."""
    conn = sqlite3.connect(f"file:{path}?mode=ro", uri=True)
    try:
        owners = dict(conn.execute("SELECT name, tbl_name FROM sqlite_master WHERE type IN ('table', 'index')"))
        sizes: dict[str, int] = {}
        for name, size in conn.execute("SELECT name, sum(pgsize) FROM dbstat GROUP BY name"):
            table = owners.get(name, name)
            sizes[table] = sizes.get(table, 0) + size
        page_size = conn.execute("PRAGMA page_size").fetchone()[0]
        free = conn.execute("PRAGMA freelist_count").fetchone()[0]
        sizes["(free pages)"] = free * page_size
    finally:
        conn.close()
    return sizes


def object_bytes(path: str) -> dict[str, int]:
    """Bytes of pages per table and per index, by name (SQLite's ``dbstat``)."""
    conn = sqlite3.connect(f"file:{path}?mode=ro", uri=True)
    try:
        return dict(conn.execute("SELECT name, sum(pgsize) FROM dbstat GROUP BY name"))
    finally:
        conn.close()


def copy_without_snapshots(src: str, dst: str) -> None:
    """A copy of a ctxlog ledger whose snapshot cache is empty (the log itself is untouched).

    Snapshots are a derivable cache (DESIGN section 3): without them ``replay`` folds every event
    of the run, which is what "full replay" means in the benchmark.
    """
    checkpoint_wal(src)
    remove_db(dst)
    shutil.copyfile(src, dst)
    conn = sqlite3.connect(dst, isolation_level=None)
    try:
        conn.execute("DELETE FROM snapshots")
        conn.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    finally:
        conn.close()


def timed(fn, *args) -> float:  # type: ignore[no-untyped-def]
    """Seconds ``fn(*args)`` takes."""
    t0 = time.perf_counter()
    fn(*args)
    return time.perf_counter() - t0

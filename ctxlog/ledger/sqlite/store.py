"""The SQLite store: one file in WAL mode (or ``:memory:``), append-only by trigger.

Writers take the lock up front with ``BEGIN IMMEDIATE`` so the head they read cannot move under
them; a busy file is waited on (``busy_timeout``) and retried before a StorageError is raised.
Every call runs inside :class:`~.errors.translated`, so no ``sqlite3`` error reaches a caller.
"""

from __future__ import annotations

import contextlib
import os
import sqlite3
from collections.abc import Callable, Iterator
from typing import TypeVar

import sqlite_utils
from msgspec.structs import astuple

from ...errors import NotALedgerError, ReadOnlyError
from ..batches import next_batch, up_to
from ..events import Record
from ..store import RUN_NAMES, SCHEMA_VERSION, RunInfo, Snapshot, Store, check_synchronous, checked_runs, clamp
from . import schema as Q
from .connection import BUSY_TIMEOUT_MS, connect, retry_locked, schema_rows
from .errors import translated
from .schema import INSERT, SCHEMAS, SELECT

__all__ = ["SQLiteStore"]

T = TypeVar("T")


class SQLiteStore(Store):
    """A ledger in one SQLite file, or in memory when ``path`` is ``":memory:"``."""

    def __init__(
        self,
        path: str = ":memory:",
        *,
        readonly: bool = False,
        create: bool = True,
        synchronous: str = "FULL",
    ) -> None:
        self.location = path
        self.readonly = readonly
        self._data_version: tuple | None = None
        self.use_version(SCHEMA_VERSION)
        memory = path == ":memory:"
        if not memory and not os.path.exists(path) and (readonly or not create):
            raise NotALedgerError(f"{path}: no such file; give the path of a ctxlog ledger")
        if not memory and os.path.isdir(path):
            raise NotALedgerError(f"{path}: is a directory; give the path of a ctxlog ledger file")
        if not memory and os.path.exists(path) and not os.path.isfile(path):
            raise NotALedgerError(f"{path}: not a regular file (a pipe or a device?); give the path of a ledger file")
        level = check_synchronous(synchronous)
        with translated(path):
            self._conn = connect(path, readonly and not memory)
            try:
                self._conn.execute(f"PRAGMA busy_timeout = {BUSY_TIMEOUT_MS}")
                self._conn.execute("SELECT count(*) FROM sqlite_master").fetchone()
                if not memory and not readonly:
                    retry_locked(lambda: self._conn.execute("PRAGMA journal_mode = WAL"))
                self._conn.execute(f"PRAGMA synchronous = {level}")
            except BaseException:
                self._conn.close()
                raise
        self._db = sqlite_utils.Database(self._conn, recursive_triggers=False)

    def _execute(self, sql: str, params: tuple = ()) -> None:
        with translated(self.location):
            self._conn.execute(sql, params)

    def _all(self, sql: str, params: tuple = ()) -> list[tuple]:
        with translated(self.location):
            return self._conn.execute(sql, params).fetchall()

    def _one(self, sql: str, params: tuple = ()) -> tuple | None:
        with translated(self.location):
            return self._conn.execute(sql, params).fetchone()  # type: ignore[no-any-return]

    def get_meta(self) -> dict[str, str]:
        exists = self._one("SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = 'meta'")
        if not exists:
            return {}
        return dict(self._all("SELECT key, value FROM meta"))

    @contextlib.contextmanager
    def _schema_transaction(self) -> Iterator[None]:
        with translated(self.location):
            self._begin_immediate()
            try:
                yield
                self._conn.execute("COMMIT")
            except BaseException:
                if self._conn.in_transaction:
                    self._conn.execute("ROLLBACK")
                raise

    def _objects(self) -> set[str]:
        return {name for (name,) in self._all("SELECT name FROM sqlite_master WHERE type = 'table'")}

    def use_version(self, version: int) -> None:
        self.version = version
        self._columns = SELECT[version]
        self._hash_in = bytes.fromhex if version >= 2 else str

    def _create(self, meta: dict[str, str]) -> None:
        with translated(self.location):
            for statement in SCHEMAS[self.version].split(";\n"):
                if statement.strip():
                    self._conn.execute(statement)
            self._conn.executemany("INSERT INTO meta (key, value) VALUES (?, ?)", sorted(meta.items()))

    def _begin_immediate(self) -> None:
        retry_locked(lambda: self._conn.execute("BEGIN IMMEDIATE"))

    def replace_meta(self, meta: dict[str, str]) -> None:
        with translated(self.location):
            self._conn.execute("DELETE FROM meta")
            self._conn.executemany("INSERT INTO meta (key, value) VALUES (?, ?)", sorted(meta.items()))

    def begin(self) -> None:
        if self.readonly:
            raise ReadOnlyError(f"{self.location}: opened read-only; open it for writing to append")
        with translated(self.location):
            self._begin_immediate()

    def commit(self) -> None:
        self._execute("COMMIT")

    def rollback(self) -> None:
        with translated(self.location):
            if self._conn.in_transaction:
                self._conn.execute("ROLLBACK")

    def savepoint(self, name: str) -> None:
        self._execute(f'SAVEPOINT "{name}"')

    def release(self, name: str) -> None:
        self._execute(f'RELEASE SAVEPOINT "{name}"')

    def rollback_to(self, name: str) -> None:
        self._execute(f'ROLLBACK TO SAVEPOINT "{name}"')
        self._execute(f'RELEASE SAVEPOINT "{name}"')

    def changed_elsewhere(self) -> bool:
        version = self._one("PRAGMA data_version")
        changed = version != self._data_version
        self._data_version = version
        return changed

    def head(self) -> tuple[int, str] | None:
        row = self._one(f'SELECT {self._columns} FROM events ORDER BY "offset" DESC LIMIT 1')
        return (row[0], row[8]) if row else None

    def tail(self) -> list[Record]:
        rows = self._all(f'SELECT {self._columns} FROM events ORDER BY "offset" DESC LIMIT 2')
        return [Record(*row) for row in rows]

    def edges(self) -> tuple[int, int] | None:
        low, high = self._one('SELECT min("offset") FROM events'), self._one('SELECT max("offset") FROM events')
        return None if low is None or low[0] is None else (low[0], high[0])  # type: ignore[index]

    def count(self) -> int:
        row = self._one("SELECT count(*) FROM events")
        return row[0] if row else 0

    def integrity(self) -> list[str]:
        """``PRAGMA integrity_check`` (indexes against the table, the file's structure), and the
        schema compared with the one ctxlog creates for this version: nothing added, dropped or
        replaced (a trigger, an index, a column)."""
        found = [f"SQLite integrity check: {row}" for (row,) in self._all("PRAGMA integrity_check") if row != "ok"]
        expected = schema_rows(self.version)
        present = set(self._all("SELECT type, name, tbl_name, sql FROM sqlite_master"))
        found += [f"the schema lacks the {t} {name} ctxlog created" for t, name, _, _ in sorted(expected - present)]
        found += [
            f"the schema holds a {t} {name} ctxlog did not create" for t, name, _, _ in sorted(present - expected)
        ]
        return found

    def last_seq(self, run: str) -> int:
        row = self._one("SELECT max(seq) FROM events WHERE run = ?", (run,))  # one probe of the (run, seq) index
        if row is None or row[0] is None:
            return 0
        if type(row[0]) is int:
            return row[0]
        # A seq stored as another type (a damaged row) sorts past every integer: cast them all.
        row = self._one("SELECT max(CAST(seq AS INTEGER)) FROM events WHERE run = ?", (run,))
        return row[0] or 0 if row else 0

    def insert(self, records: list[Record]) -> None:
        hash_in = self._hash_in
        with translated(self.location):
            if len(records) == 1:  # the common durable set(): execute skips executemany's set-up
                r = records[0]
                self._conn.execute(INSERT, (*astuple(r)[:8], hash_in(r.hash)))
            else:
                self._conn.executemany(INSERT, [(*astuple(r)[:8], hash_in(r.hash)) for r in records])

    def _stream(
        self,
        sql: str,
        params: tuple,
        row: Callable[..., T] = Record,  # type: ignore[assignment]
        most: int = 512,
    ) -> Iterator[T]:
        """Rows of ``sql`` built with ``row``, fetched in batches that start at one row and grow
        up to ``most`` while the rows are small; the cursor closes however the stream ends."""
        with translated(self.location):
            cursor = self._conn.execute(sql, params)
        batch = 1
        try:
            while True:
                with translated(self.location):
                    rows = cursor.fetchmany(batch)
                if not rows:
                    return
                for values in rows:
                    yield row(*values)
                batch = next_batch(rows, batch, most)
        finally:
            with contextlib.suppress(sqlite3.Error):
                cursor.close()

    def scan(self, *, after: int = 0, until: int | None = None) -> Iterator[Record]:
        return self._stream(
            f'SELECT {self._columns} FROM events WHERE "offset" > ? AND "offset" <= ? ORDER BY "offset"',
            (clamp(after), clamp(until)),
        )

    def scan_all(self) -> Iterator[Record]:
        return self._stream(f'SELECT {self._columns} FROM events ORDER BY "offset"', ())

    def scan_run(self, run: str, *, after_seq: int = 0, after: int = 0, until: int | None = None) -> Iterator[Record]:
        rows = self._stream(
            f'SELECT {self._columns} FROM events WHERE run = ? AND seq > ? AND "offset" > ? ORDER BY seq',
            (run, clamp(after_seq), clamp(after)),
        )
        return up_to(rows, until)

    def record_at(self, offset: int) -> Record | None:
        row = self._one(f'SELECT {self._columns} FROM events WHERE "offset" = ?', (clamp(offset),))
        return Record(*row) if row else None

    def run_names(self, limit: int | None = None) -> list[str]:
        sql = RUN_NAMES if limit is None else f"{RUN_NAMES} LIMIT {int(limit)}"
        return [run for (run,) in self._all(sql)]

    def runs(self) -> Iterator[RunInfo]:
        return checked_runs(self._stream(Q.RUNS, (), RunInfo))  # type: ignore[arg-type]

    def has_run(self, run: str) -> bool:
        return self._one("SELECT 1 FROM events WHERE run = ? LIMIT 1", (run,)) is not None

    def checkpoint_rows(self, run: str) -> Iterator[Record]:
        return self._stream(
            f"SELECT {self._columns} FROM events WHERE run = ? AND kind = 'checkpoint' ORDER BY \"offset\"", (run,)
        )

    def checkpoint_offset(self, run: str, name: str) -> int | None:
        row = self._one(Q.CHECKPOINT_OFFSET, (run, name))
        return row[0] if row else None

    def put_snapshot(self, snapshot: Snapshot) -> None:
        self._execute(Q.PUT_SNAPSHOT, (snapshot.run, snapshot.seq, snapshot.offset, snapshot.hash, snapshot.state))

    def snapshot_before(self, run: str, offset: int | None, *, newest_first: bool = True) -> Iterator[Snapshot]:
        sql = Q.SNAPSHOTS + (" DESC" if newest_first else "")
        return self._stream(sql, (run, clamp(offset)), Snapshot, most=1)

    def misstored(self) -> int | None:
        row = self._one(Q.MISSTORED[self.version])
        return row[0] if row else None

    def kind_counts(self) -> dict[str, int]:
        with translated(self.location):
            rows = self._db.query(Q.KIND_COUNTS)
            return {row["kind"]: row["n"] for row in rows}

    def snapshot_count(self) -> int:
        with translated(self.location):
            return self._db["snapshots"].count

    def size_bytes(self) -> int:
        if self.location == ":memory:":
            return 0
        return sum(
            os.path.getsize(self.location + suffix) for suffix in ("", "-wal") if os.path.exists(self.location + suffix)
        )

    def close(self) -> None:
        with translated(self.location):
            self._conn.close()

"""The PostgreSQL backend: one ledger per schema, shared by writers on many hosts.

Appends serialise on a transaction-scoped advisory lock (one per ledger schema) taken at the
start of every write transaction; readers and maintenance are never blocked. A writer reads the
head only after the previous writer committed, so offsets stay gapless and commit in offset order
(a reader can never see offset 7 before offset 6). A trigger refuses UPDATE, DELETE and TRUNCATE
of the log. Text columns use the "C" collation so names sort by code point, as on SQLite.

Reads page by key (``offset`` or ``seq``), so a half-read stream never pins a transaction;
psycopg is imported only for a server location, its errors translated in ``errors.py`` only.
"""

from __future__ import annotations

import contextlib
from collections import OrderedDict
from collections.abc import Iterator

from ...errors import InvalidArgumentError, NotALedgerError, ReadOnlyError, StorageError
from ..batches import up_to
from ..events import Record
from ..store import NO_BOUND, RUN_NAMES, SCHEMA_VERSION, RunInfo, Snapshot, Store, check_synchronous, clamp
from ..urls import redacted
from . import schema as Q
from .catalog import catalog_problems
from .connection import Connection, session_settings
from .errors import psycopg, translated
from .schema import COLUMNS, INSERT, LAST_SEQS, SCHEMAS, WRITE_LOCK, Statements

__all__ = ["PostgresStore"]

WATCHED_RUNS = 4
"""How many recently appended runs have their last seq read with the head when a write begins."""
COPY_FROM = 64
"""Batches of at least this many rows go in by COPY at once; smaller ones wait for the COMMIT."""
_UNSEEN = object()
"""What this store knows of the head before its first write transaction: nothing."""


class PostgresStore(Store):
    """A ledger in the tables of one PostgreSQL schema (the first of the URL's ``search_path``)."""

    holds = "objects in its schema"

    def __init__(self, url: str, *, readonly: bool = False, synchronous: str = "FULL") -> None:
        if psycopg is None or not psycopg.Pipeline.is_supported():
            raise InvalidArgumentError(
                f"{redacted(url)}: PostgreSQL ledgers need psycopg 3 with libpq 14 or newer (pipeline mode); "
                "install ctxlog[postgres]"
            )
        level = check_synchronous(synchronous)
        if "://" in url:
            scheme, rest = url.split("://", 1)
            url = scheme.lower() + "://" + rest
        self.location = redacted(url)
        self.readonly = readonly
        self._known_head: tuple[int, str] | None | object = _UNSEEN
        self._begin_head: tuple[int, str] | None = None  # the head when the transaction began, and now
        self._txn_head = self._begin_head
        self._savepoints: list[tuple[int, str] | None] = []
        self._watched: OrderedDict[str, None] = OrderedDict()
        self._seq_cache: dict[str, int] = {}
        self._contended = False
        self._url = url
        self._tail: list[Record] | None = None
        self.use_version(SCHEMA_VERSION)
        self._db = Connection(url, session_settings(level, readonly=readonly))

    def use_version(self, version: int) -> None:
        self.version, self._q = version, Statements(version)
        self._hash_in = bytes.fromhex if version >= 2 else str

    def _params(self, r: Record) -> tuple:
        return (r.offset, r.run, r.seq, r.ts, r.kind, r.context, r.cause, r.payload, self._hash_in(r.hash))

    def _objects(self) -> set[str]:
        """Tables, views, sequences … of the ledger's schema (anything a ledger could clash with)."""
        return {name for (name,) in self._db.all(Q.OBJECTS)}

    def get_meta(self) -> dict[str, str]:
        if "meta" not in self._objects():
            return {}
        return dict(self._db.all("SELECT key, value FROM meta"))

    @contextlib.contextmanager
    def _schema_transaction(self) -> Iterator[None]:
        with translated(self._url):
            schema = self._db.raw.execute("SELECT current_schema()").fetchone()
            if schema is None or schema[0] is None:
                raise NotALedgerError(
                    f"{self.location}: no schema to create the ledger in (the search_path names none that "
                    "exists); create it first"
                )
            self._db.in_transaction = True  # a lost connection now fails the call: no retry outside the lock
            try:
                self._db.raw.execute(f"BEGIN; {WRITE_LOCK}")
                yield
                self._db.raw.execute("COMMIT")
            finally:
                self._db.in_transaction = False
                self._db.abandon()

    def _create(self, meta: dict[str, str]) -> None:
        with translated(self._url):
            self._db.raw.execute(SCHEMAS[self.version])
            with self._db.raw.cursor() as cursor:
                cursor.executemany("INSERT INTO meta (key, value) VALUES (%s, %s)", sorted(meta.items()))

    def replace_meta(self, meta: dict[str, str]) -> None:
        with translated(self._url):
            self._db.send_queued()
            self._db.raw.execute("DELETE FROM meta")
            with self._db.raw.cursor() as cursor:
                cursor.executemany("INSERT INTO meta (key, value) VALUES (%s, %s)", sorted(meta.items()))

    def begin(self) -> None:
        """BEGIN, take the write lock and read the head in one round trip (pipeline mode), so a
        writer holds the lock for one more: its COMMIT. While other writers keep interleaving, the
        same round trip also reads the last seq of the runs this store recently appended to."""
        if self.readonly:
            raise ReadOnlyError(f"{self.location}: opened read-only; open it for writing to append")
        watched = list(self._watched) if self._contended else []

        def call() -> tuple[tuple | None, list[tuple]]:
            self._db.abandon()  # never BEGIN inside a transaction left open: its rows would commit with ours
            try:
                with self._db.raw.pipeline():
                    self._db.raw.execute("BEGIN")
                    self._db.raw.execute(WRITE_LOCK)
                    tail = self._db.raw.execute(self._q.TAIL)
                    seqs = self._db.raw.execute(LAST_SEQS, (watched,)) if watched else None
                return tail.fetchall(), seqs.fetchall() if seqs is not None else []
            except BaseException:
                self._db.abandon()
                raise

        rows, seqs = self._db.run(call)
        self._db.in_transaction = True
        self._tail = [Record(*row) for row in rows]
        self._begin_head = self._txn_head = (rows[0][0], rows[0][8]) if rows else None
        self._contended = self._known_head is not _UNSEEN and self._known_head != self._begin_head
        self._seq_cache = {run: seq or 0 for run, seq in seqs}
        self._savepoints = []

    def commit(self) -> None:
        """COMMIT, with the rows still queued sent in the same round trip (pipeline mode)."""
        if self._db.raw.info.transaction_status == psycopg.pq.TransactionStatus.INERROR:
            raise StorageError(
                f"{self.location}: a statement of this transaction failed, so PostgreSQL rolled it back; "
                "nothing of it was committed"
            )
        with translated(self._url):
            queued, self._db.queued = self._db.queued, []
            with self._db.raw.pipeline(), self._db.raw.cursor() as cursor:
                if queued:
                    cursor.executemany(INSERT, queued)
                cursor.execute("COMMIT")
            if cursor.statusmessage != "COMMIT":
                raise StorageError(f"{self.location}: PostgreSQL rolled the transaction back instead of committing it")
        self._db.in_transaction = False
        self._known_head = self._txn_head

    def rollback(self) -> None:
        self._db.queued, self._seq_cache = [], {}
        self._db.in_transaction = False
        with translated(self._url):
            self._db.abandon()
        self._known_head = self._begin_head

    def savepoint(self, name: str) -> None:
        self._db.execute(f'SAVEPOINT "{name}"')
        self._savepoints.append(self._txn_head)

    def release(self, name: str) -> None:
        self._db.execute(f'RELEASE SAVEPOINT "{name}"')
        self._savepoints.pop()

    def rollback_to(self, name: str) -> None:
        self._db.queued, self._seq_cache = [], {}  # queued after the savepoint, which sent all before it
        self._db.execute(f'ROLLBACK TO SAVEPOINT "{name}"; RELEASE SAVEPOINT "{name}"')
        self._txn_head, self._tail = self._savepoints.pop(), None

    def changed_elsewhere(self) -> bool:
        changed = self._known_head != self._begin_head
        self._known_head = self._begin_head
        return changed

    def head(self) -> tuple[int, str] | None:
        if self._db.in_transaction:
            return self._txn_head
        rows = self.tail()
        return (rows[0].offset, rows[0].hash) if rows else None

    def tail(self) -> list[Record]:
        if self._db.in_transaction and self._tail is not None:
            return list(self._tail)  # read with BEGIN, and nothing appended since
        return [Record(*row) for row in self._db.all(self._q.TAIL)]

    def edges(self) -> tuple[int, int] | None:
        row = self._db.one(Q.EDGES)
        return None if row is None or row[0] is None else row  # type: ignore[return-value]

    def count(self) -> int:
        return self._db.value("SELECT count(*) FROM events", (), 0)

    def integrity(self) -> list[str]:
        return catalog_problems(self._db, self.version)

    def last_seq(self, run: str) -> int:
        if self._db.in_transaction and run in self._seq_cache:
            return self._seq_cache[run]
        seq = self._db.value("SELECT max(seq) FROM events WHERE run = %s", (run,), 0)
        self._watched[run] = None
        self._watched.move_to_end(run)
        while len(self._watched) > WATCHED_RUNS:
            self._watched.popitem(last=False)
        if self._db.in_transaction:
            self._seq_cache[run] = seq
        return seq

    def insert(self, records: list[Record]) -> None:
        """Queue a small batch for the next round trip (the COMMIT's, usually); COPY a large one now.

        A refused row (a duplicate offset, say) raises here or at the next call that talks to the
        server, :meth:`commit` included; either way the transaction is then rolled back whole.
        """
        if not records:
            return
        if len(records) >= COPY_FROM:
            with translated(self._url), self._db.raw.cursor() as cursor:
                self._db.send_queued()
                with cursor.copy(f"COPY events ({COLUMNS}) FROM STDIN") as copy:
                    for record in records:
                        copy.write_row(self._params(record))
        else:
            self._db.queued.extend(self._params(r) for r in records)
        self._txn_head, self._tail = (records[-1].offset, records[-1].hash), None
        for record in records:
            if record.run in self._seq_cache:
                self._seq_cache[record.run] = max(self._seq_cache[record.run], record.seq)

    def scan(self, *, after: int = 0, until: int | None = None) -> Iterator[Record]:
        return self._db.pages(self._q.SCAN, (clamp(until),), 0, clamp(after), row=Record)

    def scan_all(self) -> Iterator[Record]:
        return self._db.pages(self._q.SCAN_ALL, (), 0, -(2**63), row=Record)

    def scan_run(self, run: str, *, after_seq: int = 0, after: int = 0, until: int | None = None) -> Iterator[Record]:
        return up_to(self._db.pages(self._q.SCAN_RUN, (run, clamp(after)), 2, clamp(after_seq), row=Record), until)

    def record_at(self, offset: int) -> Record | None:
        row = self._db.one(self._q.RECORD_AT, (clamp(offset),))
        return Record(*row) if row else None

    def run_names(self, limit: int | None = None) -> list[str]:
        sql = RUN_NAMES if limit is None else f"{RUN_NAMES} LIMIT {int(limit)}"
        return [run for (run,) in self._db.all(sql)]

    def runs(self) -> Iterator[RunInfo]:
        return (RunInfo(*row) for row in self._db.streamed(Q.RUNS))

    def has_run(self, run: str) -> bool:
        return self._db.one(Q.HAS_RUN, (run,)) is not None

    def checkpoint_rows(self, run: str) -> Iterator[Record]:
        return self._db.pages(self._q.CHECKPOINT_ROWS, (run,), 0, 0, row=Record)

    def checkpoint_offset(self, run: str, name: str) -> int | None:
        if "\x00" in name or "\x00" in run:
            return None
        return self._db.value(Q.CHECKPOINT_OFFSET, (run, name), None)

    def put_snapshot(self, snapshot: Snapshot) -> None:
        self._db.execute(Q.PUT_SNAPSHOT, (snapshot.run, snapshot.seq, snapshot.offset, snapshot.hash, snapshot.state))

    def snapshot_before(self, run: str, offset: int | None, *, newest_first: bool = True) -> Iterator[Snapshot]:
        sql = Q.SNAPSHOTS_BEFORE if newest_first else Q.SNAPSHOTS_AFTER
        start = NO_BOUND if newest_first else -1
        rows = self._db.pages(sql, (run, clamp(offset)), 1, start, desc=newest_first, row=lambda *c: c, page=1)
        return (Snapshot(r, seq, at, tag, bytes(state)) for r, seq, at, tag, state in rows if isinstance(state, bytes))

    def misstored(self) -> None:  # typed columns: a cell holds its column's type
        return None

    def kind_counts(self) -> dict[str, int]:
        return dict(self._db.all(Q.KIND_COUNTS))

    def snapshot_count(self) -> int:
        return self._db.value("SELECT count(*) FROM snapshots", (), 0)

    def size_bytes(self) -> int:
        return int(self._db.value(Q.SIZE, (), 0))

    def close(self) -> None:
        self._db.close()

"""The ledger: a store plus the chain and the codec, with the rules of appending.

``Ledger`` is what the rest of ctxlog talks to. It opens or creates the store, checks the schema
version and the key, and appends events so that offsets stay dense, each run's ``seq`` stays
dense, and every row links to the one before it. A writer whose idea of its run's last ``seq``
is stale is refused with ConcurrencyError instead of forking the run.
"""

from __future__ import annotations

import contextlib
import time
import uuid
from collections.abc import Iterator
from typing import Any

from ..errors import (
    ConcurrencyError,
    InvalidArgumentError,
    KeyMismatchError,
    NotALedgerError,
    SchemaVersionError,
)
from .chain import GENESIS, Chain
from .codec import canonical, encode_event
from .events import KIND_OF, Event, Record
from .sqlite import SQLiteStore
from .store import SCHEMA_VERSION, RunInfo, Snapshot, Store
from .urls import is_url, redacted

FORMAT = "ctxlog"


def open_store(path: str, *, readonly: bool = False, create: bool = True, synchronous: str = "FULL") -> Store:
    """The backend for ``path``: PostgreSQL for a ``postgresql://`` (or ``postgres://``) URL or a
    libpq connection string, an in-memory SQLite database for ``:memory:``, else a SQLite file."""
    if not isinstance(path, str):
        path = str(path)
    if is_url(path):
        scheme = path.split("://", 1)[0] if "://" in path else "postgresql"
        if scheme.lower() not in ("postgresql", "postgres"):
            raise InvalidArgumentError(
                f"{redacted(path)}: no ledger backend for {scheme!r} URLs; use a SQLite file path or a "
                "postgresql:// URL"
            )
        from .postgres import PostgresStore

        return PostgresStore(path, readonly=readonly, synchronous=synchronous)
    return SQLiteStore(path, readonly=readonly, create=create, synchronous=synchronous)


class Ledger:
    """An opened ledger; one write transaction at a time per instance (callers hold their lock)."""

    def __init__(self, store: Store, *, key: bytes | str | None = None, create: bool = True) -> None:
        self._pending: list[Record] = []
        self._writes = 0
        self.store = store
        if isinstance(key, str):
            key = key.encode()
        self.chain = Chain(key)
        meta = store.get_meta()
        if not meta:
            if not create or store.readonly:
                raise NotALedgerError(f"{store.location}: not a ctxlog ledger (no ctxlog meta table)")
            store.create_schema(self._new_meta())
            meta = store.get_meta()
        self.meta = meta
        self._check_meta(key)
        self._depth = 0
        self._fresh = False
        self._head_raw = ("", b"")
        self._head: tuple[int, str] | None = None
        self._seqs: dict[str, int] = {}
        self._saved: list[tuple[tuple[int, str] | None, dict[str, int]]] = []

    @classmethod
    def open(
        cls, path: str, *, key: bytes | str | None = None, readonly: bool = False, create: bool = True,
        synchronous: str = "FULL",
    ) -> Ledger:
        store = open_store(path, readonly=readonly, create=create, synchronous=synchronous)
        try:
            return cls(store, key=key, create=create)
        except BaseException:
            store.close()
            raise

    def _new_meta(self) -> dict[str, str]:
        ledger_id = uuid.uuid4().hex
        meta = {
            "format": FORMAT,
            "schema_version": str(SCHEMA_VERSION),
            "ledger_id": ledger_id,
            "hash_algorithm": self.chain.algorithm,
            "created_ns": str(time.time_ns()),
        }
        if self.chain.algorithm == "hmac-sha256":
            meta["key_check"] = self.chain.key_check(ledger_id)
        return meta

    def _check_meta(self, key: bytes | None) -> None:
        where = self.store.location
        if self.meta.get("format") != FORMAT:
            raise NotALedgerError(f"{where}: not a ctxlog ledger (meta.format is {self.meta.get('format')!r})")
        try:
            version = int(self.meta.get("schema_version", ""))
        except ValueError:
            raise NotALedgerError(f"{where}: not a ctxlog ledger (no schema version)") from None
        if version > SCHEMA_VERSION:
            raise SchemaVersionError(
                f"{where}: schema version {version} is newer than this ctxlog's {SCHEMA_VERSION}; "
                "upgrade ctxlog to read it"
            )
        if not self.keyed and key is not None:
            raise KeyMismatchError(f"{where}: the ledger is not keyed, but a key was given; open it without one")
        if self.keyed and key is not None and self.chain.key_check(self.ledger_id) != self.meta.get("key_check"):
            raise KeyMismatchError(f"{where}: wrong key for this keyed ledger")
        self._key_missing = self.keyed and key is None

    @property
    def keyed(self) -> bool:
        """Whether the chain is HMAC-SHA256 under a ledger key."""
        return self.meta.get("hash_algorithm") == "hmac-sha256"

    @property
    def ledger_id(self) -> str:
        return self.meta["ledger_id"]

    # -- writing -------------------------------------------------------------------------------

    @property
    def store(self) -> Store:
        """The backend, with every row appended so far handed to it (reads see them)."""
        if self._pending:
            self._flush()
        return self._store

    @store.setter
    def store(self, store: Store) -> None:
        self._store = store

    def _flush(self) -> None:
        pending, self._pending = self._pending, []
        self._writes += 1
        self._store.insert(pending)

    def mark(self) -> tuple[Any, ...]:
        """Where the open transaction stands, for :meth:`undo`."""
        return (len(self._pending), self._writes, self._head, self._head_raw, dict(self._seqs))

    def undo(self, mark: tuple[Any, ...]) -> bool:
        """Drop the rows appended since ``mark``; False when some already reached the store."""
        count, writes, head, head_raw, seqs = mark
        if writes != self._writes:
            return False
        del self._pending[count:]
        self._head, self._head_raw, self._seqs = head, head_raw, seqs
        return True

    @property
    def in_transaction(self) -> bool:
        return self._depth > 0

    def begin(self) -> None:
        """Open the write transaction, or a savepoint inside the open one."""
        if self._key_missing:
            raise KeyMismatchError(f"{self._store.location}: the ledger is keyed; give its key to append")
        if self._depth == 0:
            self._store.begin()
            fresh, self._fresh = self._fresh, False  # a failed read below leaves nothing trusted
            try:
                if self._store.changed_elsewhere() or not fresh:
                    self._head = self._store.head()
                    self._seqs = {}
            except BaseException:
                self._store.rollback()
                raise
        else:
            self.store.savepoint(f"ctxlog_{self._depth}")
            self._saved.append((self._head, dict(self._seqs)))
        self._depth += 1

    def commit(self) -> None:
        """Commit the transaction, or release the innermost savepoint; rolls back if that fails."""
        try:
            if self._pending:
                self._flush()
            if self._depth == 1:
                self._store.commit()
                self._fresh = True
            else:
                self._store.release(f"ctxlog_{self._depth - 1}")
                self._saved.pop()
        except BaseException:
            self.rollback()
            raise
        self._depth -= 1

    def rollback(self) -> None:
        """Undo the transaction, or everything since the innermost savepoint."""
        self._pending = []
        self._depth -= 1
        if self._depth == 0:
            self._store.rollback()
        else:
            self._head, self._seqs = self._saved.pop()
            self._store.rollback_to(f"ctxlog_{self._depth}")

    @contextlib.contextmanager
    def transaction(self) -> Iterator[None]:
        """One write transaction; nested calls are savepoints that roll back on their own."""
        self.begin()
        try:
            yield
        except BaseException:
            self.rollback()
            raise
        self.commit()

    def append(self, run: str, expected_seq: int, event: Event, context: str, cause: int | None) -> Record:
        """Append one event to ``run`` inside a transaction; ``expected_seq`` is the caller's view.

        Rows are handed to the store in batches: before the transaction ends, and before anyone
        reads through :attr:`store`.
        """
        assert self._depth > 0, "append outside a transaction"
        seq = self._seqs.get(run)
        if seq is None:
            seq = self.store.last_seq(run)
        if seq != expected_seq:
            raise ConcurrencyError(
                f"run {run!r} has {seq} events in the ledger but this manager has seen {expected_seq}: "
                "another writer appended to it; reload the run and retry"
            )
        offset, previous = self._head if self._head is not None else (0, GENESIS)
        if self._head_raw[0] != previous:
            self._head_raw = (previous, bytes.fromhex(previous))
        offset += 1
        seq += 1
        ts = time.time_ns()
        payload = encode_event(event)
        kind = KIND_OF[type(event)]
        raw = self.chain.digest(self._head_raw[1], canonical(offset, run, seq, ts, kind, context, cause, payload))
        digest = raw.hex()
        record = Record(offset, run, seq, ts, kind, context, cause, payload, digest)
        self._pending.append(record)
        if len(self._pending) >= 1024:
            self._flush()
        self._head = (offset, digest)
        self._head_raw = (digest, raw)
        self._seqs[run] = seq
        return record

    def put_snapshot(self, snapshot: Snapshot) -> None:
        """Cache a projection state (inside the caller's transaction)."""
        self._writes += 1
        self._store.put_snapshot(snapshot)

    # -- reading -------------------------------------------------------------------------------

    def head(self) -> tuple[int, str] | None:
        return self.store.head()

    def runs(self) -> list[RunInfo]:
        return self.store.runs()

    def run_names(self) -> list[str]:
        return self.store.run_names()

    def records(self, run: str | None = None, *, after: int = 0, until: int | None = None) -> Iterator[Record]:
        """Rows in offset order (of one run, or of all) with ``after < offset <= until``, streamed."""
        if run is None:
            return self.store.scan(after=after, until=until)
        return self.store.scan_run(run, after=after, until=until)

    def close(self) -> None:
        """Close the store; an open transaction is rolled back."""
        if self._depth:
            self._pending, self._depth = [], 0
            self._store.rollback()
        self._store.close()

    def __enter__(self) -> Ledger:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

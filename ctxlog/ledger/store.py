"""The narrow interface every storage backend implements, and the plain types it speaks.

A store moves rows in and out and runs transactions; it knows nothing of events, chains or trees.
Everything above it (the chain, the codec, the projections) is shared by all backends (SQLite in
``sqlite.py``, PostgreSQL in ``postgres.py``), and the conformance suite in
``tests/ledger/conformance.py`` (plus ``conformance_shared.py`` for stores that several
connections and processes share) is the definition of a correct store.
"""

from __future__ import annotations

import abc
from collections.abc import Iterator

import msgspec

from .events import Record

SCHEMA_VERSION = 1
"""Version of the storage schema this ctxlog writes; a larger one in a file is refused."""


class RunInfo(msgspec.Struct, frozen=True):
    """One run of a ledger, as ``ctxlog runs`` shows it."""

    run: str
    events: int
    first_offset: int
    last_offset: int
    first_ts: int
    last_ts: int
    checkpoints: int


class Snapshot(msgspec.Struct, frozen=True):
    """A cached projection state of ``run`` after the event at ``offset``; ``hash`` is its tag,
    a chain link of that event's hash and the state (see ``Chain.snapshot_tag``)."""

    run: str
    seq: int
    offset: int
    hash: str
    state: bytes


class Store(abc.ABC):
    """Rows in, rows out, one write transaction at a time. Offsets are assigned by the caller."""

    readonly: bool = False
    location: str = ""

    @abc.abstractmethod
    def get_meta(self) -> dict[str, str]:
        """The meta table as a dict (empty for a store without a ctxlog schema)."""

    @abc.abstractmethod
    def create_schema(self, meta: dict[str, str]) -> None:
        """Create tables, indexes and append-only triggers, and store ``meta``; in one transaction.

        Under the write lock: a ledger that another opener created meanwhile is left as it is; a
        database holding other tables is a NotALedgerError.
        """

    @abc.abstractmethod
    def begin(self) -> None:
        """Start the write transaction, taking the write lock (waits while another writer holds it)."""

    @abc.abstractmethod
    def commit(self) -> None:
        """Make the transaction durable."""

    @abc.abstractmethod
    def rollback(self) -> None:
        """Discard the transaction."""

    @abc.abstractmethod
    def savepoint(self, name: str) -> None:
        """Mark a point inside the transaction that :meth:`rollback_to` can return to."""

    @abc.abstractmethod
    def release(self, name: str) -> None:
        """Forget a savepoint, keeping its changes."""

    @abc.abstractmethod
    def rollback_to(self, name: str) -> None:
        """Undo the changes since the savepoint, and forget it."""

    @abc.abstractmethod
    def changed_elsewhere(self) -> bool:
        """Inside a write transaction: whether anyone else committed since this store last did."""

    @abc.abstractmethod
    def head(self) -> tuple[int, str] | None:
        """``(offset, hash)`` of the last row, None when the log is empty."""

    @abc.abstractmethod
    def last_seq(self, run: str) -> int:
        """The last ``seq`` of ``run``; 0 when the run has no rows."""

    @abc.abstractmethod
    def insert(self, records: list[Record]) -> None:
        """Append rows inside the open transaction."""

    @abc.abstractmethod
    def scan(self, *, after: int = 0, until: int | None = None) -> Iterator[Record]:
        """Rows of all runs with ``after < offset <= until``, in offset order, streamed."""

    @abc.abstractmethod
    def scan_run(
        self, run: str, *, after_seq: int = 0, after: int = 0, until: int | None = None
    ) -> Iterator[Record]:
        """Rows of ``run`` with ``seq > after_seq``, ``after < offset <= until``, in order, streamed."""

    @abc.abstractmethod
    def record_at(self, offset: int) -> Record | None:
        """The row at ``offset``, or None."""

    @abc.abstractmethod
    def run_names(self) -> list[str]:
        """The names of the runs, sorted (an index walk, not a scan of the log)."""

    @abc.abstractmethod
    def runs(self) -> list[RunInfo]:
        """Every run in the ledger, in order of first appearance."""

    @abc.abstractmethod
    def checkpoint_rows(self, run: str) -> list[Record]:
        """The ``checkpoint`` rows of ``run``, in order (an indexed lookup, not a scan of the run)."""

    @abc.abstractmethod
    def checkpoint_offset(self, run: str, name: str) -> int | None:
        """The offset of ``run``'s checkpoint called ``name``, or None."""

    @abc.abstractmethod
    def put_snapshot(self, snapshot: Snapshot) -> None:
        """Store a projection cache entry (replacing one at the same position)."""

    @abc.abstractmethod
    def snapshot_before(self, run: str, offset: int | None) -> Iterator[Snapshot]:
        """Snapshots of ``run`` at or before ``offset`` (any when None), newest first."""

    @abc.abstractmethod
    def kind_counts(self) -> dict[str, int]:
        """Events by kind, most frequent first."""

    @abc.abstractmethod
    def snapshot_count(self) -> int:
        """How many projection snapshots the cache holds."""

    @abc.abstractmethod
    def size_bytes(self) -> int:
        """Bytes the ledger takes on disk (0 in memory)."""

    @abc.abstractmethod
    def close(self) -> None:
        """Release the connection; further calls are errors."""

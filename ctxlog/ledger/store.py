"""The narrow interface every storage backend implements, and the plain types it speaks.

A store moves rows in and out and runs transactions; it knows nothing of events, chains or trees.
Everything above it (the chain, the codec, the projections) is shared by all backends (SQLite in
``sqlite/``, PostgreSQL in ``postgres/``), and the conformance suites shipped in
``ctxlog.testing.conformance`` (``StoreConformance``) and ``ctxlog.testing.shared``
(``SharedStoreConformance``, for stores that several connections and processes share) are the
definition of a correct store. Only the ``Ledger``
façade talks to a store.
"""

from __future__ import annotations

import abc
import contextlib
from collections.abc import Iterable, Iterator

import msgspec

from ..errors import IntegrityError, InvalidArgumentError, NotALedgerError, ReadOnlyError
from .events import Record

__all__ = [
    "NO_BOUND",
    "RUN_NAMES",
    "SCHEMA_VERSION",
    "SYNCHRONOUS",
    "RunInfo",
    "Snapshot",
    "Store",
    "check_synchronous",
    "checked_runs",
    "clamp",
    "SCHEMA_VERSIONS",
]

SCHEMA_VERSION = 2
"""Version of the storage schema this ctxlog writes."""

SCHEMA_VERSIONS = (1, 2)
"""The versions this ctxlog reads and appends to; any other is refused by name."""


NO_BOUND = 2**62
"""The widest offset or seq bound a query takes (both engines refuse ints beyond 64 bits)."""

SYNCHRONOUS = ("OFF", "NORMAL", "FULL", "EXTRA")
"""The durability settings a store accepts (SQLite's names; PostgreSQL maps them)."""

RUN_NAMES = (  # a walk of the (run, seq) index, one probe per run, not a scan of the log
    "WITH RECURSIVE names(run) AS (SELECT min(run) FROM events UNION ALL "
    "SELECT (SELECT min(run) FROM events WHERE run > names.run) FROM names WHERE names.run IS NOT NULL) "
    "SELECT run FROM names WHERE run IS NOT NULL"
)
"""The names of the runs, sorted: the same SQL on every engine."""


def clamp(bound: int | None) -> int:
    """An offset or seq bound every engine can take; None is no bound."""
    return NO_BOUND if bound is None else max(-NO_BOUND, min(bound, NO_BOUND))


def check_synchronous(synchronous: str) -> str:
    """``synchronous`` upper-cased, or InvalidArgumentError when it is none of :data:`SYNCHRONOUS`."""
    level = synchronous.upper() if isinstance(synchronous, str) else ""
    if level not in SYNCHRONOUS:
        raise InvalidArgumentError(f"synchronous must be OFF, NORMAL, FULL or EXTRA, not {synchronous!r}")
    return level


class RunInfo(msgspec.Struct, frozen=True):
    """One run of a ledger, as ``ctxlog runs`` shows it."""

    run: str
    """The run's name."""
    events: int
    """How many events it has."""
    first_offset: int
    """The offset of its first event."""
    last_offset: int
    """The offset of its last event."""
    first_ts: int
    """The time of its first event (ns since the epoch)."""
    last_ts: int
    """The time of its last event (ns since the epoch)."""
    checkpoints: int
    """How many checkpoints it has, automatic ones included."""
    source: str | None = None
    """The run it was forked from; None for a run that is not a fork."""
    source_offset: int | None = None
    """The offset of the source it was forked at; None for a run that is not a fork."""


def checked_runs(infos: Iterable[RunInfo]) -> Iterator[RunInfo]:
    """``infos``, each of its declared types: a run whose rows lost their name or time (a
    damaged page reads as NULL cells) is an IntegrityError at its first offset, never shown."""
    for info in infos:
        if type(info.run) is not str or any(type(v) is not int for v in msgspec.structs.astuple(info)[1:7]):
            where = info.first_offset
            raise IntegrityError(f"offset {where}: a row without a run name or a time; run ctxlog verify", where)
        yield info


class Snapshot(msgspec.Struct, frozen=True):
    """A cached projection state of ``run`` after the event at ``offset``; ``hash`` is its tag,
    a chain link of that event's hash and the state (see ``Chain.snapshot_tag``)."""

    run: str
    seq: int
    offset: int
    hash: str
    state: bytes


class Store(abc.ABC):
    """Rows in, rows out, one write transaction at a time. Offsets are assigned by the caller.

    A store speaks one schema version at a time (:meth:`use_version`): a new store creates the
    latest; the ledger tells an opened one the version its meta names before any row is read.
    """

    readonly: bool = False
    location: str = ""
    version: int = SCHEMA_VERSION
    holds: str = "tables"
    """What a database that is not a ledger holds, in the words of this engine (for messages)."""

    @abc.abstractmethod
    def use_version(self, version: int) -> None:
        """Read and write rows as schema ``version`` stores them (one of SCHEMA_VERSIONS)."""

    @abc.abstractmethod
    def get_meta(self) -> dict[str, str]:
        """The meta table as a dict (empty for a store without a ctxlog schema)."""

    def create_schema(self, meta: dict[str, str]) -> None:
        """Create tables, indexes and append-only triggers, and store ``meta``; in one transaction.

        Under the write lock: a ledger that another opener created meanwhile is left as it is; a
        database (or schema) holding other tables is a NotALedgerError.
        """
        if self.readonly:
            raise ReadOnlyError(f"{self.location}: opened read-only, cannot create a ledger")
        with self._schema_transaction():
            objects = self._objects()
            if "meta" in objects:
                return
            if objects:
                raise NotALedgerError(f"{self.location}: not a ctxlog ledger (it holds other {self.holds})")
            self._create(meta)

    @abc.abstractmethod
    def _schema_transaction(self) -> contextlib.AbstractContextManager[None]:
        """A write transaction under the write lock for :meth:`create_schema`: committed when the
        block ends, rolled back when it raises."""

    @abc.abstractmethod
    def _objects(self) -> set[str]:
        """Names of the tables (views, sequences …) a new ledger could clash with."""

    @abc.abstractmethod
    def _create(self, meta: dict[str, str]) -> None:
        """Create the schema and store ``meta``, inside :meth:`_schema_transaction`."""

    @abc.abstractmethod
    def replace_meta(self, meta: dict[str, str]) -> None:
        """Inside the write transaction, replace the meta table of a ledger that holds no rows (an
        import gives it the exported ledger's)."""

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
    def tail(self) -> list[Record]:
        """The last two rows, newest first (fewer in a shorter log): what the head's link is checked on."""

    @abc.abstractmethod
    def edges(self) -> tuple[int, int] | None:
        """The lowest and highest offset of any row (None when there is none), without a scan."""

    @abc.abstractmethod
    def count(self) -> int:
        """How many rows the table holds, whatever their offsets (a scan: for verify)."""

    @abc.abstractmethod
    def integrity(self) -> list[str]:
        """The engine's own integrity check and the schema compared with the one ctxlog creates:
        what is wrong, one line each (empty when all is well)."""

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
    def scan_all(self) -> Iterator[Record]:
        """Every row, whatever its offset, in offset order, streamed: what verify walks."""

    @abc.abstractmethod
    def scan_run(self, run: str, *, after_seq: int = 0, after: int = 0, until: int | None = None) -> Iterator[Record]:
        """Rows of ``run`` with ``seq > after_seq``, ``after < offset <= until``, in order, streamed.
        The scan reads the run by seq and stops at the first row past ``until`` (offsets grow with
        seq within a run), so a point early in a long run costs the rows before it, not the run."""

    @abc.abstractmethod
    def record_at(self, offset: int) -> Record | None:
        """The row at ``offset``, or None."""

    @abc.abstractmethod
    def run_names(self, limit: int | None = None) -> list[str]:
        """The names of the runs, sorted, at most ``limit`` of them (an index walk, one probe a run)."""

    @abc.abstractmethod
    def runs(self) -> Iterator[RunInfo]:
        """Every run in the ledger, in order of first appearance, streamed."""

    @abc.abstractmethod
    def has_run(self, run: str) -> bool:
        """Whether ``run`` has a row (one index probe)."""

    @abc.abstractmethod
    def checkpoint_rows(self, run: str) -> Iterator[Record]:
        """The ``checkpoint`` rows of ``run``, in order, streamed (an indexed lookup, not a scan of the run)."""

    @abc.abstractmethod
    def checkpoint_offset(self, run: str, name: str) -> int | None:
        """The offset of ``run``'s checkpoint called ``name``, or None."""

    @abc.abstractmethod
    def put_snapshot(self, snapshot: Snapshot) -> None:
        """Store a projection cache entry (replacing one at the same position)."""

    @abc.abstractmethod
    def snapshot_before(self, run: str, offset: int | None, *, newest_first: bool = True) -> Iterator[Snapshot]:
        """Snapshots of ``run`` at or before ``offset`` (any when None), newest first (or oldest
        first), streamed; only those whose state is stored as bytes."""

    @abc.abstractmethod
    def misstored(self) -> int | None:
        """The first offset with a cell stored as another type than its column's (text where a
        number belongs, a BLOB of the same bytes where text belongs), or None: such a cell reads
        as the same value, so the chain alone cannot see it."""

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

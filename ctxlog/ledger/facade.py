"""``Ledger``: the one way into a ledger, whatever engine holds it.

It opens or creates the store, checks the schema version and the key, and answers every call with
the store kept private: appends go through its :class:`~.writer.Writer`, questions about rows
through its :class:`~.reader.Reader`. Before any read inside a write transaction the buffered rows
are handed to the store, so a read sees what the transaction appended.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from typing import Any, BinaryIO

import msgspec

from ..errors import KeyMismatchError, NotALedgerError
from .chain import GENESIS, Chain, check_key
from .events import CheckpointTaken, Event, Record
from .meta import check_meta, new_meta
from .migration import copy_rechained
from .owners import RunLock
from .reader import Anchor, Progress, Reader, counted
from .store import SCHEMA_VERSION, RunInfo, Store
from .stores import open_store
from .transfer import ExportHeader, export_rows, import_rows
from .verify import VerifyResult, verify_records
from .writer import Writer

__all__ = ["Ledger"]


class Ledger:
    """An opened ledger; one write transaction at a time per instance (callers hold their lock)."""

    def __init__(
        self,
        store: Store,
        *,
        key: bytes | str | None = None,
        create: bool = True,
        check: bool = True,
        meta: dict[str, str] | None = None,
    ) -> None:
        raw_key = check_key(key)
        self._store = store
        self._chain = Chain(raw_key)
        stored = store.get_meta()
        if not stored:
            if not create or store.readonly:
                raise NotALedgerError(f"{store.location}: not a ctxlog ledger (no ctxlog meta table)")
            if meta is not None:  # a copy of another ledger (import, migrate): its own schema version
                store.use_version(int(meta.get("schema_version", SCHEMA_VERSION)))
            store.create_schema(meta if meta is not None else new_meta(self._chain))
            stored = store.get_meta()
        self.meta = stored
        self.version = check_meta(stored, self._chain, raw_key, store.location)
        store.use_version(self.version)
        self.genesis = GENESIS if self.version == 1 else self._chain.genesis(stored)
        self._key_missing = self.keyed and raw_key is None
        self._reader = Reader(store, self._chain, self.genesis, keyed=self.keyed, key_missing=self._key_missing)
        self._writer = Writer(
            store, self._chain, self.genesis, key_missing=self._key_missing, check=self._reader.links.check_tail
        )
        self._locks: list[RunLock] = []
        if check:
            self._reader.links.check_edges()

    @classmethod
    def open(
        cls,
        path: str,
        *,
        key: bytes | str | None = None,
        readonly: bool = False,
        create: bool = True,
        synchronous: str = "FULL",
        check: bool = True,
        meta: dict[str, str] | None = None,
    ) -> Ledger:
        """Open (or, unless ``create`` is false, create) the ledger at a path or URL.

        ``check`` checks that every row is in the chain's range and the head links (verify opens
        without it, to report the first bad offset itself); ``meta`` is the meta of a ledger
        created as a copy of another (its id and settings kept, so its chain re-verifies).
        """
        store = open_store(path, readonly=readonly, create=create, synchronous=synchronous)
        try:
            return cls(store, key=key, create=create, check=check, meta=meta)
        except BaseException:
            store.close()
            raise

    @property
    def location(self) -> str:
        """Where the ledger lives, fit for messages (a URL's password shown as ``***``)."""
        return self._store.location

    @property
    def keyed(self) -> bool:
        """Whether the chain is HMAC-SHA256 under a ledger key."""
        return self.meta.get("hash_algorithm") == "hmac-sha256"

    @property
    def ledger_id(self) -> str:
        """The ledger's unique id, fixed when it was created."""
        return self.meta["ledger_id"]

    @property
    def in_transaction(self) -> bool:
        """Whether a write transaction is open."""
        return self._writer.in_transaction

    def begin(self) -> None:
        """Open the write transaction, or a savepoint inside the open one."""
        self._writer.begin()

    def commit(self) -> None:
        """Commit the transaction, or release the innermost savepoint."""
        self._writer.commit()

    def rollback(self) -> None:
        """Undo the transaction, or everything since the innermost savepoint."""
        self._writer.rollback()

    def transaction(self) -> Any:
        """A context manager: one write transaction; nested ones are savepoints."""
        return self._writer.transaction()

    def mark(self) -> tuple[Any, ...]:
        """Where the open transaction stands, for :meth:`undo`."""
        return self._writer.mark()

    def undo(self, mark: tuple[Any, ...]) -> bool:
        """Drop the rows appended since ``mark``; False when some already reached the store."""
        return self._writer.undo(mark)

    def append(self, run: str, expected_seq: int, event: Event, context: str, cause: int | None) -> Record:
        """Append one event to ``run`` inside a transaction; ``expected_seq`` is the caller's view of
        the run's last seq (ConcurrencyError when another writer moved it)."""
        return self._writer.append(run, expected_seq, event, context, cause)

    def save_snapshot(self, record: Record, state: bytes) -> None:
        """Cache a projection ``state`` after ``record``, inside the transaction."""
        self._writer.put_snapshot(record, state)

    def _reading(self) -> Reader:
        self._writer.flush()
        return self._reader

    def head(self) -> tuple[int, str] | None:
        """``(offset, hash)`` of the last row, None when the log is empty."""
        self._writer.flush()
        return self._store.head()

    def runs(self) -> Iterator[RunInfo]:
        """Every run, in order of first appearance, streamed."""
        self._writer.flush()
        return self._store.runs()

    def choose_run(self, run: str | None) -> str:
        """``run`` if the ledger holds it, the only run when None; else UnknownRunError."""
        return self._reading().choose_run(run)

    def resolve(self, run: str, until: str | int | None) -> int | None:
        """The offset a checkpoint name or an offset stands for in ``run`` (None for the head)."""
        return self._reading().resolve(run, until)

    def checkpoints(self, run: str) -> Iterator[tuple[Record, CheckpointTaken]]:
        """The checkpoint rows of ``run`` with their events, in order."""
        return self._reading().checkpoints(run)

    @property
    def trusts_snapshots(self) -> bool:
        """False when the ledger is keyed and was opened without its key: folds start at the beginning."""
        return self._reader.trusts_snapshots

    def snapshots(
        self, run: str, until: int | None, *, verified: bool = False, newest_first: bool = True
    ) -> Iterator[Anchor]:
        """Cached states of ``run`` at or before ``until`` that stand where they claim, newest first
        (or oldest first), streamed (none that cannot be checked: see ``Reader.snapshots``)."""
        return self._reading().snapshots(run, until, verified=verified, newest_first=newest_first)

    def run_records(
        self,
        run: str,
        *,
        start: Anchor | None = None,
        until: int | None = None,
        verify: bool = False,
        progress: Progress | None = None,
    ) -> Iterator[Record]:
        """The rows of ``run`` after ``start`` up to offset ``until``, checked link by link with ``verify``."""
        return self._reading().run_records(run, start=start, until=until, verify=verify, progress=progress)

    def records(self, run: str | None = None, *, after: int = 0, until: int | None = None) -> Iterator[Record]:
        """Rows in offset order (of one run, or of all) with ``after < offset <= until``, streamed."""
        self._writer.flush()
        if run is None:
            return self._store.scan(after=after, until=until)
        return self._store.scan_run(run, after=after, until=until)

    def verify(
        self,
        *,
        head: tuple[int, str] | None = None,
        progress: Progress | None = None,
        seqs: dict[str, int] | None = None,
    ) -> VerifyResult:
        """Recompute the whole chain of every row the table holds, from the genesis; then count the
        rows and run the engine's own integrity check. ``head`` is an exported ``(offset, hash)``
        the log must reach unchanged; ``seqs``, when given, is filled with each run's last seq.

        A keyed ledger opened without its key cannot be verified: KeyMismatchError says so.
        """
        if self._key_missing:
            raise KeyMismatchError(f"{self.location}: the ledger is keyed (HMAC-SHA256); give its key to verify it")
        self._writer.flush()
        edges = self._store.edges()
        total = edges[1] if edges else 0
        rows = counted(self._store.scan_all(), total, progress)
        result = verify_records(rows, self._chain, genesis=self.genesis, expect_head=head, seqs=seqs)
        result = msgspec.structs.replace(result, ledger_id=self.ledger_id, schema_version=self.version)
        if not result.ok:
            return result
        misstored = self._store.misstored()
        if misstored is not None:
            return result.failed(misstored, "a cell of this row is stored as another type than its column's")
        count = self._store.count()
        if count != result.events:
            return result.failed(None, f"the table holds {count} rows, but the chain covers {result.events}")
        problems = self._store.integrity()
        if problems:
            return result.failed(None, "; ".join(problems[:5]) + (" …" if len(problems) > 5 else ""))
        return result

    def kind_counts(self) -> dict[str, int]:
        """Events by kind, most frequent first."""
        self._writer.flush()
        return self._store.kind_counts()

    def snapshot_count(self) -> int:
        """How many projection snapshots the cache holds."""
        self._writer.flush()
        return self._store.snapshot_count()

    def size_bytes(self) -> int:
        """Bytes the ledger takes on disk (0 in memory)."""
        self._writer.flush()
        return self._store.size_bytes()

    def export(self, out: BinaryIO) -> ExportHeader:
        """Write the ledger as JSON Lines (a header, then every row up to the present head) to ``out``."""
        self._writer.flush()
        return export_rows(self._store, self.meta, self.genesis, out)

    def import_rows(
        self, lines: Iterable[bytes], header: ExportHeader, *, source: str, progress: Progress | None = None
    ) -> VerifyResult:
        """Fill this empty ledger from an export's rows: all of them verified, or none appended."""
        chain, meta = self._chain, self.meta
        return import_rows(self._store, chain, meta, self.genesis, lines, header, source=source, progress=progress)

    def migrate_from(self, source: Ledger, *, progress: Progress | None = None) -> VerifyResult:
        """Fill this empty ledger (made with ``migrated_meta`` of ``source``) with every row of
        ``source``, re-chained from this ledger's genesis: all of them, or none."""
        total = (source.head() or (0, ""))[0]
        rows = source.records()
        return copy_rechained(self._store, self._chain, self.genesis, rows, total=total, progress=progress)

    def fork_origin(self, run: str) -> tuple[str, int, int] | None:
        """``(source run, source offset, first offset)`` of a fork, None for a run that is not one."""
        return self._reading().fork_origin(run)

    def has_run(self, run: str) -> bool:
        """Whether the ledger holds a row of ``run`` (one index probe)."""
        return self._store.has_run(run)

    def lock_run(self, path: str, run: str) -> None:
        """Hold ``run``'s write lock (``path`` is where this ledger was opened) until :meth:`close`;
        RunOwnedError naming the holder when another live manager has it."""
        lock = RunLock.take(path, self.ledger_id, run)
        if lock is not None:
            self._locks.append(lock)

    def close(self) -> None:
        """Close the store, letting go of every run lock; an open transaction is rolled back."""
        for lock in getattr(self, "_locks", ()):
            lock.release()
        self._writer.abandon()
        self._store.close()

    def __enter__(self) -> Ledger:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

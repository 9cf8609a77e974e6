"""``Ledger``: the one way into a ledger, whatever engine holds it.

It opens or creates the store, checks the schema version and the key, and answers every call with
the store kept private: appends go through its :class:`~.writer.Writer`, questions about rows
through its :class:`~.reader.Reader`. Before any read inside a write transaction the buffered rows
are handed to the store, so a read sees what the transaction appended.
"""

from __future__ import annotations

import time
import uuid
from collections.abc import Iterable, Iterator
from typing import Any, BinaryIO

from ..errors import InvalidArgumentError, KeyMismatchError, NotALedgerError, SchemaVersionError
from .chain import GENESIS, Chain
from .events import CheckpointTaken, Event, Record
from .reader import Anchor, Progress, Reader, counted
from .sqlite import SQLiteStore
from .store import SCHEMA_VERSION, RunInfo, Store
from .transfer import ExportHeader, export_rows, import_rows
from .urls import is_url, redacted
from .verify import VerifyResult, verify_records
from .writer import Writer

__all__ = ["FORMAT", "Ledger", "open_store"]

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
        if isinstance(key, str):
            key = key.encode()
        self._store = store
        self._chain = Chain(key)
        meta = store.get_meta()
        if not meta:
            if not create or store.readonly:
                raise NotALedgerError(f"{store.location}: not a ctxlog ledger (no ctxlog meta table)")
            store.create_schema(self._new_meta())
            meta = store.get_meta()
        self.meta = meta
        self._check_meta(key)
        self._key_missing = self.keyed and key is None
        self._writer = Writer(store, self._chain, key_missing=self._key_missing)
        self._reader = Reader(store, self._chain, keyed=self.keyed)

    @classmethod
    def open(
        cls,
        path: str,
        *,
        key: bytes | str | None = None,
        readonly: bool = False,
        create: bool = True,
        synchronous: str = "FULL",
    ) -> Ledger:
        """Open (or, unless ``create`` is false, create) the ledger at a path or URL."""
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
            "hash_algorithm": self._chain.algorithm,
            "created_ns": str(time.time_ns()),
        }
        if self._chain.algorithm == "hmac-sha256":
            meta["key_check"] = self._chain.key_check(ledger_id)
        return meta

    def _check_meta(self, key: bytes | None) -> None:
        where = self._store.location
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
        if self.keyed and key is not None and self._chain.key_check(self.ledger_id) != self.meta.get("key_check"):
            raise KeyMismatchError(f"{where}: wrong key for this keyed ledger")

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

    # -- writing: the Writer's transaction -------------------------------------------------------

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

    # -- reading: the Reader's answers, after the buffered rows reach the store ------------------

    def _reading(self) -> Reader:
        self._writer.flush()
        return self._reader

    def head(self) -> tuple[int, str] | None:
        """``(offset, hash)`` of the last row, None when the log is empty."""
        self._writer.flush()
        return self._store.head()

    def runs(self) -> list[RunInfo]:
        """Every run, in order of first appearance."""
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

    def snapshots(self, run: str, until: int | None) -> Iterator[Anchor]:
        """Cached states of ``run`` at or before ``until`` that stand where they claim, newest first."""
        return self._reading().snapshots(run, until)

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

    def verify(self, *, head: tuple[int, str] | None = None, progress: Progress | None = None) -> VerifyResult:
        """Recompute the whole chain; ``head`` is an exported ``(offset, hash)`` it must reach unchanged.

        A keyed ledger opened without its key cannot be verified: KeyMismatchError says so.
        """
        if self._key_missing:
            raise KeyMismatchError(f"{self.location}: the ledger is keyed (HMAC-SHA256); give its key to verify it")
        total = (self.head() or (0, GENESIS))[0]
        return verify_records(counted(self._store.scan(), total, progress), self._chain, expect_head=head)

    def kind_counts(self) -> dict[str, int]:
        """Events by kind, most frequent first."""
        self._writer.flush()
        return self._store.kind_counts()

    def snapshot_count(self) -> int:
        """How many projection snapshots the cache holds."""
        return self._store.snapshot_count()

    def size_bytes(self) -> int:
        """Bytes the ledger takes on disk (0 in memory)."""
        return self._store.size_bytes()

    # -- moving whole ledgers --------------------------------------------------------------------

    def export(self, out: BinaryIO) -> ExportHeader:
        """Write the ledger as JSON Lines (a header, then every row up to the present head) to ``out``."""
        self._writer.flush()
        return export_rows(self._store, self.meta, out)

    def import_rows(
        self, lines: Iterable[bytes], header: ExportHeader, *, source: str, progress: Progress | None = None
    ) -> VerifyResult:
        """Fill this empty ledger from an export's rows: all of them verified, or none appended."""
        return import_rows(self._store, self._chain, self.meta, lines, header, source=source, progress=progress)

    def close(self) -> None:
        """Close the store; an open transaction is rolled back."""
        self._writer.abandon()
        self._store.close()

    def __enter__(self) -> Ledger:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

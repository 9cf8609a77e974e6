"""The write side of a ledger: one transaction at a time, appends that keep the log dense and chained.

Offsets stay dense, each run's ``seq`` stays dense, and every row links to the one before it. A
writer whose idea of its run's last ``seq`` is stale is refused with ConcurrencyError instead of
forking the run. Rows are buffered and handed to the store in batches: before the transaction
ends, and before the ledger reads anything (:meth:`Writer.flush`).
"""

from __future__ import annotations

import contextlib
import time
from collections.abc import Callable, Iterator
from typing import Any

from ..errors import ConcurrencyError, KeyMismatchError
from .chain import Chain
from .codec import canonical, encode_event
from .events import KIND_OF, Event, Record
from .store import Snapshot, Store

__all__ = ["BATCH", "Writer"]

BATCH = 1024
"""Rows buffered before they are handed to the store inside a transaction."""


class Writer:
    """Appends to one store under one chain; callers serialise their calls (the manager's lock)."""

    def __init__(
        self, store: Store, chain: Chain, genesis: str, *, key_missing: bool, check: Callable[[list[Record]], None]
    ) -> None:
        self._store, self._chain, self._genesis, self._key_missing = store, chain, genesis, key_missing
        self._check = check
        self._pending: list[Record] = []
        self._writes = 0
        self._depth = 0
        self._fresh = False
        self._head_raw = ("", b"")
        self._head: tuple[int, str] | None = None
        self._seqs: dict[str, int] = {}
        self._saved: list[tuple[tuple[int, str] | None, dict[str, int]]] = []

    def flush(self) -> None:
        """Hand every buffered row to the store, so that reads inside the transaction see them."""
        if self._pending:
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
        """Whether a write transaction is open."""
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
                    tail = self._store.tail()
                    self._check(tail)  # another writer's head must link: never build on a forged one
                    self._head = (tail[0].offset, tail[0].hash) if tail else None
                    self._seqs = {}
            except BaseException:
                self._store.rollback()
                raise
        else:
            self.flush()
            self._store.savepoint(f"ctxlog_{self._depth}")
            self._saved.append((self._head, dict(self._seqs)))
        self._depth += 1

    def commit(self) -> None:
        """Commit the transaction, or release the innermost savepoint; rolls back if that fails."""
        try:
            self.flush()
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
        """Append one event to ``run`` inside a transaction; ``expected_seq`` is the caller's view."""
        assert self._depth > 0, "append outside a transaction"
        seq = self._seqs.get(run)
        if seq is None:
            self.flush()
            seq = self._store.last_seq(run)
        if seq != expected_seq:
            raise ConcurrencyError(
                f"run {run!r} has {seq} events in the ledger but this manager has seen {expected_seq}: "
                "another writer appended to it; reload the run and retry"
            )
        offset, previous = self._head if self._head is not None else (0, self._genesis)
        if self._head_raw[0] != previous:
            self._head_raw = (previous, bytes.fromhex(previous))
        offset += 1
        seq += 1
        ts = time.time_ns()
        payload = encode_event(event)
        kind = KIND_OF[type(event)]
        raw = self._chain.digest(self._head_raw[1], canonical(offset, run, seq, ts, kind, context, cause, payload))
        digest = raw.hex()
        record = Record(offset, run, seq, ts, kind, context, cause, payload, digest)
        self._pending.append(record)
        if len(self._pending) >= BATCH:
            self.flush()
        self._head = (offset, digest)
        self._head_raw = (digest, raw)
        self._seqs[run] = seq
        return record

    def put_snapshot(self, record: Record, state: bytes) -> None:
        """Cache a projection ``state`` after ``record`` (inside the transaction), tagged so that it
        is believed only at that row of the chain."""
        self._writes += 1
        tag = self._chain.snapshot_tag(record.hash, state)
        self._store.put_snapshot(Snapshot(record.run, record.seq, record.offset, tag, state))

    def abandon(self) -> None:
        """Forget an open transaction and roll it back (the ledger is closing)."""
        if self._depth:
            self._pending, self._depth = [], 0
            self._store.rollback()

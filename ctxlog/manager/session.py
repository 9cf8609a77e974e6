"""The live session of one run: its ledger, its tree, its lock, and the unit of work of an operation.

Each operation runs as one :class:`Operation`: it holds the lock and a write transaction (its own,
or a part of the caller's ``transaction()``), appends its events through :meth:`Session.append`,
which folds each stored record into the live tree with the same ``apply`` that replay uses, and,
when it fails after appending, takes back from the live tree what the log no longer holds. The
session also owns the policies that follow an operation: automatic checkpoints and snapshots.
"""

from __future__ import annotations

import contextlib
import threading
from collections.abc import Iterator

from ..errors import ContextStateError, LedgerError
from ..ledger import Anchor, CheckpointTaken, Event, Initialized, Ledger, Progress, Record, fork_lineage
from ..projections import (
    AUTO_PREFIX,
    UNREADABLE_SNAPSHOT,
    ContextTree,
    ExecutionContext,
    apply,
    fold,
    journal_mark,
    revert_journal,
    start_journal,
)

__all__ = ["ROOT", "SNAPSHOT_GROWTH", "Operation", "Session", "load_tree"]

ROOT = "root"
"""The id of the root a run gets implicitly, by an operation before ``initialize``."""

SNAPSHOT_GROWTH = 8
"""A snapshot is written only once the log has grown by this many times the last one's size."""


def load_tree(
    ledger: Ledger,
    run: str,
    until: int | None = None,
    *,
    verify: bool = False,
    progress: Progress | None = None,
) -> ContextTree:
    """The tree of ``run`` after its last event at or before offset ``until`` (head when None).

    The fold starts from the newest snapshot the ledger vouches for whose state decodes, else from
    the start of the run: snapshots are a cache, a missing or mismatching one only costs time.
    With ``verify`` every row from there on must link to its predecessor (see ``Ledger.run_records``).
    A fork's tree before its first event is its source's (a checkpoint it carried).
    """
    shown = run
    if until is not None:  # a point before a fork's first event lies in its source's history
        for source, at, first in fork_lineage(ledger.fork_origin, run):
            if until >= first:
                break
            run, until = source, min(until, at)
    tree, start = _starting_point(ledger, run, until, verify)
    tree = fold(ledger.run_records(run, start=start, until=until, verify=verify, progress=progress), tree)
    tree.run = shown
    return tree


def _starting_point(ledger: Ledger, run: str, until: int | None, verify: bool) -> tuple[ContextTree, Anchor | None]:
    """The tree of the newest usable snapshot at or before ``until`` and its anchor, else an empty tree."""
    for anchor in ledger.snapshots(run, until, verified=verify):
        try:
            return ContextTree.from_snapshot(anchor.state), anchor
        except UNREADABLE_SNAPSHOT:
            continue
    return ContextTree(run), None


class Session:
    """The live state of one run and the machinery that keeps it equal to the log.

    Callers hold :attr:`lock` (re-entrant) while they read :attr:`tree`; they change the tree only
    by appending events inside an :meth:`operation`.
    """

    def __init__(self, ledger: Ledger, run: str, *, checkpoint_interval: int | None, snapshot_interval: int) -> None:
        self.ledger, self.run = ledger, run
        self.lock = threading.RLock()
        self.suffixes: dict[str, int] = {}
        self.poisoned = False
        self.in_operation = False
        self.closed = False
        self._interval, self._snapshot_interval = checkpoint_interval, snapshot_interval
        self._last: Record | None = None
        self.tree = self._reopened()

    def _reopened(self) -> ContextTree:
        """The tree at the head, the snapshot policy picking up where the log stands: the size of
        the snapshot the fold started from and the bytes folded since, so reopening a run does not
        write a snapshot sooner (or later) than running on would have."""
        tree, start = _starting_point(self.ledger, self.run, None, False)
        self._snapshot_size = len(start.state) if start is not None else 0
        self._since_snapshot = 0

        def counted(records: Iterator[Record]) -> Iterator[Record]:
            for r in records:
                self._since_snapshot += len(r.payload)
                yield r

        return fold(counted(self.ledger.run_records(self.run, start=start)), tree)

    def check_open(self) -> None:
        """Raise LedgerError when the session is closed or its transaction failed midway."""
        if self.closed:
            raise LedgerError("the ContextManager is closed; open a new one to continue the run")
        if self.poisoned:
            raise LedgerError("an operation failed midway in this transaction; leave it to roll back")

    def operation(self) -> Operation:
        """The unit of work of one operation (a ``with`` block); operations inside it join it."""
        return Operation(self)

    def append(self, event: Event, context: str, cause: int | None, folded: Event | None = None) -> Record:
        """Append ``event`` and fold it (``folded``: the same event with values already decoded)."""
        record = self.ledger.append(self.run, self.tree.seq, event, context, cause)
        apply(self.tree, record, folded)
        self._last = record
        self._since_snapshot += len(record.payload)
        return record

    def current(self) -> ExecutionContext:
        """The current context, creating the implicit root first when the run has none."""
        if self.tree.root_id is None:
            self.append(Initialized(name=ROOT), ROOT, None)
        return self.tree.context()

    def checkpoint(self, name: str, auto: bool = False) -> Record:
        """Append a checkpoint of the current context, and snapshot the tree after it."""
        ctx = self.tree.context()
        record = self.append(CheckpointTaken(name=name, auto=auto), ctx.id, ctx.created_offset)
        self._snapshot(record)
        return record

    def after_operation(self, seq_before: int) -> None:
        """An automatic checkpoint every ``checkpoint_interval`` events; a snapshot candidate every
        ``snapshot_interval``."""
        n, seq = self._interval, self.tree.seq
        if n and seq // n != seq_before // n:
            self.checkpoint(f"{AUTO_PREFIX}{self.tree.offset + 1}", auto=True)
        elif seq // self._snapshot_interval != seq_before // self._snapshot_interval:
            self._snapshot(self._last)

    def _snapshot(self, record: Record | None) -> None:
        """Cache the projection after ``record`` (the last one folded) so replays can start here.

        Skipped while the log has grown by less than SNAPSHOT_GROWTH times the last snapshot's
        size: the cache stays a fraction of the log even when the tree grows with the run.
        """
        if record is None or record.seq != self.tree.seq:
            return
        if self._since_snapshot < SNAPSHOT_GROWTH * self._snapshot_size:
            return
        state = self.tree.snapshot_bytes(compress=True)
        self.ledger.save_snapshot(record, state)
        self._since_snapshot, self._snapshot_size = 0, len(state)

    @contextlib.contextmanager
    def transaction(self) -> Iterator[None]:
        """Operations inside commit as one transaction: all or none, log and live tree together.

        Nothing is copied up front: the tree notes its changes (see ``projections.journal``) and,
        when the block fails, the log is rolled back and the changes taken back, newest first.
        """
        with self.lock:
            self.check_open()
            outermost = not self.ledger.in_transaction
            if outermost:
                start_journal(self.tree)
            try:
                with self.ledger.transaction():
                    yield
                    if self.poisoned:
                        raise LedgerError("an operation failed midway; the transaction was rolled back")
            except BaseException:
                self.poisoned = False
                if not (outermost and revert_journal(self.tree)):
                    self.tree = load_tree(self.ledger, self.run)
                raise
            finally:
                if outermost:
                    self.tree.journal = None

    def reload(self) -> None:
        """Rebuild the tree from the log."""
        with self.lock:
            self.check_open()
            if self.ledger.in_transaction:
                raise ContextStateError("cannot reload inside a transaction")
            self.tree = load_tree(self.ledger, self.run)

    def close(self) -> None:
        """Close the ledger; closing twice is harmless."""
        with self.lock:
            if not self.closed:
                self.closed = True
                self.ledger.close()


class Operation:
    """The unit of work of one operation of a session.

    It holds the session's lock and, unless the caller's ``transaction()`` is open, a write
    transaction of its own. Operations that call others run inside the outermost one, and only it
    runs the after-operation policies and, when the operation fails after appending, puts the live
    tree back (from the log) or marks the caller's transaction as failed.
    """

    __slots__ = ("_session", "_outer", "_own", "_seq", "_mark", "_undo_to")

    def __init__(self, session: Session) -> None:
        self._session = session

    def __enter__(self) -> None:
        s = self._session
        s.lock.acquire()
        self._outer = not s.in_operation
        if not self._outer:
            return
        try:
            s.check_open()
            self._seq = s.tree.seq
            self._own = not s.ledger.in_transaction
            if self._own:
                s.ledger.begin()
                start_journal(s.tree)
                self._undo_to: int | None = 0
            else:
                self._mark = s.ledger.mark()
                self._undo_to = journal_mark(s.tree)
        except BaseException:
            s.lock.release()
            raise
        s.in_operation = True

    def __exit__(self, exc_type: type | None, exc: BaseException | None, tb: object) -> None:
        s = self._session
        try:
            if not self._outer:
                return
            try:
                if exc_type is None:
                    s.after_operation(self._seq)
                    if self._own:
                        s.ledger.commit()
                    return
            except BaseException:
                self._undo()
                raise
            self._undo()
        finally:
            if self._outer:
                s.in_operation = False
                if self._own:
                    s.tree.journal = None
            s.lock.release()

    def _undo(self) -> None:
        """Take back what a failed operation appended, in the log and in the live tree.

        Inside the caller's transaction the operation's rows are dropped from the ledger's buffer;
        only when they already reached the store is the whole transaction marked as failed.
        """
        s = self._session
        if self._own and s.ledger.in_transaction:
            s.ledger.rollback()
        if s.tree.seq == self._seq:
            return
        if self._own or s.ledger.undo(self._mark):
            if self._undo_to is None or not revert_journal(s.tree, self._undo_to):
                s.tree = load_tree(s.ledger, s.run)
        else:
            s.poisoned = True

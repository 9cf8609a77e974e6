"""``ContextManager``: the context tree of one run, every change of it an event in the ledger.

Each operation checks its arguments against the live tree first, so a refused operation appends
nothing; then it appends its events inside one write transaction and folds the stored records
into the live tree with the same ``apply`` that ``replay`` uses. The manager is thread-safe: one
re-entrant lock serialises operations on it.
"""

from __future__ import annotations

import contextlib
import threading
import uuid
from collections.abc import Iterator
from typing import Any, TypeVar

import msgspec

from .arguments import enum_arg, id_arg, name_arg, run_arg
from .errors import (
    ContextStateError,
    InvalidArgumentError,
    LedgerError,
    NotInitializedError,
    UnknownKeyError,
)
from .ledger.events import (
    Deleted,
    Entered,
    Event,
    Exited,
    Failed,
    Initialized,
    Merged,
    Record,
    Switched,
    ValueSet,
)
from .ledger.log import Ledger
from .operation import Operation
from .policies import IsolationLevel, MergePolicy
from .projections.fold import apply
from .projections.tree import ContextTree, ExecutionContext
from .replay import load_tree
from .steps import StepsMixin
from .timetravel import AUTO_PREFIX, TimeTravelMixin
from .values import check_key, copy_value, encode_value

T = TypeVar("T")
ROOT = "root"
MAX_ERROR_CHARS = 1000
_context_decoder = msgspec.json.Decoder(ExecutionContext)
_encoder = msgspec.json.Encoder()


def _safe_text(text: str) -> str:
    """``text`` cut to MAX_ERROR_CHARS, with lone surrogates escaped so it can be stored."""
    return text[:MAX_ERROR_CHARS].encode("utf-8", "backslashreplace").decode()


def _closing(error: BaseException | None, *, switch: bool) -> Event:
    """The event that closes a context: ``exited``, or ``failed`` with what was raised."""
    if error is None:
        return Exited(switch=switch)
    try:
        message = str(error)
    except Exception as exc:
        message = f"<str() of the exception raised {type(exc).__name__}>"
    return Failed(error_type=_safe_text(type(error).__qualname__), message=_safe_text(message), switch=switch)


class ContextManager(TimeTravelMixin, StepsMixin):
    """The context tree of one run, backed by an append-only ledger at ``path``.

    ``run`` names the run (a new unique id when None); reopening an existing run resumes it where
    it stood. ``checkpoint_interval=N`` takes a checkpoint ``auto-<offset>`` every N events;
    ``key`` makes the chain HMAC-SHA256. ``synchronous`` is SQLite's durability setting.
    Checkpoints and every ``snapshot_interval`` events are candidates for a projection snapshot,
    written once the log has outgrown the last one (see ``_snapshot``), so reopening a run or
    replaying it folds a tail bounded by the tree's size rather than the log's length.
    """

    def __init__(
        self, path: str = ":memory:", *, run: str | None = None, checkpoint_interval: int | None = None,
        key: bytes | str | None = None, synchronous: str = "FULL", snapshot_interval: int = 10_000,
    ) -> None:
        if run is not None:
            run_arg(run)
        if checkpoint_interval is not None and (
            type(checkpoint_interval) is not int or checkpoint_interval < 1
        ):
            raise InvalidArgumentError(f"checkpoint_interval must be a positive int, got {checkpoint_interval!r}")
        if type(snapshot_interval) is not int or snapshot_interval < 1:
            raise InvalidArgumentError(f"snapshot_interval must be a positive int, got {snapshot_interval!r}")
        self._interval = checkpoint_interval
        self._snapshot_interval = snapshot_interval
        self._last: Record | None = None
        self._since_snapshot = self._snapshot_size = 0
        self._lock = threading.RLock()
        self._ledger = Ledger.open(str(path), key=key, synchronous=synchronous)
        self._run = run if run is not None else f"run-{uuid.uuid4().hex[:12]}"
        self._suffix: dict[str, int] = {}
        self._poisoned = False
        self._in_op = False
        self._closed = False
        try:
            self._tree = load_tree(self._ledger, self._run)
        except BaseException:
            self._ledger.close()
            raise

    # -- properties ------------------------------------------------------------------------------

    @property
    def run(self) -> str:
        """The name of this manager's run."""
        return self._run

    @property
    def current_id(self) -> str | None:
        """Id of the current context (None before the run has a root)."""
        return self._tree.current_id

    @property
    def depth(self) -> int:
        """Depth of the current context: the root alone is 1; 0 before the run has a root."""
        with self._lock:
            return self._tree.depth()

    @property
    def tree(self) -> ContextTree:
        """A copy of the live tree (changing it changes nothing here)."""
        with self._lock:
            return self._tree.copy()

    @property
    def checkpoints(self) -> dict[str, int]:
        """Every checkpoint of the run: name -> offset."""
        with self._lock:
            return dict(self._tree.checkpoints)

    @property
    def offset(self) -> int:
        """Offset of the last event of this run."""
        return self._tree.offset

    # -- writing machinery -----------------------------------------------------------------------

    def _check_open(self) -> None:
        if self._closed:
            raise LedgerError("the ContextManager is closed; open a new one to continue the run")
        if self._poisoned:
            raise LedgerError("an operation failed midway in this transaction; leave it to roll back")

    def _writing(self) -> Operation:
        """One operation: a transaction of its own, or a part of the caller's ``transaction()``."""
        return Operation(self)

    def _append(self, event: Event, context: str, cause: int | None, folded: Event | None = None) -> Record:
        """Append ``event`` and fold it (``folded``: the same event with values already decoded)."""
        record = self._ledger.append(self._run, self._tree.seq, event, context, cause)
        apply(self._tree, record, folded)
        self._last = record
        self._since_snapshot += len(record.payload)
        return record

    def _after_operation(self, seq_before: int) -> None:
        """An automatic checkpoint every ``checkpoint_interval`` events; a snapshot candidate every
        ``snapshot_interval``."""
        n, seq = self._interval, self._tree.seq
        if n and seq // n != seq_before // n:
            self._checkpoint(f"{AUTO_PREFIX}{self._tree.offset + 1}", auto=True)
        elif seq // self._snapshot_interval != seq_before // self._snapshot_interval:
            self._snapshot(self._last)

    def _current(self) -> ExecutionContext:
        """The current context, creating the implicit root first when the run has none."""
        if self._tree.root_id is None:
            self._append(Initialized(name=ROOT), ROOT, None)
        return self._tree.context()

    def _new_id(self, name: str) -> str:
        known = self._tree.known_ids
        if name not in known:
            return name
        k = self._suffix.get(name, 2)
        while f"{name}-{k}" in known:
            k += 1
        self._suffix[name] = k + 1
        return f"{name}-{k}"

    def _live(self, context_id: object) -> ExecutionContext:
        ctx = self._tree.context(name_arg(context_id, "context_id"))
        if ctx.status != "active":
            raise ContextStateError(f"context {ctx.id!r} is {ctx.status}; only active contexts can take this")
        return ctx

    def _target(self, context_id: str | None) -> ExecutionContext:
        """The context an operation acts on: ``context_id`` (active), else the current one."""
        return self._current() if context_id is None else self._live(context_id)

    def _write(self, context_id: str | None, key: str, value: Any) -> None:
        check_key(key)
        raw, copy = encode_value(value, key)
        with self._writing():
            ctx = self._target(context_id)
            event = ValueSet(key=key, value=msgspec.Raw(raw))
            self._append(event, ctx.id, ctx.created_offset, ValueSet(key=key, value=copy))

    def _read(self, context_id: str | None, key: str, default: Any) -> Any:
        check_key(key)
        with self._lock:
            return copy_value(self._tree.get(key, context_id, default))

    def _remove(self, context_id: str | None, key: str) -> None:
        check_key(key)
        with self._writing():
            if context_id is None:
                ctx = self._tree.contexts.get(self._tree.current_id)  # type: ignore[arg-type]
            else:
                ctx = self._live(context_id)
            if ctx is None or key not in ctx.data:
                where = f"context {ctx.id!r}" if ctx is not None else f"run {self._run!r}"
                raise UnknownKeyError(f"{where} holds no key {key!r} of its own")
            self._append(Deleted(key=key), ctx.id, ctx.created_offset)

    def _open(
        self, parent_id: str | None, name: str, isolation: IsolationLevel, *, parallel: bool = False,
        switch: bool = True,
    ) -> str:
        with self._writing():
            parent = self._target(parent_id)
            cid = self._new_id(name)
            event = Entered(parent=parent.id, name=name, isolation=isolation.value, parallel=parallel, switch=switch)
            self._append(event, cid, parent.created_offset)
        return cid

    def _close(
        self, ctx: ExecutionContext, merge: MergePolicy | None, error: BaseException | None = None,
        *, switch: bool = True,
    ) -> None:
        """Close ``ctx``, its active descendants first (deepest first), so none is left stranded.

        A context closed while current hands current to its parent, so the tree after every event
        of the operation (where a replay or a restore may stop) has an active current context.
        """
        parent = self._tree.contexts[ctx.parent_id] if ctx.parent_id is not None else None
        if parent is None:
            raise ContextStateError(f"cannot exit the root context {ctx.id!r}")
        if parent.status != "active":
            raise ContextStateError(f"parent {parent.id!r} of {ctx.id!r} is {parent.status}; switch_to a live context")
        with self._writing():
            for open_child in self._active_descendants(ctx):
                moves = open_child.id == self._tree.current_id
                self._append(_closing(error, switch=moves), open_child.id, open_child.created_offset)
            if merge is not None:
                self._append(Merged(child=ctx.id, policy=merge.value), parent.id, ctx.created_offset)
            moves = switch or ctx.id == self._tree.current_id
            self._append(_closing(error, switch=moves), ctx.id, ctx.created_offset)

    def _active_descendants(self, ctx: ExecutionContext) -> list[ExecutionContext]:
        """Active contexts below ``ctx``, children after their own children (iterative: any depth)."""
        contexts, order, stack = self._tree.contexts, [], [ctx]
        while stack:
            for child_id in stack.pop().children:
                child = contexts[child_id]
                if child.status == "active":
                    order.append(child)
                    stack.append(child)
        return order[::-1]

    def _fail_context(self, cid: str, exc: BaseException, *, switch: bool = True) -> None:
        """Record ``cid`` failed because of ``exc``, which keeps propagating: if even that cannot be
        recorded, a note on ``exc`` says why (the caller's exception is never replaced)."""
        with self._lock:
            ctx = self._tree.contexts.get(cid)
            if ctx is None or ctx.status != "active" or self._poisoned:
                return
            try:
                self._close(ctx, None, exc, switch=switch)
            except Exception as err:
                exc.add_note(f"ctxlog could not record {cid!r} as failed: {type(err).__name__}: {err}")

    def _exit_context(self, cid: str, policy: MergePolicy | None, *, switch: bool = True) -> None:
        with self._lock:
            self._close(self._live(cid), policy, switch=switch)

    # -- operations of the contract --------------------------------------------------------------

    def initialize(self, name: str = ROOT) -> str:
        """Start the root context, whose id is ``name``; a run has one root."""
        id_arg(name, "name")
        with self._writing():
            if self._tree.root_id is not None:
                raise ContextStateError(f"run {self._run!r} already has the root {self._tree.root_id!r}")
            self._append(Initialized(name=name), name, None)
        return name

    def set(self, key: str, value: Any) -> None:
        """Set ``key`` to ``value`` in the current context (``value`` must be JSON-shaped)."""
        self._write(None, key, value)

    def get(self, key: str, default: Any = None) -> Any:
        """The value of ``key`` as the current context resolves it, else ``default``."""
        return self._read(None, key, default)

    def delete(self, key: str) -> None:
        """Remove ``key`` from the current context's own data (a KeyError if it holds none)."""
        self._remove(None, key)

    def enter_step(self, name: str, isolation: IsolationLevel | str = IsolationLevel.INHERIT) -> str:
        """Create a child of the current context, make it current, and return its id."""
        return self._open(None, id_arg(name, "name"), enum_arg(IsolationLevel, isolation, "isolation"))

    def exit_step(self, merge: MergePolicy | str | None = None) -> ExecutionContext:
        """Leave the current context (merging it into its parent first when ``merge``); return it."""
        policy = None if merge is None else enum_arg(MergePolicy, merge, "merge")
        with self._writing():
            if self._tree.current_id is None:
                raise NotInitializedError(f"run {self._run!r} has no context to exit")
            ctx = self._tree.context()
            self._close(ctx, policy)
            return _context_decoder.decode(_encoder.encode(ctx))

    def create_parallel_context(self, name: str | None = None) -> str:
        """Create an ISOLATED child of the current context marked parallel; current stays."""
        name = "parallel" if name is None else id_arg(name, "name")
        return self._open(None, name, IsolationLevel.ISOLATED, parallel=True, switch=False)

    def switch_to(self, context_id: str) -> None:
        """Make an active context of the run current."""
        with self._writing():
            target = self._live(context_id)
            cause = self._tree.context().created_offset
            self._append(Switched(), target.id, cause)

    def merge_child_to_parent(
        self, child_id: str, policy: MergePolicy | str = MergePolicy.KEEP_EXISTING
    ) -> None:
        """Merge a context's own data into its parent's, by ``policy``."""
        level: MergePolicy = enum_arg(MergePolicy, policy, "policy")
        with self._writing():
            child = self._tree.context(name_arg(child_id, "child_id"))
            if child.parent_id is None:
                raise ContextStateError(f"{child.id!r} is the root; it has no parent to merge into")
            self._live(child.parent_id)
            self._append(Merged(child=child.id, policy=level.value), child.parent_id, child.created_offset)

    def begin_isolated(self, name: str) -> str:
        """Create an ISOLATED child of the current context and make it current."""
        return self.enter_step(name, IsolationLevel.ISOLATED)

    def end_isolated(self, child_id: str, policy: MergePolicy | str = MergePolicy.KEEP_EXISTING) -> None:
        """Merge an isolated child into its parent by ``policy``, close it, make the parent current."""
        level: MergePolicy = enum_arg(MergePolicy, policy, "policy")
        with self._writing():
            self._close(self._live(child_id), level)

    @contextlib.contextmanager
    def transaction(self) -> Iterator[ContextManager]:
        """Operations inside commit as one transaction: all or none, log and live tree together.

        Nothing is copied up front: when the block fails, the log is rolled back and the tree is
        rebuilt from it (from the newest snapshot), which is what the log now says it was.
        """
        with self._lock:
            self._check_open()
            try:
                with self._ledger.transaction():
                    yield self
                    if self._poisoned:
                        raise LedgerError("an operation failed midway; the transaction was rolled back")
            except BaseException:
                self._poisoned = False
                self._tree = load_tree(self._ledger, self._run)
                raise

    def reload(self) -> None:
        """Rebuild the tree from the log: after a ConcurrencyError, to continue from what is stored."""
        with self._lock:
            self._check_open()
            if self._ledger.in_transaction:
                raise ContextStateError("cannot reload inside a transaction")
            self._tree = load_tree(self._ledger, self._run)

    def close(self) -> None:
        """Close the ledger; the manager cannot be used afterwards. Closing twice is harmless."""
        with self._lock:
            if not self._closed:
                self._closed = True
                self._ledger.close()

    def __enter__(self) -> ContextManager:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def __repr__(self) -> str:
        return f"ContextManager(run={self._run!r}, current_id={self._tree.current_id!r}, offset={self._tree.offset})"

"""``ContextManager``: the context tree of one run, every change of it an event in the ledger.

Each method checks its arguments, then runs one operation of the run's :class:`Session`: a refused
operation appends nothing, a failed one leaves the live tree as the log has it. The manager is
thread-safe: the session's re-entrant lock serialises operations on it.
"""

from __future__ import annotations

import contextlib
import uuid
from collections.abc import Awaitable, Iterator
from typing import Any, TypeVar

import msgspec

from ..errors import (
    ContextStateError,
    NotInitializedError,
)
from ..ledger import Initialized, Ledger, Merged, RunDeleted, Switched
from ..projections import (
    ContextTree,
    ExecutionContext,
    IsolationLevel,
    MergePolicy,
)
from . import edits, history
from .arguments import enum_arg, id_arg, isolation_arg, merge_arg, name_arg, positive_int_arg, run_arg
from .branches import Branches, run_aparallel, run_parallel
from .history import Checkpoint
from .session import ROOT, Session, load_tree
from .steps import Step

__all__ = ["ContextManager"]

T = TypeVar("T")
_encoder = msgspec.json.Encoder()


class ContextManager:
    """The context tree of one run, backed by an append-only ledger at ``path``.

    ``path`` is a SQLite file, ``":memory:"`` or a PostgreSQL URL. ``run`` names the run (a new
    unique id when None); reopening an existing run resumes it where it stood.
    ``checkpoint_interval=N`` takes a checkpoint ``auto-<offset>`` every N events; ``key`` makes
    the chain HMAC-SHA256. ``synchronous`` is the durability setting (SQLite's names). Checkpoints
    and every ``snapshot_interval`` events are candidates for a projection snapshot, written once
    the log has outgrown the last one, so reopening a run or replaying it folds a tail bounded by
    the tree's size rather than the log's length.
    """

    def __init__(
        self,
        path: str = ":memory:",
        *,
        run: str | None = None,
        checkpoint_interval: int | None = None,
        key: bytes | str | None = None,
        synchronous: str = "FULL",
        snapshot_interval: int = 10_000,
    ) -> None:
        if run is not None:
            run_arg(run)
        interval = positive_int_arg(checkpoint_interval, "checkpoint_interval", optional=True)
        every = positive_int_arg(snapshot_interval, "snapshot_interval")
        ledger = Ledger.open(str(path), key=key, synchronous=synchronous)
        try:
            name = run if run is not None else f"run-{uuid.uuid4().hex[:12]}"
            self._session = Session(ledger, name, checkpoint_interval=interval, snapshot_interval=every)  # type: ignore[arg-type]
        except BaseException:
            ledger.close()
            raise

    # -- what the tree holds now -----------------------------------------------------------------

    @property
    def run(self) -> str:
        """The name of this manager's run."""
        return self._session.run

    @property
    def current_id(self) -> str | None:
        """Id of the current context (None before the run has a root)."""
        return self._session.tree.current_id

    @property
    def depth(self) -> int:
        """Depth of the current context: the root alone is 1; 0 before the run has a root."""
        with self._session.lock:
            return self._session.tree.depth()

    @property
    def tree(self) -> ContextTree:
        """A copy of the live tree (changing it changes nothing here)."""
        with self._session.lock:
            return self._session.tree.copy()

    @property
    def checkpoints(self) -> dict[str, int]:
        """Every checkpoint of the run: name -> offset."""
        with self._session.lock:
            return dict(self._session.tree.checkpoints)

    @property
    def offset(self) -> int:
        """Offset of the last event of this run."""
        return self._session.tree.offset

    # -- contexts and values ---------------------------------------------------------------------

    def initialize(self, name: str = ROOT) -> str:
        """Start the root context, whose id is ``name``; a run has one root."""
        id_arg(name, "name")
        s = self._session
        with s.operation():
            if s.tree.root_id is not None:
                raise ContextStateError(f"run {s.run!r} already has the root {s.tree.root_id!r}")
            s.append(Initialized(name=name), name, None)
        return name

    def set(self, key: str, value: Any) -> None:
        """Set ``key`` to ``value`` in the current context (``value`` must be JSON-shaped)."""
        edits.write(self._session, None, key, value)

    def get(self, key: str, default: Any = None) -> Any:
        """The value of ``key`` as the current context resolves it, else ``default``."""
        return edits.read(self._session, None, key, default)

    def delete(self, key: str) -> None:
        """Remove ``key`` from the current context's own data (a KeyError if it holds none)."""
        edits.remove(self._session, None, key)

    def enter_step(self, name: str, isolation: IsolationLevel | str = IsolationLevel.INHERIT) -> str:
        """Create a child ``name`` of the current context with ``isolation``, make it current, and
        return its id (``name``, or ``name-2`` … when taken)."""
        return edits.open_child(self._session, None, id_arg(name, "name"), isolation_arg(isolation))

    def exit_step(self, merge: MergePolicy | str | None = None) -> ExecutionContext:
        """Leave the current context (merging it into its parent first when ``merge``); return a copy of it."""
        policy, s = merge_arg(merge), self._session
        with s.operation():
            if s.tree.current_id is None:
                raise NotInitializedError(f"run {s.run!r} has no context to exit")
            ctx = s.tree.context()
            edits.close(s, ctx, policy)
            return ctx.copy()

    def create_parallel_context(self, name: str | None = None) -> str:
        """Create an ISOLATED child ``name`` of the current context marked parallel; current stays."""
        name = "parallel" if name is None else id_arg(name, "name")
        return edits.open_child(self._session, None, name, IsolationLevel.ISOLATED, parallel=True, switch=False)

    def switch_to(self, context_id: str) -> None:
        """Make the active context ``context_id`` current."""
        s = self._session
        with s.operation():
            target = edits.live(s, context_id)
            s.append(Switched(), target.id, s.tree.context().created_offset)

    def merge_child_to_parent(self, child_id: str, policy: MergePolicy | str = MergePolicy.KEEP_EXISTING) -> None:
        """Merge the own data of context ``child_id`` into its parent's, by ``policy``."""
        level: MergePolicy = enum_arg(MergePolicy, policy, "policy")
        s = self._session
        with s.operation():
            child = s.tree.context(name_arg(child_id, "child_id"))
            if child.parent_id is None:
                raise ContextStateError(f"{child.id!r} is the root; it has no parent to merge into")
            edits.live(s, child.parent_id)
            s.append(Merged(child=child.id, policy=level.value), child.parent_id, child.created_offset)

    def begin_isolated(self, name: str) -> str:
        """Create an ISOLATED child ``name`` of the current context and make it current."""
        return self.enter_step(name, IsolationLevel.ISOLATED)

    def end_isolated(self, child_id: str, policy: MergePolicy | str = MergePolicy.KEEP_EXISTING) -> None:
        """Merge the isolated child ``child_id`` into its parent by ``policy``, close it, make the parent current."""
        level: MergePolicy = enum_arg(MergePolicy, policy, "policy")
        s = self._session
        with s.operation():
            edits.close(s, edits.live(s, child_id), level)

    # -- history ---------------------------------------------------------------------------------

    def checkpoint(self, name: str) -> Checkpoint:
        """Record a checkpoint ``name`` (unique in the run); restore it or replay until it later by
        its name or its offset."""
        return history.checkpoint(self._session, name)

    def restore(self, checkpoint: str | int) -> None:
        """Make the tree exactly as it was at ``checkpoint``: a checkpoint name or an offset of this
        run. Recorded as an event; history is never rewritten."""
        history.restore(self._session, checkpoint)

    def tree_at(self, checkpoint: str | int) -> ContextTree:
        """The tree as it stood at ``checkpoint`` (a name or an offset of this run), read through
        this manager's connection; appends nothing."""
        with self._session.lock:
            s = self._session
            return load_tree(s.ledger, s.run, s.ledger.resolve(s.run, checkpoint))

    def delete_run(self, reason: str = "") -> int:
        """Append a ``deleted_run`` tombstone saying ``reason``; return its offset. Nothing is removed
        (rows, tree and verify stay); readers that honour it treat the run up to it as deleted."""
        with self._session.operation():
            event = RunDeleted(reason=name_arg(reason, "reason") if reason else "")
            return self._session.append(event, self._session.current().id, None).offset

    def serialize(self) -> bytes:
        """The whole tree (contexts, current, root) as JSON bytes; appends nothing."""
        return history.serialize(self._session)

    def deserialize(self, data: bytes | str) -> None:
        """Replace the whole tree, current context included, with the serialized tree ``data``."""
        history.deserialize(self._session, data)

    # -- structured steps and branches -----------------------------------------------------------

    def step(
        self,
        name: str,
        isolation: IsolationLevel | str = IsolationLevel.INHERIT,
        merge: MergePolicy | str | None = None,
    ) -> Step:
        """A step for a ``with`` (or ``async with``) body; the block gets the step's context id.

        ``name`` and ``isolation`` are as for :meth:`enter_step`; ``merge`` (a MergePolicy, or
        None for no merge) merges the step into its parent when the body ends well. When the body
        raises, the step is recorded ``failed``, exited without merge, and the exception propagates.
        """
        name, level, policy, s = id_arg(name, "name"), isolation_arg(isolation), merge_arg(merge), self._session
        return Step(
            lambda: edits.open_child(s, None, name, level),
            lambda cid, exc: edits.fail(s, cid, exc),
            lambda cid: edits.leave(s, cid, policy),
        )

    def astep(
        self,
        name: str,
        isolation: IsolationLevel | str = IsolationLevel.INHERIT,
        merge: MergePolicy | str | None = None,
    ) -> Step:
        """:meth:`step` (same ``name``, ``isolation`` and ``merge``) for ``async with``: entering
        and leaving are written off the event loop."""
        return self.step(name, isolation, merge)

    def parallel(
        self,
        branches: Branches[T],
        merge: MergePolicy | str | None = MergePolicy.KEEP_EXISTING,
        max_workers: int | None = None,
    ) -> list[T] | dict[str, T]:
        """Run callables at the same time, each given a Branch handle on its own parallel context.

        ``branches`` is a list of callables (each named after its function) or a dict of them by
        name; at most ``max_workers`` run at once (all when None). Results come back in branch
        order (a dict for a dict of branches); the branches that succeeded are merged into the
        current context by ``merge`` in branch order, whatever order they finished in. Failed
        branches are recorded ``failed`` and raised together in an ExceptionGroup.
        """
        return run_parallel(self._session, self, None, branches, merge, max_workers)  # type: ignore[no-any-return]

    async def aparallel(
        self,
        branches: Branches[Awaitable[T]],
        merge: MergePolicy | str | None = MergePolicy.KEEP_EXISTING,
        max_workers: int | None = None,
    ) -> list[T] | dict[str, T]:
        """:meth:`parallel` (same ``branches``, ``merge``, ``max_workers``) for coroutine functions,
        run as tasks; ledger writes stay off the event loop."""
        return await run_aparallel(self._session, self, None, branches, merge, max_workers)  # type: ignore[no-any-return]

    # -- the session -----------------------------------------------------------------------------

    @contextlib.contextmanager
    def transaction(self) -> Iterator[ContextManager]:
        """Operations inside commit as one transaction: all or none, log and live tree together."""
        with self._session.transaction():
            yield self

    def reload(self) -> None:
        """Rebuild the tree from the log: after a ConcurrencyError, to continue from what is stored."""
        self._session.reload()

    def close(self) -> None:
        """Close the ledger; the manager cannot be used afterwards. Closing twice is harmless."""
        self._session.close()

    def __enter__(self) -> ContextManager:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def __repr__(self) -> str:
        tree = self._session.tree
        return f"ContextManager(run={self.run!r}, current_id={tree.current_id!r}, offset={tree.offset})"

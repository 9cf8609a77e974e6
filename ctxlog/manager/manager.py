"""``ContextManager``: the context tree of one run, every change of it an event in the ledger.

Each method checks its arguments, then runs one operation of the run's :class:`Session`: a refused
operation appends nothing, a failed one leaves the live tree as the log has it. The manager is
thread-safe: the session's re-entrant lock serialises operations on it.
"""

from __future__ import annotations

import uuid
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
from .flow import Flow
from .forks import ForkInfo
from .history import Checkpoint
from .lifecycle import resume_arg
from .ownership import claim_run
from .session import ROOT, Session, load_tree

__all__ = ["ContextManager", "fork"]

T = TypeVar("T")
_encoder = msgspec.json.Encoder()


class ContextManager(Flow):
    """The context tree of one run, backed by an append-only ledger at ``path``.

    ``path`` is a SQLite file, ``":memory:"`` or a PostgreSQL URL. ``run`` names the run (a new
    unique id when None); reopening an existing run resumes it where it stood.
    ``checkpoint_interval=N`` takes a checkpoint ``auto-<offset>`` every N events; ``key`` makes
    the chain HMAC-SHA256. ``synchronous`` is the durability setting (SQLite's names). Checkpoints
    and every ``snapshot_interval`` events are candidates for a projection snapshot, written once
    the log has outgrown the last one, so reopening a run or replaying it folds a tail bounded by
    the tree's size rather than the log's length.

    ``exists`` says whether the run must already exist (True: a mistyped name is an
    UnknownRunError), must be new (False), or either (None). A run has one writer at a time: while
    another manager (in any process on this machine, or on any machine for PostgreSQL) holds it,
    opening it raises RunOwnedError naming the holder, unless ``takeover`` (the holder's next write
    then fails with ConcurrencyError); a holder that died holds nothing. ``resume`` is what
    reopening does with the steps the last writer left open: ``"interrupt"`` records them failed
    as ``Interrupted`` (see :attr:`interrupted`), ``"keep"`` leaves them open.
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
        exists: bool | None = None,
        takeover: bool = False,
        resume: str = "interrupt",
    ) -> None:
        if run is not None:
            run_arg(run)
        resume = resume_arg(resume)
        self._opened = (str(path), key, synchronous, snapshot_interval)
        interval = positive_int_arg(checkpoint_interval, "checkpoint_interval", optional=True)
        every = positive_int_arg(snapshot_interval, "snapshot_interval")
        ledger = Ledger.open(str(path), key=key, synchronous=synchronous)
        try:
            name = run if run is not None else f"run-{uuid.uuid4().hex[:12]}"
            claim_run(ledger, str(path), name, exists=exists if run is not None else False, takeover=takeover)
            self._session = Session(ledger, name, checkpoint_interval=interval, snapshot_interval=every)  # type: ignore[arg-type]
            self._interrupted = self.interrupt() if resume == "interrupt" else []
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
        edits.write(self._s(), None, key, value)

    def get(self, key: str, default: Any = None, *, context_id: str | None = None) -> Any:
        """The value of ``key`` as the current context (or ``context_id``) resolves it, else
        ``default``; a copy of that value only, never of the tree."""
        return edits.read(self._s() if context_id is None else self._session, context_id, key, default)

    def delete(self, key: str) -> None:
        """Remove ``key`` from the current context's own data (a KeyError if it holds none)."""
        edits.remove(self._s(), None, key)

    def enter_step(self, name: str, isolation: IsolationLevel | str = IsolationLevel.INHERIT) -> str:
        """Create a child ``name`` of the current context with ``isolation``, make it current, and
        return its id (``name``, or ``name-2`` … when taken)."""
        return edits.open_child(self._s(), None, id_arg(name, "name"), isolation_arg(isolation))

    def exit_step(self, merge: MergePolicy | str | None = None, *, keys: list[str] | None = None) -> ExecutionContext:
        """Leave the current context (merging it, or only its ``keys``, into its parent first when
        ``merge``); return a copy of it."""
        policy, s, chosen = merge_arg(merge), self._s(), edits.keys_arg(keys)
        with s.operation():
            if s.tree.current_id is None:
                raise NotInitializedError(f"run {s.run!r} has no context to exit")
            ctx = s.tree.context()
            edits.close(s, ctx, policy, keys=chosen)
            return ctx.copy()

    def create_parallel_context(self, name: str | None = None) -> str:
        """Create an ISOLATED child ``name`` of the current context marked parallel; current stays."""
        name = "parallel" if name is None else id_arg(name, "name")
        return edits.open_child(self._s(), None, name, IsolationLevel.ISOLATED, parallel=True, switch=False)

    def switch_to(self, context_id: str) -> None:
        """Make the active context ``context_id`` current."""
        s = self._s()
        with s.operation():
            target = edits.live(s, context_id)
            s.append(Switched(), target.id, s.tree.context().created_offset)

    def merge_child_to_parent(
        self, child_id: str, policy: MergePolicy | str = MergePolicy.KEEP_EXISTING, *, keys: list[str] | None = None
    ) -> None:
        """Merge the own data of context ``child_id`` (only its ``keys`` when given) into its
        parent's, by ``policy``."""
        level: MergePolicy = enum_arg(MergePolicy, policy, "policy")
        s, chosen = self._s(), edits.keys_arg(keys)
        with s.operation():
            child = s.tree.context(name_arg(child_id, "child_id"))
            if child.parent_id is None:
                raise ContextStateError(f"{child.id!r} is the root; it has no parent to merge into")
            edits.live(s, child.parent_id)
            s.append(Merged(child=child.id, policy=level.value, keys=chosen), child.parent_id, child.created_offset)

    def begin_isolated(self, name: str) -> str:
        """Create an ISOLATED child ``name`` of the current context and make it current."""
        return self.enter_step(name, IsolationLevel.ISOLATED)

    def end_isolated(self, child_id: str, policy: MergePolicy | str = MergePolicy.KEEP_EXISTING) -> None:
        """Merge the isolated child ``child_id`` into its parent by ``policy``, close it, make the parent current."""
        level: MergePolicy = enum_arg(MergePolicy, policy, "policy")
        s = self._s()
        with s.operation():
            edits.close(s, edits.live(s, child_id), level)

    # -- history ---------------------------------------------------------------------------------

    def checkpoint(self, name: str) -> Checkpoint:
        """Record a checkpoint ``name`` (unique in the run); restore it or replay until it later by
        its name or its offset."""
        return history.checkpoint(self._s(), name)

    def restore(self, checkpoint: str | int) -> None:
        """Make the tree exactly as it was at ``checkpoint``: a checkpoint name or an offset of this
        run. Recorded as an event; history is never rewritten."""
        history.restore(self._s(), checkpoint)

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
        history.deserialize(self._s(), data)

    def fork(self, at: str | int | None, new_run: str) -> ContextManager:
        """A manager on a new run ``new_run`` forked from this run at checkpoint or offset ``at``
        (the head when None), on the same ledger (see :meth:`fork_from`); close it when done."""
        path, key, synchronous, every = self._opened
        forked = ContextManager(
            path, run=new_run, key=key, synchronous=synchronous, snapshot_interval=every, exists=False
        )
        try:
            forked.fork_from(self.run, at)
        except BaseException:
            forked.close()
            raise
        return forked

    # -- the session -----------------------------------------------------------------------------

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


def fork(
    path: str, *, run: str | None = None, at: str | int | None = None, new_run: str, key: bytes | str | None = None
) -> ForkInfo:
    """Fork ``run`` (the only run when None) of the ledger at ``path`` at checkpoint or offset ``at``
    (its head when None) into the new run ``new_run``: its first event records the source run,
    offset and hash; its tree equals the source's there and its checkpoints up to there are carried.
    RunExistsError when ``new_run`` exists; the cost is the tree's, not the history's. ``key`` is
    the key of a keyed ledger."""
    with ContextManager(path, run=run_arg(new_run), key=key, exists=False) as mgr:
        return mgr.fork_from(run, at)

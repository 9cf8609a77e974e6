"""The fold: ``apply(tree, record) -> tree``, one event at a time, no I/O.

The live manager and ``replay`` both build their trees with this function from the same records,
so the live tree and the replayed one cannot drift apart. ``apply`` updates ``tree`` in place and
returns it: a fold that owns its accumulator, without copying the tree per event.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable

import msgspec

from ..errors import IntegrityError
from ..ledger import (
    CheckpointTaken,
    Deleted,
    Entered,
    Event,
    Exited,
    Failed,
    Initialized,
    Loaded,
    Merged,
    Record,
    Restored,
    Switched,
    ValueSet,
    decode_event,
)
from .merge import merged
from .policies import IsolationLevel, MergePolicy
from .tree import ContextTree, ExecutionContext, decode_tree_state

__all__ = ["apply", "fold"]


def _initialized(tree: ContextTree, r: Record, e: Initialized) -> None:
    tree.contexts[r.context] = ExecutionContext(
        id=r.context, parent_id=None, name=e.name, created_offset=r.offset, created_at=r.ts / 1e9
    )
    tree.root_id = tree.current_id = r.context
    tree.known_ids.add(r.context)


def _entered(tree: ContextTree, r: Record, e: Entered) -> None:
    tree.contexts[r.context] = ExecutionContext(
        id=r.context,
        parent_id=e.parent,
        name=e.name,
        isolation=IsolationLevel(e.isolation),
        created_offset=r.offset,
        created_at=r.ts / 1e9,
        is_parallel=e.parallel,
    )
    tree.contexts[e.parent].children.append(r.context)
    tree.known_ids.add(r.context)
    if e.switch:
        tree.current_id = r.context


def _set(tree: ContextTree, r: Record, e: ValueSet) -> None:
    tree.contexts[r.context].data[e.key] = e.value


def _deleted(tree: ContextTree, r: Record, e: Deleted) -> None:
    del tree.contexts[r.context].data[e.key]


def _switched(tree: ContextTree, r: Record, e: Switched) -> None:
    tree.current_id = r.context


def _merged(tree: ContextTree, r: Record, e: Merged) -> None:
    parent, child = tree.contexts[r.context], tree.contexts[e.child]
    parent.data = merged(parent.data, child.data, MergePolicy(e.policy))


def _close(tree: ContextTree, r: Record, status: str, switch: bool) -> None:
    ctx = tree.contexts[r.context]
    ctx.status = status
    if switch:
        tree.current_id = ctx.parent_id


def _exited(tree: ContextTree, r: Record, e: Exited) -> None:
    _close(tree, r, "exited", e.switch)


def _failed(tree: ContextTree, r: Record, e: Failed) -> None:
    _close(tree, r, "failed", e.switch)


def _checkpoint(tree: ContextTree, r: Record, e: CheckpointTaken) -> None:
    tree.checkpoints[e.name] = r.offset


def _restored(tree: ContextTree, r: Record, e: Restored) -> None:
    tree.replace(decode_tree_state(e.state))


def _loaded(tree: ContextTree, r: Record, e: Loaded) -> None:
    """A loaded tree's contexts came into this run with this event: causes must point inside the run."""
    tree.replace(decode_tree_state(e.state))
    for ctx in tree.contexts.values():
        ctx.created_offset = r.offset


_HANDLERS: dict[type, Callable[[ContextTree, Record, Event], None]] = {
    Initialized: _initialized,
    Entered: _entered,
    ValueSet: _set,
    Deleted: _deleted,  # type: ignore[dict-item]
    Switched: _switched,
    Merged: _merged,
    Exited: _exited,
    Failed: _failed,  # type: ignore[dict-item]
    CheckpointTaken: _checkpoint,
    Restored: _restored,
    Loaded: _loaded,  # type: ignore[dict-item]
}


_BROKEN = (msgspec.DecodeError, msgspec.ValidationError, KeyError, ValueError, TypeError, AttributeError)


def _unreplayable(record: Record, exc: Exception) -> IntegrityError:
    """A record that cannot be folded (undecodable payload, unknown context) comes from a damaged
    or forged log: the error names its offset."""
    return IntegrityError(
        f"offset {record.offset}: the event cannot be replayed ({type(exc).__name__}: {exc}); run ctxlog verify",
        record.offset,
    )


def apply(tree: ContextTree, record: Record, event: Event | None = None) -> ContextTree:
    """Fold one record into ``tree`` (``event`` is its decoded payload when the caller has it)."""
    try:
        if event is None:
            event = decode_event(record.payload)
        _HANDLERS[type(event)](tree, record, event)
    except _BROKEN as exc:
        raise _unreplayable(record, exc) from exc
    tree.offset = record.offset
    tree.seq = record.seq
    return tree


def fold(records: Iterable[Record], tree: ContextTree | None = None, run: str = "") -> ContextTree:
    """Fold ``records`` (one run, in order) into ``tree`` or into an empty tree of ``run``.

    The loop of :func:`apply`, with the position set once at the end: replay's hot path.
    """
    if tree is None:
        tree = ContextTree(run)
    handlers, decode, last = _HANDLERS, decode_event, None
    try:
        for last in records:
            event = decode(last.payload)
            handlers[type(event)](tree, last, event)
    except _BROKEN as exc:
        assert last is not None
        raise _unreplayable(last, exc) from exc
    if last is not None:
        tree.offset, tree.seq = last.offset, last.seq
    return tree

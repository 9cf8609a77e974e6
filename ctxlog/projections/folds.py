"""The fold: ``apply(tree, record) -> tree``, one event at a time, no I/O, refusing what no operation writes.

The live manager, ``replay`` and ``verify`` all build trees with this one fold from the same
records, so the live tree, a replayed one and a verified one cannot drift apart. Before it changes
the tree, each event is checked against the rules the live operation enforced when it wrote it:
the records are the run's, dense in seq; the context acted on exists and is active; a child
enters under an active parent with an id never used; the root is initialized once and never
exits; a context exits only after its children; a restored or loaded tree passes the checks
``deserialize`` makes; each ``cause`` is the one the operation records. A record that breaks one
is an IntegrityError naming its offset: a chain-valid row no operation could have written is
caught by ``verify``, not shown by a reader. ``apply`` updates ``tree`` in place and returns it.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable

import msgspec

from ..errors import MAX_NAME_BYTES, CtxlogError, IntegrityError
from ..ledger import (
    CheckpointTaken,
    Deleted,
    Entered,
    Event,
    Exited,
    Failed,
    Forked,
    Initialized,
    Loaded,
    Merged,
    Record,
    Restored,
    RunDeleted,
    Switched,
    ValueSet,
    decode_event,
)
from .check import check_tree_state
from .journal import add, assign, child, know, put, remove
from .lineage import apply_fork
from .merge import merge_into
from .policies import IsolationLevel, MergePolicy, is_auto_name
from .state import ExecutionContext, decode_tree_state
from .tree import ContextTree
from .values import MAX_DEPTH, MAX_VALUE_BYTES, check_value, too_deep

__all__ = ["apply", "fold"]


class _Impossible(Exception):
    """A record no operation writes; its message says why."""


def _live(tree: ContextTree, cid: str, what: str = "context") -> ExecutionContext:
    ctx = tree.contexts.get(cid)
    if ctx is None:
        raise _Impossible(f"it acts on {what} {cid!r}, which the run does not have")
    if ctx.status != "active":
        raise _Impossible(f"it acts on {what} {cid!r}, which is {ctx.status}")
    return ctx


def _caused(r: Record, expected: int | None) -> None:
    if r.cause != expected:
        raise _Impossible(f"its cause is {r.cause!r} where the operation records {expected!r}")


def _initialized(tree: ContextTree, r: Record, e: Initialized) -> None:
    if tree.root_id is not None:
        raise _Impossible(f"the run already has the root {tree.root_id!r}")
    if r.context != e.name or not r.context or "\x00" in r.context:
        raise _Impossible(f"the root's id {r.context!r} is not its name {e.name!r}")
    _caused(r, None)
    root = ExecutionContext(id=r.context, parent_id=None, name=e.name, created_offset=r.offset, created_at=r.ts / 1e9)
    add(tree, tree.contexts, r.context, root)
    assign(tree, tree, "root_id", r.context)
    assign(tree, tree, "current_id", r.context)
    know(tree, (r.context,))


def _entered(tree: ContextTree, r: Record, e: Entered) -> None:
    parent = _live(tree, e.parent, "parent")
    if r.context in tree.known_ids or not r.context or "\x00" in r.context:
        raise _Impossible(f"it opens {r.context!r}, an id the run already used (or cannot store)")
    if r.context != e.name and not (r.context.startswith(e.name + "-") and r.context[len(e.name) + 1 :].isdigit()):
        raise _Impossible(f"it opens {r.context!r} for a step named {e.name!r}")
    if e.parallel and (e.isolation != "isolated" or e.switch):
        raise _Impossible("a parallel branch is isolated and never becomes current")
    _caused(r, parent.created_offset)
    level, at = IsolationLevel(e.isolation), r.ts / 1e9
    entered = ExecutionContext(id=r.context, parent_id=e.parent, name=e.name, isolation=level, created_at=at)
    entered.created_offset, entered.is_parallel = r.offset, e.parallel
    add(tree, tree.contexts, r.context, entered)
    child(tree, parent.children, r.context)
    know(tree, (r.context,))
    if e.switch:
        assign(tree, tree, "current_id", r.context)


def _set(tree: ContextTree, r: Record, e: ValueSet) -> None:
    ctx = _live(tree, r.context)
    _caused(r, ctx.created_offset)
    if len(e.key) > MAX_NAME_BYTES // 4 and len(e.key.encode()) > MAX_NAME_BYTES:
        raise _Impossible(f"its key is longer than {MAX_NAME_BYTES} bytes")
    payload = r.payload
    if len(payload) > MAX_VALUE_BYTES + 4096 or (
        payload.count("[") + payload.count("{") > MAX_DEPTH and too_deep(payload.encode(), MAX_DEPTH + 1)
    ):  # a decoded payload is JSON by construction: only its size and depth (one level for the event) can be wrong
        check_value(e.value, e.key)
    put(tree, ctx.data, e.key, e.value)


def _deleted(tree: ContextTree, r: Record, e: Deleted) -> None:
    ctx = _live(tree, r.context)
    _caused(r, ctx.created_offset)
    if e.key not in ctx.data:
        raise _Impossible(f"it deletes {e.key!r}, which context {r.context!r} does not hold")
    remove(tree, ctx, e.key)


def _switched(tree: ContextTree, r: Record, e: Switched) -> None:
    _live(tree, r.context)
    _caused(r, tree.context().created_offset)
    assign(tree, tree, "current_id", r.context)


def _merged(tree: ContextTree, r: Record, e: Merged) -> None:
    parent = _live(tree, r.context, "parent")
    merging = tree.contexts.get(e.child)
    if merging is None or merging.parent_id != r.context:
        raise _Impossible(f"it merges {e.child!r}, which is not a child of {r.context!r}")
    _caused(r, merging.created_offset)
    data = merging.data if e.keys is None else {k: merging.data[k] for k in e.keys if k in merging.data}
    merge_into(parent.data, data, MergePolicy(e.policy), lambda data, key, value: put(tree, data, key, value))


def _close(tree: ContextTree, r: Record, status: str, switch: bool) -> None:
    ctx = _live(tree, r.context)
    if ctx.parent_id is None:
        raise _Impossible(f"it closes the root {r.context!r}")
    _live(tree, ctx.parent_id, "parent")
    _caused(r, ctx.created_offset)
    if any(tree.contexts[c].status == "active" for c in ctx.children):
        raise _Impossible(f"it closes {r.context!r} before its active children")
    if r.context == tree.current_id and not switch:
        raise _Impossible(f"it closes the current context {r.context!r} without moving current")
    assign(tree, ctx, "status", status)
    if switch:
        assign(tree, tree, "current_id", ctx.parent_id)


def _exited(tree: ContextTree, r: Record, e: Exited) -> None:
    _close(tree, r, "exited", e.switch)


def _failed(tree: ContextTree, r: Record, e: Failed) -> None:
    _close(tree, r, "failed", e.switch)


def _checkpoint(tree: ContextTree, r: Record, e: CheckpointTaken) -> None:
    if e.name in tree.checkpoints:
        raise _Impossible(f"the run already has a checkpoint {e.name!r}")
    if is_auto_name(e.name) != e.auto:
        raise _Impossible(f"checkpoint {e.name!r} is {'' if e.auto else 'not '}automatic")
    if r.context != tree.current_id:
        raise _Impossible(f"it is taken in {r.context!r}, which is not the current context")
    _caused(r, tree.context().created_offset)
    add(tree, tree.checkpoints, e.name, r.offset)


def _replacing(tree: ContextTree, r: Record, data: msgspec.Raw) -> None:
    state = decode_tree_state(data)
    try:
        check_tree_state(state)
    except CtxlogError as exc:
        raise _Impossible(f"the tree it carries is not a valid tree ({exc})") from None
    if r.context != state.current_id:
        raise _Impossible(f"it acts on {r.context!r}, but the tree it carries has {state.current_id!r} current")
    assign(tree, tree, "contexts", state.contexts)
    assign(tree, tree, "current_id", state.current_id)
    assign(tree, tree, "root_id", state.root_id)
    know(tree, state.contexts)


def _restored(tree: ContextTree, r: Record, e: Restored) -> None:
    if not 0 < e.target < r.offset or (e.checkpoint is not None and tree.checkpoints.get(e.checkpoint) != e.target):
        raise _Impossible(f"it restores offset {e.target} (checkpoint {e.checkpoint!r}), not a point before it")
    _caused(r, e.target)
    known = len(tree.known_ids)
    _replacing(tree, r, e.state)
    if len(tree.known_ids) != known:  # replace() adds the state's ids: a restore brings none new
        raise _Impossible("the tree it restores holds contexts the run never had")


def _loaded(tree: ContextTree, r: Record, e: Loaded) -> None:
    """A loaded tree's contexts came into this run with this event: causes must point inside the run."""
    _caused(r, tree.context().created_offset if tree.current_id is not None else None)
    _replacing(tree, r, e.state)
    for ctx in tree.contexts.values():
        ctx.created_offset = r.offset


def _forked(tree: ContextTree, r: Record, e: Forked) -> None:
    _caused(r, None)
    try:
        apply_fork(tree, r, e)
    except (ValueError, CtxlogError, msgspec.DecodeError, msgspec.ValidationError) as exc:
        raise _Impossible(f"it is not a valid fork: {exc}") from None


def _run_deleted(tree: ContextTree, r: Record, e: RunDeleted) -> None:
    """A tombstone, written on the current context with no cause, changes nothing in the tree."""
    _caused(r, None)
    if r.context != tree.current_id:
        raise _Impossible(f"it acts on {r.context!r} where the current context is {tree.current_id!r}")


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
    RunDeleted: _run_deleted,  # type: ignore[dict-item]
    Forked: _forked,  # type: ignore[dict-item]
}
_KIND = {cls: cls.__struct_config__.tag for cls in _HANDLERS}  # type: ignore[attr-defined]


def _set_checked(tree: ContextTree, r: Record, e: ValueSet) -> None:
    """A live ``set``: its value was checked against the limits before it was appended."""
    ctx = _live(tree, r.context)
    _caused(r, ctx.created_offset)
    put(tree, ctx.data, e.key, e.value)


_LIVE_HANDLERS = {**_HANDLERS, ValueSet: _set_checked}

_BROKEN = (msgspec.DecodeError, msgspec.ValidationError, KeyError, ValueError, TypeError, AttributeError)
_BROKEN += (RecursionError,)


def _unreplayable(record: Record, exc: Exception) -> IntegrityError:
    """A record that cannot be folded (undecodable, or one no operation writes) comes from a
    damaged or forged log: the error names its offset and why."""
    if isinstance(exc, _Impossible):
        reason = f"no operation writes this event: {exc}"
    else:
        reason = f"the event cannot be replayed ({type(exc).__name__}: {exc})"
    return IntegrityError(f"offset {record.offset}: {reason}; run ctxlog verify", record.offset, reason)


def _step(tree: ContextTree, record: Record, event: Event, seq: int, handlers: dict = _HANDLERS) -> None:
    """Check that ``record`` comes next in the run, then apply it."""
    if record.seq != seq + 1 or record.run != tree.run:
        raise _Impossible(f"it is seq {record.seq} of run {record.run!r} where seq {seq + 1} of {tree.run!r} is due")
    if _KIND.get(type(event)) != record.kind:
        raise _Impossible(f"its row says {record.kind!r} but its payload holds a {_KIND.get(type(event))!r} event")
    handlers[type(event)](tree, record, event)


def apply(tree: ContextTree, record: Record, event: Event | None = None) -> ContextTree:
    """Fold one record into ``tree``. ``event`` is its decoded payload when the caller has it: a
    live operation's, whose values were already checked against the limits."""
    try:
        if event is None:
            _step(tree, record, decode_event(record.payload), tree.seq)
        else:
            _step(tree, record, event, tree.seq, _LIVE_HANDLERS)
    except (_Impossible, *_BROKEN) as exc:
        raise _unreplayable(record, exc) from exc
    tree.offset = record.offset
    tree.seq = record.seq
    return tree


def fold(records: Iterable[Record], tree: ContextTree | None = None, run: str = "") -> ContextTree:
    """Fold ``records`` (one run, in order, from the tree's position on) into ``tree`` or into an
    empty tree of ``run``: the loop of :func:`apply`, with the position set once at the end."""
    if tree is None:
        tree = ContextTree(run)
    step, decode, last, seq = _step, decode_event, None, tree.seq
    try:
        for last in records:
            step(tree, last, decode(last.payload), seq)
            seq += 1
    except (_Impossible, *_BROKEN) as exc:
        assert last is not None
        raise _unreplayable(last, exc) from exc
    if last is not None:
        tree.offset, tree.seq = last.offset, last.seq
    return tree

"""The edits that the manager and its branch handles share: each one operation of a session.

Every edit takes the context it acts on (None: the current one), checks it against the live tree
first, so a refused edit appends nothing, then appends its events in one operation. Branches pass
their own context, so they never depend on (or move) the manager's current context.
"""

from __future__ import annotations

from typing import Any

import msgspec

from ..errors import ContextStateError, InvalidArgumentError, UnknownKeyError
from ..ledger import Deleted, Entered, Event, Exited, Failed, Merged, ValueSet
from ..projections import (
    ContextTree,
    ExecutionContext,
    IsolationLevel,
    MergePolicy,
    check_key,
    copy_value,
    encode_value,
)
from .arguments import name_arg
from .session import Session

__all__ = [
    "MAX_ERROR_CHARS",
    "close",
    "fail",
    "keys_arg",
    "leave",
    "live",
    "open_child",
    "read",
    "remove",
    "target",
    "write",
]

MAX_ERROR_CHARS = 1000
"""The longest exception type or message a ``failed`` event keeps."""


def live(s: Session, context_id: object) -> ExecutionContext:
    """The active context ``context_id``: UnknownContextError or ContextStateError otherwise."""
    ctx = s.tree.context(name_arg(context_id, "context_id"))
    if ctx.status != "active":
        raise ContextStateError(f"context {ctx.id!r} is {ctx.status}; only active contexts can take this")
    return ctx


def target(s: Session, context_id: str | None) -> ExecutionContext:
    """The context an edit acts on: ``context_id`` (active), else the current one."""
    return s.current() if context_id is None else live(s, context_id)


def write(s: Session, context_id: str | None, key: str, value: Any) -> None:
    """Set ``key`` to ``value`` in the context."""
    check_key(key)
    raw, copy = encode_value(value, key)
    with s.operation():
        ctx = target(s, context_id)
        event = ValueSet(key=key, value=msgspec.Raw(raw))
        s.append(event, ctx.id, ctx.created_offset, ValueSet(key=key, value=copy))


def read(s: Session, context_id: str | None, key: str, default: Any) -> Any:
    """A copy of the value ``key`` resolves to from the context, else ``default``."""
    check_key(key)
    with s.lock:
        return copy_value(s.tree.get(key, context_id, default))


def remove(s: Session, context_id: str | None, key: str) -> None:
    """Remove ``key`` from the context's own data (UnknownKeyError when it holds none)."""
    check_key(key)
    with s.operation():
        ctx = s.tree.contexts.get(s.tree.current_id) if context_id is None else live(s, context_id)  # type: ignore[arg-type]
        if ctx is None or key not in ctx.data:
            where = f"context {ctx.id!r}" if ctx is not None else f"run {s.run!r}"
            raise UnknownKeyError(f"{where} holds no key {key!r} of its own")
        s.append(Deleted(key=key), ctx.id, ctx.created_offset)


def _new_id(s: Session, name: str) -> str:
    """``name``, or ``name-2``, ``name-3`` … : ids are never reused in a run, not even after a restore."""
    known = s.tree.known_ids
    if name not in known:
        return name
    k = s.suffixes.get(name, 2)
    while f"{name}-{k}" in known:
        k += 1
    s.suffixes[name] = k + 1
    return f"{name}-{k}"


def open_child(
    s: Session,
    parent_id: str | None,
    name: str,
    isolation: IsolationLevel,
    *,
    parallel: bool = False,
    switch: bool = True,
) -> str:
    """Create a child of the context (current when ``switch``) and return its new id."""
    with s.operation():
        parent = target(s, parent_id)
        cid = _new_id(s, name)
        event = Entered(parent=parent.id, name=name, isolation=isolation.value, parallel=parallel, switch=switch)
        s.append(event, cid, parent.created_offset)
    return cid


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


def _active_descendants(tree: ContextTree, ctx: ExecutionContext) -> list[ExecutionContext]:
    """Active contexts below ``ctx``, children after their own children (iterative: any depth)."""
    contexts, order, stack = tree.contexts, [], [ctx]
    while stack:
        for child_id in stack.pop().children:
            child = contexts[child_id]
            if child.status == "active":
                order.append(child)
                stack.append(child)
    return order[::-1]


def keys_arg(keys: object) -> list[str] | None:
    """``keys`` (the keys a selective merge takes) as a list of distinct valid keys, or None for all."""
    if keys is None:
        return None
    if isinstance(keys, (str, bytes)) or not hasattr(keys, "__iter__"):
        raise InvalidArgumentError(f"keys must be a list of key names, not {type(keys).__name__}")
    chosen = [check_key(k) for k in keys]
    return list(dict.fromkeys(chosen))


def close(
    s: Session,
    ctx: ExecutionContext,
    merge: MergePolicy | None,
    error: BaseException | None = None,
    *,
    switch: bool = True,
    keys: list[str] | None = None,
) -> None:
    """Close ``ctx`` (merged into its parent first when ``merge``), its active descendants first,
    deepest first, so none is left stranded.

    A context closed while current hands current to its parent, so the tree after every event of
    the operation (where a replay or a restore may stop) has an active current context.
    """
    parent = s.tree.contexts[ctx.parent_id] if ctx.parent_id is not None else None
    if parent is None:
        raise ContextStateError(f"cannot exit the root context {ctx.id!r}")
    if parent.status != "active":
        raise ContextStateError(f"parent {parent.id!r} of {ctx.id!r} is {parent.status}; switch_to a live context")
    with s.operation():
        for open_child_ctx in _active_descendants(s.tree, ctx):
            moves = open_child_ctx.id == s.tree.current_id
            s.append(_closing(error, switch=moves), open_child_ctx.id, open_child_ctx.created_offset)
        if merge is not None:
            s.append(Merged(child=ctx.id, policy=merge.value, keys=keys), parent.id, ctx.created_offset)
        moves = switch or ctx.id == s.tree.current_id
        s.append(_closing(error, switch=moves), ctx.id, ctx.created_offset)


def leave(
    s: Session, context_id: str, merge: MergePolicy | None, *, switch: bool = True, keys: list[str] | None = None
) -> None:
    """Close the active context ``context_id`` normally (see :func:`close`)."""
    with s.lock:
        close(s, live(s, context_id), merge, switch=switch, keys=keys)


def fail(s: Session, context_id: str, exc: BaseException, *, switch: bool = True) -> None:
    """Record ``context_id`` failed because of ``exc``, which keeps propagating: if even that cannot
    be recorded, a note on ``exc`` says why (the caller's exception is never replaced)."""
    with s.lock:
        ctx = s.tree.contexts.get(context_id)
        if ctx is None or ctx.status != "active" or s.poisoned:
            return
        try:
            close(s, ctx, None, exc, switch=switch)
        except Exception as err:
            exc.add_note(f"ctxlog could not record {context_id!r} as failed: {type(err).__name__}: {err}")

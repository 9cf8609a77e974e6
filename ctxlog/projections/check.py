"""Invariants of a context tree, checked before a deserialized tree is accepted."""

from __future__ import annotations

from ..errors import DeserializeError, InvalidValueError
from .state import TREE_FORMAT, ExecutionContext, TreeState
from .values import check_value

__all__ = ["check_tree_state"]

STATUSES = frozenset({"active", "exited", "failed"})


def check_tree_state(state: TreeState, *, values: bool = True) -> None:
    """Raise DeserializeError naming the first broken invariant of ``state``.

    One root; every parent exists and lists its child exactly once; no cycles; the current
    context exists and is active; statuses are known; with ``values``, data values are
    JSON-shaped (a tree decoded from JSON holds nothing else but what is nested too deep).
    """
    if state.format != TREE_FORMAT:
        raise DeserializeError(f"unknown tree format {state.format!r}; expected {TREE_FORMAT!r}")
    contexts = state.contexts
    if state.root_id is None or state.root_id not in contexts:
        raise DeserializeError(f"root {state.root_id!r} is not among the contexts")
    if contexts[state.root_id].parent_id is not None:
        raise DeserializeError(f"root {state.root_id!r} has a parent")
    listed = 0
    for cid, ctx in contexts.items():
        _check_context(state, cid, ctx, values)
        listed += len(ctx.children)
    if listed != len(contexts) - 1:  # each child list is its own, without repeats: so each once
        raise DeserializeError("a context is missing from its parent's list of children")
    _check_acyclic(contexts)
    current = contexts.get(state.current_id) if state.current_id is not None else None
    if current is None:
        raise DeserializeError(f"current context {state.current_id!r} is not among the contexts")
    if current.status != "active":
        raise DeserializeError(f"current context {state.current_id!r} is {current.status}, not active")


def _check_context(state: TreeState, cid: str, ctx: ExecutionContext, values: bool) -> None:
    """One context: its id, status, links to its parent and children, and its values."""
    contexts = state.contexts
    if ctx.id != cid or not cid:
        raise DeserializeError(f"context stored under {cid!r} has id {ctx.id!r}")
    if "\x00" in cid:
        raise DeserializeError(f"context id {cid!r} holds a NUL character, which no ledger column stores")
    if ctx.status not in STATUSES:
        raise DeserializeError(f"context {cid!r} has unknown status {ctx.status!r}")
    if ctx.parent_id is None and cid != state.root_id:
        raise DeserializeError(f"context {cid!r} has no parent but is not the root")
    if ctx.parent_id is not None:
        if ctx.parent_id not in contexts:
            raise DeserializeError(f"context {cid!r} has a dangling parent {ctx.parent_id!r}")
    if len(set(ctx.children)) != len(ctx.children):
        raise DeserializeError(f"context {cid!r} lists a child twice")
    for child in ctx.children:
        if child not in contexts or contexts[child].parent_id != cid:
            raise DeserializeError(f"context {cid!r} lists {child!r}, which is not its child")
    for key, value in ctx.data.items() if values else ():
        try:
            check_value(value, f"{cid}:{key}")
        except InvalidValueError as exc:
            raise DeserializeError(str(exc)) from exc


def _check_acyclic(contexts: dict[str, ExecutionContext]) -> None:
    """Every chain of parents ends at the root: no context is its own ancestor."""
    rooted: set[str] = set()
    for cid in contexts:
        path: set[str] = set()
        at: str | None = cid
        while at is not None and at not in rooted:
            if at in path:
                raise DeserializeError(f"context {cid!r} is on a cycle of parents")
            path.add(at)
            at = contexts[at].parent_id
        rooted.update(path)

"""What changed between two states of a run's context tree: a pure function of two ContextTrees.

A diff is per context: contexts that appeared or disappeared (a restore can drop contexts), status
changes (active -> exited / failed), and the context's own top-level keys added, changed
(old -> new) or removed. Values are compared by their JSON form, so ``1`` and ``1.0`` or
``True`` and ``1`` count as different, as they do when read back.
"""

from __future__ import annotations

from typing import Any

import msgspec

from .state import ExecutionContext
from .tree import ContextTree

__all__ = ["ContextDiff", "KeyChange", "TreeDiff", "by_name_path", "diff_trees"]

_encoder = msgspec.json.Encoder(order="sorted")


class KeyChange(msgspec.Struct, frozen=True):
    """One top-level key of a context's own data: ``old`` is None when added, ``new`` when removed."""

    key: str
    """The key."""
    change: str
    """``"added"``, ``"changed"`` or ``"removed"``."""
    old: Any = None
    """The value before (None when added)."""
    new: Any = None
    """The value after (None when removed)."""


class ContextDiff(msgspec.Struct, frozen=True):
    """How one context differs: ``change`` is ``added``, ``removed``, ``status`` or ``data``."""

    id: str
    """The context's id."""
    change: str
    """``"added"``, ``"removed"``, ``"status"`` (its status changed) or ``"data"`` (only its keys)."""
    parent_id: str | None
    """Its parent's id."""
    isolation: str
    """Its isolation level's value."""
    is_parallel: bool
    """Whether it is a parallel branch."""
    old_status: str | None
    """Its status in tree ``a`` (None when added)."""
    new_status: str | None
    """Its status in tree ``b`` (None when removed)."""
    keys: list[KeyChange]
    """Its own top-level keys that differ."""


class TreeDiff(msgspec.Struct, frozen=True):
    """Every difference between tree ``a`` (at ``a_offset``) and tree ``b`` (at ``b_offset``)."""

    run: str
    """The run."""
    a_offset: int
    """The offset of tree ``a``."""
    b_offset: int
    """The offset of tree ``b``."""
    old_current: str | None
    """The current context in ``a``."""
    new_current: str | None
    """The current context in ``b``."""
    contexts: list[ContextDiff]
    """One entry per context that differs, in ``b``'s order, then those only ``a`` has."""

    @property
    def empty(self) -> bool:
        """Whether the two trees hold the same state."""
        return not self.contexts and self.old_current == self.new_current


def _same(x: Any, y: Any) -> bool:
    return _encoder.encode(x) == _encoder.encode(y)


def _keys(old: dict[str, Any], new: dict[str, Any]) -> list[KeyChange]:
    changes = [
        KeyChange(key, "added", new=value) if key not in old else KeyChange(key, "changed", old[key], value)
        for key, value in new.items()
        if key not in old or not _same(old[key], value)
    ]
    changes += [KeyChange(key, "removed", old=value) for key, value in old.items() if key not in new]
    return changes


def _context(
    ctx: ExecutionContext, change: str, old: str | None, new: str | None, keys: list[KeyChange]
) -> ContextDiff:
    return ContextDiff(ctx.id, change, ctx.parent_id, ctx.isolation.value, ctx.is_parallel, old, new, keys)


def diff_trees(a: ContextTree, b: ContextTree) -> TreeDiff:
    """The changes that lead from tree ``a`` to tree ``b`` (of the same run), in ``b``'s order."""
    contexts: list[ContextDiff] = []
    for cid, new in b.contexts.items():
        old = a.contexts.get(cid)
        if old is None:
            contexts.append(_context(new, "added", None, new.status, _keys({}, new.data)))
            continue
        keys = _keys(old.data, new.data)
        if old.status != new.status:
            contexts.append(_context(new, "status", old.status, new.status, keys))
        elif keys:
            contexts.append(_context(new, "data", old.status, new.status, keys))
    for cid, old in a.contexts.items():
        if cid not in b.contexts:
            contexts.append(_context(old, "removed", old.status, None, _keys(old.data, {})))
    return TreeDiff(b.run or a.run, a.offset, b.offset, a.current_id, b.current_id, contexts)


def by_name_path(tree: ContextTree) -> ContextTree:
    """``tree`` with each context keyed by its name path from the root (``root/plan/fetch``; a
    second sibling of the same name is ``fetch#2``), so that two runs (a fork and its source, or
    two runs of one plan whose ids differ) compare context by context."""
    paths: dict[str, str] = {}
    out = ContextTree(tree.run)
    out.offset, out.seq, out.checkpoints = tree.offset, tree.seq, dict(tree.checkpoints)
    order = [tree.root_id] if tree.root_id is not None else []
    while order:
        cid = order.pop(0)
        ctx = tree.contexts[cid]
        parent = paths.get(ctx.parent_id) if ctx.parent_id is not None else None
        base = ctx.name if parent is None else f"{parent}/{ctx.name}"
        path, n = base, 1
        while path in out.contexts:
            n += 1
            path = f"{base}#{n}"
        paths[cid] = path
        out.contexts[path] = msgspec.structs.replace(ctx, id=path, parent_id=parent, children=[])
        if parent is not None:
            out.contexts[parent].children.append(path)
        order.extend(ctx.children)
    out.current_id = paths.get(tree.current_id) if tree.current_id is not None else None
    out.root_id = paths.get(tree.root_id) if tree.root_id is not None else None
    return out

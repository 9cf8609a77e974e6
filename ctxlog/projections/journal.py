"""Undo records for a live tree: what a failed operation puts back, in the time it took to change.

While a tree's ``journal`` is a list, every change the fold makes is noted there as the means to
take it back (the old value of a key, the previous current context, a context added …);
:func:`revert_journal` takes the changes back, newest first, to a mark. A rolled-back transaction thus
costs what it changed, not a rebuild of the tree. Values are never changed in place (a merge makes
new maps), so noting a reference is enough. A journal that grows past MAX_ENTRIES is dropped: the
caller then rebuilds the tree from the log, as without one.
"""

from __future__ import annotations

from typing import Any

from .tree import ContextTree

__all__ = [
    "MAX_ENTRIES", "add", "assign", "child", "journal_mark", "know", "put", "remove", "revert_journal", "start_journal",
]  # fmt: skip

MAX_ENTRIES = 1 << 20
"""Changes one journal holds at most; past that it is dropped and a failure rebuilds from the log."""

_MISSING = object()
_DATA, _ATTR, _ADDED, _CHILD, _KNOWN = range(5)


def start_journal(tree: ContextTree) -> None:
    """Begin noting the changes of ``tree`` (its position included)."""
    tree.journal = [(_ATTR, tree, "offset", tree.offset), (_ATTR, tree, "seq", tree.seq)]


def _note(tree: ContextTree, entry: tuple) -> None:
    journal = tree.journal
    if journal is not None:
        journal.append(entry)
        if len(journal) > MAX_ENTRIES:
            tree.journal = None


def put(tree: ContextTree, data: dict[str, Any], key: str, value: Any) -> None:
    """``data[key] = value``, noted."""
    if tree.journal is not None:
        _note(tree, (_DATA, data, key, data.get(key, _MISSING)))
    data[key] = value


def remove(tree: ContextTree, owner: Any, key: str) -> None:
    """Delete ``key`` from ``owner.data``; noted as the whole old map (a key put back would come
    last, and the order of keys is part of the tree)."""
    if tree.journal is None:
        del owner.data[key]
        return
    _note(tree, (_ATTR, owner, "data", owner.data))
    owner.data = {k: v for k, v in owner.data.items() if k != key}


def assign(tree: ContextTree, owner: Any, name: str, value: Any) -> None:
    """``setattr(owner, name, value)``, noted."""
    if tree.journal is not None:
        _note(tree, (_ATTR, owner, name, getattr(owner, name)))
    setattr(owner, name, value)


def add(tree: ContextTree, mapping: dict[str, Any], key: str, value: Any) -> None:
    """A new ``key`` in ``mapping`` (a tree's contexts or checkpoints), noted."""
    if tree.journal is not None:
        _note(tree, (_ADDED, mapping, key))
    mapping[key] = value


def child(tree: ContextTree, children: list[str], cid: str) -> None:
    """``cid`` appended to a context's ``children``, noted."""
    if tree.journal is not None:
        _note(tree, (_CHILD, children))
    children.append(cid)


def know(tree: ContextTree, ids: Any) -> None:
    """``ids`` added to the tree's known ids, the new ones noted."""
    if tree.journal is not None:
        new = [cid for cid in ids if cid not in tree.known_ids]
        if new:
            _note(tree, (_KNOWN, new))
    tree.known_ids.update(ids)


def journal_mark(tree: ContextTree) -> int | None:
    """A mark to revert to, the tree's position noted with it (None when there is no journal)."""
    journal = tree.journal
    if journal is None:
        return None
    at = len(journal)
    journal += [(_ATTR, tree, "offset", tree.offset), (_ATTR, tree, "seq", tree.seq)]
    return at


def revert_journal(tree: ContextTree, to: int = 0) -> bool:
    """Take back the changes noted after mark ``to``, newest first; False when the journal was
    dropped (or never started), and the tree must be rebuilt from the log instead."""
    journal = tree.journal
    if journal is None:
        return False
    while len(journal) > to:
        entry = journal.pop()
        op = entry[0]
        if op == _DATA:
            _, data, key, old = entry
            if old is _MISSING:
                del data[key]
            else:
                data[key] = old
        elif op == _ATTR:
            setattr(entry[1], entry[2], entry[3])
        elif op == _ADDED:
            del entry[1][entry[2]]
        elif op == _CHILD:
            entry[1].pop()
        else:
            tree.known_ids.difference_update(entry[1])
    return True

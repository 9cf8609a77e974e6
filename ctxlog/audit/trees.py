"""The tree of a run at a point of its history, and what a key or a diff says about it.

A point is a checkpoint name or an offset (the head when None); the tree there is the fold of the
run's log up to it, from the newest snapshot the ledger vouches for.
"""

from __future__ import annotations

from typing import Any

from ..errors import UnknownKeyError, shown
from ..ledger import Progress
from ..manager import load_tree
from ..projections import ContextTree, TreeDiff, by_name_path, diff_trees
from .access import opened

__all__ = ["diff", "get", "replay", "tree"]


def replay(
    path: str,
    *,
    run: str | None = None,
    until: str | int | None = None,
    verify: bool = False,
    key: bytes | str | None = None,
    progress: Progress | None = None,
) -> ContextTree:
    """The context tree of a run at a checkpoint name or offset ``until`` (the head when None).

    Opens the ledger at ``path`` read-only; ``run`` may be left out when the ledger holds one run.
    With ``verify`` the chain of the rows folded is checked as they stream (a keyed ledger needs
    its ``key``); ``progress(done, total)`` is called every 10,000 events folded.
    """
    with opened(path, key) as ledger:
        chosen = ledger.choose_run(run)
        return load_tree(ledger, chosen, ledger.resolve(chosen, until), verify=verify, progress=progress)


def tree(
    path: str,
    *,
    run: str | None = None,
    verify: bool = False,
    key: bytes | str | None = None,
    progress: Progress | None = None,
) -> ContextTree:
    """The context tree at the head of a run: :func:`replay` without ``until`` (same ``path``,
    ``run``, ``verify``, ``key`` and ``progress``)."""
    return replay(path, run=run, verify=verify, key=key, progress=progress)


def get(
    path: str,
    key: str,
    *,
    run: str | None = None,
    context: str | None = None,
    until: str | int | None = None,
    verify: bool = False,
    ledger_key: bytes | str | None = None,
) -> Any:
    """The value of ``key`` as ``context`` (default: the current one) resolves it in ``run`` at
    ``until``; UnknownKeyError when no context on the lookup path holds it.

    A stored ``None`` is a value and is returned. ``verify`` and ``ledger_key`` are ``replay``'s
    ``verify`` and ``key``.
    """
    at = replay(path, run=run, until=until, verify=verify, key=ledger_key)
    if context is None and at.current_id is None:
        raise UnknownKeyError(f"run {shown(at.run)} has no contexts at offset {at.offset}, so no key {shown(key)}")
    if not at.has(key, context):
        where = context if context is not None else at.current_id
        raise UnknownKeyError(
            f"key {shown(key)} does not resolve from context {shown(where)} in run {shown(at.run)} "
            f"at offset {at.offset}"
        )
    return at.get(key, context)


def diff(
    path: str,
    a: str | int,
    b: str | int,
    *,
    run: str | None = None,
    against: str | None = None,
    verify: bool = False,
    key: bytes | str | None = None,
) -> TreeDiff:
    """What changed in ``run`` of the ledger at ``path`` between checkpoints (or offsets) ``a`` and
    ``b``: contexts added and removed, status changes, and each context's own keys added, changed
    and removed. With ``against``, ``b`` is a point of that other run (a fork, another run of the
    plan; None or "" for the head) and contexts are matched by their name path, not their id.
    ``verify`` and ``key`` are ``replay``'s."""
    with opened(path, key) as ledger:
        chosen = ledger.choose_run(run)
        old = load_tree(ledger, chosen, ledger.resolve(chosen, a), verify=verify)
        other = chosen if against is None else ledger.choose_run(against)
        new = load_tree(ledger, other, ledger.resolve(other, b if b != "" else None), verify=verify)
    return diff_trees(old, new) if against is None else diff_trees(by_name_path(old), by_name_path(new))

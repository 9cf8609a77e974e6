"""The shapes of a tree's state: one context, a serialized tree, and everything the fold keeps.

Plain Structs, decoded and encoded by msgspec: what ``serialize`` writes, what ``restored`` and
``loaded`` events carry, and what a snapshot caches. Their invariants are checked in ``check.py``;
the behaviour of a tree is ``ContextTree`` in ``tree.py``.
"""

from __future__ import annotations

from typing import Any

import msgspec

from .policies import IsolationLevel
from .values import json_copy

__all__ = ["TREE_FORMAT", "ExecutionContext", "ProjectionState", "TreeState", "decode_tree_state"]

TREE_FORMAT = "ctxlog.tree/1"


class ExecutionContext(msgspec.Struct, kw_only=True):
    """One context of a run: its own data, its place in the tree, its status and metadata."""

    id: str
    """Unique in the run, never reused: the step's name, or ``name-2``, ``name-3`` … when taken."""
    parent_id: str | None
    """The parent's id; None for the root."""
    name: str
    """The name it was opened with."""
    isolation: IsolationLevel = IsolationLevel.INHERIT
    """How it reads its ancestors' data (see IsolationLevel)."""
    data: dict[str, Any] = {}
    """Its own values, by key, in the order they were first set."""
    children: list[str] = []
    """The ids of its children, in creation order."""
    status: str = "active"
    """``"active"``, ``"exited"`` or ``"failed"``; only an active context can be current or written."""
    created_offset: int = 0
    """The offset of the event that created it in this run (the ``cause`` of events inside it)."""
    created_at: float = 0.0
    """When it was created: seconds since the epoch."""
    is_parallel: bool = False
    """Whether it was created as a parallel branch."""

    def copy(self) -> ExecutionContext:
        """An independent deep copy (changing it changes nothing in the tree)."""
        return json_copy(self, ExecutionContext)  # type: ignore[no-any-return]


class TreeState(msgspec.Struct, kw_only=True, forbid_unknown_fields=True):
    """The serialized form of a tree: what ``serialize`` writes and ``restored``/``loaded`` carry."""

    format: str = TREE_FORMAT
    root_id: str | None = None
    current_id: str | None = None
    contexts: dict[str, ExecutionContext] = {}


class ProjectionState(msgspec.Struct, kw_only=True):
    """Everything the fold keeps: the tree plus the run-wide facts a restore must not forget."""

    tree: TreeState
    run: str = ""
    offset: int = 0
    seq: int = 0
    checkpoints: dict[str, int] = {}
    known_ids: list[str] = []


_tree_state_decoder = msgspec.json.Decoder(TreeState)


def decode_tree_state(data: bytes | str) -> TreeState:
    """Decode serialized tree bytes; raises msgspec errors on malformed input."""
    return _tree_state_decoder.decode(data)

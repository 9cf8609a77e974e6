"""The context tree: what the fold of a run's events produces, and how a key resolves in it."""

from __future__ import annotations

import zlib
from typing import Any

import msgspec

from ..errors import UnknownContextError
from .policies import IsolationLevel
from .values import json_copy

__all__ = ["TREE_FORMAT", "ContextTree", "ExecutionContext", "ProjectionState", "TreeState", "decode_tree_state"]

TREE_FORMAT = "ctxlog.tree/1"

_MISSING = object()


class ExecutionContext(msgspec.Struct, kw_only=True):
    """One context of a run: its own data, its place in the tree, its status and metadata."""

    id: str
    parent_id: str | None
    name: str
    isolation: IsolationLevel = IsolationLevel.INHERIT
    data: dict[str, Any] = {}
    children: list[str] = []
    status: str = "active"
    created_offset: int = 0
    created_at: float = 0.0
    is_parallel: bool = False

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


_state_encoder = msgspec.json.Encoder()
_sorted_encoder = msgspec.json.Encoder(order="sorted")
_tree_state_decoder = msgspec.json.Decoder(TreeState)
_projection_decoder = msgspec.json.Decoder(ProjectionState)


class ContextTree:
    """The contexts of one run at one offset.

    Equality compares the state (contexts, current and root), not positions in a log (``offset``,
    creation offsets) nor the run-wide checkpoint index: the tree restored from a checkpoint equals
    the tree at it, and a deserialized tree equals the one serialized.
    """

    __slots__ = ("contexts", "current_id", "root_id", "checkpoints", "offset", "seq", "run", "known_ids")

    def __init__(self, run: str = "") -> None:
        self.contexts: dict[str, ExecutionContext] = {}
        self.current_id: str | None = None
        self.root_id: str | None = None
        self.checkpoints: dict[str, int] = {}
        self.offset = 0
        self.seq = 0
        self.run = run
        self.known_ids: set[str] = set()

    # -- reading ---------------------------------------------------------------------------------

    def context(self, context_id: str | None = None) -> ExecutionContext:
        """The context with that id (the current one when None)."""
        cid = self.current_id if context_id is None else context_id
        ctx = self.contexts.get(cid) if cid is not None else None
        if ctx is None:
            if cid is None:
                raise UnknownContextError("the run has no context yet; initialize() or set() a value first")
            raise UnknownContextError(f"no context {cid!r} in run {self.run!r}")
        return ctx

    def lookup(self, key: str, context_id: str | None = None) -> Any:
        """The value ``key`` resolves to from that context, or the module's missing marker.

        Own data first; then, while the context looked at is not SANDBOXED, its parent's.
        """
        if context_id is None and self.current_id is None:
            return _MISSING
        ctx: ExecutionContext | None = self.context(context_id)
        contexts = self.contexts
        while ctx is not None:
            data = ctx.data
            if key in data:
                return data[key]
            if ctx.isolation is IsolationLevel.SANDBOXED or ctx.parent_id is None:
                return _MISSING
            ctx = contexts.get(ctx.parent_id)
        return _MISSING

    def get(self, key: str, context_id: str | None = None, default: Any = None) -> Any:
        """The value of ``key`` as that context (default: current) resolves it, else ``default``."""
        value = self.lookup(key, context_id)
        return default if value is _MISSING else value

    def has(self, key: str, context_id: str | None = None) -> bool:
        """Whether ``key`` resolves from that context (a stored None counts)."""
        return self.lookup(key, context_id) is not _MISSING

    def path(self, context_id: str | None = None) -> list[str]:
        """Ids from the root down to that context."""
        ids = []
        ctx: ExecutionContext | None = self.context(context_id)
        while ctx is not None:
            ids.append(ctx.id)
            ctx = self.contexts.get(ctx.parent_id) if ctx.parent_id is not None else None
        return ids[::-1]

    def depth(self, context_id: str | None = None) -> int:
        """1 for the root, 2 for its children …; 0 for a run without contexts."""
        if context_id is None and self.current_id is None:
            return 0
        return len(self.path(context_id))

    # -- state -----------------------------------------------------------------------------------

    def state(self) -> TreeState:
        return TreeState(root_id=self.root_id, current_id=self.current_id, contexts=self.contexts)

    def to_bytes(self) -> bytes:
        """The serialized tree: contexts (in creation order, data in insertion order), current, root."""
        return _state_encoder.encode(self.state())

    def to_dict(self) -> dict[str, Any]:
        """The JSON shape of DESIGN section 4, for ``--json`` output."""
        contexts = {
            cid: {
                "id": c.id,
                "parent_id": c.parent_id,
                "name": c.name,
                "isolation": c.isolation.value,
                "status": c.status,
                "data": c.data,
                "children": list(c.children),
                "created_offset": c.created_offset,
                "created_at": c.created_at,
                "is_parallel": c.is_parallel,
            }
            for cid, c in self.contexts.items()
        }
        return {
            "run": self.run,
            "offset": self.offset,
            "current_id": self.current_id,
            "root_id": self.root_id,
            "checkpoints": dict(self.checkpoints),
            "contexts": contexts,
        }

    def projection(self) -> ProjectionState:
        """Everything the fold keeps, as one Struct (shared with the tree, not a copy)."""
        return ProjectionState(
            tree=self.state(),
            run=self.run,
            offset=self.offset,
            seq=self.seq,
            checkpoints=self.checkpoints,
            known_ids=sorted(self.known_ids),
        )

    def snapshot_bytes(self, compress: bool = False) -> bytes:
        """The whole projection, for the snapshot cache (zlib-compressed JSON when ``compress``)."""
        data = _state_encoder.encode(self.projection())
        return zlib.compress(data, 6) if compress else data

    @classmethod
    def from_snapshot(cls, data: bytes) -> ContextTree:
        """The tree of :meth:`snapshot_bytes` (compressed or not); msgspec or zlib errors on garbage."""
        if data[:1] == b"x":
            data = zlib.decompress(data)
        return cls.from_projection(_projection_decoder.decode(data))

    @classmethod
    def from_projection(cls, state: ProjectionState) -> ContextTree:
        """The tree holding ``state`` (taken over, not copied)."""
        tree = cls(state.run)
        tree.replace(state.tree)
        tree.offset, tree.seq = state.offset, state.seq
        tree.checkpoints = state.checkpoints
        tree.known_ids = set(state.known_ids)
        return tree

    def replace(self, state: TreeState) -> None:
        """Take the contexts, current and root of ``state``; run-wide facts are kept."""
        self.contexts = state.contexts
        self.current_id = state.current_id
        self.root_id = state.root_id
        self.known_ids.update(state.contexts)

    def copy(self) -> ContextTree:
        """An independent deep copy."""
        return ContextTree.from_projection(json_copy(self.projection(), ProjectionState))

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, ContextTree):
            return NotImplemented
        return self._comparable() == other._comparable()

    def _comparable(self) -> bytes:
        """The state, types included (1 != 1.0 != True), without creation offsets (positions in a log)."""
        contexts = {
            cid: (c.parent_id, c.name, c.isolation, c.data, c.children, c.status, c.created_at, c.is_parallel)
            for cid, c in self.contexts.items()
        }
        return _sorted_encoder.encode((self.root_id, self.current_id, contexts))

    __hash__ = None  # type: ignore[assignment]

    def __repr__(self) -> str:
        return (
            f"ContextTree(run={self.run!r}, offset={self.offset}, root_id={self.root_id!r}, "
            f"current_id={self.current_id!r}, contexts={len(self.contexts)})"
        )


def decode_tree_state(data: bytes | str) -> TreeState:
    """Decode serialized tree bytes; raises msgspec errors on malformed input."""
    return _tree_state_decoder.decode(data)

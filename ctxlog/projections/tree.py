"""The context tree: what the fold of a run's events produces, and how a key resolves in it."""

from __future__ import annotations

import zlib
from typing import Any

import msgspec

from ..errors import CtxlogError, UnknownContextError, shown
from .check import check_tree_state
from .policies import IsolationLevel
from .state import ExecutionContext, ProjectionState, TreeState
from .values import json_copy

__all__ = ["MAX_SNAPSHOT_BYTES", "UNREADABLE_SNAPSHOT", "ContextTree", "identical", "inflated"]

MAX_SNAPSHOT_BYTES = 256 << 20
"""The most a cached snapshot may inflate to; a larger one is not read (the fold starts earlier)."""

UNREADABLE_SNAPSHOT = (msgspec.MsgspecError, zlib.error, ValueError, TypeError, RecursionError, CtxlogError)
"""What decoding a damaged or forged snapshot raises: a reader skips such a snapshot."""

_MISSING = object()
_state_encoder = msgspec.json.Encoder()
_sorted_encoder = msgspec.json.Encoder(order="sorted")
_projection_decoder = msgspec.json.Decoder(ProjectionState)


class ContextTree:
    """The contexts of one run at one offset: what the fold of a run's events produces.

    ``contexts`` maps each id to its ExecutionContext (in creation order); ``current_id`` and
    ``root_id`` name the current context and the root (None before the run has one);
    ``checkpoints`` maps each checkpoint name of the run to its offset; ``offset`` and ``seq`` are
    the position of the last event folded, in the log and in the run; ``run`` is the run's name;
    ``known_ids`` every context id the run ever had (restores included), so none is reused;
    ``journal`` the undo records of a live tree while an operation or transaction is open (None
    otherwise: see ``start_journal``).

    Equality compares the state (contexts, current and root), not positions in a log (``offset``,
    creation offsets) nor the run-wide checkpoint index: the tree restored from a checkpoint equals
    the tree at it, and a deserialized tree equals the one serialized.
    """

    __slots__ = ("contexts", "current_id", "root_id", "checkpoints", "offset", "seq", "run", "known_ids", "journal")

    def __init__(self, run: str = "") -> None:
        self.contexts: dict[str, ExecutionContext] = {}
        self.current_id: str | None = None
        self.root_id: str | None = None
        self.checkpoints: dict[str, int] = {}
        self.offset = 0
        self.seq = 0
        self.run = run
        self.known_ids: set[str] = set()
        self.journal: list[tuple] | None = None  # see journal.py: the live tree's undo records

    # -- reading ---------------------------------------------------------------------------------

    def context(self, context_id: str | None = None) -> ExecutionContext:
        """The context ``context_id`` (the current one when None); UnknownContextError when none."""
        cid = self.current_id if context_id is None else context_id
        ctx = self.contexts.get(cid) if cid is not None else None
        if ctx is None:
            if cid is None:
                raise UnknownContextError("the run has no context yet; initialize() or set() a value first")
            raise UnknownContextError(f"no context {shown(cid)} in run {shown(self.run)}")
        return ctx

    def _lookup(self, key: str, context_id: str | None = None) -> Any:
        """The value ``key`` resolves to from context ``context_id``, or the module's missing marker.

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
        """The value of ``key`` as context ``context_id`` (default: current) resolves it, else ``default``."""
        value = self._lookup(key, context_id)
        return default if value is _MISSING else value

    def has(self, key: str, context_id: str | None = None) -> bool:
        """Whether ``key`` resolves from context ``context_id`` (a stored None counts)."""
        return self._lookup(key, context_id) is not _MISSING

    def path(self, context_id: str | None = None) -> list[str]:
        """Ids from the root down to context ``context_id`` (the current one when None)."""
        ids = []
        ctx: ExecutionContext | None = self.context(context_id)
        while ctx is not None:
            ids.append(ctx.id)
            ctx = self.contexts.get(ctx.parent_id) if ctx.parent_id is not None else None
        return ids[::-1]

    def depth(self, context_id: str | None = None) -> int:
        """The depth of context ``context_id`` (current when None): 1 for the root, 2 for its children …;
        0 for a run without contexts."""
        if context_id is None and self.current_id is None:
            return 0
        return len(self.path(context_id))

    # -- state -----------------------------------------------------------------------------------

    def state(self) -> TreeState:
        """The tree as a TreeState (its contexts shared, not copied)."""
        return TreeState(root_id=self.root_id, current_id=self.current_id, contexts=self.contexts)

    def to_bytes(self) -> bytes:
        """The serialized tree: contexts (in creation order, data in insertion order), current, root."""
        return _state_encoder.encode(self.state())

    def to_dict(self) -> dict[str, Any]:
        """The tree as plain JSON-shaped data: the ``--json`` shape of the command line."""
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
        """The whole projection as JSON bytes for the snapshot cache (zlib-compressed when ``compress``)."""
        data = _state_encoder.encode(self.projection())
        return zlib.compress(data, 6) if compress else data

    @classmethod
    def from_snapshot(cls, data: bytes) -> ContextTree:
        """The tree of ``data`` made by :meth:`snapshot_bytes` (compressed or not), once it is a
        valid tree; one of UNREADABLE_SNAPSHOT on anything else (garbage, a decompression bomb past
        MAX_SNAPSHOT_BYTES, a tree with a dangling child or a cycle)."""
        state = _projection_decoder.decode(inflated(data))
        check_tree_state(state.tree, values=False)
        if not state.tree.contexts.keys() <= set(state.known_ids):
            raise ValueError("a snapshot's contexts are not all among the ids it says the run used")
        return cls.from_projection(state)

    @classmethod
    def from_projection(cls, state: ProjectionState) -> ContextTree:
        """The tree holding the ProjectionState ``state`` (taken over, not copied)."""
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
        return _comparable(self) == _comparable(other)

    __hash__ = None  # type: ignore[assignment]

    def __repr__(self) -> str:
        return (
            f"ContextTree(run={self.run!r}, offset={self.offset}, root_id={self.root_id!r}, "
            f"current_id={self.current_id!r}, contexts={len(self.contexts)})"
        )


def inflated(data: bytes) -> bytes:
    """The JSON of a snapshot: ``data`` itself, or decompressed when zlib-compressed (at most
    MAX_SNAPSHOT_BYTES; past that, ValueError: a decompression bomb is not read)."""
    if data[:1] != b"x":
        return data
    inflater = zlib.decompressobj()
    out = inflater.decompress(data, MAX_SNAPSHOT_BYTES)
    if inflater.unconsumed_tail:
        raise ValueError(f"a snapshot inflates past {MAX_SNAPSHOT_BYTES} bytes")
    return out


def identical(a: ContextTree, b: ContextTree) -> bool:
    """Whether two trees hold the same projection, run-wide facts and positions included (what a
    snapshot must hold to stand for the fold at its offset), types compared as JSON shows them."""
    return _sorted_encoder.encode(a.projection()) == _sorted_encoder.encode(b.projection())


def _comparable(tree: ContextTree) -> bytes:
    """The state, types included (1 != 1.0 != True), without creation offsets (positions in a log)."""
    contexts = {
        cid: (c.parent_id, c.name, c.isolation, c.data, c.children, c.status, c.created_at, c.is_parallel)
        for cid, c in tree.contexts.items()
    }
    return _sorted_encoder.encode((tree.root_id, tree.current_id, contexts))

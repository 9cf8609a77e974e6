"""Checkpoints, restore, serialize and deserialize: the operations that move through a run's history.

A mixin of ContextManager, kept apart so each module stays small; it uses the manager's
primitives (``_writing``, ``_append``, ``_current``) and its lock.
"""

from __future__ import annotations

import threading
from typing import TYPE_CHECKING

import msgspec

from .arguments import name_arg
from .errors import (
    DeserializeError,
    DuplicateCheckpointError,
    InvalidArgumentError,
    NotInitializedError,
    UnknownCheckpointError,
)
from .ledger.events import CheckpointTaken, Event, Loaded, Record, Restored
from .ledger.log import Ledger
from .ledger.store import Snapshot
from .projections.check import check_tree_state
from .projections.tree import ContextTree, ExecutionContext, decode_tree_state
from .replay import load_tree, resolve_until

if TYPE_CHECKING:
    from .operation import Operation

SNAPSHOT_GROWTH = 8
"""A snapshot is written only once the log has grown by this many times the last one's size."""

AUTO_PREFIX = "auto-"
_encoder = msgspec.json.Encoder()


class Checkpoint(msgspec.Struct, frozen=True):
    """A named point of a run: restoring it, or replaying until it, gives the tree after ``offset``."""

    name: str
    offset: int
    run: str


class TimeTravelMixin:
    """``checkpoint``/``restore`` and ``serialize``/``deserialize`` of ContextManager."""

    _lock: threading.RLock
    _tree: ContextTree
    _run: str
    _ledger: Ledger
    _since_snapshot: int
    _snapshot_size: int

    if TYPE_CHECKING:
        def _writing(self) -> Operation: ...
        def _append(self, event: Event, context: str, cause: int | None, folded: Event | None = None) -> Record: ...
        def _current(self) -> ExecutionContext: ...

    def _checkpoint(self, name: str, auto: bool = False) -> Record:
        ctx = self._tree.context()
        record = self._append(CheckpointTaken(name=name, auto=auto), ctx.id, ctx.created_offset)
        self._snapshot(record)
        return record

    def _snapshot(self, record: Record | None) -> None:
        """Cache the projection after ``record`` (the last one folded) so replays can start here.

        Skipped while the log has grown by less than SNAPSHOT_GROWTH times the last snapshot's
        size: the cache stays a fraction of the log even when the tree grows with the run.
        """
        if record is None or record.seq != self._tree.seq:
            return
        if self._since_snapshot < SNAPSHOT_GROWTH * self._snapshot_size:
            return
        state = self._tree.snapshot_bytes(compress=True)
        tag = self._ledger.chain.snapshot_tag(record.hash, state)
        self._ledger.put_snapshot(Snapshot(self._run, record.seq, record.offset, tag, state))
        self._since_snapshot, self._snapshot_size = 0, len(state)

    def checkpoint(self, name: str) -> Checkpoint:
        """Record a checkpoint; restore it or replay until it later by ``name`` or its offset."""
        name_arg(name, "name")
        if name.startswith(AUTO_PREFIX) and name[len(AUTO_PREFIX):].isdigit():
            raise InvalidArgumentError(f"checkpoint name {name!r} is reserved for automatic checkpoints")
        with self._writing():
            if name in self._tree.checkpoints:
                raise DuplicateCheckpointError(
                    f"run {self._run!r} already has a checkpoint {name!r} (offset {self._tree.checkpoints[name]})"
                )
            self._current()
            record = self._checkpoint(name)
        return Checkpoint(name, record.offset, self._run)

    def restore(self, checkpoint: str | int) -> None:
        """Make the tree exactly as it was at a checkpoint (by name) or an offset of this run."""
        if isinstance(checkpoint, bool) or not isinstance(checkpoint, (str, int)):
            raise InvalidArgumentError(f"restore takes a checkpoint name or an offset, not {checkpoint!r}")
        with self._writing():
            if self._tree.seq == 0:
                raise UnknownCheckpointError(f"run {self._run!r} has no events to restore")
            offset = self._tree.checkpoints.get(checkpoint) if isinstance(checkpoint, str) else None
            if offset is None:
                offset = resolve_until(self._ledger, self._run, checkpoint)
            assert offset is not None
            target = load_tree(self._ledger, self._run, offset)
            name = checkpoint if isinstance(checkpoint, str) and checkpoint in self._tree.checkpoints else None
            event = Restored(target=offset, state=msgspec.Raw(target.to_bytes()), checkpoint=name)
            assert target.current_id is not None
            self._append(event, target.current_id, offset)

    def serialize(self) -> bytes:
        """The whole tree (contexts, current, root) as JSON bytes; appends nothing."""
        with self._lock:
            if self._tree.root_id is None:
                raise NotInitializedError(f"run {self._run!r} has no tree to serialize yet")
            return self._tree.to_bytes()

    def deserialize(self, data: bytes | str) -> None:
        """Replace the whole tree, current context included, with a serialized one."""
        if not isinstance(data, (bytes, bytearray, memoryview, str)):
            raise DeserializeError(f"deserialize takes bytes, not {type(data).__name__}")
        try:
            state = decode_tree_state(bytes(data) if not isinstance(data, str) else data)
        except (msgspec.DecodeError, msgspec.ValidationError, RecursionError) as exc:
            raise DeserializeError(f"not a serialized context tree: {exc}") from exc
        check_tree_state(state)
        payload = msgspec.Raw(_encoder.encode(state))
        with self._writing():
            cause = self._tree.context().created_offset if self._tree.current_id is not None else None
            self._append(Loaded(state=payload), state.current_id, cause)  # type: ignore[arg-type]

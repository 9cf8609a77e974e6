"""Checkpoints, restore, serialize and deserialize: the operations that move through a run's history.

A checkpoint is the offset of its event; restoring one appends a ``restored`` event carrying the
tree as it stood there (the log is never rewritten); deserializing appends a ``loaded`` event.
"""

from __future__ import annotations

import msgspec

from ..errors import (
    DeserializeError,
    DuplicateCheckpointError,
    InvalidArgumentError,
    NotInitializedError,
    UnknownCheckpointError,
)
from ..ledger import Loaded, Restored
from ..projections import check_tree_state, decode_tree_state, is_auto_name
from .arguments import name_arg
from .session import Session, load_tree

__all__ = ["Checkpoint", "checkpoint", "deserialize", "restore", "serialize"]

_encoder = msgspec.json.Encoder()


class Checkpoint(msgspec.Struct, frozen=True):
    """A named point of a run: restoring it, or replaying until it, gives the tree after ``offset``."""

    name: str
    """The checkpoint's name, unique in its run."""
    offset: int
    """The offset of its ``checkpoint`` event."""
    run: str
    """The run it belongs to."""


def checkpoint(s: Session, name: str) -> Checkpoint:
    """Append a checkpoint ``name``, unique in the run and not of the automatic ``auto-<n>`` form."""
    name_arg(name, "name")
    if is_auto_name(name):
        raise InvalidArgumentError(f"checkpoint name {name!r} is reserved for automatic checkpoints")
    with s.operation():
        if name in s.tree.checkpoints:
            raise DuplicateCheckpointError(
                f"run {s.run!r} already has a checkpoint {name!r} (offset {s.tree.checkpoints[name]})"
            )
        s.current()
        record = s.checkpoint(name)
    return Checkpoint(name, record.offset, s.run)


def restore(s: Session, point: str | int) -> None:
    """Append a ``restored`` event that makes the tree as it was at checkpoint name or offset ``point``."""
    if isinstance(point, bool) or not isinstance(point, (str, int)):
        raise InvalidArgumentError(f"restore takes a checkpoint name or an offset, not {point!r}")
    with s.operation():
        if s.tree.seq == 0:
            raise UnknownCheckpointError(f"run {s.run!r} has no events to restore")
        name = point if isinstance(point, str) and point in s.tree.checkpoints else None
        offset = s.tree.checkpoints[name] if name is not None else s.ledger.resolve(s.run, point)
        assert offset is not None
        target = load_tree(s.ledger, s.run, offset)
        assert target.current_id is not None
        event = Restored(target=offset, state=msgspec.Raw(target.to_bytes()), checkpoint=name)
        s.append(event, target.current_id, offset)


def serialize(s: Session) -> bytes:
    """The whole tree as JSON bytes; NotInitializedError before the run has a root."""
    with s.lock:
        if s.tree.root_id is None:
            raise NotInitializedError(f"run {s.run!r} has no tree to serialize yet")
        return s.tree.to_bytes()


def deserialize(s: Session, data: bytes | str) -> None:
    """Append a ``loaded`` event replacing the tree with ``data``, once it is checked to be a valid tree."""
    if not isinstance(data, (bytes, bytearray, memoryview, str)):
        raise DeserializeError(f"deserialize takes bytes, not {type(data).__name__}")
    try:
        state = decode_tree_state(bytes(data) if not isinstance(data, str) else data)
    except (msgspec.DecodeError, msgspec.ValidationError, RecursionError) as exc:
        raise DeserializeError(f"not a serialized context tree: {exc}") from exc
    check_tree_state(state)
    payload = msgspec.Raw(_encoder.encode(state))
    with s.operation():
        cause = s.tree.context().created_offset if s.tree.current_id is not None else None
        s.append(Loaded(state=payload), state.current_id, cause)  # type: ignore[arg-type]

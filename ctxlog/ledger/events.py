"""Event kinds: one frozen msgspec Struct per operation, tagged by a stable string.

The tag is what the ``kind`` column holds and what the stored payload carries; it never changes,
so renaming a class never breaks a stored ledger. New fields must get defaults, so that payloads
written before them still decode. Which context an event acts on, its cause, time and position
live in the row around the payload (:class:`Record`), not in the event body.
"""

from __future__ import annotations

from typing import Any, Union

import msgspec

__all__ = [
    "AnyEvent",
    "CheckpointTaken",
    "Deleted",
    "Entered",
    "Event",
    "Exited",
    "Failed",
    "Initialized",
    "KINDS",
    "KIND_OF",
    "Loaded",
    "Merged",
    "Record",
    "Restored",
    "Forked",
    "RunDeleted",
    "Switched",
    "ValueSet",
]


class Event(msgspec.Struct, frozen=True, tag_field="kind", omit_defaults=True):
    """Base of every event kind."""


class Initialized(Event, tag="initialized"):
    """The run's root context was created; its id is the row's ``context``."""

    name: str


class Entered(Event, tag="entered"):
    """A child context was created (the row's ``context``); ``switch`` says if it became current."""

    parent: str
    name: str
    isolation: str = "inherit"
    parallel: bool = False
    switch: bool = True


class ValueSet(Event, tag="set"):
    """``key`` was set to ``value`` in the row's context."""

    key: str
    value: Any


class Deleted(Event, tag="deleted"):
    """``key`` was removed from the row's context's own data."""

    key: str


class Switched(Event, tag="switched"):
    """The row's context became current."""


class Merged(Event, tag="merged"):
    """``child``'s own data was merged into the row's context (its parent) with ``policy``; only
    the keys ``keys`` of it when they are given (a selective merge)."""

    child: str
    policy: str
    keys: list[str] | None = None


class Exited(Event, tag="exited"):
    """The row's context was closed; its parent became current unless ``switch`` is false."""

    switch: bool = True


class Failed(Event, tag="failed", omit_defaults=False):
    """The row's context was closed because its step raised; its parent became current unless
    ``switch`` is false (a parallel branch, which never was current).

    Version 2 (``v``) keeps the exception's type apart from its message; version 1 stored one
    ``error`` string, "Type: message", and is upcast on read (see ``upcast.py``).
    """

    error_type: str = ""
    message: str = ""
    v: int = 2
    switch: bool = True


class CheckpointTaken(Event, tag="checkpoint"):
    """A named checkpoint: the state after this event is restorable by ``name`` or offset."""

    name: str
    auto: bool = False


class Restored(Event, tag="restored"):
    """The tree was replaced by the state at offset ``target`` (carried whole in ``state``)."""

    target: int
    state: msgspec.Raw
    checkpoint: str | None = None


class Loaded(Event, tag="loaded"):
    """The tree was replaced by a deserialized one (carried whole in ``state``)."""

    state: msgspec.Raw


class Forked(Event, tag="forked"):
    """The first event of a fork: the run starts as ``source_run`` stood at ``source_offset``
    (whose row's hash was ``source_hash``), with its tree, checkpoints and used ids carried whole
    in ``state`` (the source's projection there)."""

    source_run: str
    source_offset: int
    source_hash: str
    state: msgspec.Raw


class RunDeleted(Event, tag="deleted_run"):
    """A tombstone: the run was deleted (LangGraph's ``delete_thread``). Readers that honour it treat
    the run's history up to this event as gone; every row stays, and verify still covers them.
    The tree is unchanged by it; ``reason`` says who deleted the run and why."""

    reason: str = ""


AnyEvent = Union[
    Initialized,
    Forked,
    Entered,
    ValueSet,
    Deleted,
    Switched,
    Merged,
    Exited,
    Failed,
    CheckpointTaken,
    Restored,
    Loaded,
    RunDeleted,
]

KIND_OF: dict[type, str] = {cls: cls.__struct_config__.tag for cls in AnyEvent.__args__}  # type: ignore[attr-defined]
"""Event class -> its tag, the value of the ``kind`` column."""

KINDS: tuple[str, ...] = tuple(KIND_OF.values())


class Record(msgspec.Struct, frozen=True):
    """One row of the log: an event in its place in the run and in the chain (what ``audit.log``
    yields)."""

    offset: int
    """The global position in the ledger: 1, 2, 3 … with no gaps."""
    run: str
    """The run the event belongs to."""
    seq: int
    """The position inside the run: 1, 2, 3 …"""
    ts: int
    """Wall-clock time of the append, in nanoseconds since the epoch."""
    kind: str
    """The event kind (``set``, ``entered``, ``checkpoint`` …; see ``audit.KINDS``)."""
    context: str
    """The id of the context the operation acted on."""
    cause: int | None
    """The offset of the event that caused this one: the enclosing step's ``entered`` (None for the root)."""
    payload: str
    """The event body as stored: msgspec JSON text carrying its ``kind``."""
    hash: str
    """The chain link: SHA-256 (HMAC-SHA256 with a key) of the previous hash and this row's bytes."""

"""Reading events written by earlier versions of their kind: upcasters, applied on decode.

A kind whose payload shape changes gets a ``v`` field with its new version as default, stored
always; a payload without ``v`` is version 1. Each upcaster turns the plain JSON of version N
into version N+1. Stored bytes are never rewritten, so the chain of an old ledger still verifies.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import msgspec

from .events import AnyEvent, Failed

__all__ = ["UPCASTERS", "VERSIONED", "Upcaster", "upcast"]

Upcaster = Callable[[dict[str, Any]], dict[str, Any]]


def _failed_v1_to_v2(data: dict[str, Any]) -> dict[str, Any]:
    error = data.pop("error", "")
    error_type, sep, message = error.partition(": ")
    if not sep or not error_type.isidentifier():
        error_type, message = "", error
    return {**data, "error_type": error_type, "message": message, "v": 2}


UPCASTERS: dict[tuple[type, int], Upcaster] = {(Failed, 1): _failed_v1_to_v2}
"""(event class, version) -> function from that version's JSON to the next one's."""

VERSIONED: dict[type, int] = {Failed: 2}
"""Event classes that have had more than one version, with their current version."""


class _Probe(msgspec.Struct):
    v: int = 1


_probe = msgspec.json.Decoder(_Probe)
_plain = msgspec.json.Decoder()


def upcast(event: AnyEvent, payload: str | bytes) -> AnyEvent:
    """``event`` as decoded from ``payload``, brought to its class's current version."""
    cls = type(event)
    version = _probe.decode(payload).v
    if version >= VERSIONED[cls]:
        return event
    data = _plain.decode(payload)
    while version < VERSIONED[cls]:
        data = UPCASTERS[(cls, version)](data)
        version += 1
    return msgspec.convert(data, AnyEvent)

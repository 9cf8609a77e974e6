"""Events to stored text and back, and the canonical bytes of a row that the chain hashes.

The payload is msgspec JSON, stored as TEXT so SQLite's JSON functions can query it; the chain
hashes those exact bytes, never a re-encoding, so a decoder change can never break verification.
"""

from __future__ import annotations

import msgspec

from .events import AnyEvent, Event
from .upcast import VERSIONED, upcast

__all__ = ["canonical", "decode_event", "encode_event", "is_canonical"]

_encoder = msgspec.json.Encoder()
_decoder = msgspec.json.Decoder(AnyEvent)
_header_encoder = msgspec.json.Encoder()


def encode_event(event: Event) -> str:
    """The payload text stored for ``event`` (it carries its own ``kind`` tag)."""
    return _encoder.encode(event).decode()


def decode_event(payload: str | bytes) -> AnyEvent:
    """The event stored as ``payload``, upcast to its kind's current version.

    Raises msgspec.DecodeError (or ValidationError) on malformed text.
    """
    event = _decoder.decode(payload)
    if type(event) in VERSIONED:
        return upcast(event, payload)
    return event


_plain = msgspec.json.Decoder()


def is_canonical(payload: str) -> bool:
    """Whether ``payload`` is the one text ctxlog writes for the event it holds: the same event
    encoded again (no duplicate keys, no unknown or missing fields, no other spelling), or, for an
    event of an older version of its kind, the same JSON decoded and encoded again."""
    try:
        event = _decoder.decode(payload)
        if encode_event(event) == payload:  # the common case: one decode, one encode
            return True
        if type(event) not in VERSIONED or '"v":' in payload:
            return False
        return _encoder.encode(_plain.decode(payload)).decode() == payload
    except (msgspec.DecodeError, msgspec.ValidationError, RecursionError, UnicodeError):
        return False


def canonical(
    offset: int, run: str, seq: int, ts: int, kind: str, context: str, cause: int | None, payload: str
) -> bytes:
    """The bytes of one row that its hash covers: every column but the hash itself."""
    header = _header_encoder.encode((offset, run, seq, ts, kind, context, cause))
    return header + b"\n" + payload.encode()

"""Channel values, pending writes and metadata as ledger values, through LangGraph's serializer.

Every value goes through the saver's ``serde`` (``dumps_typed``). What it returns is stored as
itself when it is plain msgpack of plain JSON that encodes back to the very same bytes, so that
``ctxlog replay`` and ``diff`` show it; anything else (objects, bytes, an encrypting serializer's
output) is stored as ``{"$serde": type, "$b64": base64 bytes}``. Reading hands the same type and
bytes back to ``serde.loads_typed``: what it refuses (pickle unless the serializer was made with
``pickle_fallback=True``, a type outside its msgpack allowlist) is refused, never worked around.
"""

from __future__ import annotations

import base64
import math
from typing import Any

import msgspec
import ormsgpack

from ...errors import CtxlogError, InvalidValueError

__all__ = ["TAG", "DecodeError", "decode", "encode", "signature", "stored_signature"]

TAG = "$serde"
"""The key that marks a value stored as serializer bytes rather than as itself."""

_MAX_PLAIN_DEPTH = 64
_copy = msgspec.json.Decoder().decode
_copy_encoder = msgspec.json.Encoder()
_INT_RANGE = (-(2**63), 2**64 - 1)


class DecodeError(CtxlogError, ValueError):
    """A stored value the serializer refuses to restore (say, a pickle while pickling is off)."""


def _plain(value: Any, depth: int = 0) -> bool:
    """Whether ``value`` is JSON that a ledger holds as it is (and not mistaken for a tagged one)."""
    if depth > _MAX_PLAIN_DEPTH:
        return False
    kind = type(value)
    if value is None or kind is bool or kind is str:
        return True
    if kind is int:
        return _INT_RANGE[0] <= value <= _INT_RANGE[1]
    if kind is float:
        return math.isfinite(value)
    if kind is list:
        return all(_plain(v, depth + 1) for v in value)
    if kind is dict:
        return TAG not in value and all(type(k) is str and _plain(v, depth + 1) for k, v in value.items())
    return False


def signature(serde: Any, value: Any) -> tuple[str, bytes]:
    """The serializer's ``(type, bytes)`` of ``value``: what two values are compared by."""
    try:
        return serde.dumps_typed(value)  # type: ignore[no-any-return]
    except Exception as exc:
        raise InvalidValueError(f"the serializer cannot encode a {type(value).__name__}: {exc}") from exc


def encode(serde: Any, value: Any, typed: tuple[str, bytes] | None = None) -> Any:
    """``value`` as a ledger value (``typed``: its signature when the caller has it)."""
    kind, data = typed if typed is not None else signature(serde, value)
    if kind == "null":
        return None
    if kind == "msgpack":
        try:
            plain = ormsgpack.unpackb(data)
        except Exception:
            plain = TAG
        if plain is not TAG and _plain(plain) and signature(serde, plain) == (kind, data):
            return plain
    return {TAG: kind, "$b64": base64.b64encode(data).decode("ascii")}


def stored_signature(serde: Any, stored: Any) -> tuple[str, bytes]:
    """The signature of the value ``stored`` holds, without decoding it to an object."""
    if type(stored) is dict and TAG in stored:
        return stored[TAG], base64.b64decode(stored["$b64"])
    return ("null", b"") if stored is None else signature(serde, stored)


def decode(serde: Any, stored: Any) -> Any:
    """The value ``stored`` holds, restored by the serializer. A value stored as itself is one the
    serializer gives back as it is (that was checked when it was written): a copy of it is returned."""
    if not (type(stored) is dict and TAG in stored):
        plain = stored is None or type(stored) in (str, int, float, bool)
        return stored if plain else _copy(_copy_encoder.encode(stored))
    typed = stored_signature(serde, stored)
    try:
        return serde.loads_typed(typed)
    except Exception as exc:
        raise DecodeError(
            f"the serializer refuses a stored {typed[0]!r} value ({type(exc).__name__}: {exc}); "
            "pickled values load only with JsonPlusSerializer(pickle_fallback=True)"
        ) from exc

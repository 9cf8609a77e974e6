"""What a context may hold: JSON-shaped values, checked before anything is appended.

``None, bool, int, float, str, list, dict[str, ...]``, nested to at most MAX_DEPTH levels and
MAX_VALUE_BYTES encoded. A value is accepted when it survives a JSON round trip equal to itself,
and what is stored (what ``get`` returns, live or replayed) is the round-tripped value, so an int
stays an int and a float a float, and an enum member comes back as its plain value. A value that
would come back different (a tuple as a list, a set, NaN as null, an int map key as a string) or
that JSON cannot encode at all is refused with the key path of the offending part.
"""

from __future__ import annotations

import gc
import math
from typing import Any

import msgspec

from ..errors import MAX_NAME_BYTES, InvalidArgumentError, InvalidValueError, shown

__all__ = [
    "MAX_DEPTH",
    "MAX_VALUE_BYTES",
    "check_key",
    "check_value",
    "copy_value",
    "encode_value",
    "json_copy",
    "too_deep",
    "utf8_text",
    "without_gc",
]

MAX_DEPTH = 100
"""Deepest nesting of lists and maps a value may have (a scalar has depth 0)."""

MAX_VALUE_BYTES = 16 * 1024 * 1024
"""Largest encoded size of one value, in bytes of JSON."""

_encode = msgspec.json.Encoder().encode
_decode = msgspec.json.Decoder().decode


def utf8_text(value: str, what: str) -> str:
    """``value`` unless it holds lone surrogates, which no UTF-8 column or payload can store."""
    if not value.isascii():
        try:
            value.encode()
        except UnicodeEncodeError:
            raise InvalidArgumentError(f"{what} {shown(value)} is not valid Unicode text (lone surrogate)") from None
    return value


def check_key(key: object) -> str:
    """Return ``key`` if it can name a value (a str of at most MAX_NAME_BYTES), else raise
    InvalidArgumentError."""
    if type(key) is not str:
        raise InvalidArgumentError(f"key must be a str, got {type(key).__name__}: {shown(key)}")
    if len(key) > MAX_NAME_BYTES // 4 and len(key.encode("utf-8", "surrogatepass")) > MAX_NAME_BYTES:
        raise InvalidArgumentError(f"keys are at most {MAX_NAME_BYTES} bytes of UTF-8; {shown(key)} is longer")
    return key if key.isascii() else utf8_text(key, "key")


def encode_value(value: Any, path: str) -> tuple[bytes, Any]:
    """The JSON bytes of ``value`` and the value as decoded from them (an independent copy).

    Raises InvalidValueError naming the first offending key path. The common case costs an encode,
    a decode and a comparison in C: the value is accepted when it comes back equal. Only a value
    that does not, or that has many brackets, is walked in Python to find what is wrong.
    """
    t = type(value)
    try:
        encoded = _encode(value)
    except (TypeError, ValueError, OverflowError, RecursionError):
        _find_fault(value, path, 0)
        raise InvalidValueError(f"{path}: not a JSON value") from None
    if len(encoded) > MAX_VALUE_BYTES:
        raise InvalidValueError(
            f"{path}: {len(encoded)} bytes encoded, over the {MAX_VALUE_BYTES}-byte limit of a value"
        )
    if t is str or t is int or t is bool or value is None:
        return encoded, value
    if t is float:
        if not math.isfinite(value):
            raise InvalidValueError(f"{path}: {value!r} is not a finite number; JSON cannot hold it")
        return encoded, value
    if encoded.count(b"[") + encoded.count(b"{") > MAX_DEPTH and too_deep(encoded):
        _check_depth(value, path, 0)
    copy = _decode(encoded) if len(encoded) < _LARGE else without_gc(_decode, encoded)
    if copy != value:
        _find_fault(value, path, 0)
        raise InvalidValueError(f"{path}: a {t.__name__} does not survive a JSON round trip")
    return encoded, copy


def check_value(value: Any, path: str) -> None:
    """Raise InvalidValueError naming the first offending key path unless ``value`` is JSON-shaped."""
    encode_value(value, path)


_NOT_STRUCTURE = bytes(b for b in range(256) if b not in b'[]{}"')
_ONE_KIND = bytes.maketrans(b"{}", b"[]")


def too_deep(encoded: bytes, limit: int = MAX_DEPTH) -> bool:
    """Whether JSON ``encoded`` (as msgspec writes it) nests deeper than ``limit``, in C-speed
    passes: strings dropped (a quote inside one is always escaped), brackets kept, then each pass
    removes the innermost pairs, so the passes needed are the depth."""
    text = encoded.replace(b"\\\\", b"").replace(b'\\"', b"").translate(None, _NOT_STRUCTURE)
    brackets = b"".join(text.split(b'"')[::2]).translate(_ONE_KIND)
    for _ in range(limit):
        if not brackets:
            return False
        brackets = brackets.replace(b"[]", b"")
    return bool(brackets)


def _check_depth(value: Any, path: str, depth: int) -> None:
    if type(value) is dict or type(value) is list:
        if depth >= MAX_DEPTH:
            raise InvalidValueError(f"{path}: nested deeper than {MAX_DEPTH} levels; flatten the value")
        items = value.items() if type(value) is dict else enumerate(value)
        for k, v in items:
            _check_depth(v, f"{path}.{k}" if type(value) is dict else f"{path}[{k}]", depth + 1)


def _find_fault(value: Any, path: str, depth: int) -> None:
    t = type(value)
    if value is None or t is str or t is bool or t is int:
        return
    if t is float:
        if not math.isfinite(value):
            raise InvalidValueError(f"{path}: {value!r} is not a finite number; JSON cannot hold it")
        return
    if depth >= MAX_DEPTH:
        raise InvalidValueError(f"{path}: nested deeper than {MAX_DEPTH} levels; flatten the value")
    if type(value) is dict:
        for k, v in value.items():
            if type(k) is not str:
                raise InvalidValueError(
                    f"{path}: map key {k!r} is a {type(k).__name__}; JSON map keys are plain strings"
                )
            _find_fault(v, f"{path}.{k}", depth + 1)
        return
    if type(value) is list:
        for i, v in enumerate(value):
            _find_fault(v, f"{path}[{i}]", depth + 1)
        return
    if isinstance(value, (tuple, set, frozenset)):
        hint = "; use a list"
    elif isinstance(value, (str, int, float)):
        base = next(b for b in (bool, int, float, str) if isinstance(value, b))
        hint = f"; convert it with {base.__name__}(...)"
    else:
        hint = ""
    raise InvalidValueError(f"{path}: a {t.__name__} is not a JSON value{hint}")


def copy_value(value: Any) -> Any:
    """An independent copy of a stored value, so callers cannot change the tree behind its back."""
    if type(value) is dict or type(value) is list:
        return json_copy(value, Any)
    return value


_typed_decoders: dict[Any, msgspec.json.Decoder] = {}


def json_copy(value: Any, cls: Any) -> Any:
    """An independent deep copy of ``value`` (a JSON-shaped value or a Struct of them) as a ``cls``,
    by one JSON round trip in C: the one deep copy of the package."""
    decoder = _typed_decoders.get(cls)
    if decoder is None:
        decoder = _typed_decoders[cls] = msgspec.json.Decoder(cls)
    encoded = _encode(value)
    return decoder.decode(encoded) if len(encoded) < _LARGE else without_gc(decoder.decode, encoded)


_LARGE = 64 * 1024
"""Decoding this many bytes creates enough objects to set off the cyclic collector, which then
walks the whole heap (every value of a large tree) for objects that cannot form cycles."""


def without_gc(decode: Any, encoded: bytes) -> Any:
    """``decode(encoded)`` with the cyclic collector paused (as msgspec advises for large
    messages): a 1 MB value with a large tree in memory decodes in half the time."""
    if not gc.isenabled():
        return decode(encoded)
    gc.disable()
    try:
        return decode(encoded)
    finally:
        gc.enable()

"""What a context may hold: JSON-shaped values, checked before anything is appended.

``None, bool, int, float, str, list, dict[str, ...]`` nested to at most MAX_DEPTH levels and
MAX_VALUE_BYTES encoded. A value that would come back different (a tuple as a list, a set, NaN as
null, an int map key as a string) is refused, so a value read back, live or replayed, is equal to
the value written with the same types. Subclasses of str/int/float are stored as their base type.
"""

from __future__ import annotations

import math
from typing import Any

import msgspec

from .errors import InvalidArgumentError, InvalidValueError

MAX_DEPTH = 100
"""Deepest nesting of lists and maps a value may have (a scalar has depth 0)."""

MAX_VALUE_BYTES = 16 * 1024 * 1024
"""Largest encoded size of one value, in bytes of JSON."""

_encode = msgspec.json.Encoder().encode
_decode = msgspec.json.Decoder().decode


def check_key(key: object) -> str:
    """Return ``key`` if it can name a value, else raise InvalidArgumentError."""
    if type(key) is not str:
        raise InvalidArgumentError(f"key must be a str, got {type(key).__name__}: {key!r}")
    return key


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
    if t is dict or t is list:
        if encoded.count(b"[") + encoded.count(b"{") > MAX_DEPTH:
            _find_fault(value, path, 0)
        copy = _decode(encoded)
        if copy != value:
            _find_fault(value, path, 0)
            raise InvalidValueError(f"{path}: does not survive a JSON round trip")
        return encoded, copy
    if t is float and not math.isfinite(value):
        raise InvalidValueError(f"{path}: {value!r} is not a finite number; JSON cannot hold it")
    if t is str or t is int or t is float or t is bool or value is None:
        return encoded, value
    _find_fault(value, path, 0)
    return encoded, _decode(encoded)


def check_value(value: Any, path: str) -> None:
    """Raise InvalidValueError naming the first offending key path unless ``value`` is JSON-shaped."""
    encode_value(value, path)


def _find_fault(value: Any, path: str, depth: int) -> None:
    if value is None or isinstance(value, (str, bool, int)):
        return
    if isinstance(value, float):
        if not math.isfinite(value):
            raise InvalidValueError(f"{path}: {value!r} is not a finite number; JSON cannot hold it")
        return
    if depth >= MAX_DEPTH:
        raise InvalidValueError(f"{path}: nested deeper than {MAX_DEPTH} levels; flatten the value")
    if type(value) is dict:
        for k, v in value.items():
            if type(k) is not str:
                raise InvalidValueError(
                    f"{path}: map key {k!r} is a {type(k).__name__}; JSON map keys are strings"
                )
            _find_fault(v, f"{path}.{k}", depth + 1)
        return
    if type(value) is list:
        for i, v in enumerate(value):
            _find_fault(v, f"{path}[{i}]", depth + 1)
        return
    hint = "; use a list" if isinstance(value, (tuple, set, frozenset)) else ""
    raise InvalidValueError(f"{path}: a {type(value).__name__} is not a JSON value{hint}")


def copy_value(value: Any) -> Any:
    """An independent copy of a stored value, so callers cannot change the tree behind its back."""
    if type(value) is dict or type(value) is list:
        return _decode(_encode(value))
    return value

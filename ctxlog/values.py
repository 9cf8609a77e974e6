"""What a context may hold: JSON-shaped values, checked before anything is appended.

Exact types only (``None, bool, int, float, str, list, dict[str, ...]``) so that a value read back,
live or replayed, has the type it was written with: a tuple would come back a list, so it is refused.
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

_SCALARS = (str, int, bool, type(None))


def check_key(key: object) -> str:
    """Return ``key`` if it can name a value, else raise InvalidArgumentError."""
    if type(key) is not str:
        raise InvalidArgumentError(f"key must be a str, got {type(key).__name__}: {key!r}")
    return key


def check_value(value: Any, path: str) -> None:
    """Raise InvalidValueError naming the first offending key path unless ``value`` is JSON-shaped."""
    t = type(value)
    if t in _SCALARS:
        return
    if t is float:
        if not math.isfinite(value):
            raise InvalidValueError(f"{path}: {value!r} is not a finite number; JSON cannot hold it")
        return
    _check_nested(value, path, 0)


def _check_nested(value: Any, path: str, depth: int) -> None:
    t = type(value)
    if t in _SCALARS:
        return
    if t is float:
        if not math.isfinite(value):
            raise InvalidValueError(f"{path}: {value!r} is not a finite number; JSON cannot hold it")
        return
    if depth >= MAX_DEPTH:
        raise InvalidValueError(f"{path}: nested deeper than {MAX_DEPTH} levels; flatten the value")
    if t is dict:
        for k, v in value.items():
            if type(k) is not str:
                raise InvalidValueError(
                    f"{path}: map key {k!r} is a {type(k).__name__}; JSON map keys are strings"
                )
            _check_nested(v, f"{path}.{k}", depth + 1)
        return
    if t is list:
        for i, v in enumerate(value):
            _check_nested(v, f"{path}[{i}]", depth + 1)
        return
    hint = "; use a list" if isinstance(value, (tuple, set, frozenset)) else ""
    raise InvalidValueError(f"{path}: a {t.__name__} is not a JSON value{hint}")


def check_size(encoded: bytes, path: str) -> None:
    """Refuse an encoded value larger than MAX_VALUE_BYTES."""
    if len(encoded) > MAX_VALUE_BYTES:
        raise InvalidValueError(
            f"{path}: {len(encoded)} bytes encoded, over the {MAX_VALUE_BYTES}-byte limit of a value"
        )


_copy_encoder = msgspec.json.Encoder()


def copy_value(value: Any) -> Any:
    """An independent copy of a stored value, so callers cannot change the tree behind its back."""
    if type(value) in _SCALARS or type(value) is float:
        return value
    return msgspec.json.decode(_copy_encoder.encode(value))

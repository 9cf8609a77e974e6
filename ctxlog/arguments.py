"""Checking the arguments of public operations: one clear error for each kind of mistake."""

from __future__ import annotations

from typing import Any

from .errors import InvalidArgumentError


def name_arg(value: object, what: str) -> str:
    """``value`` if it is a non-empty str that UTF-8 can store, else InvalidArgumentError."""
    if type(value) is not str or not value:
        raise InvalidArgumentError(f"{what} must be a non-empty str, got {value!r}")
    return utf8_arg(value, what)


def id_arg(value: object, what: str) -> str:
    """A name that becomes a run name or a context id: as :func:`name_arg`, and without NUL
    characters, which PostgreSQL text cannot hold (one rule on every backend)."""
    name = name_arg(value, what)
    if "\x00" in name:
        raise InvalidArgumentError(f"{what} {name!r} holds a NUL character; run names and context ids cannot")
    return name


MAX_RUN_BYTES = 1024
"""The longest run name, in UTF-8 bytes: runs are keys of an index, which PostgreSQL caps at ~2.7 kB."""


def run_arg(value: object) -> str:
    """A run name: as :func:`id_arg`, and at most :data:`MAX_RUN_BYTES` long (on every backend)."""
    run = id_arg(value, "run")
    if len(run.encode()) > MAX_RUN_BYTES:
        size = len(run.encode())
        raise InvalidArgumentError(f"run names are at most {MAX_RUN_BYTES} bytes of UTF-8; this one has {size}")
    return run


def utf8_arg(value: str, what: str) -> str:
    """``value`` unless it holds lone surrogates, which no UTF-8 column or payload can store."""
    if not value.isascii():
        try:
            value.encode()
        except UnicodeEncodeError:
            raise InvalidArgumentError(f"{what} {value!r} is not valid Unicode text (lone surrogate)") from None
    return value


def enum_arg(cls: type, value: object, what: str) -> Any:
    """A member of ``cls`` from a member, its value or its name (any case)."""
    try:
        return cls(value)
    except ValueError:
        if isinstance(value, str) and value.upper() in cls.__members__:
            return cls.__members__[value.upper()]
        choices = ", ".join(m.value for m in cls)  # type: ignore[attr-defined]
        raise InvalidArgumentError(f"{what} must be one of {choices}, got {value!r}") from None

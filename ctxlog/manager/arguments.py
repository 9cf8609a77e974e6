"""Checking the arguments of public operations: one clear error for each kind of mistake.

Every check runs before an operation touches the ledger, so a refused call appends nothing.
"""

from __future__ import annotations

from typing import Any

from ..errors import MAX_NAME_BYTES, InvalidArgumentError, shown
from ..projections import IsolationLevel, MergePolicy, utf8_text

__all__ = [
    "enum_arg",
    "id_arg",
    "isolation_arg",
    "merge_arg",
    "name_arg",
    "positive_int_arg",
    "run_arg",
]


def name_arg(value: object, what: str) -> str:
    """``value`` if it is a non-empty str that UTF-8 can store, of at most MAX_NAME_BYTES, else
    InvalidArgumentError (quoting it shortened)."""
    if type(value) is not str or not value:
        raise InvalidArgumentError(f"{what} must be a non-empty str, got {shown(value)}")
    if len(value) > MAX_NAME_BYTES // 4 and len(value.encode("utf-8", "surrogatepass")) > MAX_NAME_BYTES:
        size = len(value.encode("utf-8", "surrogatepass"))
        raise InvalidArgumentError(f"{what} is at most {MAX_NAME_BYTES} bytes of UTF-8; {shown(value)} has {size}")
    return utf8_text(value, what)


def id_arg(value: object, what: str) -> str:
    """A name that becomes a run name or a context id: as :func:`name_arg`, and without NUL
    characters, which PostgreSQL text cannot hold (one rule on every backend)."""
    name = name_arg(value, what)
    if "\x00" in name:
        raise InvalidArgumentError(f"{what} {shown(name)} holds a NUL character; run names and context ids cannot")
    return name


def run_arg(value: object) -> str:
    """A run name: as :func:`id_arg` (at most MAX_NAME_BYTES long, on every backend)."""
    return id_arg(value, "run")


def enum_arg(cls: type, value: object, what: str) -> Any:
    """A member of ``cls`` from a member, its value or its name (any case; ``-`` for ``_``, so
    ``"keep-existing"``, the CCOS spelling, is ``KEEP_EXISTING``)."""
    try:
        return cls(value)
    except ValueError:
        name = value.upper().replace("-", "_") if isinstance(value, str) else ""
        if name in cls.__members__:
            return cls.__members__[name]
        choices = ", ".join(m.value for m in cls)  # type: ignore[attr-defined]
        raise InvalidArgumentError(f"{what} must be one of {choices}, got {value!r}") from None


def isolation_arg(value: object) -> IsolationLevel:
    """An IsolationLevel from a member, its value or its name."""
    return enum_arg(IsolationLevel, value, "isolation")  # type: ignore[no-any-return]


def merge_arg(value: object, what: str = "merge") -> MergePolicy | None:
    """A MergePolicy from a member, its value or its name; None (no merge) stays None."""
    return None if value is None else enum_arg(MergePolicy, value, what)


def positive_int_arg(value: object, what: str, *, optional: bool = False) -> int | None:
    """``value`` if it is an int of at least 1 (or None when ``optional``), else InvalidArgumentError."""
    if value is None and optional:
        return None
    if type(value) is not int or value < 1:
        allowed = "a positive int or None" if optional else "a positive int"
        raise InvalidArgumentError(f"{what} must be {allowed}, got {value!r}")
    return value

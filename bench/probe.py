"""What SQL ctxlog sends to SQLite for one operation, read off SQLite's trace hook.

The same-work floor (``floor.py``) replays these statements instead of a hand-written copy, so it
follows the library as it changes: if an append starts (or stops) reading the head or
``PRAGMA data_version``, the floor does too. The probe runs before any timing, on scratch copies;
it wraps ``sqlite3.connect`` for the duration of one call so every connection opened meanwhile
reports each statement it runs, with its parameters expanded.
"""

from __future__ import annotations

import contextlib
import sqlite3
from collections.abc import Callable, Iterator
from typing import Any

EVENTS_INSERT = "INSERT INTO events"


@contextlib.contextmanager
def traced() -> Iterator[list[str]]:
    """Statements run by connections opened inside the block (and later, until they close)."""
    statements: list[str] = []
    original = sqlite3.connect

    def connect(*args: Any, **kwargs: Any) -> sqlite3.Connection:
        conn = original(*args, **kwargs)
        conn.set_trace_callback(statements.append)
        return conn

    sqlite3.connect = connect  # type: ignore[assignment]
    try:
        yield statements
    finally:
        sqlite3.connect = original  # type: ignore[assignment]


def statements_of(fn: Callable[[], Any]) -> list[str]:
    """The statements ``fn()`` ran on connections it opened."""
    with traced() as statements:
        fn()
    return list(statements)


def append_template(statements: list[str]) -> tuple[list[str], list[str]]:
    """A write transaction's statements split around its event inserts: (before, after).

    Raises ValueError when the transaction inserted no event or did something between inserts.
    """
    at = [i for i, s in enumerate(statements) if s.startswith(EVENTS_INSERT)]
    if not at:
        raise ValueError(f"no event insert among {statements!r}")
    between = [s for s in statements[at[0] : at[-1] + 1] if not s.startswith(EVENTS_INSERT)]
    if between:
        raise ValueError(f"statements between the inserts: {between!r}")
    return statements[: at[0]], statements[at[-1] + 1 :]


def row_scan(statements: list[str], *, whole: bool = False) -> str:
    """The statement that streamed the rows: a SELECT of payloads from ``events`` with an ORDER BY
    and no LIMIT (``whole``: the one over the whole table, with no WHERE)."""
    for s in statements:
        text = s.upper()
        if not (text.startswith("SELECT") and "FROM EVENTS" in text and "PAYLOAD" in text and "ORDER BY" in text):
            continue
        if "LIMIT" in text or ("WHERE" in text) == whole:
            continue
        return s
    raise ValueError("no row scan among the statements: " + "; ".join(s[:80] for s in statements))


def shown(statements: list[str], limit: int = 60) -> str:
    """Statements for a note: each shortened, an insert shown without its values."""
    out = []
    for s in statements:
        if s.startswith(EVENTS_INSERT):
            out.append("INSERT INTO events (…)")
        else:
            out.append(s if len(s) <= limit else s[: limit - 1] + "…")
    return "; ".join(out)

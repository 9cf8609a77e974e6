"""An attacker with write access to the database (past the append-only guard): every edit is found,
at its offset, on a SQLite file and on PostgreSQL."""

from __future__ import annotations

import hashlib
from collections.abc import Callable, Iterator
from contextlib import AbstractContextManager

import pytest

from ctxlog import ContextManager
from ctxlog.audit import verify
from ctxlog.ledger.codec import canonical

from ..attack import attacker, rehash, rows, set_hash

EVENTS = 12
FORGED_ROW = (
    'INSERT INTO events VALUES (?, \'r\', ?, 1, \'set\', \'root\', 1, \'{"kind":"set","key":"x","value":1}\', ?)'
)


@pytest.fixture
def location(fresh_ledgers: Callable[[], AbstractContextManager[str]]) -> Iterator[str]:
    with fresh_ledgers() as path:
        yield path


@pytest.fixture
def ledger(location: str) -> str:
    with ContextManager(location, run="r") as mgr:
        for i in range(EVENTS - 1):
            mgr.set(f"k{i % 3}", {"i": i})
    return location


@pytest.fixture
def keyed_sets() -> list[tuple[str, object]]:
    """The ``keyed`` ledger (tests/conftest.py), here at ``location``, holds EVENTS events: ``k`` set to 0, 1, ..."""
    return [("k", i) for i in range(EVENTS - 1)]


def bad_offset(path: str, **kw: object) -> int | None:
    result = verify(path, **kw)  # type: ignore[arg-type]
    assert not result.ok, "tampering went unnoticed"
    return result.bad_offset


@pytest.mark.parametrize(
    "column, value",
    [
        ("payload", '{"kind":"set","key":"k1","value":{"i":999}}'),
        ("kind", "deleted"),
        ("context", "elsewhere"),
        ("ts", 1),
        ("cause", 5),
        ("run", "other"),
        ("seq", 40),
    ],
)
def test_changed_column_is_found_at_its_offset(ledger: str, column: str, value: object) -> None:
    with attacker(ledger) as conn:
        conn.execute(f'UPDATE events SET {column} = ? WHERE "offset" = 6', (value,))
    assert bad_offset(ledger) == 6


def test_deleted_row_is_found(ledger: str) -> None:
    with attacker(ledger) as conn:
        conn.execute('DELETE FROM events WHERE "offset" = 4')
    assert bad_offset(ledger) == 4


def test_swapped_rows_are_found(ledger: str) -> None:
    with attacker(ledger) as conn:
        a, b = (conn.execute('SELECT payload FROM events WHERE "offset" = ?', (o,)).fetchone()[0] for o in (5, 6))
        conn.execute('UPDATE events SET payload = ? WHERE "offset" = 5', (b,))
        conn.execute('UPDATE events SET payload = ? WHERE "offset" = 6', (a,))
    assert bad_offset(ledger) == 5


def test_inserted_row_is_found(ledger: str) -> None:
    with attacker(ledger) as conn:
        for offset in range(EVENTS, 6, -1):
            conn.execute('UPDATE events SET "offset" = "offset" + 1, seq = seq + 1 WHERE "offset" = ?', (offset,))
        conn.execute(FORGED_ROW, (7, 7, "ab" * 32))
    assert bad_offset(ledger) == 7


def test_appended_forgery_is_found(ledger: str) -> None:
    with attacker(ledger) as conn:
        conn.execute(FORGED_ROW, (EVENTS + 1, EVENTS + 1, "cd" * 32))
    assert bad_offset(ledger) == EVENTS + 1


def test_rewritten_hash_breaks_the_next_link(ledger: str) -> None:
    with attacker(ledger) as conn:
        conn.execute('UPDATE events SET payload = replace(payload, \'"i":3\', \'"i":4\') WHERE "offset" = 5')
        row = next(r for r in rows(conn) if r[0] == 5)
        previous = next(r for r in rows(conn) if r[0] == 4)[8]
        set_hash(conn, 5, hashlib.sha256(bytes.fromhex(previous) + canonical(*row[:8])).hexdigest())
    assert bad_offset(ledger) == 6


def test_full_rewrite_of_a_plain_chain_is_found_against_the_exported_head(ledger: str) -> None:
    head = verify(ledger)
    with attacker(ledger) as conn:
        conn.execute('UPDATE events SET payload = replace(payload, \'"i":3\', \'"i":4\') WHERE "offset" = 5')
        rehash(conn, 5)
    assert verify(ledger).ok
    assert bad_offset(ledger, head=(head.head_offset, head.head_hash)) == head.head_offset


def test_truncated_tail_is_found_against_the_exported_head(ledger: str) -> None:
    head = verify(ledger)
    with attacker(ledger) as conn:
        conn.execute('DELETE FROM events WHERE "offset" > 9')
    assert verify(ledger).ok
    assert bad_offset(ledger, head=(head.head_offset, head.head_hash)) == 10


def test_keyed_chain_cannot_be_rewritten_without_the_key(keyed: str) -> None:
    with attacker(keyed) as conn:
        conn.execute('UPDATE events SET payload = replace(payload, \'"value":3\', \'"value":4\') WHERE "offset" = 5')
        rehash(conn, 5)
    assert bad_offset(keyed, key=b"secret-ledger-key") == 5


def test_untouched_ledger_verifies(ledger: str) -> None:
    result = verify(ledger)
    assert result.ok and result.events == EVENTS

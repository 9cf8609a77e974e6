"""The SQLite backend: the shared conformance suite on a file and in memory, then file specifics."""

from __future__ import annotations

import sqlite3
from pathlib import Path

import pytest

from ctxlog.errors import NotALedgerError
from ctxlog.ledger import Ledger
from ctxlog.ledger.sqlite import SQLiteStore
from ctxlog.ledger.store import Store
from ctxlog.testing.conformance import META, StoreConformance, make_records
from ctxlog.testing.shared import SharedStoreConformance

from .. import attack


def _conn(store: Store) -> sqlite3.Connection:
    return store._conn  # type: ignore[attr-defined, no-any-return]


def _raw_update(store: Store, offset: int) -> None:
    _conn(store).execute('UPDATE events SET kind = ? WHERE "offset" = ?', ("x", offset))


def _raw_delete(store: Store, offset: int) -> None:
    _conn(store).execute('DELETE FROM events WHERE "offset" = ?', (offset,))


class TestSQLiteFileStore(SharedStoreConformance):
    def new_location(self) -> str:
        return str(self.request.getfixturevalue("tmp_path") / "ledger.db")

    def tamper(self, location: str, sql: str, params: tuple = ()) -> None:
        attack.tamper(location, sql, params)

    def raw_update(self, store: Store, offset: int) -> None:
        _raw_update(store, offset)

    def raw_delete(self, store: Store, offset: int) -> None:
        _raw_delete(store, offset)


class TestSQLiteMemoryStore(StoreConformance):
    def make_store(self) -> Store:
        return SQLiteStore(":memory:")

    def raw_update(self, store: Store, offset: int) -> None:
        _raw_update(store, offset)

    def raw_delete(self, store: Store, offset: int) -> None:
        _raw_delete(store, offset)


def test_file_ledger_uses_wal(tmp_path: Path) -> None:
    store = SQLiteStore(str(tmp_path / "x.db"))
    assert _conn(store).execute("PRAGMA journal_mode").fetchone()[0] == "wal"


def test_readonly_open_of_missing_file_is_not_a_ledger(tmp_path: Path) -> None:
    with pytest.raises(NotALedgerError, match="no such file"):
        SQLiteStore(str(tmp_path / "absent.db"), readonly=True)
    assert not (tmp_path / "absent.db").exists()


def test_random_bytes_are_not_a_ledger(tmp_path: Path) -> None:
    path = tmp_path / "junk.db"
    path.write_bytes(b"this is not sqlite at all" * 100)
    with pytest.raises(NotALedgerError):
        Ledger.open(str(path))


def test_directory_is_not_a_ledger(tmp_path: Path) -> None:
    with pytest.raises(NotALedgerError, match="directory"):
        Ledger.open(str(tmp_path))


def test_size_on_disk_grows_with_rows(tmp_path: Path) -> None:
    store = SQLiteStore(str(tmp_path / "x.db"))
    store.create_schema(dict(META))
    before = store.size_bytes()
    store.begin()
    store.insert(make_records([("a", "set")] * 200))
    store.commit()
    assert store.size_bytes() > before > 0

"""The SQLite backend: the shared conformance suite on a file and in memory, then file specifics."""

from __future__ import annotations

import sqlite3
from pathlib import Path

import pytest

from ctxlog.errors import NotALedgerError, ReadOnlyError, SchemaVersionError
from ctxlog.ledger.log import Ledger
from ctxlog.ledger.sqlite import SQLiteStore
from ctxlog.ledger.store import Store

from .conformance import META, StoreConformance, make_records


def _conn(store: Store) -> sqlite3.Connection:
    return store._conn  # type: ignore[attr-defined, no-any-return]


class TestSQLiteFileStore(StoreConformance):
    @pytest.fixture(autouse=True)
    def _dir(self, tmp_path: Path) -> None:
        self.dir = tmp_path

    def make_store(self) -> Store:
        return SQLiteStore(str(self.dir / "ledger.db"))

    def raw_update(self, store: Store, offset: int) -> None:
        _conn(store).execute('UPDATE events SET kind = ? WHERE "offset" = ?', ("x", offset))

    def raw_delete(self, store: Store, offset: int) -> None:
        _conn(store).execute('DELETE FROM events WHERE "offset" = ?', (offset,))


class TestSQLiteMemoryStore(TestSQLiteFileStore):
    def make_store(self) -> Store:
        return SQLiteStore(":memory:")


def test_file_ledger_uses_wal(tmp_path: Path) -> None:
    store = SQLiteStore(str(tmp_path / "x.db"))
    assert _conn(store).execute("PRAGMA journal_mode").fetchone()[0] == "wal"


def test_readonly_store_refuses_to_begin(tmp_path: Path) -> None:
    path = str(tmp_path / "x.db")
    SQLiteStore(path).create_schema(dict(META))
    with pytest.raises(ReadOnlyError):
        SQLiteStore(path, readonly=True).begin()


def test_readonly_open_of_missing_file_is_not_a_ledger(tmp_path: Path) -> None:
    with pytest.raises(NotALedgerError, match="no such file"):
        SQLiteStore(str(tmp_path / "absent.db"), readonly=True)
    assert not (tmp_path / "absent.db").exists()


def test_random_bytes_are_not_a_ledger(tmp_path: Path) -> None:
    path = tmp_path / "junk.db"
    path.write_bytes(b"this is not sqlite at all" * 100)
    with pytest.raises(NotALedgerError):
        Ledger.open(str(path))


def test_other_sqlite_database_is_not_a_ledger(tmp_path: Path) -> None:
    path = str(tmp_path / "other.db")
    sqlite3.connect(path).execute("CREATE TABLE users (id INTEGER)")
    with pytest.raises(NotALedgerError, match="not a ctxlog ledger"):
        Ledger.open(path)
    assert sqlite3.connect(path).execute("SELECT name FROM sqlite_master").fetchall() == [("users",)]


def test_newer_schema_version_is_refused(tmp_path: Path) -> None:
    path = str(tmp_path / "new.db")
    Ledger.open(path).close()
    sqlite3.connect(path, isolation_level=None).execute("UPDATE meta SET value = '99' WHERE key = 'schema_version'")
    with pytest.raises(SchemaVersionError, match="99"):
        Ledger.open(path)


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


def test_another_connections_commit_is_a_change_elsewhere(tmp_path: Path) -> None:
    path = str(tmp_path / "x.db")
    mine, theirs = SQLiteStore(path), SQLiteStore(path)
    mine.create_schema(dict(META))
    mine.begin()
    mine.changed_elsewhere()
    mine.commit()
    theirs.begin()
    theirs.insert(make_records([("a", "set")]))
    theirs.commit()
    mine.begin()
    assert mine.changed_elsewhere() is True
    mine.rollback()

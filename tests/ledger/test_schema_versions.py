"""Every schema version still opens, verifies, replays and takes appends; ``migrate`` brings an older
one forward with its chain re-derived and its old head recorded."""

from __future__ import annotations

import io
import shutil
import sqlite3
from contextlib import closing
from pathlib import Path

import pytest

from ctxlog import ContextManager, IntegrityError, KeyMismatchError, LedgerError, replay
from ctxlog.audit import export, head, import_, migrate, runs, stats, verify
from ctxlog.ledger import Ledger
from ctxlog.ledger.chain import Chain

from ..attack import tamper

FIXTURES = Path(__file__).resolve().parents[1] / "fixtures"
VERSIONS = {1: ("ledger-v1.db", "v1-run", 12), 2: ("ledger-schema2.db", "schema2-run", 19)}


@pytest.fixture(params=sorted(VERSIONS), ids=lambda v: f"schema{v}")
def fixture(request: pytest.FixtureRequest, tmp_path: Path) -> tuple[int, str, str, int]:
    name, run, events = VERSIONS[request.param]
    path = tmp_path / name
    shutil.copy(FIXTURES / name, path)
    return request.param, str(path), run, events


def meta_of(path: str) -> dict[str, str]:
    with closing(sqlite3.connect(path)) as db:
        return dict(db.execute("SELECT key, value FROM meta"))


def test_each_version_verifies_as_written(fixture: tuple[int, str, str, int]) -> None:
    version, path, _, events = fixture
    result = verify(path)
    assert result.ok and result.events == events and result.schema_version == version
    assert stats(path).schema_version == version


def test_each_version_replays_to_its_checkpoints(fixture: tuple[int, str, str, int]) -> None:
    _, path, run, _ = fixture
    assert replay(path, run=run, until="finished") == replay(path, run=run)
    assert replay(path, run=run, until="loaded").get("records") in (120, 80)


def test_each_version_takes_appends_and_still_verifies(fixture: tuple[int, str, str, int]) -> None:
    version, path, run, events = fixture
    with ContextManager(path, run=run) as mgr:
        mgr.set("after", "upgrade")
    result = verify(path)
    assert result.ok and result.events == events + 1 and meta_of(path)["schema_version"] == str(version)


def test_migrate_copies_every_run_rechained_with_the_old_head_recorded(tmp_path: Path) -> None:
    old = str(tmp_path / "old.db")
    shutil.copy(FIXTURES / "ledger-v1.db", old)
    old_head = head(old)
    new = str(tmp_path / "new.db")
    result = migrate(old, new)
    assert result.ok and result.schema_version == 2 and result.events == old_head[0]
    meta = meta_of(new)
    assert meta["migrated_head"] == f"{old_head[0]}:{old_head[1]}" and meta["migrated_from"] == "1"
    assert meta["ledger_id"] == meta_of(old)["ledger_id"] and head(new) != old_head
    for info in runs(old):
        assert replay(new, run=info.run) == replay(old, run=info.run)
        assert replay(new, run=info.run, until="loaded") == replay(old, run=info.run, until="loaded")
    assert verify(old).ok and head(old) == old_head  # the source is left as it was


def test_the_migrated_meta_is_in_the_chain(tmp_path: Path) -> None:
    old = str(tmp_path / "old.db")
    shutil.copy(FIXTURES / "ledger-v1.db", old)
    new = str(tmp_path / "new.db")
    migrate(old, new)
    tamper(new, "UPDATE meta SET value = '99:" + "0" * 64 + "' WHERE key = 'migrated_head'")
    result = verify(new)
    assert not result.ok and result.bad_offset == 1


def test_a_keyed_ledger_migrates_under_its_key(tmp_path: Path) -> None:
    key = b"schema-one-ledger-key"
    old, new = str(tmp_path / "old.db"), str(tmp_path / "new.db")
    meta = {
        "format": "ctxlog", "schema_version": "1", "ledger_id": "k" * 32, "hash_algorithm": "hmac-sha256",
        "created_ns": "1", "key_check": Chain(key).key_check("k" * 32),
    }  # fmt: skip
    Ledger.open(old, key=key, meta=meta).close()  # a keyed ledger as schema 1 stored it
    with ContextManager(old, run="r", key=key) as mgr:
        mgr.set("a", 1)
    assert migrate(old, new, key=key).ok
    assert meta_of(new)["hash_algorithm"] == "hmac-sha256" and replay(new, key=key).get("a") == 1
    with pytest.raises(KeyMismatchError):
        verify(new)
    with pytest.raises(LedgerError, match="already at schema version 2"):
        migrate(new, str(tmp_path / "again.db"), key=key)
    assert not (tmp_path / "again.db").exists()


def test_a_source_that_does_not_verify_is_not_migrated(tmp_path: Path) -> None:
    old, new = str(tmp_path / "old.db"), str(tmp_path / "new.db")
    shutil.copy(FIXTURES / "ledger-v1.db", old)
    tamper(old, "UPDATE events SET payload = replace(payload, '120', '121') WHERE \"offset\" = 4")
    with pytest.raises(IntegrityError, match="nothing was migrated"):
        migrate(old, new)
    assert not Path(new).exists()


def test_export_import_export_is_byte_for_byte(fixture: tuple[int, str, str, int], tmp_path: Path) -> None:
    _, path, _, _ = fixture
    first = io.BytesIO()
    export(path, first)
    copy = str(tmp_path / "copy.db")
    assert import_(copy, io.BytesIO(first.getvalue())).ok
    second = io.BytesIO()
    export(copy, second)
    assert second.getvalue() == first.getvalue()
    assert verify(copy).schema_version == verify(path).schema_version

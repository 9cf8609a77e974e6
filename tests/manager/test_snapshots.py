"""Snapshots, as the session writes and reads them: every N events once the log has outgrown the
last one, compressed, used when intact and their state never believed over the log.

How ``replay`` treats a missing, mismatching or undecodable snapshot is in tests/audit/test_replay.py.
"""

from __future__ import annotations

import sqlite3

import pytest

from ctxlog import ContextManager, replay


def test_snapshots_every_n_events_are_used_and_agree_with_a_full_fold(
    ledger_path: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr("ctxlog.manager.session.SNAPSHOT_GROWTH", 0)
    with ContextManager(ledger_path, run="r", snapshot_interval=5) as mgr:
        for i in range(12):
            mgr.set(f"k{i % 3}", i)
        live = mgr.tree
    with sqlite3.connect(ledger_path) as conn:
        assert [s for (s,) in conn.execute("SELECT seq FROM snapshots ORDER BY seq")] == [5, 10]
    cached = [replay(ledger_path, until=o) for o in (7, 11, 13)]
    with sqlite3.connect(ledger_path) as conn:
        conn.execute("DELETE FROM snapshots")
    assert cached == [replay(ledger_path, until=o) for o in (7, 11, 13)]
    assert cached[-1] == live


def test_reopen_resumes_from_a_snapshot(ledger_path: str) -> None:
    with ContextManager(ledger_path, run="r", snapshot_interval=3) as mgr:
        for i in range(7):
            mgr.set("v", i)
    with ContextManager(ledger_path, run="r") as again:
        assert again.get("v") == 6 and again.tree.seq == 8


def test_snapshots_wait_for_the_log_to_outgrow_them(ledger_path: str) -> None:
    with ContextManager(ledger_path, run="r", snapshot_interval=2) as mgr:
        mgr.set("big", "x" * 5000)
        for i in range(20):
            mgr.set("small", i)
    with sqlite3.connect(ledger_path) as conn:
        seqs = [s for (s,) in conn.execute("SELECT seq FROM snapshots ORDER BY seq")]
    assert seqs == [2]
    assert replay(ledger_path).get("small") == 19


def test_snapshots_are_compressed(ledger_path: str) -> None:
    with ContextManager(ledger_path, run="r") as mgr:
        mgr.set("text", "abc" * 10_000)
        mgr.checkpoint("cp")
    with sqlite3.connect(ledger_path) as conn:
        (size,) = conn.execute("SELECT length(state) FROM snapshots").fetchone()
    assert size < 3_000


def test_edited_snapshot_state_is_not_believed(ledger_path: str) -> None:
    import zlib

    with ContextManager(ledger_path, run="r", key=b"snapshot-ledger-key") as mgr:
        mgr.set("balance", 100)
        mgr.checkpoint("cp")
    with sqlite3.connect(ledger_path) as conn:
        (state,) = conn.execute("SELECT state FROM snapshots").fetchone()
        forged = zlib.compress(zlib.decompress(state).replace(b'"balance":100', b'"balance":1000000'))
        conn.execute("UPDATE snapshots SET state = ?", (forged,))
    assert replay(ledger_path, key=b"snapshot-ledger-key").get("balance") == 100
    assert replay(ledger_path, until="cp", key=b"snapshot-ledger-key").get("balance") == 100
    with ContextManager(ledger_path, run="r", key=b"snapshot-ledger-key") as again:
        assert again.get("balance") == 100


def test_snapshot_is_used_when_intact(ledger_path: str, monkeypatch: pytest.MonkeyPatch) -> None:
    import importlib

    module = importlib.import_module("ctxlog.manager.session")
    with ContextManager(ledger_path, run="r") as mgr:
        for i in range(30):
            mgr.set("v", i)
        mgr.checkpoint("cp")
        mgr.set("v", 30)
    folded: list[int] = []
    real_fold = module.fold

    def counting_fold(records, tree):  # type: ignore[no-untyped-def]
        records = list(records)
        folded.append(len(records))
        return real_fold(records, tree)

    monkeypatch.setattr(module, "fold", counting_fold)
    assert replay(ledger_path).get("v") == 30 and folded == [1]
    with sqlite3.connect(ledger_path) as conn:
        conn.execute("UPDATE snapshots SET hash = 'tampered'")
    assert replay(ledger_path).get("v") == 30 and folded == [1, 33]

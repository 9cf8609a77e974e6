"""``replay``: the tree at a checkpoint or offset, run selection, and snapshots as a mere cache."""

from __future__ import annotations

import sqlite3

import pytest

from ctxlog import (
    ContextManager,
    NotALedgerError,
    UnknownCheckpointError,
    UnknownRunError,
    replay,
)


@pytest.fixture
def two_checkpoints(ledger_path: str) -> str:
    with ContextManager(ledger_path, run="r") as mgr:
        mgr.set("v", 1)
        mgr.checkpoint("one")
        mgr.set("v", 2)
        mgr.checkpoint("two")
        mgr.set("v", 3)
    return ledger_path


def test_replay_until_a_checkpoint(two_checkpoints: str) -> None:
    assert [replay(two_checkpoints, until=cp).get("v") for cp in ("one", "two")] == [1, 2]


def test_replay_head_when_until_is_none(two_checkpoints: str) -> None:
    tree = replay(two_checkpoints)
    assert tree.get("v") == 3 and tree.checkpoints == {"one": 3, "two": 5}


def test_replay_until_an_offset_and_a_digit_string(two_checkpoints: str) -> None:
    assert replay(two_checkpoints, until=2).get("v") == 1
    assert replay(two_checkpoints, until="4").get("v") == 2


def test_replayed_tree_knows_its_position(two_checkpoints: str) -> None:
    tree = replay(two_checkpoints, until="one")
    assert (tree.offset, tree.run, tree.checkpoints) == (3, "r", {"one": 3})


def test_unknown_checkpoint_lists_the_known_ones(two_checkpoints: str) -> None:
    with pytest.raises(UnknownCheckpointError, match="one, two"):
        replay(two_checkpoints, until="three")


def test_offset_outside_the_run_is_refused(two_checkpoints: str) -> None:
    with pytest.raises(UnknownCheckpointError, match="outside"):
        replay(two_checkpoints, until=99)


def test_several_runs_need_a_choice(two_checkpoints: str) -> None:
    with ContextManager(two_checkpoints, run="other") as mgr:
        mgr.set("v", 0)
    with pytest.raises(UnknownRunError, match="other"):
        replay(two_checkpoints)
    assert replay(two_checkpoints, run="other").get("v") == 0


def test_unknown_run_is_refused(two_checkpoints: str) -> None:
    with pytest.raises(UnknownRunError, match="nope"):
        replay(two_checkpoints, run="nope")


def test_missing_file_is_not_a_ledger(tmp_path: object) -> None:
    with pytest.raises(NotALedgerError):
        replay(f"{tmp_path}/absent.db")


def test_replay_opens_read_only(two_checkpoints: str) -> None:
    with sqlite3.connect(two_checkpoints) as conn:
        before = conn.execute("SELECT count(*) FROM events").fetchone()
    replay(two_checkpoints, until="one")
    with sqlite3.connect(two_checkpoints) as conn:
        assert conn.execute("SELECT count(*) FROM events").fetchone() == before


def test_replay_equals_a_fold_without_snapshots(two_checkpoints: str) -> None:
    with_cache = replay(two_checkpoints, until="two")
    with sqlite3.connect(two_checkpoints) as conn:
        conn.execute("DELETE FROM snapshots")
    assert replay(two_checkpoints, until="two") == with_cache


def test_snapshot_claiming_a_wrong_hash_is_ignored(two_checkpoints: str) -> None:
    truth = replay(two_checkpoints, until="two")
    with sqlite3.connect(two_checkpoints) as conn:
        conn.execute("UPDATE snapshots SET hash = 'bad'")
    assert replay(two_checkpoints, until="two") == truth


def test_undecodable_snapshot_is_ignored(two_checkpoints: str) -> None:
    truth = replay(two_checkpoints)
    with sqlite3.connect(two_checkpoints) as conn:
        conn.execute("UPDATE snapshots SET state = x'00ff'")
    assert replay(two_checkpoints) == truth


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

    with ContextManager(ledger_path, run="r", key=b"k") as mgr:
        mgr.set("balance", 100)
        mgr.checkpoint("cp")
    with sqlite3.connect(ledger_path) as conn:
        (state,) = conn.execute("SELECT state FROM snapshots").fetchone()
        forged = zlib.compress(zlib.decompress(state).replace(b'"balance":100', b'"balance":1000000'))
        conn.execute("UPDATE snapshots SET state = ?", (forged,))
    assert replay(ledger_path, key=b"k").get("balance") == 100
    assert replay(ledger_path, until="cp", key=b"k").get("balance") == 100
    with ContextManager(ledger_path, run="r", key=b"k") as again:
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


def test_verified_replay_starts_from_a_snapshot_and_checks_the_rest(ledger_path: str) -> None:
    with ContextManager(ledger_path, run="r") as mgr:
        mgr.set("v", 1)
        mgr.checkpoint("cp")
        mgr.set("v", 2)
    assert replay(ledger_path, verify=True).get("v") == 2
    assert replay(ledger_path, until="cp", verify=True).get("v") == 1


@pytest.mark.parametrize("until", ["²", "١", " 3x"])
def test_non_ascii_digits_are_not_offsets(two_checkpoints: str, until: str) -> None:
    with pytest.raises(UnknownCheckpointError, match="one, two"):
        replay(two_checkpoints, until=until)


def test_damaged_checkpoint_payload_is_an_integrity_error(two_checkpoints: str) -> None:
    from ctxlog import IntegrityError
    from ctxlog.audit import checkpoints

    with sqlite3.connect(two_checkpoints) as conn:
        conn.execute("DROP TRIGGER events_no_update")
        conn.execute('UPDATE events SET payload = \'{"kind":"checkpoint","na\' WHERE kind = \'checkpoint\'')
    with pytest.raises(IntegrityError, match="offset 3"):
        checkpoints(two_checkpoints)
    with pytest.raises(IntegrityError):
        replay(two_checkpoints, until="4x")


def test_verified_replay_names_a_malformed_row(two_checkpoints: str) -> None:
    from ctxlog import IntegrityError

    with sqlite3.connect(two_checkpoints) as conn:
        conn.execute("DROP TRIGGER events_no_update")
        conn.execute("UPDATE events SET payload = x'00' WHERE \"offset\" = 2")
        conn.execute("DELETE FROM snapshots")
    with pytest.raises(IntegrityError, match="offset 2"):
        replay(two_checkpoints, verify=True)


def test_checkpoint_name_with_a_nul_character(ledger_path: str) -> None:
    with ContextManager(ledger_path, run="r") as mgr:
        mgr.set("v", 1)
        mgr.checkpoint("a b")
        mgr.checkpoint("a\x00b")
        mgr.set("v", 2)
        mgr.restore("a\x00b")
        assert mgr.get("v") == 1
    assert replay(ledger_path, until="a\x00b").offset == 4

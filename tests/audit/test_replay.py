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

from ..attack import attacker, tamper


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

    tamper(two_checkpoints, 'UPDATE events SET payload = \'{"kind":"checkpoint","na\' WHERE kind = \'checkpoint\'')
    with pytest.raises(IntegrityError, match="offset 3"):
        checkpoints(two_checkpoints)
    with pytest.raises(IntegrityError):
        replay(two_checkpoints, until="4x")


def test_verified_replay_names_a_malformed_row(two_checkpoints: str) -> None:
    from ctxlog import IntegrityError

    with attacker(two_checkpoints) as conn:
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

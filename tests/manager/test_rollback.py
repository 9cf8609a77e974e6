"""A failed transaction takes back its changes from the live tree exactly, byte for byte.

The live tree notes what each operation changes and a failure takes the changes back (instead of
rebuilding the tree from the log). The tree after the rollback must be the one before, down to
the order of keys (a snapshot written later is compared byte for byte by verify), and the one a
replay of the log gives.
"""

from __future__ import annotations

import contextlib
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from ctxlog import ContextManager, CtxlogError, MergePolicy, replay
from ctxlog.audit import verify
from ctxlog.projections import journal

KEYS = st.sampled_from(["a", "b", "c", "d"])
VALUES = st.one_of(st.integers(), st.text(max_size=3), st.none(), st.dictionaries(KEYS, st.integers(), max_size=2))
POLICIES = st.sampled_from([None, *MergePolicy])
OPERATIONS = st.lists(
    st.one_of(
        st.tuples(st.just("set"), KEYS, VALUES),
        st.tuples(st.just("delete"), KEYS),
        st.tuples(st.just("enter"), st.sampled_from(["s", "t"])),
        st.tuples(st.just("exit"), POLICIES),
        st.tuples(st.just("checkpoint"), st.integers(0, 2)),
        st.tuples(st.just("restore"), st.integers(0, 2)),
        st.tuples(st.just("branch"), POLICIES),
    ),
    max_size=25,
)


class Failure(Exception):
    pass


def perform(mgr: ContextManager, operation: tuple) -> None:
    """Run one operation; an operation the state refuses (a missing key …) is skipped."""
    name, *args = operation
    with contextlib.suppress(CtxlogError):
        if name == "set":
            mgr.set(args[0], args[1])
        elif name == "delete":
            mgr.delete(args[0])
        elif name == "enter":
            mgr.enter_step(args[0])
        elif name == "exit":
            mgr.exit_step(merge=args[0])
        elif name == "checkpoint":
            mgr.checkpoint(f"cp-{args[0]}")
        elif name == "restore":
            mgr.restore(f"cp-{args[0]}")
        else:
            branch = mgr.create_parallel_context()
            mgr.switch_to(branch)
            mgr.set("a", 1)
            mgr.switch_to(mgr.tree.context(branch).parent_id)
            mgr.merge_child_to_parent(branch, args[0] or MergePolicy.KEEP_EXISTING)


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(before=OPERATIONS, inside=OPERATIONS)
def test_a_failed_transaction_leaves_the_tree_byte_for_byte_as_before(
    tmp_path: Path, before: list, inside: list
) -> None:
    path = str(tmp_path / f"r{abs(hash((str(before), str(inside))))}.db")
    with ContextManager(path, run="r") as mgr:
        for operation in before:
            perform(mgr, operation)
        mgr.set("d", {"x": 1})  # a map the merges below go deep into
        was = mgr.tree.snapshot_bytes()
        with pytest.raises(Failure), mgr.transaction():
            for operation in inside:
                perform(mgr, operation)
            raise Failure
        assert mgr.tree.snapshot_bytes() == was
        assert replay(path, run="r").snapshot_bytes() == was
        for operation in inside:  # and it goes on from there as if the transaction never was
            perform(mgr, operation)
        assert mgr.tree.snapshot_bytes() == replay(path, run="r").snapshot_bytes()
    assert verify(path).ok


def test_a_delete_taken_back_puts_the_key_back_in_its_place(ledger_path: str) -> None:
    with ContextManager(ledger_path, run="r") as mgr:
        for key in "abc":
            mgr.set(key, key)
        with pytest.raises(Failure), mgr.transaction():
            mgr.delete("a")
            mgr.set("a", "again")
            raise Failure
        assert list(mgr.tree.context().data) == ["a", "b", "c"]


def test_a_merge_taken_back_leaves_the_parent_as_it_was(ledger_path: str) -> None:
    with ContextManager(ledger_path, run="r") as mgr:
        mgr.set("m", {"x": [1]})
        with pytest.raises(Failure), mgr.transaction():
            mgr.enter_step("s")
            mgr.set("m", {"x": [2], "y": 1})
            mgr.set("new", True)
            mgr.exit_step(merge=MergePolicy.MERGE)
            assert mgr.get("m") == {"x": [1, 2], "y": 1}
            raise Failure
        assert mgr.tree.context().data == {"m": {"x": [1]}}


def test_a_transaction_longer_than_the_journal_rebuilds_from_the_log(
    ledger_path: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(journal, "MAX_ENTRIES", 5)
    with ContextManager(ledger_path, run="r") as mgr:
        mgr.set("kept", 1)
        was = mgr.tree.snapshot_bytes()
        with pytest.raises(Failure), mgr.transaction():
            for i in range(20):
                mgr.set(f"k{i}", i)
            raise Failure
        assert mgr.tree.snapshot_bytes() == was


def test_replay_keeps_no_journal(demo_db: str) -> None:
    assert replay(demo_db).journal is None


def test_a_rollback_does_not_rebuild_the_tree_from_the_log(ledger_path: str, monkeypatch: pytest.MonkeyPatch) -> None:
    from ctxlog.manager import session

    with ContextManager(ledger_path, run="r") as mgr:
        mgr.set("kept", 1)
        monkeypatch.setattr(session, "load_tree", lambda *a, **k: pytest.fail("the tree was rebuilt"))
        with pytest.raises(Failure), mgr.transaction():
            mgr.enter_step("s")
            mgr.set("x", 2)
            raise Failure
        with pytest.raises(CtxlogError):
            mgr.delete("missing")  # a refused operation appends nothing: nothing to take back
        assert mgr.get("x") is None and mgr.current_id == "root"

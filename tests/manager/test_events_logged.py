"""One operation, one event of its kind, with the right context and cause."""

from __future__ import annotations

import sqlite3

from ctxlog import ContextManager, MergePolicy
from ctxlog.ledger.codec import decode_event
from ctxlog.ledger.events import KINDS


def rows(path: str, since: int = 0) -> list[tuple]:
    with sqlite3.connect(path) as conn:
        return conn.execute(
            'SELECT "offset", run, seq, kind, context, cause FROM events WHERE "offset" > ? ORDER BY "offset"',
            (since,),
        ).fetchall()


def kinds(path: str, since: int = 0) -> list[str]:
    return [r[3] for r in rows(path, since)]


def test_each_operation_appends_its_event(mgr: ContextManager, ledger_path: str) -> None:
    mgr.initialize()
    mgr.set("a", 1)
    mgr.delete("a")
    step = mgr.enter_step("s")
    mgr.exit_step()
    par = mgr.create_parallel_context()
    mgr.switch_to(par)
    mgr.switch_to("root")
    mgr.merge_child_to_parent(step)
    mgr.checkpoint("cp")
    mgr.restore("cp")
    mgr.deserialize(mgr.serialize())
    assert kinds(ledger_path) == [
        "initialized",
        "set",
        "deleted",
        "entered",
        "exited",
        "entered",
        "switched",
        "switched",
        "merged",
        "checkpoint",
        "restored",
        "loaded",
    ]


def test_exit_with_merge_appends_merged_then_exited(mgr: ContextManager, ledger_path: str) -> None:
    mgr.enter_step("s")
    start = mgr.offset
    mgr.exit_step(MergePolicy.MERGE)
    assert [(r[3], r[4]) for r in rows(ledger_path, start)] == [("merged", "root"), ("exited", "s")]


def test_failed_step_appends_failed(mgr: ContextManager, ledger_path: str) -> None:
    try:
        with mgr.step("s"):
            raise KeyError("boom")
    except KeyError:
        pass
    assert kinds(ledger_path)[-1] == "failed"


def test_reads_and_serialize_append_nothing(mgr: ContextManager) -> None:
    mgr.set("a", 1)
    offset = mgr.offset
    mgr.get("a")
    mgr.serialize()
    _ = (mgr.tree, mgr.depth, mgr.current_id, mgr.checkpoints)
    assert mgr.offset == offset


def test_cause_inside_a_step_is_its_entered_event(mgr: ContextManager, ledger_path: str) -> None:
    mgr.enter_step("s")
    entered = mgr.offset
    mgr.set("a", 1)
    mgr.enter_step("t")
    mgr.exit_step()
    causes = [r[5] for r in rows(ledger_path, entered)]
    assert causes[0] == entered and causes[1] == entered


def test_root_operations_are_caused_by_initialized(mgr: ContextManager, ledger_path: str) -> None:
    mgr.set("a", 1)
    (init, s) = rows(ledger_path)
    assert (init[3], init[5], s[5]) == ("initialized", None, init[0])


def test_restore_is_caused_by_its_target(mgr: ContextManager, ledger_path: str) -> None:
    cp = mgr.checkpoint("cp")
    mgr.set("a", 1)
    mgr.restore("cp")
    assert rows(ledger_path)[-1][5] == cp.offset


def test_run_column_and_dense_seq(ledger_path: str) -> None:
    with ContextManager(ledger_path, run="a") as a, ContextManager(ledger_path, run="b") as b:
        a.set("x", 1)
        b.set("x", 1)
        a.set("y", 2)
    got = [(r[0], r[1], r[2]) for r in rows(ledger_path)]
    assert got == [(1, "a", 1), (2, "a", 2), (3, "b", 1), (4, "b", 2), (5, "a", 3)]


def test_payload_is_queryable_json(mgr: ContextManager, ledger_path: str) -> None:
    mgr.set("cfg", {"env": "prod"})
    with sqlite3.connect(ledger_path) as conn:
        env = conn.execute("SELECT json_extract(payload, '$.value.env') FROM events WHERE kind = 'set'").fetchone()
    assert env == ("prod",)


def test_every_stored_payload_decodes_to_its_kind(mgr: ContextManager, ledger_path: str) -> None:
    mgr.set("a", 1)
    mgr.checkpoint("cp")
    with sqlite3.connect(ledger_path) as conn:
        for kind, payload in conn.execute("SELECT kind, payload FROM events"):
            assert decode_event(payload).__struct_config__.tag == kind
            assert kind in KINDS


def test_snapshot_written_at_checkpoint(mgr: ContextManager, ledger_path: str) -> None:
    mgr.set("a", 1)
    cp = mgr.checkpoint("cp")
    with sqlite3.connect(ledger_path) as conn:
        assert conn.execute('SELECT "offset" FROM snapshots').fetchall() == [(cp.offset,)]


def test_events_cannot_be_updated_or_deleted(mgr: ContextManager, ledger_path: str) -> None:
    mgr.set("a", 1)
    conn = sqlite3.connect(ledger_path)
    for statement in ("UPDATE events SET kind = 'x'", "DELETE FROM events"):
        try:
            conn.execute(statement)
            raise AssertionError(f"{statement} was allowed")
        except sqlite3.DatabaseError as exc:
            assert "append-only" in str(exc)
    conn.close()


def test_causes_after_deserialize_point_inside_the_run(ledger_path: str) -> None:
    with ContextManager(ledger_path, run="a") as a:
        a.enter_step("s")
        data = a.serialize()
    with ContextManager(ledger_path, run="b") as b:
        b.set("x", 1)
        b.deserialize(data)
        loaded = b.offset
        b.set("y", 2)
    last = rows(ledger_path)[-1]
    assert (last[1], last[5]) == ("b", loaded)

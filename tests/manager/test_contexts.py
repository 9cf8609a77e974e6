"""The CCOS context-manager cases, on a durable ledger."""

from __future__ import annotations

import pytest

import ctxlog
from ctxlog import (
    ContextManager,
    ContextStateError,
    IsolationLevel,
    MergePolicy,
    NotInitializedError,
    replay,
)


def test_operations_before_initialize_create_the_root(mgr: ContextManager) -> None:
    mgr.set("config", "production")
    assert (mgr.current_id, mgr.depth, mgr.get("config")) == ("root", 1, "production")


def test_initialize_names_the_root(mgr: ContextManager) -> None:
    assert mgr.initialize("plan") == "plan"
    assert (mgr.current_id, mgr.tree.root_id) == ("plan", "plan")


def test_initialize_twice_is_refused(mgr: ContextManager) -> None:
    mgr.initialize()
    with pytest.raises(ContextStateError, match="already has the root"):
        mgr.initialize("again")


def test_child_reads_parent(mgr: ContextManager) -> None:
    mgr.set("config", "production")
    mgr.enter_step("validation")
    assert mgr.get("config") == "production"


def test_parent_does_not_see_child(mgr: ContextManager) -> None:
    mgr.enter_step("validation")
    mgr.set("records", 1000)
    mgr.exit_step()
    assert mgr.get("records") is None


def test_child_value_shadows_parent(mgr: ContextManager) -> None:
    mgr.set("mode", "parent")
    mgr.enter_step("s")
    mgr.set("mode", "child")
    assert mgr.get("mode") == "child"
    mgr.exit_step()
    assert mgr.get("mode") == "parent"


def test_none_shadows_like_any_value(mgr: ContextManager) -> None:
    mgr.set("x", 1)
    mgr.enter_step("s")
    mgr.set("x", None)
    assert mgr.get("x", "default") is None


def test_isolated_child_reads_parent(mgr: ContextManager) -> None:
    mgr.set("config", "production")
    mgr.enter_step("iso", IsolationLevel.ISOLATED)
    assert mgr.get("config") == "production"


def test_sandboxed_sees_nothing_of_the_parent(mgr: ContextManager) -> None:
    mgr.set("config", "production")
    mgr.enter_step("box", IsolationLevel.SANDBOXED)
    assert mgr.get("config") is None
    mgr.set("own", 1)
    assert mgr.get("own") == 1


def test_child_of_sandbox_reads_the_sandbox_but_not_above(mgr: ContextManager) -> None:
    mgr.set("top", 1)
    mgr.enter_step("box", IsolationLevel.SANDBOXED)
    mgr.set("boxed", 2)
    mgr.enter_step("inner")
    assert (mgr.get("boxed"), mgr.get("top")) == (2, None)


def test_parallel_branches_are_isolated_from_each_other_and_the_parent(mgr: ContextManager) -> None:
    mgr.set("shared", "root")
    w1 = mgr.create_parallel_context("worker-1")
    w2 = mgr.create_parallel_context("worker-2")
    assert mgr.current_id == "root"
    mgr.switch_to(w1)
    mgr.set("worker_data", "one")
    assert mgr.get("shared") == "root"
    mgr.switch_to(w2)
    assert mgr.get("worker_data") is None
    mgr.set("worker_data", "two")
    mgr.switch_to("root")
    assert mgr.get("worker_data") is None
    mgr.switch_to(w1)
    assert mgr.get("worker_data") == "one"


def test_parallel_context_is_isolated_and_marked(mgr: ContextManager) -> None:
    cid = mgr.create_parallel_context()
    ctx = mgr.tree.contexts[cid]
    assert (ctx.isolation, ctx.is_parallel, ctx.parent_id) == (IsolationLevel.ISOLATED, True, "root")


def test_depth_one_two_three_and_back_via_switch_to(mgr: ContextManager) -> None:
    mgr.initialize()
    assert mgr.depth == 1
    a = mgr.enter_step("a")
    assert mgr.depth == 2
    mgr.enter_step("b")
    assert mgr.depth == 3
    mgr.switch_to(a)
    assert mgr.depth == 2
    mgr.switch_to("root")
    assert mgr.depth == 1


def test_depth_is_zero_before_any_context(mgr: ContextManager) -> None:
    assert (mgr.depth, mgr.current_id) == (0, None)


def test_step_ids_are_unique_in_the_run(mgr: ContextManager) -> None:
    ids = []
    for _ in range(3):
        ids.append(mgr.enter_step("step"))
        mgr.exit_step()
    assert ids == ["step", "step-2", "step-3"]


def test_ids_are_not_reused_after_restore(mgr: ContextManager) -> None:
    mgr.checkpoint("start")
    first = mgr.enter_step("s")
    mgr.restore("start")
    assert mgr.enter_step("s") != first


def test_exit_step_returns_the_context_with_its_data(mgr: ContextManager) -> None:
    mgr.enter_step("s")
    mgr.set("n", 5)
    ctx = mgr.exit_step()
    assert (ctx.id, ctx.data, ctx.status) == ("s", {"n": 5}, "exited")


def test_exit_step_with_merge(mgr: ContextManager) -> None:
    mgr.enter_step("s")
    mgr.set("n", 5)
    mgr.exit_step(MergePolicy.OVERWRITE)
    assert mgr.get("n") == 5


def test_exiting_the_root_is_refused(mgr: ContextManager) -> None:
    mgr.initialize()
    with pytest.raises(ContextStateError, match="root"):
        mgr.exit_step()


def test_exit_before_initialize_is_refused(mgr: ContextManager) -> None:
    with pytest.raises(NotInitializedError):
        mgr.exit_step()


def test_exited_context_stays_in_the_tree(mgr: ContextManager) -> None:
    mgr.enter_step("s")
    mgr.set("n", 1)
    mgr.exit_step()
    assert mgr.tree.contexts["s"].status == "exited"
    assert mgr.tree.get("n", "s") == 1


def test_switch_to_an_exited_context_is_refused(mgr: ContextManager) -> None:
    mgr.enter_step("s")
    mgr.exit_step()
    with pytest.raises(ContextStateError, match="exited"):
        mgr.switch_to("s")


def test_keep_existing_adds_only_missing_keys(mgr: ContextManager) -> None:
    mgr.set("a", "parent")
    mgr.set("none", None)
    child = mgr.enter_step("s")
    mgr.set("a", "child")
    mgr.set("b", "child")
    mgr.set("none", "child")
    mgr.switch_to("root")
    mgr.merge_child_to_parent(child, MergePolicy.KEEP_EXISTING)
    assert (mgr.get("a"), mgr.get("b"), mgr.get("none")) == ("parent", "child", None)


def test_overwrite_lets_the_child_win(mgr: ContextManager) -> None:
    mgr.set("a", "parent")
    child = mgr.enter_step("s")
    mgr.set("a", "child")
    mgr.merge_child_to_parent(child, MergePolicy.OVERWRITE)
    mgr.switch_to("root")
    assert mgr.get("a") == "child"


def test_deep_merge(mgr: ContextManager) -> None:
    mgr.set("cfg", {"db": {"host": "a", "port": 1}, "tags": ["x"], "n": 1})
    child = mgr.enter_step("s")
    mgr.set("cfg", {"db": {"port": 2, "user": "u"}, "tags": ["y"], "n": [1]})
    mgr.exit_step()
    mgr.merge_child_to_parent(child, MergePolicy.MERGE)
    assert mgr.get("cfg") == {"db": {"host": "a", "port": 2, "user": "u"}, "tags": ["x", "y"], "n": [1]}


def test_begin_and_end_isolated(mgr: ContextManager) -> None:
    mgr.set("keep", 1)
    iso = mgr.begin_isolated("try")
    assert mgr.tree.contexts[iso].isolation is IsolationLevel.ISOLATED
    mgr.set("result", "ok")
    mgr.end_isolated(iso, MergePolicy.OVERWRITE)
    assert (mgr.current_id, mgr.get("result"), mgr.tree.contexts[iso].status) == ("root", "ok", "exited")


def test_value_set_to_99_after_checkpoint_reads_1_after_restore(mgr: ContextManager) -> None:
    mgr.set("v", 1)
    mgr.checkpoint("cp")
    mgr.set("v", 99)
    mgr.restore("cp")
    assert mgr.get("v") == 1


def test_restore_by_offset(mgr: ContextManager) -> None:
    mgr.set("v", 1)
    offset = mgr.offset
    mgr.set("v", 2)
    mgr.restore(offset)
    assert mgr.get("v") == 1


def test_restore_gives_back_current_and_structure(mgr: ContextManager) -> None:
    mgr.enter_step("a")
    cp = mgr.checkpoint("in-a")
    before = mgr.tree
    mgr.exit_step()
    mgr.enter_step("b")
    mgr.restore(cp.name)
    assert mgr.tree == before and mgr.current_id == "a"


def test_checkpoint_stays_restorable_after_restoring_an_earlier_one(mgr: ContextManager) -> None:
    mgr.set("v", 1)
    mgr.checkpoint("one")
    mgr.set("v", 2)
    mgr.checkpoint("two")
    mgr.restore("one")
    mgr.restore("two")
    assert mgr.get("v") == 2


def test_checkpoint_offset_is_its_event(mgr: ContextManager) -> None:
    mgr.set("v", 1)
    cp = mgr.checkpoint("cp")
    assert cp.offset == mgr.offset and mgr.checkpoints == {"cp": cp.offset}


def test_serialize_into_a_new_manager_gives_the_same_tree(mgr: ContextManager) -> None:
    mgr.set("cfg", {"a": [1, 2.5, None, True]})
    mgr.enter_step("s", IsolationLevel.SANDBOXED)
    mgr.set("x", "y")
    data = mgr.serialize()
    with ContextManager() as other:
        other.initialize("restored")
        other.deserialize(data)
        assert other.tree == mgr.tree
        assert other.current_id == "s" and other.get("x") == "y"


def test_deserialize_replaces_the_whole_tree(mgr: ContextManager) -> None:
    with ContextManager() as source:
        source.initialize("other-root")
        data = source.serialize()
    mgr.enter_step("gone")
    mgr.deserialize(data)
    assert set(mgr.tree.contexts) == {"other-root"} and mgr.current_id == "other-root"


def test_step_exits_and_merges(mgr: ContextManager) -> None:
    with mgr.step("s", merge=MergePolicy.OVERWRITE) as cid:
        assert mgr.current_id == cid
        mgr.set("n", 1)
    assert (mgr.current_id, mgr.get("n")) == ("root", 1)


def test_step_failure_is_recorded_and_propagates(mgr: ContextManager) -> None:
    with pytest.raises(ZeroDivisionError):
        with mgr.step("s", merge=MergePolicy.OVERWRITE):
            mgr.set("n", 1)
            raise ZeroDivisionError("division by zero")
    ctx = mgr.tree.contexts["s"]
    assert (ctx.status, mgr.current_id, mgr.get("n")) == ("failed", "root", None)


def test_transaction_commits_all(ledger_path: str) -> None:
    with ContextManager(ledger_path, run="r") as mgr, mgr.transaction():
        mgr.set("a", 1)
        mgr.set("b", 2)
    assert replay(ledger_path).get("b") == 2


def test_transaction_failure_rolls_back_log_and_tree(mgr: ContextManager) -> None:
    mgr.set("a", 1)
    before, offset = mgr.tree, mgr.offset
    with pytest.raises(RuntimeError), mgr.transaction():
        mgr.set("a", 2)
        mgr.enter_step("s")
        raise RuntimeError("abort")
    assert (mgr.tree, mgr.offset, mgr.get("a")) == (before, offset, 1)


def test_reopening_a_run_resumes_it(ledger_path: str) -> None:
    with ContextManager(ledger_path, run="r") as mgr:
        mgr.set("a", 1)
        mgr.enter_step("s")
        mgr.checkpoint("cp")
        mgr.set("b", 2)
        tree = mgr.tree
    with ContextManager(ledger_path, run="r", resume="keep") as again:
        assert again.tree == tree and again.current_id == "s" and again.open_steps == ["s"]
        again.set("c", 3)
        assert again.tree.seq == tree.seq + 1 and again.interrupted == []


def test_reopening_interrupts_the_steps_the_last_writer_left_open(ledger_path: str) -> None:
    with ContextManager(ledger_path, run="r") as mgr:
        mgr.enter_step("s")
        mgr.enter_step("inner")
        mgr.set("b", 2)
        offset = mgr.offset
    with ContextManager(ledger_path, run="r") as again:
        assert again.interrupted == ["s", "inner"] and again.open_steps == [] and again.current_id == "root"
        tree = again.tree
        assert [tree.contexts[c].status for c in ("s", "inner")] == ["failed", "failed"]
        assert tree.contexts["inner"].data == {"b": 2} and again.get("b") is None
    failed = [r for r in ctxlog.audit.log(ledger_path, run="r") if r.offset > offset]
    assert [(r.kind, r.context) for r in failed] == [("failed", "inner"), ("failed", "s")]
    assert all('"error_type":"Interrupted"' in r.payload for r in failed)
    with ContextManager(ledger_path, run="r") as third:
        assert third.interrupted == [] and third.offset == failed[-1].offset


def test_many_runs_per_file(ledger_path: str) -> None:
    for run in ("a", "b"):
        with ContextManager(ledger_path, run=run) as mgr:
            mgr.set("run", run)
    assert replay(ledger_path, run="a").get("run") == "a"
    assert replay(ledger_path, run="b").get("run") == "b"


def test_new_run_ids_are_unique(ledger_path: str) -> None:
    with ContextManager(ledger_path) as a, ContextManager(ledger_path) as b:
        assert a.run != b.run


def test_automatic_checkpoints_every_n_events(ledger_path: str) -> None:
    with ContextManager(ledger_path, run="auto", checkpoint_interval=4) as auto:
        for i in range(10):
            auto.set("i", i)
        names = list(auto.checkpoints)
    assert names == ["auto-5", "auto-9", "auto-13"]
    assert replay(ledger_path, run="auto", until="auto-9").get("i") == 5


def test_tree_property_is_a_copy(mgr: ContextManager) -> None:
    mgr.set("a", [1])
    tree = mgr.tree
    tree.contexts["root"].data["a"].append(2)
    assert mgr.get("a") == [1]


def test_get_returns_a_copy(mgr: ContextManager) -> None:
    mgr.set("a", {"b": [1]})
    mgr.get("a")["b"].append(2)
    assert mgr.get("a") == {"b": [1]}


def test_set_copies_the_value(mgr: ContextManager) -> None:
    value = [1]
    mgr.set("a", value)
    value.append(2)
    assert mgr.get("a") == [1]


def test_exiting_a_step_closes_its_active_children(mgr: ContextManager) -> None:
    a = mgr.enter_step("a")
    mgr.enter_step("b")
    mgr.create_parallel_context("p")
    mgr.switch_to(a)
    mgr.exit_step()
    statuses = {cid: c.status for cid, c in mgr.tree.contexts.items()}
    assert statuses == {"root": "active", "a": "exited", "b": "exited", "p": "exited"}
    assert mgr.current_id == "root"


def test_failed_step_fails_its_active_children(mgr: ContextManager) -> None:
    with pytest.raises(RuntimeError), mgr.step("outer"):
        mgr.enter_step("inner")
        raise RuntimeError("boom")
    assert (mgr.tree.contexts["inner"].status, mgr.tree.contexts["outer"].status) == ("failed", "failed")


def test_restore_takes_a_digit_string_as_an_offset_like_replay(mgr: ContextManager) -> None:
    mgr.set("v", 1)
    offset = mgr.offset
    mgr.set("v", 2)
    mgr.restore(str(offset))
    assert mgr.get("v") == 1


def test_restore_prefers_a_checkpoint_named_with_digits(mgr: ContextManager) -> None:
    mgr.set("v", 1)
    mgr.checkpoint("1")
    mgr.set("v", 2)
    mgr.restore("1")
    assert mgr.get("v") == 1


def test_a_step_decorates_a_function_one_step_a_call(mgr: ContextManager) -> None:
    @mgr.step("work", merge=MergePolicy.OVERWRITE)
    def work(n: int) -> int:
        mgr.set("n", n)
        return n * 2

    assert (work(1), work(2)) == (2, 4)
    assert [c for c in mgr.tree.contexts if c.startswith("work")] == ["work", "work-2"]
    assert (mgr.current_id, mgr.get("n")) == ("root", 2)


def test_a_step_decorates_a_coroutine_function(mgr: ContextManager) -> None:
    import asyncio

    @mgr.astep("job")
    async def job() -> str | None:
        return mgr.current_id

    assert asyncio.run(job()) == "job" and mgr.current_id == "root"


def test_one_step_object_cannot_be_entered_twice(mgr: ContextManager) -> None:
    step = mgr.step("once")
    with step:
        before = mgr.offset
        with pytest.raises(ContextStateError, match="already open"), step:
            pass
        assert mgr.offset == before and mgr.current_id == "once"
    assert mgr.tree.contexts["once"].status == "exited"

"""Parallel branches on threads and asyncio tasks: deterministic merges, recorded failures."""

from __future__ import annotations

import asyncio
import contextvars
import random
import threading
import time
from typing import Any

import msgspec
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import ctxlog
from ctxlog import Branch, ContextManager, ContextStateError, MergePolicy, replay
from ctxlog.audit import verify
from ctxlog.projections import ContextTree

KEYS = st.sampled_from(["a", "b", "c"])
VALUES = (
    st.integers(-5, 5) | st.lists(st.integers(0, 3), max_size=2) | st.dictionaries(KEYS, st.integers(0, 3), max_size=2)
)
POLICIES = st.sampled_from([MergePolicy.KEEP_EXISTING, MergePolicy.OVERWRITE, MergePolicy.MERGE])


def actions(depth: int) -> st.SearchStrategy[list[tuple]]:
    simple = (
        st.tuples(st.just("set"), KEYS, VALUES) | st.just(("fail",)) | st.tuples(st.just("sleep"), st.integers(0, 2))
    )
    if depth == 0:
        return st.lists(simple, max_size=4)
    nested = actions(depth - 1)
    return st.lists(
        simple
        | st.tuples(st.just("step"), st.sampled_from(["s", "t"]), POLICIES, nested)
        | st.tuples(st.just("parallel"), st.lists(nested, min_size=1, max_size=3), POLICIES),
        max_size=4,
    )


PLANS = st.lists(actions(2), min_size=1, max_size=4)


def perform(handle: Branch, todo: list[tuple], workers: int | None) -> str:
    for action in todo:
        if action[0] == "set":
            handle.set(action[1], action[2])
        elif action[0] == "fail":
            raise RuntimeError(f"failure in {handle.current_id}")
        elif action[0] == "sleep":
            time.sleep(action[1] / 1000)
        elif action[0] == "step":
            with handle.step(action[1], merge=action[2]):
                perform(handle, action[3], workers)
        else:
            try:
                handle.parallel([_bind(sub, workers) for sub in action[1]], merge=action[2], max_workers=workers)
            except ExceptionGroup:
                pass
    return handle.id


def _bind(todo: list[tuple], workers: int | None) -> Any:
    return lambda h: perform(h, todo, workers)


def shape(tree: ContextTree) -> bytes:
    """The tree without creation offsets and times, which depend on how branches interleaved."""
    contexts = {
        cid: (c.parent_id, c.name, c.isolation.value, c.status, c.data, c.children, c.is_parallel)
        for cid, c in tree.contexts.items()
    }
    return msgspec.json.encode([tree.root_id, tree.current_id, contexts], order="sorted")


def execute(path: str, plan: list[list[tuple]], workers: int | None) -> tuple[ContextTree, Any]:
    with ContextManager(path, run="p", synchronous="NORMAL") as mgr:
        mgr.set("a", 0)
        try:
            outcome: Any = mgr.parallel(
                [_bind(todo, workers) for todo in plan], merge=MergePolicy.MERGE, max_workers=workers
            )
        except ExceptionGroup as group:
            outcome = sorted(str(e) for e in group.exceptions)
        return mgr.tree, outcome


@settings(max_examples=40)
@given(plan=PLANS)
def test_concurrent_branches_give_the_sequential_result(tmp_path_factory: pytest.TempPathFactory, plan: list) -> None:
    folder = tmp_path_factory.mktemp("par")
    sequential, seq_outcome = execute(str(folder / "seq.db"), plan, workers=1)
    concurrent, con_outcome = execute(str(folder / "con.db"), plan, workers=None)
    assert shape(concurrent) == shape(sequential)
    assert con_outcome == seq_outcome
    assert replay(str(folder / "con.db")) == concurrent
    assert verify(str(folder / "con.db")).ok


def test_results_come_back_in_branch_order(mgr: ContextManager) -> None:
    def slow(h: Branch) -> str:
        time.sleep(0.05)
        return "slow"

    assert mgr.parallel([slow, lambda h: "fast"]) == ["slow", "fast"]
    assert mgr.parallel({"x": lambda h: 1, "y": lambda h: 2}) == {"x": 1, "y": 2}


def test_branches_really_run_at_the_same_time(mgr: ContextManager) -> None:
    barrier = threading.Barrier(3, timeout=10)
    mgr.parallel([lambda h: barrier.wait()] * 3)


def test_merge_is_in_branch_order_whatever_finishes_first(mgr: ContextManager) -> None:
    def first(h: Branch) -> None:
        time.sleep(0.05)
        h.set("log", ["first"])

    def second(h: Branch) -> None:
        h.set("log", ["second"])

    mgr.set("log", [])
    mgr.parallel([first, second], merge=MergePolicy.MERGE)
    assert mgr.get("log") == ["first", "second"]


def test_branch_writes_do_not_touch_the_current_context(mgr: ContextManager) -> None:
    mgr.set("k", "parent")
    mgr.parallel([lambda h: h.set("k", "branch")], merge=None)
    assert (mgr.get("k"), mgr.current_id) == ("parent", "root")


def test_branches_are_isolated_from_each_other(mgr: ContextManager) -> None:
    seen: dict[str, Any] = {}

    def writer(h: Branch) -> None:
        h.set("mine", "w")
        time.sleep(0.02)

    def reader(h: Branch) -> None:
        time.sleep(0.01)
        seen["mine"] = h.get("mine")

    mgr.parallel([writer, reader], merge=None)
    assert seen == {"mine": None}


def test_failed_branch_is_recorded_and_not_merged(mgr: ContextManager) -> None:
    def ok(h: Branch) -> None:
        h.set("ok", 1)

    def bad(h: Branch) -> None:
        h.set("bad", 1)
        raise KeyError("nope")

    with pytest.raises(ExceptionGroup) as info:
        mgr.parallel([ok, bad], merge=MergePolicy.OVERWRITE)
    assert [type(e) for e in info.value.exceptions] == [KeyError]
    tree = mgr.tree
    assert (tree.contexts["ok"].status, tree.contexts["bad"].status) == ("exited", "failed")
    assert (mgr.get("ok"), mgr.get("bad")) == (1, None)


def test_branches_are_named_after_their_functions(mgr: ContextManager) -> None:
    def worker(h: Branch) -> str:
        return h.id

    assert mgr.parallel([worker, worker, lambda h: h.id]) == ["worker", "worker-2", "parallel-3"]


def test_nested_parallel_records_parents_and_causes(mgr: ContextManager, ledger_path: str) -> None:
    def outer(h: Branch) -> None:
        h.parallel({"inner": lambda g: g.set("deep", True)}, merge=MergePolicy.OVERWRITE)

    mgr.parallel({"outer": outer}, merge=MergePolicy.OVERWRITE)
    tree = mgr.tree
    inner = tree.contexts["outer.inner"]
    assert inner.parent_id == "outer" and inner.is_parallel
    assert mgr.get("deep") is True
    with _open(ledger_path) as ledger:
        rows = [r for r in ledger.records("test") if r.context == "outer.inner"]
    assert rows[0].kind == "entered" and rows[0].cause == tree.contexts["outer"].created_offset
    assert all(r.cause == inner.created_offset for r in rows[1:])


def _open(path: str) -> Any:
    from ctxlog.ledger import Ledger

    return Ledger.open(path, readonly=True, create=False)


def test_current_is_the_branch_and_threads_inherit_it_through_copy_context(mgr: ContextManager) -> None:
    def branch(h: Branch) -> bool:
        seen: list[Branch] = []
        ctx = contextvars.copy_context()
        thread = threading.Thread(target=ctx.run, args=(lambda: seen.append(ctxlog.current()),))
        thread.start()
        thread.join()
        return ctxlog.current() is h and seen == [h]

    assert mgr.parallel([branch]) == [True]


def test_current_outside_a_branch_is_an_error() -> None:
    with pytest.raises(ContextStateError, match="not inside"):
        ctxlog.current()


def test_parallel_inside_a_transaction_is_refused(mgr: ContextManager) -> None:
    mgr.set("a", 1)
    offset = mgr.offset
    with pytest.raises(ContextStateError, match="transaction"), mgr.transaction():
        mgr.parallel([lambda h: None])
    assert mgr.offset == offset


def test_stress_many_threads_on_one_manager(ledger_path: str) -> None:
    with ContextManager(ledger_path, run="stress", synchronous="NORMAL") as mgr:

        def worker(h: Branch) -> int:
            rng = random.Random(h.id)
            for i in range(60):
                h.set(f"k{rng.randint(0, 4)}", i)
                if i % 20 == 0:
                    with h.step("chunk", merge=MergePolicy.OVERWRITE):
                        h.set("chunk", i)
            return i

        assert mgr.parallel([worker] * 16) == [59] * 16
        live = mgr.tree
    assert replay(ledger_path, run="stress") == live
    assert verify(ledger_path).ok


def test_aparallel_runs_coroutines_and_merges_in_order(mgr: ContextManager, ledger_path: str) -> None:
    async def slow(h: Branch) -> str:
        await asyncio.sleep(0.03)
        await h.aset("order", ["slow"])
        return ctxlog.current().id

    async def quick(h: Branch) -> str:
        async with h.astep("part", merge=MergePolicy.MERGE):
            await h.aset("order", ["quick"])
        return h.id

    async def main() -> list[str]:
        await asyncio.to_thread(mgr.set, "order", [])
        return await mgr.aparallel([slow, quick], merge=MergePolicy.MERGE)

    assert asyncio.run(main()) == ["slow", "quick"]
    assert mgr.get("order") == ["slow", "quick"]
    assert replay(ledger_path, run="test") == mgr.tree


def test_aparallel_failure_is_recorded(mgr: ContextManager) -> None:
    async def bad(h: Branch) -> None:
        raise ValueError("no")

    with pytest.raises(ExceptionGroup):
        asyncio.run(mgr.aparallel([bad]))
    assert mgr.tree.contexts["bad"].status == "failed"


def test_astep_records_failure_and_propagates(mgr: ContextManager) -> None:
    async def main() -> None:
        async with mgr.astep("s"):
            raise OSError("disk")

    with pytest.raises(OSError):
        asyncio.run(main())
    assert mgr.tree.contexts["s"].status == "failed" and mgr.current_id == "root"

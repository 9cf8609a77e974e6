"""A run's life across processes and managers: ownership, open steps, retried groups, guards."""

from __future__ import annotations

import asyncio
import os
import signal
import subprocess
import sys
import threading
import time

import pytest

import ctxlog
from ctxlog import (
    Branch,
    BranchCancelledError,
    ContextManager,
    ContextStateError,
    MergePolicy,
    RunExistsError,
    RunOwnedError,
    UnknownRunError,
)


def test_a_second_writer_is_told_who_holds_the_run(ledger_path: str) -> None:
    with ContextManager(ledger_path, run="r") as mgr:
        mgr.set("a", 1)
        with pytest.raises(RunOwnedError, match=f"pid {os.getpid()}, since "):
            ContextManager(ledger_path, run="r")
        assert mgr.offset == 2  # the refused open appended nothing
    with ContextManager(ledger_path, run="r") as again:  # closed: free
        assert again.get("a") == 1


def test_other_runs_of_the_file_are_not_held(ledger_path: str) -> None:
    with ContextManager(ledger_path, run="a") as a, ContextManager(ledger_path, run="b") as b:
        a.set("x", 1)
        b.set("x", 2)


def test_a_holder_killed_with_sigkill_holds_nothing(ledger_path: str) -> None:
    code = (
        "import sys, time\nfrom ctxlog import ContextManager\n"
        f"m = ContextManager({ledger_path!r}, run='r')\nm.set('a', 1)\nprint('held', flush=True)\ntime.sleep(60)\n"
    )
    proc = subprocess.Popen([sys.executable, "-c", code], stdout=subprocess.PIPE, text=True)
    assert proc.stdout is not None and proc.stdout.readline().strip() == "held"
    with pytest.raises(RunOwnedError, match=f"pid {proc.pid},"):
        ContextManager(ledger_path, run="r")
    os.kill(proc.pid, signal.SIGKILL)
    proc.wait()
    proc.stdout.close()
    with ContextManager(ledger_path, run="r") as mgr:
        assert mgr.get("a") == 1


def test_takeover_opens_a_held_run_and_the_holder_is_refused_next(ledger_path: str) -> None:
    with ContextManager(ledger_path, run="r") as first:
        first.set("a", 1)
        with ContextManager(ledger_path, run="r", takeover=True) as second:
            second.set("b", 2)
        with pytest.raises(ctxlog.ConcurrencyError):
            first.set("c", 3)
    assert ctxlog.audit.verify(ledger_path).ok


def test_exists_true_refuses_a_mistyped_run(ledger_path: str) -> None:
    with ContextManager(ledger_path, run="job-7") as mgr:
        mgr.set("a", 1)
    with pytest.raises(UnknownRunError, match="no run 'job-8'"):
        ContextManager(ledger_path, run="job-8", exists=True)
    with pytest.raises(RunExistsError, match="already exists"):
        ContextManager(ledger_path, run="job-7", exists=False)
    ContextManager(ledger_path, run="job-7", exists=True).close()
    assert [i.run for i in ctxlog.audit.runs(ledger_path)] == ["job-7"]


def test_resume_keep_leaves_open_steps_to_interrupt_later(ledger_path: str) -> None:
    with ContextManager(ledger_path, run="r") as mgr:
        mgr.enter_step("a")
    with ContextManager(ledger_path, run="r", resume="keep") as mgr:
        assert mgr.open_steps == ["a"] and mgr.current_id == "a"
        assert mgr.interrupt() == ["a"] and mgr.current_id == "root" and mgr.open_steps == []
    with pytest.raises(ctxlog.InvalidArgumentError, match="resume must be one of"):
        ContextManager(ledger_path, run="r", resume="restart")


def test_a_retried_group_runs_only_what_did_not_finish_and_merges_once(mgr: ContextManager) -> None:
    calls: list[str] = []
    fail = {"b": True}

    def a(h: Branch) -> str:
        calls.append("a")
        h.set("items", ["a"])
        return "A"

    def b(h: Branch) -> str:
        calls.append("b")
        if fail["b"]:
            raise RuntimeError("flaky")
        h.set("items", ["b"])
        return "B"

    with pytest.raises(ExceptionGroup):
        mgr.parallel({"a": a, "b": b}, merge=MergePolicy.MERGE)
    assert mgr.get("items") == ["a"]
    fail["b"] = False
    assert mgr.parallel({"a": a, "b": b}, merge=MergePolicy.MERGE) == {"a": None, "b": "B"}
    assert calls == ["a", "b", "b"] and mgr.get("items") == ["a", "b"]
    assert mgr.parallel({"a": a, "b": b}, merge=MergePolicy.MERGE) == {"a": "A", "b": "B"}  # a new group


def test_each_branch_end_is_durable_before_the_group_ends(mgr: ContextManager, ledger_path: str) -> None:
    released = threading.Event()

    def quick(h: Branch) -> None:
        h.set("q", 1)

    def slow(h: Branch) -> None:
        assert released.wait(10)

    mgr.initialize()
    worker = threading.Thread(target=lambda: mgr.parallel({"quick": quick, "slow": slow}))
    worker.start()
    for _ in range(500):
        if any(r.kind == "exited" and r.context == "quick" for r in ctxlog.audit.log(ledger_path)):
            break
        time.sleep(0.02)
    stored = ctxlog.audit.tree(ledger_path, run=mgr.run)
    assert stored.contexts["quick"].status == "exited" and stored.contexts["slow"].status == "active"
    released.set()
    worker.join()
    assert mgr.get("q") == 1


def test_fail_fast_stops_the_others(mgr: ContextManager) -> None:
    started = threading.Event()

    def bad(h: Branch) -> None:
        started.wait(5)
        raise ValueError("bad")

    def long(h: Branch) -> None:
        started.set()
        for _ in range(200):
            h.set("tick", 1)  # raises once the group closed this branch
            time.sleep(0.01)

    with pytest.raises(ExceptionGroup) as info:
        mgr.parallel({"bad": bad, "long": long}, fail_fast=True)
    kinds = {type(e) for e in info.value.exceptions}
    assert kinds == {ValueError, BranchCancelledError}
    assert mgr.tree.contexts["long"].status == "failed"


def test_a_branch_past_its_timeout_fails(mgr: ContextManager) -> None:
    gate = threading.Event()

    def hang(h: Branch) -> None:
        gate.wait(5)

    with pytest.raises(ExceptionGroup) as info:
        mgr.parallel({"hang": hang, "fast": lambda h: None}, timeout=0.2)
    gate.set()
    assert [type(e) for e in info.value.exceptions] == [TimeoutError]
    assert mgr.tree.contexts["hang"].status == "failed" and mgr.tree.contexts["fast"].status == "exited"
    with pytest.raises(ctxlog.InvalidArgumentError, match="timeout"):
        mgr.parallel({"x": lambda h: None}, timeout=0)


def test_the_managers_own_operations_refuse_to_run_in_its_branches(mgr: ContextManager) -> None:
    def rogue(h: Branch) -> None:
        mgr.set("k", 1)

    with pytest.raises(ExceptionGroup) as info:
        mgr.parallel({"rogue": rogue})
    (error,) = info.value.exceptions
    assert isinstance(error, ContextStateError) and "use the Branch handle" in str(error)
    assert "k" not in mgr.tree.contexts["root"].data


def test_nested_names_use_the_branch_name_on_a_retry(mgr: ContextManager) -> None:
    attempts = {"n": 0}

    def geo(h: Branch) -> None:
        with h.step("geo"):
            h.set("x", 1)
        attempts["n"] += 1
        if attempts["n"] == 1:
            raise RuntimeError("first try fails")

    with pytest.raises(ExceptionGroup):
        mgr.parallel({"geo": geo})
    mgr.parallel({"geo": geo})
    assert {"geo.geo", "geo.geo-2", "geo-2"} <= set(mgr.tree.contexts)
    assert mgr.tree.contexts["geo.geo-2"].parent_id == "geo-2"


def test_keep_existing_spelled_with_a_dash(mgr: ContextManager) -> None:
    mgr.set("a", 1)
    with mgr.step("s", merge="keep-existing"):
        mgr.set("a", 2)
        mgr.set("b", 3)
    assert (mgr.get("a"), mgr.get("b")) == (1, 3)


def test_a_selective_merge_takes_only_its_keys(mgr: ContextManager, ledger_path: str) -> None:
    with mgr.step("s", merge=MergePolicy.OVERWRITE, keys=["result"]):
        mgr.set("result", 42)
        mgr.set("scratch", "x")
    assert mgr.get("result") == 42 and mgr.get("scratch") is None
    assert ctxlog.replay(ledger_path, run=mgr.run).get("scratch") is None
    with pytest.raises(ctxlog.InvalidArgumentError, match="keys must be a list"):
        mgr.step("t", merge="merge", keys="result")


def test_reads_by_context_id_copy_one_context(mgr: ContextManager) -> None:
    mgr.set("a", {"n": 1})
    sid = mgr.enter_step("s")
    mgr.set("b", 2)
    mgr.exit_step()
    assert mgr.get("b", context_id=sid) == 2 and mgr.get("a", context_id=sid) == {"n": 1}
    ctx = mgr.context(sid)
    ctx.data["b"] = 99
    assert mgr.context(sid).data == {"b": 2} and mgr.context().id == "root"


def test_attempts_survive_a_restore(mgr: ContextManager) -> None:
    mgr.checkpoint("start")
    for _ in range(3):
        with pytest.raises(RuntimeError), mgr.step("call"):
            raise RuntimeError("no")
        mgr.restore("start")
    assert "call" not in mgr.tree.contexts and mgr.attempts("call") == 3


def test_a_group_whose_branches_all_ended_before_the_merge_is_only_merged(mgr: ContextManager) -> None:
    """A crash after every branch's own ``exited`` commit but before the group's merge commit
    leaves this state; calling the group again merges the branches once and runs none again."""
    calls: list[str] = []

    def a(h: Branch) -> None:
        calls.append("a")

    def b(h: Branch) -> None:
        calls.append("b")

    mgr.set("items", ["root"])
    for name in ("a", "b"):  # what the crashed group left: both branches exited, neither merged
        mgr.switch_to(mgr.create_parallel_context(name))
        mgr.set("items", [name])
        mgr.exit_step()
    assert mgr.parallel({"a": a, "b": b}, merge=MergePolicy.MERGE) == {"a": None, "b": None}
    assert calls == [] and mgr.get("items") == ["root", "a", "b"]
    mgr.parallel({"a": a, "b": b}, merge=MergePolicy.MERGE)  # merged now: the next call is a new group
    assert calls == ["a", "b"] and mgr.get("items") == ["root", "a", "b"]
    mgr.parallel({"a": a, "b": b}, merge=None)  # nothing to merge: a group without merge always runs
    assert calls == ["a", "b", "a", "b"]


@pytest.mark.parametrize("bad", [0, -1.5, True, "1"])
def test_both_parallels_refuse_a_timeout_that_is_not_a_positive_number(mgr: ContextManager, bad: object) -> None:
    async def branch(h: Branch) -> None:
        return None

    with pytest.raises(ctxlog.InvalidArgumentError, match="timeout must be a positive number"):
        mgr.parallel({"x": lambda h: None}, timeout=bad)  # type: ignore[arg-type]
    with pytest.raises(ctxlog.InvalidArgumentError, match="timeout must be a positive number"):
        asyncio.run(mgr.aparallel({"x": branch}, timeout=bad))  # type: ignore[arg-type]
    assert "x" not in mgr.tree.contexts

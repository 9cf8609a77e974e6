"""Failures in the middle of things: the caller's exception survives, nothing is left half done."""

from __future__ import annotations

import asyncio
from typing import Any

import pytest

from ctxlog import Branch, ContextManager, ContextStateError, StorageError, replay
from ctxlog.audit import verify


def statuses(mgr: ContextManager) -> dict[str, str]:
    return {cid: c.status for cid, c in mgr.tree.contexts.items()}


def test_step_failure_with_an_unencodable_message_keeps_the_callers_exception(mgr: ContextManager) -> None:
    with pytest.raises(ValueError, match="bad"), mgr.step("a"):
        raise ValueError("bad \udc80 bytes")
    assert statuses(mgr)["a"] == "failed" and mgr.current_id == "root"
    assert "\\udc80" in replay_failed_message(mgr)


def replay_failed_message(mgr: ContextManager) -> str:
    from ctxlog.ledger import Ledger
    from ctxlog.ledger.codec import decode_event

    with Ledger.open(mgr._session.ledger._store.location, readonly=True) as ledger:
        rows = [r for r in ledger.records(mgr.run) if r.kind == "failed"]
    return decode_event(rows[-1].payload).message  # type: ignore[union-attr]


def test_exception_whose_str_raises_is_still_recorded(mgr: ContextManager) -> None:
    class Weird(Exception):
        def __str__(self) -> str:
            raise RuntimeError("no text")

    with pytest.raises(Weird), mgr.step("a"):
        raise Weird()
    assert statuses(mgr)["a"] == "failed"


def test_parallel_branch_with_an_unencodable_message_is_closed_failed(mgr: ContextManager) -> None:
    def bad(h: Branch) -> None:
        raise OSError("path \udcff")

    with pytest.raises(ExceptionGroup):
        mgr.parallel([bad, lambda h: None])
    assert statuses(mgr) == {"root": "active", "bad": "failed", "parallel-2": "exited"}


def test_deeply_nested_steps_close_without_recursion(mgr: ContextManager) -> None:
    top = mgr.enter_step("top")
    with mgr.transaction():
        for i in range(1500):
            mgr.enter_step(f"s{i}")
    mgr.switch_to(top)
    mgr.exit_step()
    assert set(statuses(mgr).values()) == {"active", "exited"} and statuses(mgr)["s1499"] == "exited"


def test_branch_restored_away_is_reported_as_a_ctxlog_error(mgr: ContextManager) -> None:
    mgr.checkpoint("before")

    def restorer(h: Branch) -> None:
        h.manager.restore("before")

    with pytest.raises(ExceptionGroup) as info:
        mgr.parallel([restorer])
    assert [type(e) for e in info.value.exceptions] == [ContextStateError]


def test_cancelled_async_branch_does_not_strand_its_siblings(mgr: ContextManager) -> None:
    async def cancelled(h: Branch) -> None:
        raise asyncio.CancelledError()

    async def good(h: Branch) -> str:
        await h.aset("g", 1)
        return "ok"

    with pytest.raises(BaseExceptionGroup):
        asyncio.run(mgr.aparallel([cancelled, good], merge="overwrite"))
    assert statuses(mgr) == {"root": "active", "cancelled": "failed", "good": "exited"}
    assert mgr.get("g") == 1


def test_cancelling_aparallel_itself_records_every_branch(mgr: ContextManager) -> None:
    async def slow(h: Branch) -> None:
        await asyncio.sleep(10)

    async def main() -> None:
        task = asyncio.ensure_future(mgr.aparallel([slow, slow]))
        await asyncio.sleep(0.2)
        task.cancel()
        with pytest.raises(asyncio.CancelledError):
            await task

    asyncio.run(main())
    assert "active" not in [s for cid, s in statuses(mgr).items() if cid != "root"]


def _failing_snapshot(*args: Any, **kwargs: Any) -> None:
    raise StorageError("disk full")


def test_operation_failing_after_append_inside_a_transaction_is_taken_back(
    ledger_path: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    with ContextManager(ledger_path, run="r", checkpoint_interval=3) as mgr:
        mgr.set("a", 1)
        with mgr.transaction():
            before = (mgr.tree, mgr.offset)
            monkeypatch.setattr(mgr._session, "checkpoint", _failing_snapshot)
            with pytest.raises(StorageError):
                mgr.set("x", "partial")
            assert (mgr.tree, mgr.offset) == before and mgr.get("x") is None
            monkeypatch.undo()
            mgr.set("y", 2)
        live = mgr.tree
    assert replay(ledger_path) == live and verify(ledger_path).ok
    assert live.get("y") == 2 and live.get("x") is None


def test_operation_failing_after_append_alone_appends_nothing(
    ledger_path: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    with ContextManager(ledger_path, run="r", checkpoint_interval=3) as mgr:
        mgr.set("a", 1)
        before = (mgr.tree, mgr.offset)
        monkeypatch.setattr(mgr._session, "checkpoint", _failing_snapshot)
        with pytest.raises(StorageError):
            mgr.set("x", "partial")
        assert (mgr.tree, mgr.offset) == before
    assert verify(ledger_path).head_offset == before[1]


def test_failed_commit_appends_nothing_and_keeps_the_tree(ledger_path: str, monkeypatch: pytest.MonkeyPatch) -> None:
    with ContextManager(ledger_path, run="r") as mgr:
        mgr.set("a", 1)
        before = (mgr.tree, mgr.offset)

        def broken_commit() -> None:
            raise StorageError("I/O error")

        monkeypatch.setattr(mgr._session.ledger._store, "commit", broken_commit)
        with pytest.raises(StorageError):
            mgr.set("a", 2)
        monkeypatch.undo()
        assert (mgr.tree, mgr.offset) == before
        mgr.set("b", 3)
    assert verify(ledger_path).ok and replay(ledger_path).get("a") == 1

"""The saver's own promises beyond the conformance suite: a reopened ledger reads back the same,
a deleted thread can start again, pickles stay unloaded unless asked for, bad input appends
nothing, and a missing extra says what to install."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from langgraph.checkpoint.base import empty_checkpoint
from langgraph.checkpoint.serde.jsonplus import JsonPlusSerializer

from ctxlog import InvalidValueError, audit
from ctxlog.integrations import ExtraNotInstalledError, require
from ctxlog.integrations.langgraph import CtxlogSaver, DecodeError


def put(saver: CtxlogSaver, thread: str, values: dict[str, Any], parent: str | None = None, ns: str = "") -> str:
    cp = empty_checkpoint()
    cp["channel_values"], cp["channel_versions"] = values, {k: 1 for k in values}
    config = {"configurable": {"thread_id": thread, "checkpoint_ns": ns}}
    if parent is not None:
        config["configurable"]["checkpoint_id"] = parent
    saver.put(config, cp, {"source": "loop", "step": 0}, dict(cp["channel_versions"]))
    return cp["id"]


def latest(saver: CtxlogSaver, thread: str, ns: str = "") -> Any:
    return saver.get_tuple({"configurable": {"thread_id": thread, "checkpoint_ns": ns}})


def test_a_reopened_ledger_reads_back_the_same(tmp_path: Path) -> None:
    path = str(tmp_path / "ctx.db")
    with CtxlogSaver(path) as saver:
        first = put(saver, "t", {"messages": ["a", "b"], "n": 1})
        second = put(saver, "t", {"messages": ["a", "b", "c"], "n": 2}, parent=first)
        put(saver, "t", {"inner": True}, ns="sub:1")
        saver.put_writes({"configurable": {"thread_id": "t", "checkpoint_id": second}}, [("n", 3)], "task-1")
        before = [saver.get_tuple(t.config) for t in saver.list(None)]
    with CtxlogSaver(path) as again:
        after = [again.get_tuple(t.config) for t in again.list(None)]
    assert after == before and len(after) == 3
    writes = {t.checkpoint["id"]: t.pending_writes for t in after}
    assert writes[second] == [("task-1", "n", 3)] and writes[first] == []
    assert latest(again, "t").checkpoint["channel_values"] == {"messages": ["a", "b", "c"], "n": 2}


def test_a_deleted_thread_is_a_tombstone_and_can_start_again(tmp_path: Path) -> None:
    path = str(tmp_path / "ctx.db")
    with CtxlogSaver(path) as saver:
        put(saver, "t", {"secret": "old"})
        saver.delete_thread("t")
        assert latest(saver, "t") is None
        put(saver, "t", {"fresh": 1})
        assert latest(saver, "t").checkpoint["channel_values"] == {"fresh": 1}
    kinds = [r.kind for r in audit.log(path, run="t")]
    assert kinds.count("deleted_run") == 1 and audit.verify(path).ok
    with CtxlogSaver(path) as reopened:
        assert len(list(reopened.list({"configurable": {"thread_id": "t"}}))) == 1


def test_pickles_load_only_when_asked_for(tmp_path: Path) -> None:
    path = str(tmp_path / "ctx.db")
    with CtxlogSaver(path, serde=JsonPlusSerializer(pickle_fallback=True)) as trusting:
        put(trusting, "t", {"z": complex(1, 2)})
        assert latest(trusting, "t").checkpoint["channel_values"] == {"z": complex(1, 2)}
    with CtxlogSaver(path) as default, pytest.raises(DecodeError, match="pickle"):
        latest(default, "t")


def test_bad_input_appends_nothing(tmp_path: Path) -> None:
    path = str(tmp_path / "ctx.db")
    with CtxlogSaver(path) as saver:
        put(saver, "t", {"a": 1})
        head = audit.head(path)
        cp = empty_checkpoint()
        cp["channel_versions"] = {"a": float("nan")}
        with pytest.raises(InvalidValueError):
            saver.put({"configurable": {"thread_id": "t"}}, cp, {}, {})
        assert audit.head(path) == head
        assert latest(saver, "t").checkpoint["channel_values"] == {"a": 1}


def test_a_missing_extra_names_what_to_install() -> None:
    with pytest.raises(ExtraNotInstalledError, match=r"pip install 'ctxlog\[otel\]'"):
        require("otel", "ctxlog_no_such_module")

"""Every refused operation raises a CtxlogError, appends nothing and leaves the tree as it was."""

from __future__ import annotations

from collections.abc import Callable
from contextlib import AbstractContextManager

import pytest

from ctxlog import ContextManager, CtxlogError, InvalidArgumentError, InvalidValueError, MergePolicy
from ctxlog.audit import verify

Op = Callable[[ContextManager], object]


class _Int(int):
    pass


def _prepared(mgr: ContextManager) -> None:
    mgr.set("x", 1)
    mgr.enter_step("done")
    mgr.enter_step("done.child")
    mgr.exit_step()
    mgr.exit_step()
    mgr.checkpoint("cp")
    mgr.enter_step("live")


deep: list = []
for _ in range(150):
    deep = [deep]

REFUSED: dict[str, Op] = {
    "nan": lambda m: m.set("v", float("nan")),
    "inf": lambda m: m.set("v", {"a": [float("-inf")]}),
    "set value": lambda m: m.set("v", {1, 2}),
    "tuple": lambda m: m.set("v", (1, 2)),
    "object": lambda m: m.set("v", object()),
    "bytes": lambda m: m.set("v", b"raw"),
    "non-str map key": lambda m: m.set("v", {1: "a"}),
    "too deep": lambda m: m.set("v", deep),
    "non-str key": lambda m: m.set(1, "v"),  # type: ignore[arg-type]
    "delete missing": lambda m: m.delete("nope"),
    "delete inherited": lambda m: m.delete("x"),
    "empty step name": lambda m: m.enter_step(""),
    "bad isolation": lambda m: m.enter_step("s", "leaky"),
    "unknown switch": lambda m: m.switch_to("nowhere"),
    "switch to exited": lambda m: m.switch_to("done"),
    "unknown merge child": lambda m: m.merge_child_to_parent("nowhere"),
    "merge root": lambda m: m.merge_child_to_parent("root"),
    "bad policy": lambda m: m.merge_child_to_parent("live", "sideways"),
    "end unknown isolated": lambda m: m.end_isolated("nowhere", MergePolicy.MERGE),
    "end exited isolated": lambda m: m.end_isolated("done"),
    "duplicate checkpoint": lambda m: m.checkpoint("cp"),
    "reserved checkpoint": lambda m: m.checkpoint("auto-12"),
    "restore unknown": lambda m: m.restore("nope"),
    "restore offset beyond head": lambda m: m.restore(10_000),
    "restore offset zero": lambda m: m.restore(0),
    "restore bool": lambda m: m.restore(True),
    "deserialize garbage": lambda m: m.deserialize(b"\x00garbage"),
    "deserialize wrong shape": lambda m: m.deserialize(b'{"contexts": []}'),
    "deserialize not bytes": lambda m: m.deserialize(42),  # type: ignore[arg-type]
    "deserialize dangling parent": lambda m: m.deserialize(
        b'{"root_id":"r","current_id":"r","contexts":{"r":{"id":"r","parent_id":null,"name":"r"},'
        b'"c":{"id":"c","parent_id":"ghost","name":"c"}}}'
    ),
    "deserialize cycle": lambda m: m.deserialize(
        b'{"root_id":"r","current_id":"r","contexts":{"r":{"id":"r","parent_id":null,"name":"r"},'
        b'"a":{"id":"a","parent_id":"b","name":"a","children":["b"]},'
        b'"b":{"id":"b","parent_id":"a","name":"b","children":["a"]}}}'
    ),
    "initialize again": lambda m: m.initialize("again"),
    "surrogate key": lambda m: m.set("\ud800", 1),
    "surrogate step name": lambda m: m.enter_step("\udfff"),
    "surrogate checkpoint": lambda m: m.checkpoint("cp\ud800"),
    "int subclass": lambda m: m.set("v", _Int(3)),
    "merge into exited parent": lambda m: m.merge_child_to_parent("done.child"),
}


@pytest.mark.parametrize("name", sorted(REFUSED))
def test_refused_operation_changes_nothing(name: str, ledger_path: str) -> None:
    with ContextManager(ledger_path, run="r") as mgr:
        _prepared(mgr)
        tree, offset = mgr.tree, mgr.offset
        with pytest.raises(CtxlogError):
            REFUSED[name](mgr)
        assert (mgr.tree, mgr.offset, mgr.tree.checkpoints) == (tree, offset, tree.checkpoints)
    result = verify(ledger_path)
    assert result.ok and result.head_offset == offset


def test_refused_value_names_the_key_path(mgr: ContextManager) -> None:
    with pytest.raises(InvalidValueError, match=r"cfg\.servers\[1\]\.port"):
        mgr.set("cfg", {"servers": [{"port": 1}, {"port": float("nan")}]})


def test_refusal_on_an_empty_run_appends_no_implicit_root(mgr: ContextManager) -> None:
    with pytest.raises(CtxlogError):
        mgr.delete("x")
    with pytest.raises(CtxlogError):
        mgr.set("v", {1})
    assert (mgr.offset, mgr.current_id) == (0, None)


def test_refusal_inside_a_transaction_keeps_the_transaction(mgr: ContextManager) -> None:
    with mgr.transaction():
        mgr.set("a", 1)
        with pytest.raises(CtxlogError):
            mgr.switch_to("nowhere")
        mgr.set("b", 2)
    assert (mgr.get("a"), mgr.get("b")) == (1, 2)


def test_errors_subclass_builtin_kinds() -> None:
    from ctxlog import InvalidArgumentError, UnknownContextError

    assert issubclass(InvalidValueError, ValueError)
    assert issubclass(InvalidArgumentError, ValueError)
    assert issubclass(UnknownContextError, KeyError)


def test_closed_manager_refuses_operations(ledger_path: str) -> None:
    mgr = ContextManager(ledger_path, run="r")
    mgr.close()
    with pytest.raises(CtxlogError, match="closed"):
        mgr.set("a", 1)


@pytest.mark.parametrize("where", ["run", "initialize", "enter_step", "create_parallel_context", "parallel"])
def test_a_nul_in_a_run_name_or_context_id_is_refused_on_every_backend(
    where: str, fresh_ledgers: Callable[[], AbstractContextManager[str]]
) -> None:
    bad = "a\x00b"
    with fresh_ledgers() as path:
        if where == "run":
            with pytest.raises(InvalidArgumentError, match="NUL"):
                ContextManager(path, run=bad)
            return
        with ContextManager(path, run="r") as mgr:
            if where != "initialize":
                mgr.initialize()
            head = mgr.offset
            calls = {
                "initialize": lambda: mgr.initialize(bad),
                "enter_step": lambda: mgr.enter_step(bad),
                "create_parallel_context": lambda: mgr.create_parallel_context(bad),
                "parallel": lambda: mgr.parallel({bad: lambda branch: None}),
            }
            with pytest.raises(InvalidArgumentError, match="NUL"):
                calls[where]()
            assert mgr.offset == head
        assert verify(path).ok


def test_a_run_name_over_1024_utf8_bytes_is_refused_on_every_backend(
    fresh_ledgers: Callable[[], AbstractContextManager[str]],
) -> None:
    with fresh_ledgers() as path:
        with pytest.raises(InvalidArgumentError, match="1024 bytes"):
            ContextManager(path, run="é" * 513)
        with ContextManager(path, run="é" * 512) as mgr:  # exactly 1,024 bytes
            mgr.set("a", 1)
        assert verify(path).events == 2

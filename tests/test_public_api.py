"""The public API: everything in ``__all__`` exists, and the contract names are there."""

from __future__ import annotations

import ctxlog

CONTRACT = {
    "ContextManager",
    "ContextTree",
    "ExecutionContext",
    "IsolationLevel",
    "MergePolicy",
    "CtxlogError",
    "replay",
}
MANAGER_CONTRACT = {
    "initialize",
    "set",
    "get",
    "delete",
    "enter_step",
    "exit_step",
    "create_parallel_context",
    "switch_to",
    "merge_child_to_parent",
    "begin_isolated",
    "end_isolated",
    "checkpoint",
    "restore",
    "serialize",
    "deserialize",
    "depth",
    "current_id",
    "tree",
    "step",
    "transaction",
    "parallel",
    "close",
    "__enter__",
    "__exit__",
}


def test_everything_in_all_exists() -> None:
    assert [name for name in ctxlog.__all__ if not hasattr(ctxlog, name)] == []


def test_contract_names_are_public() -> None:
    assert CONTRACT <= set(ctxlog.__all__)


def test_manager_has_every_contract_operation() -> None:
    assert {name for name in MANAGER_CONTRACT if not hasattr(ctxlog.ContextManager, name)} == set()


def test_every_error_derives_from_ctxlog_error() -> None:
    errors = [getattr(ctxlog, n) for n in ctxlog.__all__ if n.endswith("Error")]
    assert errors and all(issubclass(e, ctxlog.CtxlogError) for e in errors)

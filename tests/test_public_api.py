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


ERRORS = {
    "CtxlogError", "InvalidValueError", "InvalidArgumentError", "ContextError", "UnknownContextError",
    "ContextStateError", "UnknownKeyError", "NotInitializedError", "CheckpointError", "UnknownCheckpointError",
    "DuplicateCheckpointError", "DeserializeError", "LedgerError", "NotALedgerError", "SchemaVersionError",
    "UnknownRunError", "KeyMismatchError", "ConcurrencyError", "ReadOnlyError", "StorageError", "IntegrityError",
    "BranchCancelledError", "RunExistsError", "RunOwnedError",
}  # fmt: skip
COMMANDS = {
    "replay", "tree", "log", "runs", "checkpoints", "get", "diff", "verify", "head", "export", "import_", "graph",
    "stats", "demo", "migrate",
}  # fmt: skip


def test_the_root_is_the_face_and_nothing_more() -> None:
    assert set(ctxlog.__all__) == ERRORS | {
        "ContextManager", "Branch", "current", "Checkpoint", "ContextTree", "ExecutionContext", "IsolationLevel",
        "MergePolicy", "replay", "MAX_DEPTH", "MAX_VALUE_BYTES", "audit", "__version__",
        "fork", "ForkInfo", "INTERRUPTED",
    }  # fmt: skip


def test_audit_is_one_function_per_command_and_the_types_they_return() -> None:
    assert set(ctxlog.audit.__all__) == COMMANDS | {
        "CheckpointInfo", "ContextDiff", "Stream", "ExportHeader", "KeyChange", "LedgerStats", "Record",
        "RunInfo", "TreeDiff", "VerifyResult", "Progress", "PROGRESS_EVERY", "KINDS", "GRAPH_FORMATS", "redacted",
        "MAX_KEY_BYTES", "Follower", "follow", "follow_async", "fork", "ForkInfo",
    }  # fmt: skip


def test_namespaces_list_only_their_names() -> None:
    assert sorted(dir(ctxlog)) == sorted(ctxlog.__all__)
    assert sorted(dir(ctxlog.audit)) == sorted(ctxlog.audit.__all__)


def test_the_root_replay_is_the_audit_one() -> None:
    assert ctxlog.replay is ctxlog.audit.replay

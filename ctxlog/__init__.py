"""ctxlog: an event-sourced ledger for hierarchical execution contexts.

Every operation on the context tree is an event appended to an append-only SQLite log that is also
a hash chain; the tree at any checkpoint or offset is a replay of that log.
"""

from __future__ import annotations

from .audit import (
    CheckpointInfo,
    EventStream,
    ExportHeader,
    LedgerStats,
    RunInfo,
    VerifyResult,
    checkpoints,
    diff,
    events,
    export_events,
    get_value,
    graph,
    head,
    import_events,
    runs,
    stats,
    tree_at,
    verify,
)
from .errors import (
    CheckpointError,
    ConcurrencyError,
    ContextError,
    ContextStateError,
    CtxlogError,
    DeserializeError,
    DuplicateCheckpointError,
    IntegrityError,
    InvalidArgumentError,
    InvalidValueError,
    KeyMismatchError,
    LedgerError,
    NotALedgerError,
    NotInitializedError,
    ReadOnlyError,
    SchemaVersionError,
    StorageError,
    UnknownCheckpointError,
    UnknownContextError,
    UnknownKeyError,
    UnknownRunError,
)
from .manager import ContextManager
from .parallel import Branch, current
from .policies import IsolationLevel, MergePolicy
from .projections.tree import ContextTree, ExecutionContext
from .replay import replay
from .timetravel import Checkpoint
from .treediff import TreeDiff, diff_trees
from .values import MAX_DEPTH, MAX_VALUE_BYTES

__version__ = "0.1.0"

__all__ = [
    "CheckpointInfo",
    "EventStream",
    "ExportHeader",
    "LedgerStats",
    "RunInfo",
    "TreeDiff",
    "VerifyResult",
    "checkpoints",
    "diff",
    "diff_trees",
    "events",
    "export_events",
    "get_value",
    "graph",
    "head",
    "import_events",
    "runs",
    "stats",
    "tree_at",
    "verify",
    "Branch",
    "current",
    "Checkpoint", "CheckpointError", "ConcurrencyError", "ContextError", "ContextManager",
    "ContextStateError", "ContextTree", "CtxlogError", "DeserializeError", "DuplicateCheckpointError",
    "ExecutionContext", "IntegrityError", "InvalidArgumentError", "InvalidValueError", "IsolationLevel",
    "KeyMismatchError", "LedgerError", "MAX_DEPTH", "MAX_VALUE_BYTES", "MergePolicy", "NotALedgerError",
    "NotInitializedError", "ReadOnlyError", "SchemaVersionError", "StorageError", "UnknownCheckpointError",
    "UnknownContextError", "UnknownKeyError", "UnknownRunError", "__version__", "replay",
]

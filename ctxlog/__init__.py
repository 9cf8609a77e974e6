"""ctxlog: an event-sourced ledger for hierarchical execution contexts.

Every operation on the context tree is an event appended to an append-only log that is also a
hash chain; the tree at any checkpoint or offset is a replay of that log. ``ContextManager`` is
the command side; ``ctxlog.audit`` the read side, one function per ``ctxlog`` command.

Values are what JSON holds, nested at most ``MAX_DEPTH`` (100) levels deep and at most
``MAX_VALUE_BYTES`` (16 MiB) encoded; anything else is refused with an InvalidValueError naming
the key path, and nothing is appended. Every error derives from ``CtxlogError``.

``fork`` starts a new run where another stood at one of its checkpoints (``ForkInfo`` is what it
recorded). A step its process did not live to finish is recorded ``failed`` with the error type
``INTERRUPTED`` (``"Interrupted"``) when its run is reopened.
"""

from __future__ import annotations

from . import audit
from .audit import replay
from .errors import (
    BranchCancelledError,
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
    RunExistsError,
    RunOwnedError,
    SchemaVersionError,
    StorageError,
    UnknownCheckpointError,
    UnknownContextError,
    UnknownKeyError,
    UnknownRunError,
)
from .manager import INTERRUPTED, Branch, Checkpoint, ContextManager, ForkInfo, current, fork
from .projections import MAX_DEPTH, MAX_VALUE_BYTES, ContextTree, ExecutionContext, IsolationLevel, MergePolicy

__version__ = "0.1.0"

__all__ = [
    "MAX_DEPTH",
    "MAX_VALUE_BYTES",
    "INTERRUPTED",
    "Branch",
    "Checkpoint",
    "CheckpointError",
    "ConcurrencyError",
    "ContextError",
    "ContextManager",
    "ContextStateError",
    "ContextTree",
    "CtxlogError",
    "DeserializeError",
    "DuplicateCheckpointError",
    "ExecutionContext",
    "ForkInfo",
    "IntegrityError",
    "InvalidArgumentError",
    "InvalidValueError",
    "IsolationLevel",
    "KeyMismatchError",
    "LedgerError",
    "MergePolicy",
    "NotALedgerError",
    "NotInitializedError",
    "ReadOnlyError",
    "SchemaVersionError",
    "StorageError",
    "UnknownCheckpointError",
    "UnknownContextError",
    "UnknownKeyError",
    "UnknownRunError",
    "BranchCancelledError",
    "RunExistsError",
    "RunOwnedError",
    "__version__",
    "audit",
    "current",
    "fork",
    "replay",
]


def __dir__() -> list[str]:
    return list(__all__)

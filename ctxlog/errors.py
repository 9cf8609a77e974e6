"""Every error ctxlog raises, in one hierarchy.

An error names what was wrong and what to do about it. A refused operation appends nothing and
leaves the live tree as it was, so catching a ``CtxlogError`` never leaves a half-done state.

::

    CtxlogError
    ├── InvalidValueError (ValueError)      a value JSON cannot hold; names the key path
    ├── InvalidArgumentError (ValueError)   a malformed name, key, policy or offset
    ├── ContextError                        an operation the context tree does not allow
    │   ├── UnknownContextError (KeyError)  no such context in the run
    │   ├── ContextStateError               exiting the root, switching to an exited context …
    │   ├── UnknownKeyError (KeyError)      deleting a key the context does not hold
    │   └── NotInitializedError             reading structure of a run with no root yet
    ├── CheckpointError
    │   ├── UnknownCheckpointError (KeyError)
    │   └── DuplicateCheckpointError
    ├── DeserializeError (ValueError)       bytes that are not a valid serialized tree
    ├── LedgerError                         the file and its log
    │   ├── NotALedgerError                 not SQLite, or SQLite without ctxlog's schema
    │   ├── SchemaVersionError              written by a newer ctxlog
    │   ├── UnknownRunError (KeyError)      no such run, or several runs and none chosen
    │   ├── KeyMismatchError                keyed ledger without the key, or the wrong key
    │   ├── ConcurrencyError                another writer appended to this run meanwhile
    │   ├── ReadOnlyError                   writing through a read-only handle
    │   └── StorageError                    the storage engine failed (disk full, I/O …)
    └── IntegrityError                      the hash chain does not verify
"""

from __future__ import annotations

__all__ = [
    "MAX_NAME_BYTES",
    "shown",
    "BranchCancelledError",
    "CheckpointError",
    "ConcurrencyError",
    "ContextError",
    "ContextStateError",
    "CtxlogError",
    "DeserializeError",
    "DuplicateCheckpointError",
    "IntegrityError",
    "InvalidArgumentError",
    "InvalidValueError",
    "KeyMismatchError",
    "LedgerError",
    "NotALedgerError",
    "NotInitializedError",
    "ReadOnlyError",
    "RunExistsError",
    "RunOwnedError",
    "SchemaVersionError",
    "StorageError",
    "UnknownCheckpointError",
    "UnknownContextError",
    "UnknownKeyError",
    "UnknownRunError",
]


MAX_NAME_BYTES = 1024
"""The longest name, in UTF-8 bytes: of a run, a context, a checkpoint, a key (run names are keys
of an index, which PostgreSQL caps at about 2.7 kB)."""


def shown(value: object, limit: int = 80) -> str:
    """``repr(value)``, shortened to ``limit`` characters: what a message quotes stays one short line."""
    text = repr(value)
    return text if len(text) <= limit else text[: limit - 1] + "…"


class CtxlogError(Exception):
    """Base of every error raised by ctxlog."""


class InvalidValueError(CtxlogError, ValueError):
    """A value that JSON cannot hold (NaN, a set, an object, a non-str key, too deep, too big)."""


class InvalidArgumentError(CtxlogError, ValueError):
    """An argument of the wrong type or shape: an empty name, a non-str key, an unknown policy."""


class ContextError(CtxlogError):
    """An operation the context tree does not allow in its present state."""


class UnknownContextError(ContextError, KeyError):
    """No context with that id exists in the run."""

    def __str__(self) -> str:
        return str(self.args[0]) if self.args else ""


class ContextStateError(ContextError):
    """The context exists but cannot take this operation (exited, root, not a child …)."""


class BranchCancelledError(ContextStateError):
    """A branch of a ``fail_fast`` group stopped (or never ran) because another branch failed first."""


class UnknownKeyError(ContextError, KeyError):
    """The current context holds no such key of its own."""

    def __str__(self) -> str:
        return str(self.args[0]) if self.args else ""


class NotInitializedError(ContextError):
    """The run has no root context yet."""


class CheckpointError(CtxlogError):
    """A checkpoint could not be taken or found."""


class UnknownCheckpointError(CheckpointError, KeyError):
    """No checkpoint of that name or offset in the run."""

    def __str__(self) -> str:
        return str(self.args[0]) if self.args else ""


class DuplicateCheckpointError(CheckpointError):
    """A checkpoint of that name already exists in the run; names are unique per run."""


class DeserializeError(CtxlogError, ValueError):
    """Bytes that do not hold a valid serialized context tree."""


class LedgerError(CtxlogError):
    """A problem with the ledger file or its log."""


class NotALedgerError(LedgerError):
    """The file is missing, is not SQLite, or holds no ctxlog schema."""


class SchemaVersionError(LedgerError):
    """The ledger was written by a newer ctxlog with a schema this one does not know."""


class UnknownRunError(LedgerError, KeyError):
    """No run of that name, or the file holds several runs and none was chosen."""

    def __str__(self) -> str:
        return str(self.args[0]) if self.args else ""


class KeyMismatchError(LedgerError):
    """The ledger is keyed and no key or the wrong key was given (or a key for an unkeyed one)."""


class ConcurrencyError(LedgerError):
    """Another writer appended to this run since this manager last saw it: reopen and retry."""


class RunOwnedError(ConcurrencyError):
    """Another live manager holds the run for writing: wait for it to close, or open with ``takeover=True``."""


class RunExistsError(LedgerError):
    """The run was to be new (``exists=False``) but the ledger already holds it: pick another name."""


class ReadOnlyError(LedgerError):
    """A write through a handle opened read-only."""


class StorageError(LedgerError):
    """The storage engine failed (disk full, I/O error, locked past the timeout)."""


class IntegrityError(CtxlogError):
    """The hash chain does not verify: the log was changed after it was written.

    ``IntegrityError(message, offset, reason)``: ``offset`` is the first bad offset when known,
    ``reason`` what is wrong there (the ``message`` when not given).
    """

    def __init__(self, message: str, offset: int | None = None, reason: str | None = None) -> None:
        super().__init__(message)
        self.offset = offset
        self.reason = reason if reason is not None else message

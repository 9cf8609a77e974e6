"""The ledger: an append-only, hash-chained log of events behind the :class:`Ledger` façade.

This package imports nothing of ctxlog but ``ctxlog.errors``. Callers use the names below and
never a store: ``Ledger`` opens a SQLite file, ``:memory:`` or a PostgreSQL URL and answers every
question about its rows; the event types are the vocabulary the rest of ctxlog folds.
"""

from __future__ import annotations

from .chain import GENESIS
from .codec import decode_event
from .events import (
    KINDS,
    AnyEvent,
    CheckpointTaken,
    Deleted,
    Entered,
    Event,
    Exited,
    Failed,
    Initialized,
    Loaded,
    Merged,
    Record,
    Restored,
    Switched,
    ValueSet,
)
from .facade import Ledger
from .reader import PROGRESS_EVERY, Anchor, Progress
from .store import SCHEMA_VERSION, RunInfo
from .transfer import ExportHeader, check_export_key, read_export_header
from .urls import is_url, redacted
from .verify import VerifyResult

__all__ = [
    "GENESIS",
    "KINDS",
    "PROGRESS_EVERY",
    "SCHEMA_VERSION",
    "Anchor",
    "AnyEvent",
    "CheckpointTaken",
    "Deleted",
    "Entered",
    "Event",
    "Exited",
    "ExportHeader",
    "Failed",
    "Initialized",
    "Ledger",
    "Loaded",
    "Merged",
    "Progress",
    "Record",
    "Restored",
    "RunInfo",
    "Switched",
    "ValueSet",
    "VerifyResult",
    "check_export_key",
    "decode_event",
    "is_url",
    "read_export_header",
    "redacted",
]

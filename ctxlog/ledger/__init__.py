"""The ledger: an append-only, hash-chained log of events behind the :class:`Ledger` façade.

This package imports nothing of ctxlog but ``ctxlog.errors``. Callers use the names below and
never a store: ``Ledger`` opens a SQLite file, ``:memory:`` or a PostgreSQL URL and answers every
question about its rows; the event types are the vocabulary the rest of ctxlog folds.
"""

from __future__ import annotations

from .chain import GENESIS, MAX_KEY_BYTES, MIN_KEY_BYTES, check_key
from .codec import decode_event, is_canonical
from .events import (
    KINDS,
    AnyEvent,
    CheckpointTaken,
    Deleted,
    Entered,
    Event,
    Exited,
    Failed,
    Forked,
    Initialized,
    Loaded,
    Merged,
    Record,
    Restored,
    RunDeleted,
    Switched,
    ValueSet,
)
from .facade import Ledger
from .lineage import fork_lineage
from .migration import migrated_meta
from .reader import PROGRESS_EVERY, Anchor, Progress
from .store import SCHEMA_VERSION, RunInfo
from .transfer import ExportHeader, bounded_lines, check_export_key, export_meta, read_export_header
from .urls import is_url, redacted
from .verify import VerifyResult

__all__ = [
    "GENESIS",
    "KINDS",
    "MAX_KEY_BYTES",
    "MIN_KEY_BYTES",
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
    "Forked",
    "RunDeleted",
    "RunInfo",
    "Switched",
    "ValueSet",
    "VerifyResult",
    "bounded_lines",
    "check_export_key",
    "check_key",
    "export_meta",
    "decode_event",
    "is_canonical",
    "is_url",
    "fork_lineage",
    "migrated_meta",
    "read_export_header",
    "redacted",
]

"""The read side: one function per ``ctxlog`` command, named as the command, over a ledger's path.

``audit.replay``, ``audit.tree``, ``audit.log``, ``audit.runs``, ``audit.checkpoints``,
``audit.get``, ``audit.diff``, ``audit.graph``, ``audit.verify``, ``audit.head``,
``audit.export``, ``audit.import_``, ``audit.migrate``, ``audit.fork``, ``audit.stats`` and ``audit.demo`` take
what the command takes. Every one opens the ledger read-only (but ``import_``, ``migrate`` and
``demo`` and ``fork``, which write) and closes it before returning; ``log``, ``runs`` and ``checkpoints`` when
their stream ends.

``progress`` callbacks (the ``Progress`` type) receive ``(events done, events in all)`` every
``PROGRESS_EVERY`` (10,000) events. ``KINDS`` lists the event kinds ``log`` filters on;
``GRAPH_FORMATS`` the diagram languages of ``graph``; ``Record`` is the row ``log`` yields;
``MAX_KEY_BYTES`` the longest ledger key (the shortest is 16 bytes).

``follow`` (and ``follow_async``, over a ``Follower``) yields the records of a ledger as they
are committed, like ``tail -f``: what ``ctxlog log --follow`` prints.
"""

from __future__ import annotations

from ..ledger import (
    KINDS,
    MAX_KEY_BYTES,
    PROGRESS_EVERY,
    ExportHeader,
    Progress,
    Record,
    RunInfo,
    VerifyResult,
    redacted,
)
from ..projections import ContextDiff, KeyChange, TreeDiff
from .chain import export, import_, migrate
from .diagrams import GRAPH_FORMATS, graph
from .follow import Follower, follow, follow_async
from .lineage import ForkInfo, fork
from .records import CheckpointInfo, LedgerStats, Stream, checkpoints, head, log, runs, stats
from .sample import demo
from .trees import diff, get, replay, tree
from .verification import verify

__all__ = [
    "GRAPH_FORMATS",
    "KINDS",
    "MAX_KEY_BYTES",
    "PROGRESS_EVERY",
    "CheckpointInfo",
    "ContextDiff",
    "ExportHeader",
    "Follower",
    "KeyChange",
    "LedgerStats",
    "Progress",
    "Record",
    "RunInfo",
    "Stream",
    "TreeDiff",
    "VerifyResult",
    "checkpoints",
    "demo",
    "fork",
    "ForkInfo",
    "diff",
    "export",
    "follow",
    "follow_async",
    "get",
    "graph",
    "head",
    "import_",
    "log",
    "migrate",
    "redacted",
    "replay",
    "runs",
    "stats",
    "tree",
    "verify",
]


def __dir__() -> list[str]:
    return list(__all__)

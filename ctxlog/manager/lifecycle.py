"""A run's life across processes: what a reopened run left open, and going on from there.

A step is the ``with`` block (or the code between ``enter_step`` and ``exit_step``) of a process;
once that process is gone, nothing can finish it. Reopening a run therefore finds the steps the
last writer left open, and by default records each ``failed`` with the error type
``Interrupted`` (innermost first), so current returns to the root: the **resume point**, where
the rerun of the plan goes on (every context but the root belongs to some process's step).
``resume="keep"`` leaves them open for a caller that wants to re-enter them (``switch_to``) or
interrupt them later.
"""

from __future__ import annotations

import re

from ..errors import InvalidArgumentError
from ..ledger import Failed
from ..projections import ContextTree
from .session import Session

__all__ = ["INTERRUPTED", "RESUME_MODES", "attempts", "interrupt", "open_steps", "resume_arg"]

INTERRUPTED = "Interrupted"
"""The ``error_type`` of the ``failed`` event of a step its process did not live to finish."""

RESUME_MODES = ("interrupt", "keep")
"""What reopening a run does with the steps its last writer left open."""


def open_steps(tree: ContextTree) -> list[str]:
    """Ids of the active contexts but the root, parents before their children (creation order)."""
    found = [c for c in tree.contexts.values() if c.status == "active" and c.parent_id is not None]
    return [c.id for c in sorted(found, key=lambda c: c.created_offset)]


def interrupt(s: Session, message: str) -> list[str]:
    """Record every open step ``failed`` as ``Interrupted`` (children first), current moving up to
    the root; returns their ids. One commit: all or none."""
    steps = open_steps(s.tree)
    if not steps:
        return []
    with s.operation():
        for cid in reversed(steps):
            ctx = s.tree.contexts[cid]
            moves = cid == s.tree.current_id
            s.append(Failed(error_type=INTERRUPTED, message=message, switch=moves), cid, ctx.created_offset)
    return steps


def resume_arg(resume: object) -> str:
    """``resume`` if it is one of RESUME_MODES, else InvalidArgumentError."""
    if resume not in RESUME_MODES:
        raise InvalidArgumentError(f"resume must be one of {', '.join(RESUME_MODES)}, got {resume!r}")
    return resume  # type: ignore[return-value]


def attempts(tree: ContextTree, name: str) -> int:
    """How many contexts the run ever opened as ``name`` (``name``, ``name-2`` …), those a restore
    took away included: the count of tries of a step, for a retry budget."""
    pattern = re.compile(re.escape(name) + r"(-[0-9]+)?")
    return sum(1 for cid in tree.known_ids if pattern.fullmatch(cid))

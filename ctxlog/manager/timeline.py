"""Which checkpoints lie on a run's current timeline, once restores have gone back in time.

A restore to offset T makes the timeline what it was at T; checkpoints taken after T (on the
abandoned branch of history) stay restorable by name or offset but are no longer on the timeline,
until a restore to one of them brings its timeline back. A fork starts with the timeline it carried,
and a restore to a point it carried brings back its source's timeline there: the rows of a run's
lineage, oldest source first, are one history in offset order, folded in one pass.
"""

from __future__ import annotations

import bisect
import itertools
from collections.abc import Iterable

import msgspec

from ..errors import IntegrityError
from ..ledger import CheckpointTaken, Ledger, Record, Restored, decode_event, fork_lineage
from ..projections import ProjectionState

__all__ = ["carried", "current_timeline", "timeline_of"]

_UNDECODABLE = (msgspec.DecodeError, msgspec.ValidationError, RecursionError)


def timeline_of(records: Iterable[Record]) -> list[tuple[str, int]]:
    """The checkpoints (name, offset) on the timeline after ``records`` (one run's rows in order,
    after those of its lineage; only ``checkpoint`` and ``restored`` ones count), oldest first."""
    line: list[tuple[str, int]] = []
    offsets: list[int] = [0]
    lines: list[tuple[tuple[str, int], ...]] = [tuple(line)]
    for r in records:
        if r.kind not in ("checkpoint", "restored"):
            continue
        try:
            event = decode_event(r.payload)
        except _UNDECODABLE as exc:
            raise IntegrityError(
                f"offset {r.offset}: its payload does not decode; run ctxlog verify", r.offset
            ) from exc
        if isinstance(event, CheckpointTaken):
            line.append((event.name, r.offset))
        elif isinstance(event, Restored):
            line = list(lines[bisect.bisect_right(offsets, event.target) - 1])
        offsets.append(r.offset)
        lines.append(tuple(line))
    return line


def current_timeline(ledger: Ledger, run: str) -> list[str]:
    """The names of the checkpoints on ``run``'s current timeline, oldest first: one pass over the
    rows of its lineage (each source up to its fork point), then over its own."""
    levels = [(run, None), *((source, at) for source, at, _ in fork_lineage(ledger.fork_origin, run))]
    rows = itertools.chain.from_iterable(ledger.records(r, until=u) for r, u in reversed(levels))
    return [name for name, _ in timeline_of(rows)]


def carried(ledger: Ledger, run: str) -> dict[str, int]:
    """The checkpoints a fork carried from its source (names -> source offsets); {} for a run that
    is not a fork. A first row that does not hold a fork's state is an IntegrityError."""
    origin = ledger.fork_origin(run)
    if origin is None:
        return {}
    first = next(iter(ledger.records(run, after=origin[2] - 1, until=origin[2])))
    try:
        state = decode_event(first.payload).state  # type: ignore[union-attr]
        return dict(msgspec.json.decode(bytes(state), type=ProjectionState).checkpoints)
    except (*_UNDECODABLE, AttributeError) as exc:
        raise IntegrityError(
            f"offset {first.offset}: the fork's state does not decode; run ctxlog verify", first.offset
        ) from exc

"""The timeline of a run: one span per context, by wall time, packed into lanes and aggregated.

A span starts at its context's ``entered`` (or ``initialized``) event and ends at its ``exited`` or
``failed`` one (open while the context is active), as the run's :class:`~.index.RunIndex` holds
them. :func:`spans` packs them into lanes (siblings that never overlap share one);
:func:`layout` draws a window of them and, when the window holds more spans than a page should
draw, sums the short ones into the cells of a grid: the browser draws at most a few thousand
boxes, whatever the size of the run.
"""

from __future__ import annotations

from typing import Any

import msgspec

from .index import RunIndex

__all__ = ["BUCKETS", "MAX_BARS", "RANK", "Span", "Spans", "layout", "shown_status", "spans"]

MAX_BARS = 800
"""The most spans a window draws one by one; past it, short spans are summed into cells."""

BUCKETS = 200
"""The columns of the grid an aggregated window is summed into."""

LANES_PER_DEPTH = 12
"""The most lanes one depth of the tree gets; further overlapping spans share the last ones."""

RANK = {"failed": 4, "interrupted": 3, "active": 2, "exited": 1}
"""Which status a cell of several spans shows: the worst."""


def shown_status(status: str, error_type: str | None) -> str:
    """The status a viewer shows: ``interrupted`` for a failure whose error type is ``Interrupted``."""
    return "interrupted" if status == "failed" and error_type == "Interrupted" else status


class Span(msgspec.Struct):
    """One context on the timeline: ``start`` and ``end`` in ns since the epoch (end None: still open)."""

    id: str
    name: str
    depth: int
    start: int
    end: int | None
    status: str
    parallel: bool
    offset: int
    lane: int = 0


class Spans(msgspec.Struct):
    """The spans of a run packed into ``lanes`` (``(depth, index)`` each), at index ``version``."""

    run: str
    version: int
    items: list[Span]
    lanes: list[tuple[int, int]]
    last_ts: int


def spans(index: RunIndex) -> Spans:
    """The spans of the run ``index`` holds, in start order, each given its lane."""
    items = [
        Span(
            n.id, n.name, n.depth, n.created_ts, n.closed_ts, n.closed_status or "active", n.parallel, n.created_offset
        )
        for n in index.nodes.values()
    ]
    items.sort(key=lambda s: (s.start, s.depth))
    lanes: list[tuple[int, int]] = []
    first_lane: dict[int, int] = {}
    open_until: dict[int, list[int]] = {}
    for d in sorted({s.depth for s in items}):
        first_lane[d] = len(lanes)
        lanes.extend((d, i) for i in range(LANES_PER_DEPTH))
        open_until[d] = [-1] * LANES_PER_DEPTH
    for s in items:
        slots = open_until[s.depth]
        free = next((i for i, t in enumerate(slots) if t <= s.start), None)
        if free is None:
            free = min(range(len(slots)), key=slots.__getitem__)
        slots[free] = s.end if s.end is not None else 2**63
        s.lane = first_lane[s.depth] + free
    renumber = {old: new for new, old in enumerate(sorted({s.lane for s in items}))}
    for s in items:
        s.lane = renumber[s.lane]
    return Spans(index.run, index.version, items, [lanes[i] for i in renumber], index.last_ts)


def layout(packed: Spans, t0: float | None, t1: float | None, *, max_bars: int = MAX_BARS) -> dict[str, Any]:
    """The window ``t0..t1`` (ms from the run's first event; the whole run when None) of ``packed``
    as a page draws it: spans as bars, or the short ones summed into cells."""
    items, head_ts = packed.items, packed.last_ts
    base = items[0].start if items else head_ts
    t0 = None if t0 is None else base + int(t0 * 1e6)
    t1 = None if t1 is None else base + int(t1 * 1e6)
    lo = base if t0 is None else t0
    hi = max(head_ts, lo + 1) if t1 is None else max(t1, lo + 1)
    visible = [s for s in items if s.start <= hi and (s.end if s.end is not None else head_ts) >= lo]
    width = hi - lo
    bars, cells = [], {}
    long_enough = width / 50
    aggregate = len(visible) > max_bars
    for s in visible:
        end = s.end if s.end is not None else head_ts
        if aggregate and (end - s.start < long_enough or len(bars) >= max_bars):
            for b in range(_bucket(s.start, lo, width), _bucket(end, lo, width) + 1):
                cell = cells.setdefault((s.lane, b), {"lane": s.lane, "bucket": b, "count": 0, "status": s.status})
                cell["count"] += 1
                if RANK[s.status] > RANK[cell["status"]]:
                    cell["status"] = s.status
        else:
            bars.append(_bar(s, base, head_ts))
    return {
        "run": packed.run,
        "base_ns": str(base),
        "t0": (lo - base) / 1e6,
        "t1": (hi - base) / 1e6,
        "head": (head_ts - base) / 1e6,
        "lanes": [{"depth": d, "index": i} for d, i in packed.lanes],
        "bars": bars,
        "cells": sorted(cells.values(), key=lambda c: (c["lane"], c["bucket"])),
        "buckets": BUCKETS,
        "spans": len(items),
        "visible": len(visible),
        "aggregated": aggregate,
    }


def _bucket(t: int, lo: int, width: int) -> int:
    return max(0, min(BUCKETS - 1, int((t - lo) * BUCKETS / width)))


def _bar(s: Span, base: int, head_ts: int) -> dict[str, Any]:
    end = s.end if s.end is not None else head_ts
    return {
        "id": s.id,
        "name": s.name,
        "lane": s.lane,
        "start": (s.start - base) / 1e6,
        "end": (end - base) / 1e6,
        "open": s.end is None,
        "status": s.status,
        "parallel": s.parallel,
        "offset": s.offset,
    }

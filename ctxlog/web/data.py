"""What the viewer shows, as JSON-ready values, read through ``ctxlog.audit`` only.

The server answers its endpoints with these, and the report embeds them: runs with their status
and lineage, the tree of a run at a point (the ``--json`` shape of ``ctxlog tree``, plus what a
viewer draws), a context's own data and what ``get`` resolves from it and from where, a diff,
events with their chain columns, and the verify badge.
"""

from __future__ import annotations

import itertools
from datetime import UTC, datetime
from typing import Any

import msgspec

from .. import ContextTree, IsolationLevel, audit
from .index import RunIndex
from .timeline import RANK

__all__ = [
    "EVENTS_PAGE",
    "context_json",
    "event_json",
    "events_json",
    "iso",
    "run_json",
    "run_status",
    "structure_json",
    "tree_json",
    "verify_json",
]

EVENTS_PAGE = 500
"""Events per page of the chain view."""


def iso(ts: int) -> str:
    """A time in ns since the epoch as ISO 8601 UTC, to the microsecond."""
    seconds, nanos = divmod(ts, 1_000_000_000)
    moment = datetime.fromtimestamp(seconds, UTC).replace(microsecond=nanos // 1000)
    return moment.strftime("%Y-%m-%dT%H:%M:%S.%fZ")


def run_status(index: RunIndex) -> str:
    """The worst status among the run's steps at its head (the root stays active): ``interrupted``,
    ``failed``, ``active`` (a step is still open) or ``exited`` (every step closed, or none)."""
    worst = "exited"
    for node in index.nodes.values():
        status = node.closed_status or "active"
        if node.parent_id is not None and RANK[status] > RANK[worst]:
            worst = status
    return worst


def structure_json(tree: ContextTree, opened: set[str], interrupted: set[str]) -> dict[str, Any]:
    """The shape of ``RunIndex.structure`` from a replayed tree (after a restore or a load, where
    the index is not exact): every context of the tree, each parent's children listed; the
    failures of ``interrupted`` shown as such."""
    contexts = {}
    for cid, ctx in tree.contexts.items():
        contexts[cid] = {
            "id": cid,
            "parent_id": ctx.parent_id,
            "name": ctx.name,
            "isolation": ctx.isolation.value,
            "is_parallel": ctx.is_parallel,
            "status": "interrupted" if ctx.status == "failed" and cid in interrupted else ctx.status,
            "created_offset": ctx.created_offset,
            "child_count": len(ctx.children),
            "shown_children": list(ctx.children),
            "more": 0,
        }
    path, at = [], tree.current_id
    while at is not None and at in tree.contexts:
        path.append(at)
        at = tree.contexts[at].parent_id
    roots = [tree.root_id] if tree.root_id is not None else []
    return {
        "run": tree.run,
        "offset": tree.offset,
        "root_ids": roots,
        "current_id": tree.current_id,
        "open": sorted({*path, *opened} & set(contexts)),
        "contexts": contexts,
        "total": len(contexts),
    }


def run_json(info: audit.RunInfo, status: str | None) -> dict[str, Any]:
    """One run as the runs view lists it; ``source`` and ``source_offset`` name what a fork was
    forked from (None for a run that is not a fork)."""
    return {
        "run": info.run,
        "events": info.events,
        "first_offset": info.first_offset,
        "last_offset": info.last_offset,
        "first_time": iso(info.first_ts),
        "last_time": iso(info.last_ts),
        "checkpoints": info.checkpoints,
        "status": status,
        "source": getattr(info, "source", None),
        "source_offset": getattr(info, "source_offset", None),
    }


def tree_json(tree: ContextTree, interrupted: set[str]) -> dict[str, Any]:
    """The tree as ``ctxlog tree --json`` prints it, each context with its creation offset and
    time, whether it is a parallel branch, and the status a viewer shows (``shown``)."""
    contexts = {}
    for cid, ctx in tree.contexts.items():
        contexts[cid] = {
            "id": ctx.id,
            "parent_id": ctx.parent_id,
            "name": ctx.name,
            "isolation": ctx.isolation.value,
            "status": ctx.status,
            "shown": "interrupted" if ctx.status == "failed" and cid in interrupted else ctx.status,
            "data": ctx.data,
            "children": list(ctx.children),
            "created_offset": ctx.created_offset,
            "created_time": iso(int(ctx.created_at * 1e9)),
            "is_parallel": ctx.is_parallel,
        }
    return {
        "run": tree.run,
        "offset": tree.offset,
        "current_id": tree.current_id,
        "root_id": tree.root_id,
        "checkpoints": dict(tree.checkpoints),
        "contexts": contexts,
    }


def context_json(tree: ContextTree, context_id: str) -> dict[str, Any]:
    """A context's own data, and every key ``get`` resolves from it with the context it comes from:
    its own data first, then, while the context looked at is not SANDBOXED, its parent's, up to the
    root (``tree.get(key, context_id)`` is each ``value``)."""
    ctx = tree.contexts[context_id]
    resolved: dict[str, dict[str, Any]] = {}
    at = ctx
    while True:
        for key, value in at.data.items():
            resolved.setdefault(key, {"key": key, "value": value, "from": at.id})
        if at.isolation is IsolationLevel.SANDBOXED or at.parent_id is None:
            break
        at = tree.contexts[at.parent_id]
    return {
        "id": ctx.id,
        "name": ctx.name,
        "isolation": ctx.isolation.value,
        "status": ctx.status,
        "offset": tree.offset,
        "own": ctx.data,
        "resolved": sorted(resolved.values(), key=lambda item: item["key"]),
    }


def event_json(r: audit.Record) -> dict[str, Any]:
    """One event with its chain columns: offset, seq, time, kind, context, cause, hash, payload."""
    return {
        "offset": r.offset,
        "run": r.run,
        "seq": r.seq,
        "time": iso(r.ts),
        "kind": r.kind,
        "context": r.context,
        "cause": r.cause,
        "hash": r.hash,
        "payload": msgspec.json.decode(r.payload),
    }


def events_json(
    path: str, run: str, *, after: int = 0, limit: int = EVENTS_PAGE, key: bytes | str | None = None
) -> dict[str, Any]:
    """A page of ``run``'s events after offset ``after``: ``events``, and ``more`` when there are more."""
    with audit.log(path, run=run, since=after, key=key) as stream:
        rows = [event_json(r) for r in itertools.islice(stream, limit + 1)]
    return {"run": run, "after": after, "events": rows[:limit], "more": len(rows) > limit}


def verify_json(result: audit.VerifyResult | None, error: str | None = None) -> dict[str, Any]:
    """The verify badge: ``state`` is ``ok``, ``bad``, ``pending`` (still verifying) or ``error``
    (verify could not run: ``reason`` says why), with the first bad offset when there is one."""
    if result is None:
        return {"state": "error" if error else "pending", "ok": None, "bad_offset": None, "reason": error}
    return {
        "state": "ok" if result.ok else "bad",
        "ok": result.ok,
        "bad_offset": result.bad_offset,
        "reason": result.reason,
        "events": result.events,
        "summary": result.summary(),
    }

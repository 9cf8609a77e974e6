"""The shape of a run through time, indexed once from its log and then kept up to date.

For each context: its parent, name, isolation, whether it is a parallel branch, the offset and
time it was entered, and the offset, time and status it was closed with (``exited``, ``failed``,
or ``interrupted``: a failure whose error type is ``Interrupted``). With the offsets at which the
current context changed, this gives the tree's structure at any offset by bisection (no fold, no
values) and the spans of the timeline. The index is read through a :class:`ctxlog.audit.Follower`,
so each update reads only what was committed since the last. A ``restored`` or ``loaded`` event
replaces the whole tree: from its offset on, :meth:`RunIndex.exact_until` is exceeded and the
viewer asks ``ctxlog.audit.replay`` instead.
"""

from __future__ import annotations

import bisect
import threading
from typing import Any

import msgspec

from .. import audit

__all__ = ["CHILDREN_SHOWN", "Node", "RunIndex"]

CHILDREN_SHOWN = 200
"""The most children of one context a tree page lists; the rest are counted."""


class Node(msgspec.Struct):
    """One context of the index (times in ns since the epoch)."""

    id: str
    parent_id: str | None
    name: str
    isolation: str
    parallel: bool
    depth: int
    created_offset: int
    created_ts: int
    closed_offset: int | None = None
    closed_ts: int | None = None
    closed_status: str | None = None


class RunIndex:
    """The index of ``run`` of the ledger at ``path`` (read with ``key`` when given)."""

    def __init__(self, path: str, run: str, key: bytes | str | None = None) -> None:
        self.path, self.run, self.key = path, run, key
        self.nodes: dict[str, Node] = {}
        self.children: dict[str | None, list[str]] = {}
        self.switch_offsets: list[int] = []
        self.switch_ids: list[str] = []
        self.exact_until: int | None = None
        """The last offset the index is exact at: None while no event replaced the tree."""
        self.offset = 0
        """The ledger's head when the index was last brought up to date."""
        self.first_offset = 0
        """The offset of the run's first event (0 while it has none)."""
        self.last_offset = 0
        """The offset of the run's last event."""
        self.first_ts = 0
        self.last_ts = 0
        self.events = 0
        """How many events the run has."""
        self.checkpoints = 0
        """How many of them are checkpoints."""
        self.version = 0
        self.lock = threading.Lock()

    def update(self) -> bool:
        """Index what was committed since the last update; True when something was."""
        with self.lock:
            with audit.Follower(self.path, run=self.run, after=self.offset, key=self.key) as follower:
                seen = False
                batch = follower.poll(20_000)
                while batch:
                    seen = True
                    for r in batch:
                        self._note(r)
                    batch = follower.poll(20_000)
                self.offset = follower.offset
            if seen:
                self.version += 1
            return seen

    def _note(self, r: audit.Record) -> None:
        self.last_ts, self.last_offset = r.ts, r.offset
        self.first_offset, self.first_ts = self.first_offset or r.offset, self.first_ts or r.ts
        self.events += 1
        kind = r.kind
        self.checkpoints += kind == "checkpoint"
        if kind in ("entered", "initialized"):
            e = msgspec.json.decode(r.payload)
            parent = e.get("parent")
            depth = 0 if parent is None else self.nodes[parent].depth + 1 if parent in self.nodes else 1
            node = Node(
                r.context,
                parent,
                e["name"],
                e.get("isolation", "inherit"),
                e.get("parallel", False),
                depth,
                r.offset,
                r.ts,
            )
            self.nodes[r.context] = node
            self.children.setdefault(parent, []).append(r.context)
            if kind == "initialized" or e.get("switch", True):
                self._current(r.offset, r.context)
        elif kind in ("exited", "failed"):
            e = msgspec.json.decode(r.payload)
            node = self.nodes.get(r.context)
            if node is not None:
                status = "exited" if kind == "exited" else "failed"
                if kind == "failed" and e.get("error_type") == "Interrupted":
                    status = "interrupted"
                node.closed_offset, node.closed_ts, node.closed_status = r.offset, r.ts, status
                if e.get("switch", True) and node.parent_id is not None:
                    self._current(r.offset, node.parent_id)
        elif kind == "switched":
            self._current(r.offset, r.context)
        elif kind in ("restored", "loaded") and self.exact_until is None:
            self.exact_until = r.offset - 1

    def _current(self, offset: int, context: str) -> None:
        self.switch_offsets.append(offset)
        self.switch_ids.append(context)

    def exact_at(self, offset: int) -> bool:
        """Whether the index gives the tree's structure at ``offset`` exactly."""
        return self.exact_until is None or offset <= self.exact_until

    def status_at(self, node: Node, offset: int) -> str:
        """``node``'s status after the event at ``offset``."""
        if node.closed_offset is not None and node.closed_offset <= offset:
            return node.closed_status or "exited"
        return "active"

    def current_at(self, offset: int) -> str | None:
        """The current context after the event at ``offset``."""
        i = bisect.bisect_right(self.switch_offsets, offset)
        return self.switch_ids[i - 1] if i else None

    def kids_at(self, context: str | None, offset: int) -> list[str]:
        """The children of ``context`` (the roots for None) existing at ``offset``, in creation order."""
        kids = self.children.get(context, [])
        lo, hi = 0, len(kids)
        while lo < hi:  # created offsets grow along the list
            mid = (lo + hi) // 2
            if self.nodes[kids[mid]].created_offset <= offset:
                lo = mid + 1
            else:
                hi = mid
        return kids[:lo]

    def node_json(self, node: Node, offset: int) -> dict[str, Any]:
        """One context of the tree at ``offset`` as a tree page draws it."""
        return {
            "id": node.id,
            "parent_id": node.parent_id,
            "name": node.name,
            "isolation": node.isolation,
            "is_parallel": node.parallel,
            "status": self.status_at(node, offset),
            "created_offset": node.created_offset,
            "child_count": len(self.kids_at(node.id, offset)),
        }

    def structure(self, offset: int, opened: set[str]) -> dict[str, Any]:
        """The tree at ``offset``: the root, the path to the current context and the children of
        each context in ``opened``, at most CHILDREN_SHOWN of each (``more`` counts the rest)."""
        current = self.current_at(offset)
        path: list[str] = []
        at = current
        while at is not None:
            path.append(at)
            at = self.nodes[at].parent_id
        roots = self.kids_at(None, offset)
        shown = {cid: self.node_json(self.nodes[cid], offset) for cid in roots[:CHILDREN_SHOWN]}
        live = {o for o in (*path, *opened) if o in self.nodes and self.nodes[o].created_offset <= offset}
        on_path = set(path)
        for parent in sorted(live, key=lambda cid: self.nodes[cid].depth):
            if parent not in shown:
                continue  # under a context that is not open
            kids = self.kids_at(parent, offset)
            listed = kids[:CHILDREN_SHOWN]
            listed += [k for k in kids[CHILDREN_SHOWN:] if k in on_path]
            for cid in listed:
                shown.setdefault(cid, self.node_json(self.nodes[cid], offset))
            shown[parent]["shown_children"] = listed
            shown[parent]["more"] = len(kids) - len(listed)
        return {
            "run": self.run,
            "offset": offset,
            "root_ids": roots,
            "current_id": current,
            "open": sorted(live & set(shown)),
            "contexts": shown,
            "total": sum(1 for n in self.nodes.values() if n.created_offset <= offset),
        }

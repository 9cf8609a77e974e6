"""What a thread holds, found in its run's log: checkpoints, their pending writes, what is hidden.

One pass over a run's records builds a :class:`ThreadIndex`; the saver then keeps it up to date
with what it appends itself. The keys the saver writes into a namespace's context are named here:
``checkpoint`` (the checkpoint without its channel values, with its parent and metadata),
``channel:NAME`` (a channel's version and value, or its length when it is a list, whose items are
``channel:NAME[i]``), ``write:CHECKPOINT:TASK`` (a task's pending writes) and, in the root context,
``hide-before:NS`` and ``hide-run:RUN_ID`` (what ``prune`` and ``delete_for_runs`` hid). A
``deleted_run`` tombstone forgets every checkpoint before it.
"""

from __future__ import annotations

import bisect
from collections.abc import Callable, Iterable
from typing import Any, NamedTuple

import msgspec

from ...ledger import Record

__all__ = [
    "CHANNEL",
    "HEADER",
    "HIDE_BEFORE",
    "HIDE_RUN",
    "WRITE",
    "Entry",
    "ThreadIndex",
    "Write",
    "item_key",
    "write_key",
]

HEADER = "checkpoint"
CHANNEL = "channel:"
WRITE = "write:"
HIDE_BEFORE = "hide-before:"
HIDE_RUN = "hide-run:"


def item_key(channel_key: str, i: int) -> str:
    """The key of item ``i`` of a list channel stored under ``channel_key``."""
    return f"{channel_key}[{i}]"


def write_key(checkpoint_id: str, task_id: str) -> str:
    """The key of the pending writes of ``task_id`` against ``checkpoint_id``."""
    return f"{WRITE}{checkpoint_id}:{task_id}"


class Entry(NamedTuple):
    """One checkpoint of the thread: where its ctxlog checkpoint is and what it said."""

    id: str
    ns: str
    name: str
    offset: int
    context: str
    parent: str | None
    metadata: Any
    run_id: str | None


class Write(NamedTuple):
    """One pending write as stored (its value still encoded)."""

    task: str
    idx: int
    channel: str
    value: Any
    path: str


class _Set(msgspec.Struct):
    key: str
    value: msgspec.Raw


class _Named(msgspec.Struct):
    name: str = ""


_set = msgspec.json.Decoder(_Set)
_named = msgspec.json.Decoder(_Named)
_json = msgspec.json.Decoder()


class ThreadIndex:
    """The checkpoints and pending writes of one thread, kept as the log says."""

    def __init__(self) -> None:
        self.ns_of: dict[str, str] = {}
        self.names: set[str] = set()
        self.last_offset = 0
        self._headers: dict[str, dict[str, Any]] = {}
        self.reset()

    def reset(self) -> None:
        """Forget every checkpoint (a tombstone): contexts and used names are remembered."""
        self.order: list[Entry] = []
        self._by_ns: dict[str, list[tuple[str, Entry]]] = {}
        self._writes: dict[tuple[str, str], dict[tuple[str, int], Write]] = {}
        self.hidden_before: dict[str, str] = {}
        self.hidden_runs: set[str] = set()

    # -- feeding -------------------------------------------------------------------------------

    def feed(self, records: Iterable[Record]) -> None:
        """Take in records of the run, in order."""
        for r in records:
            self.last_offset = r.offset
            if r.kind == "set":
                event = _set.decode(r.payload)
                if event.key == HEADER or event.key.startswith((WRITE, HIDE_BEFORE, HIDE_RUN)):
                    self.value_set(r.context, event.key, _json.decode(event.value))
            elif r.kind == "checkpoint":
                self.checkpoint(r.context, _named.decode(r.payload).name, r.offset)
            elif r.kind == "initialized":
                self.ns_of[r.context] = ""
            elif r.kind == "entered":
                self.ns_of[r.context] = _named.decode(r.payload).name
            elif r.kind == "deleted_run":
                self.reset()

    def value_set(self, context: str, key: str, value: Any) -> None:
        """A key the saver writes was set in ``context``."""
        if key == HEADER:
            self._headers[context] = value
        elif key.startswith(WRITE):
            held = self._writes.setdefault((self.ns_of.get(context, ""), value["checkpoint"]), {})
            task, path = value["task"], value["path"]
            for w in value["writes"]:
                held[(task, w["idx"])] = Write(task, w["idx"], w["channel"], w["value"], path)
        elif key.startswith(HIDE_BEFORE):
            self.hidden_before[key[len(HIDE_BEFORE) :]] = value
        elif key.startswith(HIDE_RUN):
            self.hidden_runs.add(key[len(HIDE_RUN) :])

    def checkpoint(self, context: str, name: str, offset: int) -> None:
        """A ctxlog checkpoint was taken in ``context``: a LangGraph one if a header came first."""
        self.names.add(name)
        header = self._headers.pop(context, None)
        if header is None:
            return
        metadata = header.get("metadata")
        run_id = metadata.get("run_id") if type(metadata) is dict else None
        ns = self.ns_of.get(context, "")
        entry = Entry(header["id"], ns, name, offset, context, header.get("parent"), metadata, run_id)
        self.order.append(entry)
        listed = self._by_ns.setdefault(ns, [])
        listed[:] = [(i, e) for i, e in listed if i != entry.id]
        bisect.insort(listed, (entry.id, entry), key=lambda pair: pair[0])

    # -- questions -----------------------------------------------------------------------------

    def visible(self, entry: Entry) -> bool:
        """Whether ``entry`` is neither pruned nor of a deleted LangGraph run."""
        if entry.run_id is not None and entry.run_id in self.hidden_runs:
            return False
        before = self.hidden_before.get(entry.ns)
        return before is None or entry.id >= before

    def get(self, ns: str, checkpoint_id: str | None) -> Entry | None:
        """The visible checkpoint ``checkpoint_id`` of ``ns`` (its newest when None)."""
        listed = self._by_ns.get(ns, [])
        if checkpoint_id is None:
            return next((e for _, e in reversed(listed) if self.visible(e)), None)
        i = bisect.bisect_left(listed, checkpoint_id, key=lambda pair: pair[0])
        if i < len(listed) and listed[i][0] == checkpoint_id and self.visible(listed[i][1]):
            return listed[i][1]
        return None

    def select(self, ns: str | None, before: str | None, keep: Callable[[Entry], bool]) -> list[Entry]:
        """Visible checkpoints of ``ns`` (every namespace when None) newest first, ids below ``before``."""
        spaces = [ns] if ns is not None else sorted(self._by_ns)
        found = [
            e
            for space in spaces
            for i, e in self._by_ns.get(space, [])
            if (before is None or i < before) and self.visible(e) and keep(e)
        ]
        return sorted(found, key=lambda e: e.id, reverse=True)

    def namespaces(self) -> list[str]:
        """The namespaces that hold checkpoints."""
        return sorted(ns for ns, listed in self._by_ns.items() if listed)

    def writes(self, entry: Entry) -> list[Write]:
        """The pending writes against ``entry``, in LangGraph's order (task path, task, index)."""
        found = self._writes.get((entry.ns, entry.id), {}).values()
        return sorted(found, key=lambda w: (w.path, w.task, w.idx))

    def task_writes(self, ns: str, checkpoint_id: str, task: str) -> dict[int, Write]:
        """The writes of ``task`` against ``checkpoint_id`` stored so far, by index."""
        return {idx: w for (t, idx), w in self._writes.get((ns, checkpoint_id), {}).items() if t == task}

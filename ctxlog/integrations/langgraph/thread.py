"""One LangGraph thread as one ctxlog run: its manager, its index and the state of its contexts.

A namespace is a SANDBOXED child context of the root (or of its parent namespace); a checkpoint
sets the channels whose version changed, then the ``checkpoint`` header, then takes a ctxlog
checkpoint, all in one transaction. A list channel writes only the items that changed, so a growing
message list costs its new messages, not the whole list. A checkpoint whose parent is not the one
its namespace holds now (time travel, a fork) first restores the parent's ctxlog checkpoint. The
saver is the only writer of its runs: ``mirror`` keeps each namespace context's own data as the
log has it, so a put reads nothing back.
"""

from __future__ import annotations

from typing import Any

from ... import ContextManager, IsolationLevel, audit
from .codec import encode, signature, stored_signature
from .index import CHANNEL, HEADER, WRITE, ThreadIndex, item_key, write_key

__all__ = ["ThreadState"]

_SPECIAL = {"__error__": -1, "__scheduled__": -2, "__interrupt__": -3, "__resume__": -4}


class ThreadState:
    """The run ``thread_id`` of the ledger at ``path``: opened (and its log indexed) on creation."""

    def __init__(self, path: str, thread_id: str, *, key: Any, synchronous: str) -> None:
        self.thread_id = thread_id
        self.index = ThreadIndex()
        with audit.log(path, run=thread_id, key=key) as records:
            self.index.feed(records)
        self.mgr = ContextManager(path, run=thread_id, key=key, synchronous=synchronous)
        self.resync()

    @classmethod
    def new(cls, path: str, thread_id: str, *, key: Any, synchronous: str) -> ThreadState:
        """A thread with no run yet: its run starts with its first write."""
        state = cls.__new__(cls)
        state.thread_id, state.index = thread_id, ThreadIndex()
        state.mgr = ContextManager(path, run=thread_id, key=key, synchronous=synchronous)
        state.resync()
        return state

    def resync(self) -> None:
        """Read the live tree once: which context holds which namespace, and their data."""
        tree = self.mgr.tree
        self.live: dict[str, str] = {}
        self.mirror: dict[str, dict[str, Any]] = {}
        for ctx in tree.contexts.values():
            if ctx.status == "active" and (ctx.parent_id is None or ctx.id in self.index.ns_of):
                ns = "" if ctx.parent_id is None else self.index.ns_of[ctx.id]
                self.live[ns], self.mirror[ns] = ctx.id, dict(ctx.data)
        self.sigs: dict[tuple[str, str], list[tuple[str, bytes]]] = {}

    def close(self) -> None:
        """Close the run's manager."""
        self.mgr.close()

    # -- contexts ------------------------------------------------------------------------------

    def context(self, ns: str) -> str:
        """The context of namespace ``ns``, entered (with its parents) when it has none yet."""
        if ns in self.live:
            return self.live[ns]
        if ns == "":
            cid = self.mgr.initialize()
        else:
            self.switch(self.context(ns.rsplit("|", 1)[0] if "|" in ns else ""))
            cid = self.mgr.enter_step(ns, isolation=IsolationLevel.SANDBOXED)
        self.index.ns_of[cid] = ns
        self.live[ns], self.mirror[ns] = cid, {}
        return cid

    def switch(self, cid: str) -> None:
        """Make ``cid`` current (a ``switched`` event only when it is not)."""
        if self.mgr.current_id != cid:
            self.mgr.switch_to(cid)

    def set(self, ns: str, key: str, value: Any) -> None:
        """Set ``key`` in the (current) context of ``ns``, keeping mirror and index in step."""
        self.mgr.set(key, value)
        self.mirror[ns][key] = value
        self.index.value_set(self.live[ns], key, value)

    def delete(self, ns: str, key: str) -> None:
        """Delete ``key`` from the (current) context of ``ns``."""
        self.mgr.delete(key)
        del self.mirror[ns][key]

    # -- writing -------------------------------------------------------------------------------

    def put(self, serde: Any, ns: str, parent: str | None, checkpoint: dict[str, Any], stored: dict[str, Any]) -> str:
        """Write ``checkpoint`` (header ``stored`` without values) whose parent is ``parent``; the
        channels of ``stored["new_versions"]`` are written, the others stay as their context holds
        them. Returns the ctxlog checkpoint's name."""
        new_versions = stored.pop("new_versions")
        with self.mgr.transaction():
            self.context(ns)
            known = self.index.get(ns, parent) if parent is not None else None
            if known is not None and (self.mirror[ns].get(HEADER) or {}).get("id") != parent:
                self.mgr.restore(known.offset)
                self.resync()
            self.switch(self.live[ns])
            data, versions = self.mirror[ns], stored["channel_versions"]
            for key in [k for k in data if k.startswith(WRITE)]:
                self.delete(ns, key)
            for channel in (data.get(HEADER) or {}).get("channel_versions", {}):
                if channel not in versions:
                    self.drop(ns, channel)
            values = checkpoint["channel_values"]
            for channel, version in new_versions.items():
                if channel in values:
                    self.write_channel(serde, ns, channel, version, values[channel])
                else:
                    self.drop(ns, channel)
            self.set(ns, HEADER, stored)
            name = self.unique_name(checkpoint["id"] if ns == "" else f"{checkpoint['id']}@{ns}")
            record = self.mgr.checkpoint(name)
            self.index.checkpoint(self.live[ns], name, record.offset)
        return name

    def unique_name(self, base: str) -> str:
        """``base``, or ``base~2`` … when the run already has a checkpoint of that name."""
        name, n = base, 1
        while name in self.index.names:
            n += 1
            name = f"{base}~{n}"
        return name

    def write_channel(self, serde: Any, ns: str, channel: str, version: Any, value: Any) -> None:
        """Set a channel: a list item by item (only those that changed), anything else whole."""
        key, data = CHANNEL + channel, self.mirror[ns]
        old = data.get(key)
        old_items = old["items"] if type(old) is dict and "items" in old else 0
        if type(value) is not list:
            self.drop_items(ns, key, old_items, 0)
            self.sigs.pop((ns, channel), None)
            self.set(ns, key, {"version": version, "value": encode(serde, value)})
            return
        before = self.sigs.get((ns, channel))
        if before is None:
            before = [stored_signature(serde, data[item_key(key, i)]) for i in range(old_items)]
        after = [signature(serde, item) for item in value]
        same = 0
        while same < min(len(before), len(after)) and before[same] == after[same]:
            same += 1
        for i in range(same, len(value)):
            self.set(ns, item_key(key, i), encode(serde, value[i], after[i]))
        self.drop_items(ns, key, old_items, len(value))
        self.set(ns, key, {"version": version, "items": len(value)})
        self.sigs[(ns, channel)] = after

    def drop_items(self, ns: str, key: str, old: int, new: int) -> None:
        """Delete items ``new`` … ``old - 1`` of the list channel under ``key``."""
        for i in range(new, old):
            self.delete(ns, item_key(key, i))

    def drop(self, ns: str, channel: str) -> None:
        """Delete a channel (and its items) from the context of ``ns``, if it holds it."""
        key = CHANNEL + channel
        old = self.mirror[ns].get(key)
        if old is None:
            return
        self.drop_items(ns, key, old.get("items", 0) if type(old) is dict else 0, 0)
        self.delete(ns, key)
        self.sigs.pop((ns, channel), None)

    def put_writes(self, serde: Any, ns: str, checkpoint_id: str, writes: Any, task: str, path: str) -> None:
        """Record pending writes of ``task`` against ``checkpoint_id``, one key per task: a write already
        stored is kept, but writes to LangGraph's special channels (errors, interrupts …) replace theirs."""
        replace = all(channel in _SPECIAL for channel, _ in writes)
        held = self.index.task_writes(ns, checkpoint_id, task)
        stored = {idx: {"idx": idx, "channel": w.channel, "value": w.value} for idx, w in held.items()}
        for i, (channel, value) in enumerate(writes):
            idx = _SPECIAL.get(channel, i)
            if replace or idx not in stored:
                stored[idx] = {"idx": idx, "channel": channel, "value": encode(serde, value)}
        if stored.keys() == held.keys() and not replace:
            return
        body = {"checkpoint": checkpoint_id, "task": task, "path": path, "writes": [stored[i] for i in sorted(stored)]}
        with self.mgr.transaction():
            self.switch(self.context(ns))
            self.set(ns, write_key(checkpoint_id, task), body)

    def mark(self, key: str, value: Any) -> None:
        """Set a marker (``hide-before:`` …) in the root context."""
        with self.mgr.transaction():
            self.switch(self.context(""))
            self.set("", key, value)

    def delete_run(self) -> None:
        """Append the run's tombstone: the thread has no checkpoints from here on."""
        self.mgr.delete_run("langgraph delete_thread")
        self.index.reset()

"""A stored checkpoint read back as LangGraph's ``CheckpointTuple``.

The values come from the namespace context's data at the checkpoint: the mirror of the live
context when it still holds that checkpoint, else the tree replayed up to the ctxlog checkpoint.
A channel is restored only at the version the checkpoint names.
"""

from __future__ import annotations

from typing import Any

from langgraph.checkpoint.base import CheckpointTuple

from .codec import decode
from .index import CHANNEL, HEADER, Entry, item_key
from .thread import ThreadState

__all__ = ["config_of", "tuple_of"]


def config_of(thread_id: str, ns: str, checkpoint_id: str) -> dict[str, Any]:
    """The config LangGraph addresses a checkpoint by."""
    return {"configurable": {"thread_id": thread_id, "checkpoint_ns": ns, "checkpoint_id": checkpoint_id}}


def _data(state: ThreadState, entry: Entry) -> dict[str, Any]:
    held = state.mirror.get(entry.ns)
    if (
        held is not None
        and state.live.get(entry.ns) == entry.context
        and (held.get(HEADER) or {}).get("id") == entry.id
    ):
        return held
    return state.mgr.tree_at(entry.offset).contexts[entry.context].data


def _values(serde: Any, data: dict[str, Any], versions: dict[str, Any]) -> dict[str, Any]:
    values: dict[str, Any] = {}
    for channel, version in versions.items():
        key = CHANNEL + channel
        meta = data.get(key)
        if type(meta) is not dict or meta.get("version") != version:
            continue
        if "items" in meta:
            values[channel] = [decode(serde, data[item_key(key, i)]) for i in range(meta["items"])]
        else:
            values[channel] = decode(serde, meta["value"])
    return values


def tuple_of(serde: Any, state: ThreadState, entry: Entry) -> CheckpointTuple:
    """The CheckpointTuple of ``entry``, with its pending writes."""
    data = _data(state, entry)
    header = data[HEADER]
    checkpoint: dict[str, Any] = {
        "v": header["v"],
        "id": header["id"],
        "ts": header["ts"],
        "channel_values": _values(serde, data, header["channel_versions"]),
        "channel_versions": dict(header["channel_versions"]),
        "versions_seen": {node: dict(seen) for node, seen in header["versions_seen"].items()},
        "updated_channels": header.get("updated_channels"),
    }
    if "pending_sends" in header:
        checkpoint["pending_sends"] = decode(serde, header["pending_sends"])
    thread, ns = state.thread_id, entry.ns
    writes = [(w.task, w.channel, decode(serde, w.value)) for w in state.index.writes(entry)]
    return CheckpointTuple(
        config=config_of(thread, ns, entry.id),  # type: ignore[arg-type]
        checkpoint=checkpoint,  # type: ignore[arg-type]
        metadata=decode(serde, entry.metadata),
        parent_config=config_of(thread, ns, entry.parent) if entry.parent else None,  # type: ignore[arg-type]
        pending_writes=writes,
    )

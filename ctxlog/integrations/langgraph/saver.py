"""``CtxlogSaver``: LangGraph's ``BaseCheckpointSaver`` over a ctxlog ledger (SQLite path or PostgreSQL URL).

A thread is a run, a checkpoint a ctxlog checkpoint event, a namespace a child context; only the
channels whose version changed are written, pending writes are events, and nothing is ever removed:
``delete_thread`` appends a ``deleted_run`` tombstone, ``prune`` and ``delete_for_runs`` append
markers that hide checkpoints, ``copy_thread`` replays one run's checkpoints into another. Values go
through the saver's ``serde``; the default one never unpickles and restores only the types of
LangGraph's allowlist (and those a compiled graph adds with ``with_allowlist``).
"""

from __future__ import annotations

import asyncio
import itertools
import threading
from collections import OrderedDict
from collections.abc import AsyncIterator, Callable, Iterator, Sequence
from typing import Any, TypeVar

from langgraph.checkpoint.base import BaseCheckpointSaver, CheckpointTuple, get_checkpoint_id, get_checkpoint_metadata
from langgraph.checkpoint.serde.jsonplus import JsonPlusSerializer

from ... import ContextManager, IntegrityError, InvalidArgumentError, UnknownRunError, audit
from .codec import decode, encode
from .index import HIDE_BEFORE, HIDE_RUN
from .thread import ThreadState
from .tuples import config_of, tuple_of

__all__ = ["CtxlogSaver"]

T = TypeVar("T")
_NONE = object()


def _address(config: Any) -> tuple[str, str, str | None]:
    configurable = (config or {}).get("configurable") or {}
    if not isinstance(configurable.get("thread_id"), str) or not configurable["thread_id"]:
        raise InvalidArgumentError(f"a checkpoint config needs a thread_id (a non-empty str), got {configurable!r}")
    return configurable["thread_id"], configurable.get("checkpoint_ns") or "", configurable.get("checkpoint_id")


class CtxlogSaver(BaseCheckpointSaver[int]):
    """A LangGraph checkpointer writing to the ctxlog ledger at ``path``.

    ``serde`` is LangGraph's serializer (default: ``JsonPlusSerializer`` restricted to its msgpack
    allowlist, no pickle). ``key`` makes the chain HMAC-SHA256; ``synchronous`` is the durability
    setting (SQLite's names). With ``verify`` the ledger must verify before the saver opens it.
    At most ``cache_size`` threads are kept open at once (one ledger connection each).
    """

    def __init__(
        self,
        path: str,
        *,
        serde: Any = None,
        key: bytes | str | None = None,
        synchronous: str = "FULL",
        verify: bool = False,
        cache_size: int = 8,
    ) -> None:
        super().__init__(serde=serde if serde is not None else JsonPlusSerializer(allowed_msgpack_modules=None))
        self.path = str(path)
        self._key, self._synchronous, self._cache_size = key, synchronous, max(1, cache_size)
        self._threads: OrderedDict[str, ThreadState] = OrderedDict()
        self._lock = threading.RLock()
        ContextManager(self.path, key=key, synchronous=synchronous).close()  # creates the ledger
        if verify:
            result = audit.verify(self.path, key=key)
            if not result.ok:
                raise IntegrityError(f"{audit.redacted(self.path)}: {result.summary()}", result.bad_offset)

    # -- threads -------------------------------------------------------------------------------

    def _thread(self, thread_id: str, create: bool) -> ThreadState | None:
        state = self._threads.get(thread_id)
        if state is not None:
            self._threads.move_to_end(thread_id)
            return state
        opts = {"key": self._key, "synchronous": self._synchronous}
        try:
            state = ThreadState(self.path, thread_id, **opts)
        except UnknownRunError:
            if not create:
                return None
            state = ThreadState.new(self.path, thread_id, **opts)
        self._threads[thread_id] = state
        while len(self._threads) > self._cache_size:
            self._threads.popitem(last=False)[1].close()
        return state

    def _writing(self, thread_id: str, write: Callable[[ThreadState], T]) -> T:
        """Run ``write`` on the thread; when it fails, forget the thread's state (it is read again)."""
        with self._lock:
            state = self._thread(thread_id, True)
            assert state is not None
            try:
                return write(state)
            except BaseException:
                self._threads.pop(thread_id, None)
                state.close()
                raise

    def _all_threads(self) -> list[str]:
        with audit.runs(self.path, key=self._key) as runs:
            return [info.run for info in runs]

    def close(self) -> None:
        """Close every open thread's connection; the saver opens them again when used."""
        with self._lock:
            while self._threads:
                self._threads.popitem()[1].close()

    def __enter__(self) -> CtxlogSaver:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    # -- BaseCheckpointSaver -------------------------------------------------------------------

    def get_tuple(self, config: Any) -> CheckpointTuple | None:
        """The checkpoint ``config`` names (its namespace's newest without a checkpoint_id), or None."""
        thread_id, ns, checkpoint_id = _address(config)
        with self._lock:
            state = self._thread(thread_id, False)
            entry = state.index.get(ns, checkpoint_id) if state is not None else None
            return tuple_of(self.serde, state, entry) if state is not None and entry is not None else None

    def list(
        self,
        config: Any,
        *,
        filter: dict[str, Any] | None = None,
        before: Any = None,
        limit: int | None = None,
    ) -> Iterator[CheckpointTuple]:
        """Checkpoints newest first: of ``config``'s thread (every thread when None) and namespace (every
        one when it names none), whose metadata holds ``filter``, older than ``before``, at most ``limit``."""
        threads = [_address(config)[0]] if config is not None else self._all_threads()
        ns = config["configurable"].get("checkpoint_ns") if config is not None else None
        cutoff = get_checkpoint_id(before) if before is not None else None
        wanted = dict(filter or {})

        def keep(entry: Any) -> bool:
            metadata = decode(self.serde, entry.metadata) if wanted else {}
            return all(metadata.get(k) == v for k, v in wanted.items())

        with self._lock:
            found = []
            for thread_id in threads:
                state = self._thread(thread_id, False)
                if state is not None:
                    found += [(e.id, thread_id, e) for e in state.index.select(ns, cutoff, keep)]
        found.sort(key=lambda item: item[0], reverse=True)
        for _, thread_id, entry in found[:limit] if limit is not None else found:
            with self._lock:
                state = self._thread(thread_id, False)
                assert state is not None
                yield tuple_of(self.serde, state, entry)

    def put(self, config: Any, checkpoint: Any, metadata: Any, new_versions: Any) -> dict[str, Any]:
        """Store ``checkpoint`` after the one ``config`` names: the channels of ``new_versions``, its
        versions, ``metadata`` and its parent. Returns the config of the stored checkpoint."""
        thread_id, ns, parent = _address(config)
        stored: dict[str, Any] = {
            "v": checkpoint["v"],
            "id": checkpoint["id"],
            "ts": checkpoint["ts"],
            "channel_versions": dict(checkpoint["channel_versions"]),
            "versions_seen": {node: dict(seen) for node, seen in checkpoint["versions_seen"].items()},
            "updated_channels": checkpoint.get("updated_channels"),
            "parent": parent,
            "metadata": encode(self.serde, get_checkpoint_metadata(config, metadata)),
            "new_versions": dict(new_versions),
        }
        if checkpoint.get("pending_sends"):
            stored["pending_sends"] = encode(self.serde, checkpoint["pending_sends"])
        self._writing(thread_id, lambda state: state.put(self.serde, ns, parent, checkpoint, stored))
        return config_of(thread_id, ns, checkpoint["id"])

    def put_writes(self, config: Any, writes: Sequence[tuple[str, Any]], task_id: str, task_path: str = "") -> None:
        """Store the pending ``writes`` of task ``task_id`` (at ``task_path``) against ``config``'s checkpoint."""
        thread_id, ns, checkpoint_id = _address(config)
        if checkpoint_id is None:
            raise InvalidArgumentError("put_writes needs the config of a stored checkpoint (a checkpoint_id)")
        pairs = list(writes)
        self._writing(
            thread_id, lambda state: state.put_writes(self.serde, ns, checkpoint_id, pairs, task_id, task_path)
        )

    def delete_thread(self, thread_id: str) -> None:
        """Append a ``deleted_run`` tombstone to the thread's run: its checkpoints are gone for every reader
        of this saver; the rows stay, and ``ctxlog verify`` still covers them."""
        with self._lock:
            state = self._thread(thread_id, False)
            if state is not None and state.index.order:
                self._writing(thread_id, lambda s: s.delete_run())

    def delete_for_runs(self, run_ids: Sequence[str]) -> None:
        """Hide the checkpoints (and their writes) of the LangGraph runs ``run_ids``, in every thread."""
        wanted = set(run_ids)
        if not wanted:
            return
        with self._lock:
            for thread_id in self._all_threads():
                state = self._thread(thread_id, False)
                hits = {e.run_id for e in state.index.order if e.run_id in wanted} if state is not None else set()
                for run_id in sorted(hits):  # type: ignore[type-var]
                    self._writing(thread_id, lambda s, r=run_id: s.mark(HIDE_RUN + r, True))

    def prune(self, thread_ids: Sequence[str], *, strategy: str = "keep_latest") -> None:
        """``keep_latest``: hide all but each namespace's newest checkpoint; ``delete``: delete the threads.
        Nothing is removed from the ledger, which stores only what changed in the first place."""
        if strategy not in ("keep_latest", "delete"):
            raise InvalidArgumentError(f"prune strategy must be 'keep_latest' or 'delete', not {strategy!r}")
        with self._lock:
            for thread_id in thread_ids:
                state = self._thread(thread_id, False)
                if state is None or strategy == "delete":
                    self.delete_thread(thread_id) if state is not None else None
                    continue
                for ns in state.index.namespaces():
                    latest = state.index.get(ns, None)
                    if latest is not None:
                        self._writing(thread_id, lambda s, n=ns, i=latest.id: s.mark(HIDE_BEFORE + n, i))

    def copy_thread(self, source_thread_id: str, target_thread_id: str) -> None:
        """Fork: replay every checkpoint of the source thread, with its parent and pending writes, into the
        target (which records where it was forked from); the source is left as it is."""
        with self._lock:
            source = self._thread(source_thread_id, False)
            if source is None or not source.index.order:
                return
            entries = [e for e in source.index.order if source.index.get(e.ns, e.id) is e]
            tuples = [(e, tuple_of(self.serde, source, e), source.index.writes(e)) for e in entries]
            origin = {"thread": source_thread_id, "offset": source.mgr.offset}
            self._writing(target_thread_id, lambda s: s.mark("forked_from", origin))
            seen: dict[tuple[str, str], dict[str, Any]] = {}
            for entry, tup, writes in tuples:
                before = seen.get((entry.ns, entry.parent or ""), {})
                versions, values = tup.checkpoint["channel_versions"], tup.checkpoint["channel_values"]
                changed = {ch: v for ch, v in versions.items() if before.get(ch, _NONE) != (v, values.get(ch, _NONE))}
                config = config_of(target_thread_id, entry.ns, entry.parent) if entry.parent else None
                config = config or {"configurable": {"thread_id": target_thread_id, "checkpoint_ns": entry.ns}}
                self.put(config, tup.checkpoint, tup.metadata, changed)
                seen[(entry.ns, entry.id)] = {ch: (v, values.get(ch, _NONE)) for ch, v in versions.items()}
                for (task, path), group in itertools.groupby(writes, key=lambda w: (w.task, w.path)):
                    pairs = [(w.channel, decode(self.serde, w.value)) for w in sorted(group, key=lambda w: w.idx)]
                    self.put_writes(config_of(target_thread_id, entry.ns, entry.id), pairs, task, path)

    def get_next_version(self, current: Any, channel: None = None) -> int:
        """The version after ``current``: integers 1, 2, 3 … (a str version ``"N.…"`` continues at N + 1)."""
        if current is None:
            return 1
        return int(current.split(".")[0]) + 1 if isinstance(current, str) else int(current) + 1

    # -- asynchronous: the same calls, run off the event loop -------------------------------------

    async def aget_tuple(self, config: Any) -> CheckpointTuple | None:
        """:meth:`get_tuple` (same ``config``) off the event loop."""
        return await asyncio.to_thread(self.get_tuple, config)

    async def alist(
        self, config: Any, *, filter: dict[str, Any] | None = None, before: Any = None, limit: int | None = None
    ) -> AsyncIterator[CheckpointTuple]:
        """:meth:`list` (same ``config``, ``filter``, ``before``, ``limit``) off the event loop."""
        found = await asyncio.to_thread(lambda: list(self.list(config, filter=filter, before=before, limit=limit)))
        for item in found:
            yield item

    async def aput(self, config: Any, checkpoint: Any, metadata: Any, new_versions: Any) -> dict[str, Any]:
        """:meth:`put` (same ``config``, ``checkpoint``, ``metadata``, ``new_versions``) off the event loop."""
        return await asyncio.to_thread(self.put, config, checkpoint, metadata, new_versions)

    async def aput_writes(
        self, config: Any, writes: Sequence[tuple[str, Any]], task_id: str, task_path: str = ""
    ) -> None:
        """:meth:`put_writes` (same ``config``, ``writes``, ``task_id``, ``task_path``) off the event loop."""
        await asyncio.to_thread(self.put_writes, config, writes, task_id, task_path)

    async def adelete_thread(self, thread_id: str) -> None:
        """:meth:`delete_thread` (same ``thread_id``) off the event loop."""
        await asyncio.to_thread(self.delete_thread, thread_id)

    async def adelete_for_runs(self, run_ids: Sequence[str]) -> None:
        """:meth:`delete_for_runs` (same ``run_ids``) off the event loop."""
        await asyncio.to_thread(self.delete_for_runs, run_ids)

    async def acopy_thread(self, source_thread_id: str, target_thread_id: str) -> None:
        """:meth:`copy_thread` (same ``source_thread_id``, ``target_thread_id``) off the event loop."""
        await asyncio.to_thread(self.copy_thread, source_thread_id, target_thread_id)

    async def aprune(self, thread_ids: Sequence[str], *, strategy: str = "keep_latest") -> None:
        """:meth:`prune` (same ``thread_ids``, ``strategy``) off the event loop."""
        await asyncio.to_thread(self.prune, thread_ids, strategy=strategy)

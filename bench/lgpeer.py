"""The LangGraph peer: ``SqliteSaver`` (``langgraph-checkpoint-sqlite``) used as LangGraph's loop
uses it, and a JSON-blob-per-step table as the plainest way to keep a state per step.

A *step* sets one key (a LangGraph channel) of a state of a few keys. LangGraph's loop then
creates the next checkpoint from the previous one (``create_checkpoint``: every channel's value,
the channel versions from ``get_next_version``, the versions seen) and puts it with its
metadata, one commit per step; a point-in-time load is ``get_tuple`` of a config naming the
checkpoint id. The blob table stores the whole state as JSON, one row per step. ctxlog stores one
``set`` event per step and loads a step with ``replay(until=offset)``.

SqliteSaver opens its connection the way its docs show (``sqlite3.connect(path,
check_same_thread=False)``), switches it to WAL in ``setup()`` and leaves ``synchronous`` at
SQLite's default, FULL: like for like with ctxlog's default.
"""

from __future__ import annotations

import hashlib
import random
import sqlite3
from collections.abc import Sequence
from typing import Any

import msgspec
import raw

try:
    from langgraph.checkpoint.base import copy_checkpoint, create_checkpoint, empty_checkpoint
    from langgraph.checkpoint.sqlite import SqliteSaver
except ImportError:  # pragma: no cover - the bench extra is not installed
    SqliteSaver = None  # type: ignore[assignment,misc]

KEYS = ("prompt", "response", "status", "plan", "observation", "tool_result", "scratchpad", "summary")
THREAD = "bench"


def available() -> bool:
    return SqliteSaver is not None


def version() -> str:
    try:
        from importlib.metadata import version as v

        return v("langgraph-checkpoint-sqlite")
    except Exception:  # pragma: no cover
        return "not installed"


def steps(count: int, channels: int, pool: Sequence[dict[str, Any]], seed: int = 11) -> list[tuple[str, Any]]:
    """``count`` steps, each setting one of ``channels`` keys to a value from ``pool``."""
    rng = random.Random(seed)
    keys = KEYS[:channels] if channels <= len(KEYS) else [f"channel_{i}" for i in range(channels)]
    first = [(k, pool[i % len(pool)]) for i, k in enumerate(keys)]  # every channel holds a value early
    rest = [(rng.choice(keys), pool[rng.randrange(len(pool))]) for _ in range(max(0, count - len(keys)))]
    return (first + rest)[:count]


class LangGraphPeer:
    """One SqliteSaver on a file, one thread, checkpoints put one per step."""

    def __init__(self, path: str, synchronous: str | None = None) -> None:
        raw.remove_db(path)
        self.path = path
        self.conn = sqlite3.connect(path, check_same_thread=False)
        self.saver = SqliteSaver(self.conn)
        self.saver.setup()
        if synchronous is not None:
            self.conn.execute(f"PRAGMA synchronous = {synchronous}")
        self.config: dict[str, Any] = {"configurable": {"thread_id": THREAD, "checkpoint_ns": ""}}
        self.checkpoint = empty_checkpoint()
        self.step = -1
        self.ids: list[str] = []

    def put(self, key: str, value: Any) -> None:
        """One step: the next checkpoint, as LangGraph's loop makes it, put (one commit)."""
        saver, base = self.saver, copy_checkpoint(self.checkpoint)
        self.step += 1
        new = saver.get_next_version(base["channel_versions"].get(key), None)
        base["channel_values"][key] = value
        base["channel_versions"][key] = new
        base["versions_seen"].setdefault("agent", {})[key] = new
        self.checkpoint = create_checkpoint(base, None, self.step)
        metadata = {"source": "loop", "step": self.step, "parents": {}}
        self.config = saver.put(self.config, self.checkpoint, metadata, {key: new})  # type: ignore[arg-type]
        self.ids.append(self.config["configurable"]["checkpoint_id"])

    def put_each(self, pairs: Sequence[tuple[str, Any]]) -> None:
        for key, value in pairs:
            self.put(key, value)

    def load(self, step: int) -> dict[str, Any]:
        """The state after ``step`` (0-based): ``get_tuple`` of its checkpoint id."""
        config = {"configurable": {"thread_id": THREAD, "checkpoint_ns": "", "checkpoint_id": self.ids[step]}}
        found = self.saver.get_tuple(config)  # type: ignore[arg-type]
        assert found is not None
        return found.checkpoint["channel_values"]

    def close(self) -> None:
        self.conn.close()


class BlobPeer:
    """A raw sqlite3 table holding the whole state as JSON, one row per step (ctxlog's pragmas)."""

    SCHEMA = "CREATE TABLE steps (step INTEGER PRIMARY KEY, state TEXT NOT NULL)"

    def __init__(self, path: str, synchronous: str = "FULL") -> None:
        raw.remove_db(path)
        self.path = path
        self.conn = raw.connect(path, synchronous)
        self.conn.execute(self.SCHEMA)
        self.state: dict[str, Any] = {}
        self.step = -1
        self._encode = msgspec.json.Encoder().encode

    def _rows(self, pairs: Sequence[tuple[str, Any]]) -> list[tuple[int, str]]:
        rows, state, encode = [], self.state, self._encode
        for key, value in pairs:
            self.step += 1
            state[key] = value
            rows.append((self.step, encode(state).decode()))
        return rows

    def put_each(self, pairs: Sequence[tuple[str, Any]]) -> None:
        """One transaction per step: BEGIN IMMEDIATE, INSERT of the whole state, COMMIT."""
        execute = self.conn.execute
        for row in self._rows(pairs):
            execute("BEGIN IMMEDIATE")
            execute("INSERT INTO steps (step, state) VALUES (?, ?)", row)
            execute("COMMIT")

    def put_batch(self, pairs: Sequence[tuple[str, Any]]) -> None:
        """Every step in one transaction."""
        rows = self._rows(pairs)
        self.conn.execute("BEGIN IMMEDIATE")
        self.conn.executemany("INSERT INTO steps (step, state) VALUES (?, ?)", rows)
        self.conn.execute("COMMIT")

    def load(self, step: int) -> dict[str, Any]:
        row = self.conn.execute("SELECT state FROM steps WHERE step = ?", (step,)).fetchone()
        return msgspec.json.decode(row[0])  # type: ignore[no-any-return]

    def close(self) -> None:
        self.conn.close()


def fingerprint(state: dict[str, Any]) -> str:
    """A digest of a state, to check that every side loads the same one."""
    return hashlib.sha256(msgspec.json.encode(dict(sorted(state.items())))).hexdigest()[:16]

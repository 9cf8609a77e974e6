"""The benchmark workload: one deterministic stream of context operations, shared by every case.

An operation is a tuple: ``("init",)``, ``("enter", id)``, ``("set", key, value)``,
``("parallel", id)``, ``("switch", id)``, ``("exit", merge_policy)``, ``("checkpoint", name)``.
Context names are unique, so the id ctxlog gives each context is its name and the stream can refer
to contexts before they exist.

* :func:`mix_ops` -- the realistic mix: tasks (``enter_step``) that set 6-30 values over a handful
  of keys (values overwritten in a hot loop), three in ten fanning out into 2-4 parallel branches
  that set their own values and merge back (OVERWRITE), each task merged into its parent on exit
  (KEEP_EXISTING), a named checkpoint every ``checkpoint_every`` events. The tree grows with the
  run: exited contexts keep their data (DESIGN section 2).
* :func:`steady_ops` -- the same mix for a fixed prefix, then a long hot loop over a fixed set of
  live contexts (a ``loop`` step and four parallel workers) overwriting the same keys, with the
  same checkpoint cadence and a checkpoint ``mid`` half way. Its final tree has the same size
  whatever the length, which is what the memory case compares.

Values are JSON maps of 150-250 bytes once encoded, drawn from a fixed pool.
"""

from __future__ import annotations

import random
import string
from collections.abc import Iterable, Sequence
from typing import Any

import msgspec

Op = tuple
TASK_KEYS = ("prompt", "response", "status", "plan", "observation", "tool_result")
BRANCH_KEYS = ("candidate", "score", "trace", "branch_result")
WORKER_KEYS = ("progress", "partial", "last_item", "metrics", "cursor", "buffer")
LOOP_KEYS = ("iteration", "summary", "queue", "heartbeat")
RUN = "bench"
CHECKPOINT_EVERY = 5_000
EVENTS_PER_OP = {"init": 1, "enter": 1, "set": 1, "parallel": 1, "switch": 1, "checkpoint": 1}
_WORDS = [
    "".join(random.Random(i).choices(string.ascii_lowercase, k=random.Random(-i).randint(3, 9))) for i in range(400)
]


def value_pool(size: int = 512, seed: int = 7) -> list[dict[str, Any]]:
    """``size`` JSON maps whose msgspec encoding is 150-250 bytes long."""
    rng = random.Random(seed)
    pool = []
    for i in range(size):
        target = rng.randint(150, 250)
        value: dict[str, Any] = {
            "id": i,
            "ok": rng.random() < 0.9,
            "score": round(rng.random(), 4),
            "tags": rng.sample(["io", "llm", "tool", "retry", "cache", "plan"], 2),
            "text": "",
        }
        base = len(msgspec.json.encode(value))
        words: list[str] = []
        while base + len(" ".join(words)) < target:
            words.append(rng.choice(_WORDS))
        text = " ".join(words)
        value["text"] = text[: max(0, target - base)]
        pool.append(value)
    return pool


def encoded_sizes(pool: Sequence[dict[str, Any]]) -> tuple[int, int, float]:
    """(min, max, mean) encoded size of the values in ``pool``."""
    sizes = [len(msgspec.json.encode(v)) for v in pool]
    return min(sizes), max(sizes), sum(sizes) / len(sizes)


class _Stream:
    """Builds an op list while counting the events it will append."""

    def __init__(self, pool: Sequence[dict[str, Any]], seed: int, checkpoint_every: int) -> None:
        self.ops: list[Op] = []
        self.events = 0
        self.rng = random.Random(seed)
        self.pool = pool
        self.every = checkpoint_every
        self.next_checkpoint = checkpoint_every
        self.checkpoints = 0

    def emit(self, op: Op) -> None:
        self.ops.append(op)
        kind = op[0]
        self.events += EVENTS_PER_OP[kind] if kind != "exit" else (2 if op[1] is not None else 1)

    def sets(self, keys: Sequence[str], count: int) -> None:
        rng, pool = self.rng, self.pool
        for _ in range(count):
            self.emit(("set", rng.choice(keys), pool[rng.randrange(len(pool))]))

    def maybe_checkpoint(self) -> None:
        if self.events >= self.next_checkpoint:
            self.checkpoints += 1
            self.emit(("checkpoint", f"cp-{self.checkpoints}"))
            self.next_checkpoint += self.every

    def episode(self, i: int) -> None:
        rng = self.rng
        task = f"task-{i}"
        self.emit(("enter", task))
        self.sets(TASK_KEYS, rng.randint(6, 30))
        if rng.random() < 0.3:
            branches = [f"{task}.branch-{j}" for j in range(rng.randint(2, 4))]
            for b in branches:
                self.emit(("parallel", b))
            for b in branches:
                self.emit(("switch", b))
                self.sets(BRANCH_KEYS, rng.randint(3, 10))
                self.emit(("exit", "overwrite"))
        self.emit(("exit", "keep_existing"))
        self.maybe_checkpoint()


def mix_ops(
    n_events: int, pool: Sequence[dict[str, Any]], *, seed: int = 1, checkpoint_every: int = CHECKPOINT_EVERY
) -> list[Op]:
    """The realistic mix, about ``n_events`` events long (it ends after a whole task)."""
    s = _Stream(pool, seed, checkpoint_every)
    s.emit(("init",))
    i = 0
    while s.events < n_events:
        i += 1
        s.episode(i)
    return s.ops


def steady_ops(
    n_events: int,
    prefix_events: int,
    pool: Sequence[dict[str, Any]],
    *,
    seed: int = 1,
    checkpoint_every: int = CHECKPOINT_EVERY,
    workers: int = 4,
) -> list[Op]:
    """The mix for ``prefix_events``, then a hot loop over fixed contexts and keys: exactly ``n_events``.

    The loop takes the checkpoint ``mid`` at event ``n_events // 2`` (which must fall in the loop).
    """
    s = _Stream(pool, seed, checkpoint_every)
    s.emit(("init",))
    i = 0
    while s.events < prefix_events:
        i += 1
        s.episode(i)
    s.emit(("enter", "loop"))
    names = [f"worker-{w}" for w in range(workers)]
    for name in names:
        s.emit(("parallel", name))
    mid = n_events // 2
    if s.events >= mid:
        raise ValueError(f"the prefix ({s.events} events) must end before the middle ({mid}) of the run")
    rng, pool, taken_mid = s.rng, s.pool, False
    while True:
        burst: list[Op] = [("switch", rng.choice(names))]
        burst += [("set", rng.choice(WORKER_KEYS), pool[rng.randrange(len(pool))]) for _ in range(rng.randint(5, 15))]
        burst.append(("switch", "loop"))
        burst += [("set", rng.choice(LOOP_KEYS), pool[rng.randrange(len(pool))]) for _ in range(rng.randint(1, 4))]
        for op in burst:
            if not taken_mid and s.events >= mid - 1:
                s.emit(("checkpoint", "mid"))
                taken_mid = True
            if s.events >= n_events:
                return s.ops
            s.emit(op)
            if s.events < n_events:
                s.maybe_checkpoint()


def count_events(ops: Iterable[Op]) -> int:
    """Events the ops append."""
    n = 0
    for op in ops:
        n += EVENTS_PER_OP[op[0]] if op[0] != "exit" else (2 if op[1] is not None else 1)
    return n


def apply_ops(mgr: Any, ops: Iterable[Op]) -> None:
    """Run ``ops`` on a ctxlog ContextManager, each op its own call (and transaction unless batched)."""
    for op in ops:
        kind = op[0]
        if kind == "set":
            mgr.set(op[1], op[2])
        elif kind == "enter":
            mgr.enter_step(op[1])
        elif kind == "exit":
            mgr.exit_step(op[1])
        elif kind == "switch":
            mgr.switch_to(op[1])
        elif kind == "parallel":
            mgr.create_parallel_context(op[1])
        elif kind == "checkpoint":
            mgr.checkpoint(op[1])
        elif kind == "init":
            mgr.initialize("root")
        else:  # pragma: no cover - the generators emit nothing else
            raise ValueError(f"unknown op {op!r}")


def generate(
    path: str, ops: Sequence[Op], *, run: str | None = RUN, batch: int = 10_000, synchronous: str = "NORMAL"
) -> str:
    """Write ``ops`` to a ctxlog ledger at ``path``, ``batch`` ops per ``mgr.transaction()``; return
    the run's name (``run=None``: the name ctxlog gives a new run, ``run-<12 hex digits>``)."""
    from ctxlog import ContextManager

    with ContextManager(path, run=run, synchronous=synchronous) as mgr:
        for start in range(0, len(ops), batch):
            with mgr.transaction():
                apply_ops(mgr, ops[start : start + batch])
        return mgr.run


def structured_value(size: int, seed: int = 0) -> dict[str, Any]:
    """A JSON map of about ``size`` bytes once encoded: nested maps and lists (a report with items,
    each with tags and attributes), never one long string."""
    rng = random.Random(seed)
    items: list[dict[str, Any]] = []
    value: dict[str, Any] = {"v": seed, "items": items}
    total = len(msgspec.json.encode(value))
    i = 0
    while True:
        item = {
            "id": i,
            "ok": rng.random() < 0.8,
            "tags": rng.sample(["io", "llm", "tool", "retry", "cache"], 2),
            "attrs": {"w": round(rng.random(), 3), "path": [rng.choice(_WORDS) for _ in range(2)]},
        }
        grown = total + len(msgspec.json.encode(item)) + 1
        if grown > size and items:
            return value
        items.append(item)
        total, i = grown, i + 1


def hot_sets(n: int, pool: Sequence[dict[str, Any]], *, seed: int = 3) -> list[tuple[str, Any]]:
    """``n`` (key, value) pairs for the throughput cases: the hot loop of one task."""
    rng = random.Random(seed)
    return [(rng.choice(TASK_KEYS), pool[rng.randrange(len(pool))]) for _ in range(n)]

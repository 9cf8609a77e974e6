"""Scaling rows over the size of the live tree: contexts in the run, and keys merged into one parent.

Each row is the cost of one operation at several sizes (median of the repetitions) and the ratio
of the cost at the largest size to the cost at the smallest: flat within 1.5x is the target. The
runs grow in place, at synchronous="NORMAL" (so what grows is ctxlog's own work, not fsync), and
each size is measured on the way up.
"""

from __future__ import annotations

import math
import time
from collections.abc import Callable
from typing import Any

import raw
from harness import Bench, timed
from report import ScaleRow, median

import ctxlog
from ctxlog import ContextManager, MergePolicy


class _Rollback(Exception):
    pass


def _label(n: int) -> str:
    if n >= 1_000_000 and n % 1_000_000 == 0:
        return f"{n // 1_000_000}M"
    if n >= 1_000 and n % 1_000 == 0:
        return f"{n // 1_000}k"
    return f"{n:,}"


def _grow(mgr: ContextManager, count: int, start: int, value: Any, batch: int = 3_000) -> None:
    """Add ``count`` contexts under the current one: tasks of up to ten contexts (a step and up to
    nine sub-steps), each context setting one key, every context exited; ``start`` numbers them."""
    added = 0
    while added < count:
        with mgr.transaction():
            ops = 0
            while added < count and ops < batch:
                task = f"task-{start + added}"
                mgr.enter_step(task)
                mgr.set("result", value)
                added += 1
                for j in range(min(9, count - added)):
                    mgr.enter_step(f"{task}.{j}")
                    mgr.set("result", value)
                    mgr.exit_step()
                    added += 1
                mgr.exit_step()
                ops += 30


class _Tree:
    """The tree-size run: a root holding ``config``, a live step ``hot`` holding ``own``, and the
    contexts grown under ``hot``; the manager is reopened by the reopen measurement."""

    def __init__(self, bench: Bench) -> None:
        self.path = bench.path("tree.db")
        raw.remove_db(self.path)
        self.mgr = ContextManager(self.path, run="tree", synchronous="NORMAL")
        self.mgr.initialize("root")
        self.mgr.set("config", bench.pool[0])
        self.mgr.enter_step("hot")
        self.mgr.set("own", bench.pool[1])
        self.contexts, self.names, self.value = 2, 0, bench.pool[2]
        bench.closers.append(lambda: self.mgr.close())

    def grow_to(self, size: int) -> None:
        _grow(self.mgr, size - self.contexts, self.contexts, self.value)
        self.contexts = size

    def checkpoint(self) -> None:
        self.names += 1
        self.mgr.checkpoint(f"scale-{self.names}")

    def failed_transaction(self) -> None:
        try:
            with self.mgr.transaction():
                self.mgr.set("scratch", 1)
                raise _Rollback
        except _Rollback:
            pass

    def reopen(self) -> None:
        self.mgr.close()
        self.mgr = ContextManager(self.path, run="tree", synchronous="NORMAL")

    def ops(self) -> dict[str, tuple[str, Callable[[], Any]]]:
        return {
            "get-own": ("`mgr.get(key)`, a key of the current context", lambda: self.mgr.get("own")),
            "get-root": ("`mgr.get(key)`, a key two levels up (the root)", lambda: self.mgr.get("config")),
            "current": (
                "`mgr.current_id`, `mgr.depth` and `mgr.offset` (reads that do not copy the tree)",
                lambda: (self.mgr.current_id, self.mgr.depth, self.mgr.offset),
            ),
            "checkpoint": ("`mgr.checkpoint(name)`", self.checkpoint),
            "rollback": (
                "a failed `with mgr.transaction():` (one set, then an exception: the rollback)",
                self.failed_transaction,
            ),
            "reopen": ("reopening the run: `ContextManager(path, run=...)` on the existing run", self.reopen),
        }


def tree_case(bench: Bench) -> None:
    """Per-operation cost as the run's tree grows from a few contexts to the largest size."""
    tree = _Tree(bench)
    costs: dict[str, list[list[float]]] = {}
    t0 = time.perf_counter()
    for size in bench.sizes.trees:
        tree.grow_to(size)
        for key, (_, op) in tree.ops().items():
            costs.setdefault(key, []).append(bench.per_op(op))
        bench.log(f"  tree: {size:,} contexts measured ({time.perf_counter() - t0:.1f} s so far)")
    events = tree.mgr.offset
    sizes = [_label(n) for n in bench.sizes.trees]
    for key, (label, _) in tree.ops().items():
        per = costs[key]
        bench.scaling.append(
            ScaleRow(
                f"tree size (contexts): {label}",
                sizes,
                [median(c) for c in per],
                [(min(c), max(c)) for c in per],
                note=f"one run at synchronous=NORMAL, its tree grown under a live step to each size (tasks of a step "
                f"and nine sub-steps, one key each, all exited); {events:,} events at the end",
                key=f"tree-{key}",
            )
        )
        bench.profiles[f"tree-{key}"] = lambda key=key: [tree.ops()[key][1]() for _ in range(3)]


def _task(mgr: ContextManager, i: int, value: Any) -> None:
    mgr.enter_step(f"t{i}")
    mgr.set(f"k{i}", value)
    mgr.exit_step(MergePolicy.MERGE)


def _fan(mgr: ContextManager, start: int, count: int, value: Any, batch: int = 1_000) -> None:
    for first in range(start, start + count, batch):
        with mgr.transaction():
            for i in range(first, min(start + count, first + batch)):
                _task(mgr, i, value)


class _Fan:
    """The fan-in run: tasks merged (MERGE) into the root, one distinct key each."""

    def __init__(self, bench: Bench) -> None:
        self.bench = bench
        self.path = bench.path("fanin.db")
        raw.remove_db(self.path)
        self.mgr = ContextManager(self.path, run="fanin", synchronous="NORMAL")
        self.mgr.initialize("root")
        self.tasks, self.value = 0, {"n": 1, "ok": True}
        bench.closers.append(self.mgr.close)

    def live(self, count: int) -> list[float]:
        """Seconds per task, ``count`` tasks per repetition in one transaction each."""
        out = []
        for _ in range(max(self.bench.sizes.reps, 1)):
            out.append(timed(lambda: _fan(self.mgr, self.tasks, count, self.value)) / count)
            self.tasks += count
        return out

    def replayed(self) -> tuple[list[float], float]:
        """Seconds per task of a full fold of the run (a copy without snapshots), and one fold's time."""
        copy = self.bench.path("fanin-nosnap.db")
        raw.copy_without_snapshots(self.path, copy)
        first = timed(lambda: ctxlog.replay(copy, run="fanin"))
        reps = max(self.bench.sizes.reps, 1) if first < 2 else max(min(self.bench.sizes.reps, 3), 1)
        out = [timed(lambda: ctxlog.replay(copy, run="fanin")) / self.tasks for _ in range(reps)]
        return out, first


def _projected(sizes: list[int], costs: list[float], folds: list[float], size: int, tasks: int, reps: int) -> float:
    """Seconds building the run up to ``size`` tasks and folding it would take, if the cost per task
    keeps growing as it did between the last two sizes measured (as fast as the keys, with one)."""
    n1, c1, f1 = sizes[-1], costs[-1], folds[-1]
    alpha = 1.0
    if len(sizes) > 1 and costs[-2] > 0:
        alpha = min(1.0, max(0.0, math.log(c1 / costs[-2]) / math.log(n1 / sizes[-2])))
    grow = size / n1
    build = (size - tasks) * c1 * (1 + grow**alpha) / 2
    return build + f1 * grow ** (1 + alpha) * (reps + 2)


def fanin_case(bench: Bench) -> None:
    """Keys merged into one parent: N tasks each setting one distinct key, merged into the root."""
    fan, s = _Fan(bench), bench.sizes
    live: list[list[float]] = []
    replayed: list[list[float]] = []
    measured: list[int] = []
    spent, skipped, folds = 0.0, "", []
    for size in s.fanin:
        if measured:
            projected = _projected(measured, [median(c) for c in live], folds, size, fan.tasks, s.reps)
            if spent + projected > s.fanin_budget:
                skipped = (
                    f"{_label(size)} and up not measured: at the growth of the cost per task measured up to "
                    f"{_label(measured[-1])}, building and folding it would take about {projected:.0f} s, past "
                    f"the case's {s.fanin_budget:.0f} s budget"
                )
                break
        t0 = time.perf_counter()
        _fan(fan.mgr, fan.tasks, size - fan.tasks, fan.value)
        fan.tasks = size
        live.append(fan.live(max(10, min(200, size // 20))))
        per, fold = fan.replayed()
        folds.append(fold)
        replayed.append(per)
        measured.append(size)
        spent += time.perf_counter() - t0
        bench.log(f"  fan-in: {size:,} keys measured ({spent:.1f} s so far)")
    sizes = [_label(n) for n in measured]
    base = "one run at synchronous=NORMAL, tasks in transactions of 1,000; " + (skipped or "every size measured")
    bench.scaling.append(
        ScaleRow(
            "fan-in (keys merged into one parent): per task live (`enter_step`, `set` of a distinct key, "
            "`exit_step(MergePolicy.MERGE)`)",
            sizes,
            [median(c) for c in live],
            [(min(c), max(c)) for c in live],
            note=base + "; each repetition adds up to 200 tasks in one transaction",
            key="fanin-live",
        )
    )
    bench.scaling.append(
        ScaleRow(
            "fan-in (keys merged into one parent): per task replayed (a full fold of the run / tasks)",
            sizes,
            [median(c) for c in replayed],
            [(min(c), max(c)) for c in replayed],
            note=base + "; `replay(path, run=...)` of a copy whose snapshot cache is empty",
            key="fanin-replay",
        )
    )
    bench.profiles["fanin-live"] = lambda: _fan(fan.mgr, fan.tasks + 10**7, 200, fan.value)
    bench.profiles["fanin-replay"] = lambda: ctxlog.replay(bench.path("fanin-nosnap.db"), run="fanin")

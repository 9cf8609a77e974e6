"""The shared machinery of a benchmark run: sizes, the work directory, generated ledgers, repetitions."""

from __future__ import annotations

import os
import shutil
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import raw
import workload as wl
from report import Row


@dataclass(frozen=True)
class Sizes:
    reps: int
    prefix: int  # events of the mix already in the run the throughput cases write to
    durable_full: int  # set() calls per repetition, synchronous=FULL
    durable_normal: int  # ... synchronous=NORMAL
    batch: int  # set() calls in one transaction()
    replay: int  # events of the mix run replayed (and measured on disk)
    steady_prefix: int  # events of the mix before the hot loop of the steady runs
    steady_small: int  # events of the smaller steady run (memory)
    steady_big: int  # events of the big steady run (replay --until, memory)
    es_each_full: int  # eventsourcing one-save appends per repetition, synchronous FULL
    es_each_normal: int
    checkpoint_every: int


FULL = Sizes(3, 10_000, 300, 5_000, 10_000, 100_000, 10_000, 100_000, 1_000_000, 1_000, 5_000, 5_000)
QUICK = Sizes(1, 300, 30, 200, 1_000, 3_000, 500, 2_000, 20_000, 30, 100, 500)


class Bench:
    """Shared state of one benchmark run: sizes, the work directory, ledgers, results."""

    def __init__(self, sizes: Sizes, workdir: str, log: Callable[[str], None]) -> None:
        self.sizes = sizes
        self.workdir = workdir
        self.log = log
        self.pool = wl.value_pool()
        self.rows: list[Row] = []
        self.profiles: dict[str, Callable[[], Any]] = {}
        self.facts: dict[str, Any] = {}
        self.closers: list[Callable[[], None]] = []
        self.scratch: dict[str, Any] = {}  # values cases hand to each other, not reported
        self._ledgers: dict[str, str] = {}

    def path(self, name: str) -> str:
        return os.path.join(self.workdir, name)

    def reps(self, sides: list[Callable[[], float]], reps: int | None = None) -> list[list[float]]:
        """Warm each side up once, then time ``reps`` repetitions, alternating which side goes first."""
        for side in sides:
            side()
        results: list[list[float]] = [[] for _ in sides]
        for r in range(reps or self.sizes.reps):
            order = list(range(len(sides)))
            if r % 2:
                order.reverse()
            for i in order:
                results[i].append(sides[i]())
        return results

    # -- ledgers, built once and shared by the cases ----------------------------------------------

    def ledger(self, name: str) -> str:
        """Path of one of the generated ledgers, generating it on first use."""
        if name in self._ledgers:
            return self._ledgers[name]
        s = self.sizes
        path = self.path(f"{name}.db")
        t0 = time.perf_counter()
        if name == "prefix":
            ops = wl.mix_ops(s.prefix, self.pool, checkpoint_every=s.checkpoint_every)
        elif name == "mix":
            ops = wl.mix_ops(s.replay, self.pool, checkpoint_every=s.checkpoint_every)
        elif name == "steady-small":
            ops = wl.steady_ops(s.steady_small, s.steady_prefix, self.pool, checkpoint_every=s.checkpoint_every)
        elif name == "steady-big":
            ops = wl.steady_ops(s.steady_big, s.steady_prefix, self.pool, checkpoint_every=s.checkpoint_every)
        elif name.endswith("-nosnap"):
            raw.copy_without_snapshots(self.ledger(name[: -len("-nosnap")]), path)
            self._ledgers[name] = path
            return path
        else:
            raise KeyError(name)
        wl.generate(path, ops, synchronous="NORMAL")
        raw.checkpoint_wal(path)
        self.facts[f"ledger {name}"] = f"{wl.count_events(ops):,} events, generated in {time.perf_counter() - t0:.1f} s"
        self.log(f"  generated {name}: {wl.count_events(ops):,} events in {time.perf_counter() - t0:.1f} s")
        self._ledgers[name] = path
        return path

    def copy_of(self, name: str, copy: str) -> str:
        """A fresh copy of a generated ledger (to append to without changing the shared one)."""
        src = self.ledger(name)
        dst = self.path(copy)
        raw.remove_db(dst)
        shutil.copyfile(src, dst)
        return dst

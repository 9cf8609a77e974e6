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
from report import Row, ScaleRow


@dataclass(frozen=True)
class Sizes:
    reps: int  # repetitions per paired case (at least; durable FULL takes more)
    prefix: int  # events of the mix already in the run the throughput cases write to
    durable_full: int  # set() calls per repetition, synchronous=FULL
    durable_normal: int  # ... synchronous=NORMAL
    batch: int  # set() calls in one transaction()
    replay: int  # events of the mix run (replay, verify, log --json, bytes)
    checkpoint_every: int  # the mix's checkpoint cadence
    steady_prefix: int  # events of the mix before the hot loop of the steady runs
    lengths: tuple[int, ...]  # steady run lengths (log-length rows; the last two: memory, the last: until)
    steady_checkpoint_every: int
    trees: tuple[int, ...]  # contexts in the tree-size rows
    runs: tuple[int, ...]  # runs per file in the runs rows
    fanin: tuple[int, ...]  # keys merged into one parent
    fanin_budget: float  # seconds the fan-in runs may take to build, in all
    values: tuple[int, ...]  # value sizes in bytes
    branches: tuple[int, ...]  # branches per parallel() call
    branch_sets: int  # set() calls per branch
    peer_steps: int  # steps of the peers' point-in-time runs
    peer_channels: int  # keys (LangGraph channels) the peers' state holds
    peer_loads: int  # steps loaded per repetition
    peer_durable: int  # durable steps per repetition
    rep_seconds: float  # about how long one repetition of a per-operation measurement runs


FULL = Sizes(
    reps=5,
    prefix=10_000,
    durable_full=300,
    durable_normal=3_000,
    batch=10_000,
    replay=100_000,
    checkpoint_every=5_000,
    steady_prefix=2_000,
    lengths=(10_000, 100_000, 1_000_000),
    steady_checkpoint_every=1_000,
    trees=(10, 1_000, 10_000, 100_000),
    runs=(1, 100, 1_000, 10_000),
    fanin=(1_000, 4_000, 16_000, 64_000),
    fanin_budget=90.0,
    values=(100, 1_000, 10_000, 100_000, 1_000_000),
    branches=(1, 4, 16, 64),
    branch_sets=10,
    peer_steps=10_000,
    peer_channels=8,
    peer_loads=20,
    peer_durable=300,
    rep_seconds=0.1,
)
QUICK = Sizes(
    reps=1,
    prefix=300,
    durable_full=30,
    durable_normal=200,
    batch=1_000,
    replay=3_000,
    checkpoint_every=500,
    steady_prefix=300,
    lengths=(2_000, 4_000, 8_000),
    steady_checkpoint_every=200,
    trees=(10, 100, 300),
    runs=(1, 5, 20),
    fanin=(50, 100, 200),
    fanin_budget=10.0,
    values=(100, 1_000, 10_000),
    branches=(1, 2, 4),
    branch_sets=3,
    peer_steps=300,
    peer_channels=4,
    peer_loads=3,
    peer_durable=20,
    rep_seconds=0.005,
)


def timed(fn: Callable[[], Any]) -> float:
    """Seconds one call of ``fn`` takes."""
    t0 = time.perf_counter()
    fn()
    return time.perf_counter() - t0


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
        self.scaling: list[ScaleRow] = []
        self._ledgers: dict[str, str] = {}
        self._runs: dict[str, str] = {}

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

    def per_op(self, op: Callable[[], Any], reps: int | None = None, most: int = 100_000) -> list[float]:
        """Seconds per call of ``op``, one figure per repetition: two untimed warm-up calls (the
        second one's time chooses how many calls a repetition makes: about ``rep_seconds``)."""
        op()
        n = max(1, min(most, int(self.sizes.rep_seconds / max(timed(op), 1e-7))))
        out = []
        for _ in range(reps or max(self.sizes.reps, 1)):
            t0 = time.perf_counter()
            for _ in range(n):
                op()
            out.append((time.perf_counter() - t0) / n)
        return out

    # -- ledgers, built once and shared by the cases ----------------------------------------------

    def ledger(self, name: str) -> str:
        """Path of one of the generated ledgers, generating it on first use: ``prefix``, ``mix``
        (its run named by ctxlog: ``run-<12 hex digits>``), ``steady-<events>``, and any of them
        with ``-nosnap`` (a copy whose snapshot cache is empty)."""
        if name in self._ledgers:
            return self._ledgers[name]
        s = self.sizes
        path = self.path(f"{name}.db")
        t0 = time.perf_counter()
        run: str | None = wl.RUN
        if name.endswith("-nosnap"):
            raw.copy_without_snapshots(self.ledger(name[: -len("-nosnap")]), path)
            self._runs[name] = self._runs[name[: -len("-nosnap")]]
            self._ledgers[name] = path
            return path
        if name == "prefix":
            ops = wl.mix_ops(s.prefix, self.pool, checkpoint_every=s.checkpoint_every)
        elif name == "mix":
            ops, run = wl.mix_ops(s.replay, self.pool, checkpoint_every=s.checkpoint_every), None
        elif name.startswith("steady-"):
            n = int(name[len("steady-") :])
            ops = wl.steady_ops(n, s.steady_prefix, self.pool, checkpoint_every=s.steady_checkpoint_every)
        else:
            raise KeyError(name)
        self._runs[name] = wl.generate(path, ops, run=run, synchronous="NORMAL")
        raw.checkpoint_wal(path)
        took = time.perf_counter() - t0
        self.facts[f"ledger {name}"] = f"{wl.count_events(ops):,} events, generated in {took:.1f} s"
        self.log(f"  generated {name}: {wl.count_events(ops):,} events in {took:.1f} s")
        self._ledgers[name] = path
        return path

    def run_of(self, name: str) -> str:
        """The run name of a generated ledger."""
        self.ledger(name)
        return self._runs[name]

    def copy_of(self, name: str, copy: str) -> str:
        """A fresh copy of a generated ledger (to append to without changing the shared one)."""
        src = self.ledger(name)
        dst = self.path(copy)
        raw.remove_db(dst)
        shutil.copyfile(src, dst)
        return dst

"""Scaling rows over the size of the file: the length of one run's log, the number of runs in the
file, and the number of branches of one ``parallel()`` call.

Each row is the cost of one operation at several sizes (median of the repetitions) and the ratio
of the cost at the largest size to the cost at the smallest: flat within 1.5x is the target.
"""

from __future__ import annotations

from typing import Any

import raw
import workload as wl
from harness import Bench, timed
from report import ScaleRow, median
from scaling_tree import _label

import ctxlog
from ctxlog import ContextManager, MergePolicy

POINTS = (("early", 0.1), ("middle", 0.5), ("late", 0.9))


def _points(path: str, run: str, events: int, every: int) -> dict[str, tuple[str, int]]:
    """Per point of the run: the checkpoint nearest to it, and an offset half a checkpoint interval
    past that checkpoint (so neither a checkpoint's nor, most likely, a snapshot's offset)."""
    cps = [(c.name, c.offset) for c in ctxlog.audit.checkpoints(path, run=run)]
    taken = {offset for _, offset in cps}
    out = {}
    for label, frac in POINTS:
        name, offset = min(cps, key=lambda c: abs(c[1] - frac * events))
        past = min(offset + every // 2 + 7, events - 1)
        while past in taken or past % 10_000 < 3:
            past += 1
        out[label] = (name, past)
    return out


def length_case(bench: Bench) -> None:
    """``replay(until=...)`` at early, middle and late points of runs of growing length."""
    s = bench.sizes
    costs: dict[str, list[list[float]]] = {}
    facts = []
    for n in s.lengths:
        name = f"steady-{n}"
        path, run = bench.ledger(name), bench.run_of(name)
        points = _points(path, run, n, s.steady_checkpoint_every)
        for label, (cp, offset) in points.items():
            costs.setdefault(f"offset-{label}", []).append(
                bench.per_op(lambda path=path, run=run, o=offset: ctxlog.replay(path, run=run, until=o))
            )
            costs.setdefault(f"checkpoint-{label}", []).append(
                bench.per_op(lambda path=path, run=run, c=cp: ctxlog.replay(path, run=run, until=c))
            )
            bench.profiles[f"length-offset-{label}"] = lambda p=path, r=run, o=offset: ctxlog.replay(p, run=r, until=o)
            bench.profiles[f"length-checkpoint-{label}"] = lambda p=path, r=run, c=cp: ctxlog.replay(p, run=r, until=c)
        facts.append(f"{_label(n)}: " + ", ".join(f"{k} {o:,} / {c}" for k, (c, o) in points.items()))
    sizes = [_label(n) for n in s.lengths]
    for label, frac in POINTS:
        for kind, what in (("offset", "OFFSET"), ("checkpoint", "CHECKPOINT")):
            per = costs[f"{kind}-{label}"]
            bench.scaling.append(
                ScaleRow(
                    f"log length (events in one run): `replay(path, run=..., until={what})`, {label} "
                    f"({frac:.0%} of the run)",
                    sizes,
                    [median(c) for c in per],
                    [(min(c), max(c)) for c in per],
                    note=f"the steady runs (same final tree whatever the length), snapshot cache as written, "
                    f"checkpoints every {s.steady_checkpoint_every:,} events; offsets {every_note(kind, s)}; "
                    "points (offset / checkpoint): " + "; ".join(facts),
                    key=f"length-{kind}-{label}",
                )
            )


def every_note(kind: str, s: Any) -> str:
    if kind == "checkpoint":
        return "unused here: the nearest checkpoint's name"
    return f"{s.steady_checkpoint_every // 2 + 7:,} events past the nearest checkpoint"


def _filler(path: str, i: int) -> None:
    with ContextManager(path, run=f"filler-{i}", synchronous="NORMAL") as mgr:
        with mgr.transaction():
            mgr.initialize("root")
            for j in range(9):
                mgr.set("k", j)


def runs_case(bench: Bench) -> None:
    """replay of one small run as the file fills with other runs (10 events each)."""
    s = bench.sizes
    path = bench.path("runs.db")
    raw.remove_db(path)
    ops = wl.mix_ops(100, bench.pool, checkpoint_every=10**9)
    wl.generate(path, ops, run="target")
    events = wl.count_events(ops)
    reference = ctxlog.replay(path, run="target")
    plain: list[list[float]] = []
    verified: list[list[float]] = []
    count = 1
    for size in s.runs:
        while count < size:
            _filler(path, count)
            count += 1
        plain.append(bench.per_op(lambda: ctxlog.replay(path, run="target")))
        verified.append(bench.per_op(lambda: ctxlog.replay(path, run="target", verify=True)))
        bench.log(f"  runs: {size:,} runs in the file measured")
    assert ctxlog.replay(path, run="target", verify=True) == reference
    sizes = [_label(n) for n in s.runs]
    note = (
        f"the measured run ({events} events, the file's first) and runs of 10 events each after it, one "
        "ContextManager per run"
    )
    for per, what, key in ((plain, "", "runs-replay"), (verified, ", verify=True", "runs-verify")):
        bench.scaling.append(
            ScaleRow(
                f"runs per file: `replay(path, run=one_small_run{what})`",
                sizes,
                [median(c) for c in per],
                [(min(c), max(c)) for c in per],
                note=note,
                key=key,
            )
        )
    bench.profiles["runs-replay"] = lambda: ctxlog.replay(path, run="target")
    bench.profiles["runs-verify"] = lambda: ctxlog.replay(path, run="target", verify=True)


def _same_in_one_transaction(mgr: ContextManager, count: int, sets: int, values: list[Any], tag: str) -> None:
    """What parallel() appends for ``count`` branches of ``sets`` set() each, in one transaction."""
    with mgr.transaction():
        ids = [mgr.create_parallel_context(f"{tag}-{i}") for i in range(count)]
        for cid in ids:
            mgr.switch_to(cid)
            for j in range(sets):
                mgr.set(f"key-{j}", values[j % len(values)])
        for cid in ids:
            mgr.end_isolated(cid, MergePolicy.KEEP_EXISTING)


def parallel_case(bench: Bench) -> None:
    """``mgr.parallel`` with B branches of k set() each: per-branch cost, vs the same sets in one transaction."""
    s = bench.sizes
    path = bench.path("parallel.db")
    raw.remove_db(path)
    mgr = ContextManager(path, run="parallel", synchronous="NORMAL")
    bench.closers.append(mgr.close)
    mgr.initialize("root")
    mgr.enter_step("fan")
    values = bench.pool[:16]

    def work(branch: Any) -> None:
        for j in range(s.branch_sets):
            branch.set(f"key-{j}", values[j % len(values)])

    per_branch: list[list[float]] = []
    one_tx: list[list[float]] = []
    for count in s.branches:
        branches = {f"b{i}": work for i in range(count)}
        par_t, tx_t = bench.reps(
            [
                lambda b=branches: timed(lambda: mgr.parallel(b)),
                lambda c=count: timed(lambda: _same_in_one_transaction(mgr, c, s.branch_sets, values, "s")),
            ],
            max(s.reps, 5),
        )
        per_branch.append([t / count for t in par_t])
        one_tx.append([t / count for t in tx_t])
        bench.profiles["parallel"] = lambda b=branches: mgr.parallel(b)
    bench.scaling.append(
        ScaleRow(
            f"parallel branch writes: `mgr.parallel({{...}})` of B branches × {s.branch_sets} `set()`, per branch",
            [f"B={n}" for n in s.branches],
            [median(c) for c in per_branch],
            [(min(c), max(c)) for c in per_branch],
            [
                f"{median([p / t for p, t in zip(par, tx, strict=True)]):.1f}× the same sets in one transaction"
                for par, tx in zip(per_branch, one_tx, strict=True)
            ],
            note="synchronous=NORMAL, branches on threads, each set() its own transaction (a branch cannot join "
            "the caller's transaction); the baseline creates the same parallel contexts, switches to each, sets "
            "and merges them (KEEP_EXISTING) inside one `mgr.transaction()`, in the same repetitions",
            key="parallel",
        )
    )

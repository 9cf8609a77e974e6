"""The benchmark cases: each measures ctxlog and its baseline in the same run, on the same data.

Each case appends :class:`report.Row` objects to ``bench.rows`` and registers, under its key, a
zero-argument callable running the ctxlog side once (for ``--profile``). Sides alternate which goes
first from one repetition to the next, and each side gets one untimed warm-up run first.
"""

from __future__ import annotations

import os
import time
from collections.abc import Callable
from typing import Any

import memory
import peers
import postgres
import raw
import workload as wl
from harness import Bench
from report import Row, median

import ctxlog
from ctxlog import ContextManager

RUN = wl.RUN


def _set_payloads(bench: Bench, pairs: list[tuple[str, Any]]) -> list[str]:
    """The payload texts ctxlog stores for these set() calls, read back from a scratch ledger."""
    path = bench.path("payloads.db")
    raw.remove_db(path)
    with ContextManager(path, run="payloads", synchronous="NORMAL") as mgr:
        mgr.enter_step("hot")
        with mgr.transaction():
            for key, value in pairs:
                mgr.set(key, value)
    payloads = raw.ledger_payloads(path, kind="set", last=len(pairs))
    raw.remove_db(path)
    return payloads


def _timed(fn: Callable[[], Any]) -> float:
    t0 = time.perf_counter()
    fn()
    return time.perf_counter() - t0


def _hot_manager(bench: Bench, copy: str, synchronous: str) -> ContextManager:
    """A manager on a copy of the prefix run, inside a fresh step: where the hot loop runs."""
    mgr = ContextManager(bench.copy_of("prefix", copy), run=RUN, synchronous=synchronous)
    mgr.enter_step("hot")
    return mgr


def _raw_log(bench: Bench, name: str, synchronous: str) -> raw.RawLog:
    """A raw table pre-filled with the prefix run's payloads (so both sides append to a same-size log)."""
    log = raw.RawLog(bench.path(name), synchronous)
    log.append_batch(raw.ledger_payloads(bench.ledger("prefix")))
    return log


def durable(bench: Bench) -> None:
    """Every set() its own transaction, against BEGIN IMMEDIATE/INSERT/COMMIT per row, same pragmas."""
    s = bench.sizes
    for level, n, label in (("FULL", s.durable_full, "FULL (the default)"), ("NORMAL", s.durable_normal, "NORMAL")):
        pairs = wl.hot_sets(n, bench.pool)
        payloads = _set_payloads(bench, pairs)
        mgr = _hot_manager(bench, f"durable-{level}.db", level)
        log = _raw_log(bench, f"raw-durable-{level}.db", level)

        def ctx(mgr: ContextManager = mgr, pairs: list = pairs) -> float:
            t0 = time.perf_counter()
            for key, value in pairs:
                mgr.set(key, value)
            return time.perf_counter() - t0

        # fsync latency drifts with whatever else the machine does: many short repetitions,
        # alternating sides, so that both see the same conditions.
        ctx_t, raw_t = bench.reps(
            [ctx, lambda log=log, p=payloads: _timed(lambda: log.append_each(p))],
            max(s.reps, 11 if level == "FULL" else 5),
        )
        bench.rows.append(
            Row(
                f"durable `set()`, each its own transaction, synchronous={label}",
                n / median(ctx_t),
                f"raw sqlite3 BEGIN IMMEDIATE+INSERT+COMMIT per row ({level})",
                n / median(raw_t),
                "ops/s",
                "higher",
                target=0.8,
                ctxlog_reps=[n / t for t in ctx_t],
                baseline_reps=[n / t for t in raw_t],
                note=(
                    f"{n:,} set() per rep on a run holding a {s.prefix:,}-event mix; "
                    "raw table keeps a SHA-256 chain too"
                ),
                key=f"durable-{level.lower()}",
            )
        )
        bench.facts[f"durable {level}: ops per rep"] = n
        bench.profiles[f"durable-{level.lower()}"] = ctx
        bench.closers.extend([mgr.close, log.close])


def batched(bench: Bench) -> None:
    """10k set() in one mgr.transaction(), against executemany in one transaction with the chain."""
    n = bench.sizes.batch
    pairs = wl.hot_sets(n, bench.pool, seed=5)
    payloads = _set_payloads(bench, pairs)
    mgr = _hot_manager(bench, "batched.db", "FULL")
    log = _raw_log(bench, "raw-batched.db", "FULL")

    def ctx() -> float:
        t0 = time.perf_counter()
        with mgr.transaction():
            for key, value in pairs:
                mgr.set(key, value)
        return time.perf_counter() - t0

    ctx_t, raw_t = bench.reps([ctx, lambda: _timed(lambda: log.append_batch(payloads))], max(bench.sizes.reps, 5))
    bench.rows.append(
        Row(
            f"batched: {n:,} `set()` in one `mgr.transaction()` (FULL)",
            n / median(ctx_t),
            "raw sqlite3 executemany in one transaction + SHA-256 chain",
            n / median(raw_t),
            "ops/s",
            "higher",
            target=0.5,
            stretch=0.7,
            ctxlog_reps=[n / t for t in ctx_t],
            baseline_reps=[n / t for t in raw_t],
            note=f"on a run holding a {bench.sizes.prefix:,}-event mix (its tree: what transaction() copies); "
            "raw gets the payload text ready-made, computes the chain inside the timing",
            key="batched",
        )
    )
    bench.facts["batched ops/s"] = n / median(ctx_t)
    bench.profiles["batched"] = ctx
    bench.closers.extend([mgr.close, log.close])


def replay_case(bench: Bench) -> None:
    """Fold the mix run, chain verified, against raw read + msgspec decode + SHA-256 verify."""
    full, nosnap = bench.ledger("mix"), bench.ledger("mix-nosnap")
    events = len(raw.ledger_payloads(full))
    raw_path = bench.path("raw-mix.db")
    raw.build_raw_table(raw_path, raw.ledger_payloads(full))
    bench.scratch["raw-mix"] = raw_path
    reference = ctxlog.replay(nosnap, run=RUN)
    tree = None

    def ctx() -> float:
        nonlocal tree
        t0 = time.perf_counter()
        tree = ctxlog.replay(nosnap, run=RUN, verify=True)
        return time.perf_counter() - t0

    def cached() -> float:
        return _timed(lambda: ctxlog.replay(full, run=RUN, verify=True))

    ctx_t, raw_t, cached_t = bench.reps(
        [ctx, lambda: _timed(lambda: raw.replay_raw(raw_path)), cached], max(bench.sizes.reps, 5)
    )
    assert tree == reference and tree.offset == events, "verified replay differs from the plain one"
    bench.rows.append(
        Row(
            f"replay: fold a {events:,}-event run into a tree, chain verified",
            events / median(ctx_t),
            "raw sqlite3 read + msgspec decode + SHA-256 verify",
            events / median(raw_t),
            "events/s",
            "higher",
            target=0.5,
            ctxlog_reps=[events / t for t in ctx_t],
            baseline_reps=[events / t for t in raw_t],
            note=f"`replay(path, run=..., verify=True)` on the ledger with its snapshot cache emptied, so every "
            f"event is folded and verified; the tree: {len(reference.contexts):,} contexts, "
            f"{len(reference.to_bytes()) / 1e6:.1f} MB as JSON",
            key="replay",
        )
    )
    bench.rows.append(
        Row(
            "replay, same run, snapshot cache as written (verify=True)",
            events / median(cached_t),
            "raw sqlite3 read + msgspec decode + SHA-256 verify",
            events / median(raw_t),
            "events/s",
            "higher",
            ctxlog_reps=[events / t for t in cached_t],
            baseline_reps=[events / t for t in raw_t],
            note="starts from the newest snapshot, so it folds and verifies only the events after it: "
            "events/s here is run length / time, not events processed",
            key="replay-cached",
        )
    )
    bench.facts["replay events/s"] = events / median(ctx_t)
    bench.facts["replay events"] = events
    bench.profiles["replay"] = ctx


def until_case(bench: Bench) -> None:
    """replay --until the checkpoint in the middle of the big run, against a full replay of it."""
    full, nosnap = bench.ledger("steady-big"), bench.ledger("steady-big-nosnap")
    events = bench.sizes.steady_big
    mid_tree = ctxlog.replay(full, run=RUN, until="mid")
    assert mid_tree == ctxlog.replay(nosnap, run=RUN, until="mid"), "snapshot-based replay differs from the fold"

    until_t, full_t, head_t = bench.reps(
        [
            lambda: _timed(lambda: ctxlog.replay(full, run=RUN, until="mid")),
            lambda: _timed(lambda: ctxlog.replay(nosnap, run=RUN)),
            lambda: _timed(lambda: ctxlog.replay(full, run=RUN)),
        ]
    )
    bench.rows.append(
        Row(
            f'`replay(until="mid")`: checkpoint in the middle of a {events:,}-event run',
            median(until_t),
            "full replay of the same run (every event folded)",
            median(full_t),
            "s",
            "lower",
            target=0.1,
            ctxlog_reps=until_t,
            baseline_reps=full_t,
            note="the full replay reads a copy of the ledger whose snapshot cache is empty; checkpoints "
            f"every {bench.sizes.checkpoint_every:,} events, `mid` at offset {mid_tree.offset:,}; "
            "no verify on either side",
            key="until",
        )
    )
    bench.rows.append(
        Row(
            "`replay()` of the head, snapshot cache as written",
            median(head_t),
            "full replay of the same run (every event folded)",
            median(full_t),
            "s",
            "lower",
            ctxlog_reps=head_t,
            baseline_reps=full_t,
            note="starts from the newest snapshot before the head",
            key="head",
        )
    )
    bench.profiles["until"] = lambda: ctxlog.replay(full, run=RUN, until="mid")
    bench.profiles["full-replay"] = lambda: ctxlog.replay(nosnap, run=RUN)


def bytes_case(bench: Bench) -> None:
    """Bytes on disk per event: the ctxlog ledger against the raw table with the same payloads and hash."""
    full = bench.ledger("mix")
    raw_path = bench.scratch.get("raw-mix") or bench.path("raw-mix.db")
    if not os.path.exists(raw_path):
        raw.build_raw_table(raw_path, raw.ledger_payloads(full))
    raw.checkpoint_wal(full)
    events = len(raw.ledger_payloads(full))
    ctx_bytes, raw_bytes = raw.file_bytes(full), raw.file_bytes(raw_path)
    tables = raw.table_bytes(full)
    raw_tables = raw.table_bytes(raw_path)
    log_bytes = tables.get("events", 0)
    snap = tables.get("snapshots", 0)
    bench.rows.append(
        Row(
            "bytes on disk per event (whole ledger file)",
            ctx_bytes / events,
            "raw table (INTEGER PRIMARY KEY, payload TEXT, hash TEXT)",
            raw_bytes / events,
            "B/event",
            "lower",
            target=1.2,
            note=f"{events:,}-event mix after a WAL checkpoint; ledger {ctx_bytes / 1e6:.1f} MB of which snapshots "
            f"{snap / 1e6:.1f} MB ({snap / ctx_bytes:.0%}), events table+indexes {log_bytes / 1e6:.1f} MB; "
            f"raw {raw_bytes / 1e6:.1f} MB",
            key="bytes",
        )
    )
    objects = raw.object_bytes(full)
    indexes = ", ".join(
        f"{name} {size / events:,.0f}"
        for name, size in sorted(objects.items())
        if name not in ("events", "snapshots", "meta", "sqlite_schema")
        and not name.startswith("sqlite_autoindex_meta")
        and not name.startswith("sqlite_autoindex_snapshots")
    )
    bench.rows.append(
        Row(
            "bytes per event, the log only (events table + its indexes)",
            log_bytes / events,
            "raw table pages",
            raw_tables.get("raw", raw_bytes) / events,
            "B/event",
            "lower",
            note=f"from SQLite's dbstat, B/event: events rows {objects.get('events', 0) / events:,.0f}, {indexes}; "
            "ctxlog also stores run, seq, ts, kind, context, cause",
            key="bytes-log",
        )
    )
    bench.facts["ledger tables (bytes)"] = tables


def memory_case(bench: Bench) -> None:
    """Peak RSS of replaying the small and the big steady run (same final tree), each in a fresh process."""
    small, big = bench.ledger("steady-small-nosnap"), bench.ledger("steady-big-nosnap")
    s, b = memory.measure(small, RUN, verify=True), memory.measure(big, RUN, verify=True)
    same = (s["contexts"], s["keys"]) == (b["contexts"], b["keys"])
    bench.rows.append(
        Row(
            f"peak RSS replaying {bench.sizes.steady_big:,} events (verify=True)",
            b["maxrss_kib"],
            f"the same for {bench.sizes.steady_small:,} events",
            s["maxrss_kib"],
            "KiB",
            "lower",
            target=1.2,
            note=f"VmHWM of a fresh process each (ru_maxrss {b['ru_maxrss_kib'] / 1024:.1f} vs "
            f"{s['ru_maxrss_kib'] / 1024:.1f} MiB carries the parent's peak across exec), snapshot cache "
            f"emptied so every event is folded; final trees "
            f"{'the same size' if same else 'DIFFER'}: {b['contexts']} vs {s['contexts']} contexts, {b['keys']} vs "
            f"{s['keys']} keys, {b['tree_bytes']:,} vs {s['tree_bytes']:,} bytes as JSON; RSS after imports "
            f"{b['maxrss_after_import_kib'] / 1024:.1f} vs {s['maxrss_after_import_kib'] / 1024:.1f} MiB; "
            f"replay took {b['seconds']:.2f} vs {s['seconds']:.2f} s",
            key="memory",
        )
    )
    bench.rows.append(
        Row(
            "RSS growth during that replay (peak − after imports)",
            b["maxrss_kib"] - b["maxrss_after_import_kib"],
            f"the same for {bench.sizes.steady_small:,} events",
            max(1, s["maxrss_kib"] - s["maxrss_after_import_kib"]),
            "KiB",
            "lower",
            key="memory-growth",
        )
    )
    bench.facts["memory"] = {"small": s, "big": b}


def peers_case(bench: Bench) -> None:
    """eventsourcing (SQLite) doing the same appends and replay."""
    if not peers.available():
        bench.log("  eventsourcing is not installed (pip install -e '.[bench]'): peers skipped")
        return
    s = bench.sizes
    rows: list[tuple[str, str, float, float]] = []
    for level, n in (("FULL", s.es_each_full), ("NORMAL", s.es_each_normal)):
        peer = peers.Peer(bench.path(f"es-each-{level}.db"), None if level == "FULL" else level)
        pairs = wl.hot_sets(n, bench.pool)
        (t,) = bench.reps([lambda peer=peer, pairs=pairs: peers.timed(peer.append_each, pairs)], max(s.reps, 5))
        bench.facts[f"eventsourcing synchronous ({level} run)"] = peer.synchronous_level()
        peer.close()
        rows.append((level, "each", n / median(t), 0.0))
    peer = peers.Peer(bench.path("es-batch.db"), "FULL")
    pairs = wl.hot_sets(s.batch, bench.pool, seed=5)
    (batch_t,) = bench.reps([lambda: peers.timed(peer.append_batch, pairs)], max(s.reps, 5))
    peer.close()
    events = bench.facts.get("replay events", s.replay)
    peer = peers.Peer(bench.path("es-replay.db"), "NORMAL")
    filler = wl.hot_sets(events - 1, bench.pool, seed=9)
    for start in range(0, len(filler), 10_000):
        peer.append_batch(filler[start : start + 10_000])
    counted: list[int] = []
    (replay_t,) = bench.reps([lambda: peers.timed(lambda: counted.append(peer.replay()))], max(s.reps, 5))
    assert counted[-1] == events, (counted[-1], events)
    peer.close()

    full_each = rows[0][2]
    normal_each = rows[1][2]
    batched = bench.facts.get("batched ops/s")
    replay = bench.facts.get("replay events/s")
    if batched:
        bench.rows.append(
            Row(
                "peers: ctxlog batched vs eventsourcing one-save append",
                batched,
                "eventsourcing `app.save()` per set (its default synchronous=FULL)",
                full_each,
                "ops/s",
                "higher",
                target=2.5,
                note=f"eventsourcing {s.es_each_full:,} saves per rep",
                key="peer-append",
            )
        )
        bench.rows.append(
            Row(
                "peers: ctxlog batched vs eventsourcing one-save append at synchronous=NORMAL",
                batched,
                "eventsourcing `app.save()` per set (NORMAL)",
                normal_each,
                "ops/s",
                "higher",
                key="peer-append-normal",
            )
        )
        bench.rows.append(
            Row(
                f"peers: ctxlog batched vs eventsourcing {s.batch:,} sets in one `app.save()`",
                batched,
                "eventsourcing one save of the batch",
                s.batch / median(batch_t),
                "ops/s",
                "higher",
                key="peer-batch",
            )
        )
    if replay:
        bench.rows.append(
            Row(
                f"peers: ctxlog verified replay vs eventsourcing aggregate replay ({events:,} events)",
                replay,
                "eventsourcing `app.repository.get(id)`",
                events / median(replay_t),
                "events/s",
                "higher",
                target=5.0,
                baseline_reps=[events / t for t in replay_t],
                key="peer-replay",
            )
        )
    durable = {r.key: r.ctxlog for r in bench.rows}
    for level, each in (("full", full_each), ("normal", normal_each)):
        if f"durable-{level}" in durable:
            bench.rows.append(
                Row(
                    f"peers: ctxlog durable set() vs eventsourcing one-save append ({level.upper()})",
                    durable[f"durable-{level}"],
                    f"eventsourcing `app.save()` per set ({level.upper()})",
                    each,
                    "ops/s",
                    "higher",
                    key=f"peer-durable-{level}",
                )
            )


CASES: dict[str, Callable[[Bench], None]] = {
    "durable": durable,
    "batched": batched,
    "replay": replay_case,
    "until": until_case,
    "bytes": bytes_case,
    "memory": memory_case,
    "peers": peers_case,
    "postgres": postgres.postgres_case,
}

"""The peers, like for like in the same repetitions: LangGraph's SqliteSaver, a JSON-blob-per-step
table, and eventsourcing.

A step sets one key of a state of a few keys (``lgpeer.steps``). Durable rows commit every step on
every side (FULL); batch rows commit many steps at once on the sides that can; the point-in-time
load reads the state after a given step; bytes per step are each file's size over its steps.
ctxlog's batch is never set against a peer's one-commit-per-step figure.
"""

from __future__ import annotations

import lgpeer
import peers
import raw
import workload as wl
from harness import Bench, timed
from report import Row, median

import ctxlog
from ctxlog import ContextManager


def _ctx_manager(bench: Bench, name: str, synchronous: str) -> ContextManager:
    path = bench.path(name)
    raw.remove_db(path)
    mgr = ContextManager(path, run="peer", synchronous=synchronous)
    mgr.initialize("root")
    bench.closers.append(mgr.close)
    return mgr


def _durable(bench: Bench) -> None:
    s = bench.sizes
    n = s.peer_durable
    pairs = lgpeer.steps(n, s.peer_channels, bench.pool)
    mgr = _ctx_manager(bench, "peer-durable.db", "FULL")
    lg = lgpeer.LangGraphPeer(bench.path("lg-durable.db"))
    blob = lgpeer.BlobPeer(bench.path("blob-durable.db"), "FULL")
    es = peers.Peer(bench.path("es-durable.db")) if peers.available() else None
    bench.closers.extend([lg.close, blob.close] + ([es.close] if es else []))
    sides = [
        lambda: timed(lambda: [mgr.set(k, v) for k, v in pairs]),
        lambda: timed(lambda: lg.put_each(pairs)),
        lambda: timed(lambda: blob.put_each(pairs)),
    ]
    if es is not None:
        sides.append(lambda: timed(lambda: es.append_each(pairs)))
    ctx_t, lg_t, blob_t, *es_t = bench.reps(sides, max(s.reps, 5))
    blob_ctx = dict(
        context_name="JSON-blob row per step (BEGIN IMMEDIATE+INSERT+COMMIT)",
        context=n / median(blob_t),
        context_reps=[n / t for t in blob_t],
    )
    for name, times, what in (("LangGraph", lg_t, "`SqliteSaver.put` per step"),) + (
        (("eventsourcing", es_t[0], "`app.save()` per step"),) if es_t else ()
    ):
        bench.rows.append(
            Row(
                f"peers, durable (one step per commit, FULL): ctxlog `set()` vs {name}",
                n / median(ctx_t),
                f"{name} {what}",
                n / median(times),
                "steps/s",
                "higher",
                ctxlog_reps=[n / t for t in ctx_t],
                baseline_reps=[n / t for t in times],
                note=f"{n} steps per rep over a state of {s.peer_channels} keys; all sides at synchronous=FULL",
                key=f"peer-durable-{name.lower()}",
                **blob_ctx,  # type: ignore[arg-type]
            )
        )


def _batch(bench: Bench) -> None:
    s = bench.sizes
    n = s.batch
    pairs = lgpeer.steps(n, s.peer_channels, bench.pool, seed=12)
    mgr = _ctx_manager(bench, "peer-batch.db", "FULL")
    blob = lgpeer.BlobPeer(bench.path("blob-batch.db"), "FULL")
    es = peers.Peer(bench.path("es-batch.db"), "FULL") if peers.available() else None
    bench.closers.extend([blob.close] + ([es.close] if es else []))

    def ctx() -> float:
        def run() -> None:
            with mgr.transaction():
                for k, v in pairs:
                    mgr.set(k, v)

        return timed(run)

    sides = [ctx, lambda: timed(lambda: blob.put_batch(pairs))]
    if es is not None:
        sides.append(lambda: timed(lambda: es.append_batch(pairs)))
    ctx_t, blob_t, *es_t = bench.reps(sides, max(s.reps, 5))
    extra = (
        dict(
            context_name="eventsourcing: the steps as events, one `app.save()`",
            context=n / median(es_t[0]),
            context_reps=[n / t for t in es_t[0]],
        )
        if es_t
        else {}
    )
    bench.rows.append(
        Row(
            f"peers, batch ({n:,} steps in one transaction, FULL): ctxlog vs a JSON-blob table",
            n / median(ctx_t),
            "JSON-blob rows, one executemany in one transaction",
            n / median(blob_t),
            "steps/s",
            "higher",
            ctxlog_reps=[n / t for t in ctx_t],
            baseline_reps=[n / t for t in blob_t],
            note="SqliteSaver has no batch: every `put` commits (see the durable row)",
            key="peer-batch",
            **extra,  # type: ignore[arg-type]
        )
    )


def _build_steps(bench: Bench, pairs: list) -> tuple[str, lgpeer.LangGraphPeer, lgpeer.BlobPeer]:
    """The S-step run on every side (built at synchronous=NORMAL: bytes do not depend on it)."""
    path = bench.path("peer-steps.db")
    raw.remove_db(path)
    with ContextManager(path, run="peer", synchronous="NORMAL") as mgr:
        mgr.initialize("root")
        for start in range(0, len(pairs), 1_000):
            with mgr.transaction():
                for k, v in pairs[start : start + 1_000]:
                    mgr.set(k, v)
    lg = lgpeer.LangGraphPeer(bench.path("lg-steps.db"), "NORMAL")
    lg.put_each(pairs)
    blob = lgpeer.BlobPeer(bench.path("blob-steps.db"), "NORMAL")
    for start in range(0, len(pairs), 1_000):
        blob.put_batch(pairs[start : start + 1_000])
    bench.closers.extend([lg.close, blob.close])
    return path, lg, blob


def _load_and_bytes(bench: Bench) -> None:
    s = bench.sizes
    pairs = lgpeer.steps(s.peer_steps, s.peer_channels, bench.pool, seed=13)
    path, lg, blob = _build_steps(bench, pairs)
    sample = [int((j + 0.5) * len(pairs) / s.peer_loads) for j in range(s.peer_loads)]

    def ctx_state(step: int) -> dict:
        return ctxlog.replay(path, run="peer", until=step + 2).contexts["root"].data  # offset 1: the root

    for step in sample:
        prints = {lgpeer.fingerprint(f(step)) for f in (ctx_state, lg.load, blob.load)}
        assert len(prints) == 1, f"the sides load different states at step {step}"
    ctx_t, lg_t, blob_t = bench.reps(
        [lambda f=f: timed(lambda: [f(step) for step in sample]) for f in (ctx_state, lg.load, blob.load)],
        max(s.reps, 5),
    )
    m = len(sample)
    bench.rows.append(
        Row(
            f"peers, point-in-time load of a step's state ({len(pairs):,}-step run): ctxlog vs LangGraph (goal)",
            m / median(ctx_t),
            "LangGraph `SqliteSaver.get_tuple` of the step's checkpoint id",
            m / median(lg_t),
            "loads/s",
            "higher",
            target=0.5,
            ctxlog_reps=[m / t for t in ctx_t],
            baseline_reps=[m / t for t in lg_t],
            context_name="JSON-blob SELECT by step + msgspec decode",
            context=m / median(blob_t),
            context_reps=[m / t for t in blob_t],
            note=f"{m} steps spread over the run per rep, each side loading the same state (checked); ctxlog: "
            "`replay(path, run=..., until=offset)` with the defaults (snapshot_interval 10,000), opening the file "
            "each time, as SqliteSaver's connection is already open",
            key="peer-load",
        )
    )
    bench.profiles["peer-load"] = lambda: [ctx_state(step) for step in sample]
    for p in (path, lg.path, blob.path):
        raw.checkpoint_wal(p)
    sizes = {name: raw.file_bytes(p) / len(pairs) for name, p in (("ctx", path), ("lg", lg.path), ("blob", blob.path))}
    bench.rows.append(
        Row(
            "peers, bytes per step on disk: ctxlog vs LangGraph (goal)",
            sizes["ctx"],
            "LangGraph SqliteSaver file",
            sizes["lg"],
            "B/step",
            "lower",
            target=0.25,
            context_name="JSON-blob table",
            context=sizes["blob"],
            note=f"after a WAL checkpoint, over a state of {s.peer_channels} keys of 150-250 B; ctxlog's file holds "
            "its snapshot cache too",
            key="peer-bytes",
        )
    )


def _es_replay(bench: Bench) -> None:
    events = bench.facts.get("replay events", bench.sizes.replay)
    replay = bench.facts.get("replay events/s")
    if not replay:
        return
    peer = peers.Peer(bench.path("es-replay.db"), "NORMAL")
    filler = wl.hot_sets(events - 1, bench.pool, seed=9)
    for start in range(0, len(filler), 10_000):
        peer.append_batch(filler[start : start + 10_000])
    counted: list[int] = []
    (replay_t,) = bench.reps([lambda: timed(lambda: counted.append(peer.replay()))], max(bench.sizes.reps, 5))
    assert counted[-1] == events, (counted[-1], events)
    peer.close()
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
            note="ctxlog's figure is the replay case's (the mix, every event folded and verified); eventsourcing "
            "folds one aggregate with as many events",
            key="peer-replay",
        )
    )


def peers_case(bench: Bench) -> None:
    if not lgpeer.available():
        bench.log("  langgraph-checkpoint-sqlite is not installed (pip install -e '.[bench]'): its rows skipped")
    else:
        _durable(bench)
        _batch(bench)
        _load_and_bytes(bench)
    if peers.available():
        _es_replay(bench)
    else:
        bench.log("  eventsourcing is not installed (pip install -e '.[bench]'): its rows skipped")

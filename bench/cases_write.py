"""The write cases: durable single set(), batched set(), and set()/get() of values of growing size.

Each is set against the same-work floor (raw sqlite3 writing ctxlog's rows with ctxlog's
statements) and, for context, the minimal raw table, in the same repetitions.
"""

from __future__ import annotations

import time

import floor
import msgspec
import probe
import workload as wl
from common import Hot, raw_log, set_payloads
from harness import Bench, timed
from report import Row, ScaleRow, median


def _templates(bench: Bench, synchronous: str) -> tuple[floor.Template, floor.Template, str]:
    single, batch, how = floor.templates(bench.ledger("prefix"), wl.RUN, bench.path("probe.db"), synchronous)
    bench.facts["floor statements per durable set()"] = probe.shown(single[0] + ["INSERT INTO events"] + single[1])
    return single, batch, how


def durable(bench: Bench) -> None:
    """Every set() its own transaction, against the floor issuing ctxlog's statements per row."""
    s = bench.sizes
    for level, n, label in (("FULL", s.durable_full, "FULL (the default)"), ("NORMAL", s.durable_normal, "NORMAL")):
        pairs = wl.hot_sets(n, bench.pool)
        payloads = set_payloads(bench, pairs)
        single, _, how = _templates(bench, level)
        hot = Hot(bench, "prefix", f"durable-{level}", level)
        log = raw_log(bench, f"raw-durable-{level}.db", level)

        def ctx(mgr=hot.mgr, pairs=pairs) -> float:  # type: ignore[no-untyped-def]
            t0 = time.perf_counter()
            for key, value in pairs:
                mgr.set(key, value)
            return time.perf_counter() - t0

        # fsync latency drifts with whatever else the machine does: many short repetitions,
        # alternating sides, so that all three see the same conditions.
        ctx_t, floor_t, raw_t = bench.reps(
            [
                ctx,
                lambda hot=hot, p=payloads, t=single: timed(lambda: hot.floor_each(p, t)),
                lambda log=log, p=payloads: timed(lambda: log.append_each(p)),
            ],
            max(s.reps, 11 if level == "FULL" else 5),
        )
        bench.rows.append(
            Row(
                f"durable `set()`, each its own transaction, synchronous={label}",
                n / median(ctx_t),
                f"floor: ctxlog's statements per row ({level})",
                n / median(floor_t),
                "ops/s",
                "higher",
                target=0.9,
                ctxlog_reps=[n / t for t in ctx_t],
                baseline_reps=[n / t for t in floor_t],
                context_name=f"minimal raw BEGIN IMMEDIATE+INSERT+COMMIT ({level})",
                context=n / median(raw_t),
                context_reps=[n / t for t in raw_t],
                note=f"{n:,} set() per rep on a run holding a {s.prefix:,}-event mix; floor statements {how}: "
                f"{probe.shown(single[0] + ['INSERT INTO events'] + single[1])}; the floor's file "
                f"{hot.floor_verifies()} with ctxlog verify",
                key=f"durable-{level.lower()}",
            )
        )
        bench.facts[f"durable {level}: ops per rep"] = n
        bench.profiles[f"durable-{level.lower()}"] = ctx


def batched(bench: Bench) -> None:
    """10k set() in one mgr.transaction(), against the floor's executemany in ctxlog's transaction."""
    n = bench.sizes.batch
    pairs = wl.hot_sets(n, bench.pool, seed=5)
    payloads = set_payloads(bench, pairs)
    _, batch, how = _templates(bench, "FULL")
    hot = Hot(bench, "prefix", "batched", "FULL")
    log = raw_log(bench, "raw-batched.db", "FULL")
    mgr = hot.mgr

    def ctx() -> float:
        t0 = time.perf_counter()
        with mgr.transaction():
            for key, value in pairs:
                mgr.set(key, value)
        return time.perf_counter() - t0

    ctx_t, floor_t, raw_t = bench.reps(
        [
            ctx,
            lambda: timed(lambda: hot.floor_batch(payloads, batch)),
            lambda: timed(lambda: log.append_batch(payloads)),
        ],
        max(bench.sizes.reps, 5),
    )
    bench.rows.append(
        Row(
            f"batched: {n:,} `set()` in one `mgr.transaction()` (FULL)",
            n / median(ctx_t),
            "floor: rows hashed and linked, one executemany, ctxlog's transaction",
            n / median(floor_t),
            "ops/s",
            "higher",
            target=0.8,
            ctxlog_reps=[n / t for t in ctx_t],
            baseline_reps=[n / t for t in floor_t],
            context_name="minimal raw executemany + SHA-256 chain",
            context=n / median(raw_t),
            context_reps=[n / t for t in raw_t],
            note=f"on a run holding a {bench.sizes.prefix:,}-event mix; floor statements {how}: "
            f"{probe.shown(batch[0] + ['INSERT INTO events'] + batch[1])}; both hash inside the timing; the "
            f"floor's file {hot.floor_verifies()} with ctxlog verify",
            key="batched",
        )
    )
    bench.facts["batched ops/s"] = n / median(ctx_t)
    bench.profiles["batched"] = ctx


def _ops_per_rep(size: int) -> int:
    return max(4, min(200, 2_000_000 // size))


def values_case(bench: Bench) -> None:
    """Durable set() of structured values of growing size against the floor inserting the same
    payload; get() of each, against msgspec decoding the payload (what any fresh copy costs)."""
    s = bench.sizes
    single, _, how = _templates(bench, "FULL")
    gets: list[list[float]] = []
    decodes: list[float] = []
    sizes: list[str] = []
    for size in s.values:
        n = _ops_per_rep(size)
        variants = [wl.structured_value(size, seed) for seed in range(4)]
        pairs = [(f"doc-{i % 4}", variants[i % 4]) for i in range(n)]
        payloads = set_payloads(bench, pairs)
        encoded = len(msgspec.json.encode(variants[0]))
        hot = Hot(bench, "prefix", f"values-{size}", "FULL")
        mgr = hot.mgr

        def ctx(mgr=mgr, pairs=pairs) -> float:  # type: ignore[no-untyped-def]
            return timed(lambda: [mgr.set(k, v) for k, v in pairs])

        ctx_t, floor_t = bench.reps(
            [ctx, lambda hot=hot, p=payloads: timed(lambda: hot.floor_each(p, single))], max(s.reps, 5)
        )
        label = _size_label(size)
        bench.rows.append(
            Row(
                f"value size {label}: durable `set()` of a structured value (FULL)",
                n / median(ctx_t),
                "floor: the same payload, ctxlog's statements per row",
                n / median(floor_t),
                "ops/s",
                "higher",
                target=0.7 if size == max(s.values) and size >= 1_000_000 else None,
                ctxlog_reps=[n / t for t in ctx_t],
                baseline_reps=[n / t for t in floor_t],
                note=f"{n} set() per rep, values of {encoded:,} B encoded (nested maps and lists, 4 variants); "
                f"floor statements {how}",
                key=f"value-{label}",
            )
        )
        bench.profiles[f"value-{label}"] = ctx
        gets.append(bench.per_op(lambda mgr=mgr: mgr.get("doc-0")))
        payload = payloads[0]
        decodes.append(median(bench.per_op(lambda p=payload: msgspec.json.decode(p))))
        sizes.append(label)
    bench.scaling.append(
        ScaleRow(
            "value size: `mgr.get(key)` of a structured value",
            sizes,
            [median(g) for g in gets],
            [(min(g), max(g)) for g in gets],
            [f"{median(g) / d:.1f}× a msgspec decode of its payload" for g, d in zip(gets, decodes, strict=True)],
            target=None,
            note="cost grows with the value by nature (get returns a copy): no flatness target; the figure "
            "beside each is get's cost over decoding the stored payload text",
            key="value-get",
        )
    )


def _size_label(size: int) -> str:
    for unit, scale in (("MB", 1_000_000), ("KB", 1_000)):
        if size >= scale:
            return f"{size // scale} {unit}"
    return f"{size} B"

"""The PostgreSQL rows: append throughput with 1, 4 and 8 writer processes, and verified replay.

Every ctxlog append takes the ledger's advisory write lock (one gapless chain) and PostgreSQL
holds it through the commit's WAL flush, so more durable writers do not add throughput. Two more rows
at 8 writers show the ways past that: ``synchronous="NORMAL"`` (synchronous_commit off, the lock goes
before the flush) and 50 ``set()`` calls per ``mgr.transaction()`` (one flush per 50 events), both set
against the same 8-process raw figure, timed in the same repetitions.

Each figure is set against raw psycopg on the same server in the same run: autocommit single-row
INSERTs of the same payload text plus a SHA-256 hex hash into a plain table for the appends, a
server-side cursor read with msgspec decode and SHA-256 verify for the replay (what
:func:`raw.replay_raw` does on SQLite). The server is a throwaway cluster with PostgreSQL's
default durability (fsync on, synchronous_commit on), started once for the case.

Writers are real processes (``pg_worker.py``), started and set up before any timing, so the rows
measure contention between hosts' worth of connections rather than threads sharing a GIL. Each
process holds one connection per side (its own ledger, or the raw table) and the sides take turns,
so only one side writes at a time. Without psycopg or PostgreSQL server binaries the case prints
one ``info`` row saying why it was skipped.
"""

from __future__ import annotations

import hashlib
import json
import os
import subprocess
import sys
import time
from typing import Any

import harness
import pg_worker
import raw
import workload as wl
from harness import Bench
from report import Row, median

import ctxlog
from ctxlog import ContextManager

WRITERS = (1, 4, 8)
VARIANTS = {
    "ctxlog-normal": (
        '`ContextManager(url, run=..., synchronous="NORMAL")`, each `set()` its own transaction',
        "synchronous_commit = off for the session: a commit returns, and the write lock goes, once the "
        "commit is visible, before its WAL is flushed (a server crash can lose the last commits, never break "
        "the chain or reorder it)",
    ),
    "ctxlog-batch50": (
        f"{pg_worker.BATCH} `set()` per `mgr.transaction()` (FULL)",
        f"synchronous=FULL (the default), {pg_worker.BATCH} `set()` calls per `with mgr.transaction():`, "
        "so one lock, one commit and one WAL flush per block",
    ),
}
"""The ways past the write lock, measured at the most writers: pg_worker side -> (row, note)."""
APPENDS = {"full": 2_400, "quick": 240}
"""Events per round at every concurrency level, split evenly among the writers."""
PAGE = 2_000  # rows per FETCH of the raw replay, as ctxlog's PostgreSQL backend pages its reads
WORKER = os.path.join(os.path.dirname(os.path.abspath(__file__)), "pg_worker.py")
GENESIS = "0" * 64


def unavailable() -> str | None:
    """Why the PostgreSQL rows cannot run here, or None when they can."""
    try:
        import psycopg  # noqa: F401
    except ImportError:
        return "psycopg is not installed (pip install -e '.[postgres]')"
    from ctxlog.testing import find_bindir

    if find_bindir() is None:
        return "no PostgreSQL server binaries (initdb/pg_ctl) on PATH, under /usr/lib/postgresql or in $PG_BINDIR"
    return None


def skipped_row(reason: str) -> Row:
    nan = float("nan")
    return Row(f"PostgreSQL: skipped ({reason})", nan, "no server", nan, "events/s", "higher", key="postgres-skipped")


class Writers:
    """``n`` worker processes, each holding one writer per side (``urls``: side -> ledger or raw URL).

    :meth:`round` times one round of one side; ``setup[side][i]`` is what writer ``i``'s run held
    after set-up and ``written[side][i]`` what it was told to write since (warm-up included).
    """

    def __init__(self, urls: dict[str, str], n: int, count: int, payloads: str, logdir: str) -> None:
        self.urls = urls
        self.procs: list[subprocess.Popen[str]] = []
        self.errs: list[str] = []
        self.written = {side: [0] * n for side in urls}
        try:
            for i in range(n):
                err = os.path.join(logdir, f"pg-writer-{i}.stderr")
                with open(err, "w", encoding="utf-8") as f:
                    self.procs.append(
                        subprocess.Popen(
                            [
                                sys.executable,
                                WORKER,
                                f"w{i}",
                                str(count),
                                payloads,
                                *(f"{side}={url}" for side, url in urls.items()),
                            ],
                            stdin=subprocess.PIPE,
                            stdout=subprocess.PIPE,
                            stderr=f,
                            text=True,
                            bufsize=1,
                        )
                    )
                self.errs.append(err)
            said = [dict(word.split("=") for word in self._expect(i, "ready").split()[1:]) for i in range(n)]
            self.setup = {side: [int(s[side]) for s in said] for side in urls}
        except BaseException:
            self.close()
            raise

    def _expect(self, i: int, word: str) -> str:
        line = self.procs[i].stdout.readline() if self.procs[i].stdout else ""
        if not line.startswith(word):
            self.procs[i].wait(timeout=30)
            with open(self.errs[i], encoding="utf-8") as f:
                tail = f.read()[-2000:]
            raise RuntimeError(f"writer {i} said {line!r} instead of {word!r}: {tail}")
        return line

    def round(self, side: str, n: int, count: int) -> float:
        """Seconds from telling the first ``n`` writers to go to the last one's ``done``."""
        for i in range(n):
            self.written[side][i] += count
        t0 = time.perf_counter()
        for p in self.procs[:n]:
            assert p.stdin is not None
            p.stdin.write(f"go {side} {count}\n")
            p.stdin.flush()
        for i in range(n):
            self._expect(i, "done")
        return time.perf_counter() - t0

    def close(self) -> None:
        for p in self.procs:
            try:
                if p.stdin:
                    p.stdin.close()
                p.wait(timeout=30)
            except (OSError, subprocess.TimeoutExpired):
                p.kill()
                p.wait()
        self.procs = []


def _connect(url: str, **kw: Any) -> Any:
    import psycopg

    return psycopg.connect(url, **kw)


def raw_schema(cluster: Any, name: str) -> str:
    """A URL whose search_path is a new schema ``name`` holding an empty raw table."""
    with _connect(cluster.url(), autocommit=True) as conn:
        conn.execute(f"CREATE SCHEMA {name}")
    url = cluster.url(schema=name)
    with _connect(url, autocommit=True) as conn:
        conn.execute(pg_worker.RAW_TABLE)
    return url


def set_payloads(cluster: Any, pairs: list[tuple[str, Any]]) -> list[str]:
    """The payload texts ctxlog stores for these set() calls, read back from a scratch ledger."""
    url = cluster.new_schema()
    with ContextManager(url, run="payloads") as mgr:
        mgr.enter_step("hot")
        with mgr.transaction():
            for key, value in pairs:
                mgr.set(key, value)
    with _connect(url) as conn:
        rows = conn.execute("""SELECT payload FROM events WHERE kind = 'set' ORDER BY "offset" """).fetchall()
    return [r[0] for r in rows]


def append_case(bench: Bench, cluster: Any, mode: str) -> None:
    """1, 4 and 8 writer processes: durable set() each, against autocommit INSERT each; at 8, also
    synchronous="NORMAL" and transactions of 50 set() calls, against the same raw figure."""
    total = APPENDS[mode]
    reps = max(bench.sizes.reps, 5) if mode == "full" else bench.sizes.reps
    pairs = wl.hot_sets(total, bench.pool)
    payload_file = bench.path("pg-payloads.json")
    payloads = set_payloads(cluster, pairs)
    assert len(payloads) == total, (len(payloads), total)
    with open(payload_file, "w", encoding="utf-8") as f:
        json.dump(payloads, f)
    urls = {"raw": raw_schema(cluster, "raw_append")}
    for side in ("ctxlog", *VARIANTS):
        urls[side] = cluster.new_schema()
        ContextManager(urls[side], run="setup").close()  # create the ledger before the writers race to
    most = max(WRITERS)
    started = time.perf_counter()
    writers = Writers(urls, most, total, payload_file, bench.workdir)
    bench.closers.insert(0, writers.close)  # before the server stops
    bench.log(
        f"  {most} writer processes ({len(urls)} connections each) ready in {time.perf_counter() - started:.1f} s"
    )
    for n in WRITERS:
        count = total // n
        # At the most writers, the ways past the lock are timed in the same repetitions as raw.
        sides = ["ctxlog", "raw", *(VARIANTS if n == most else ())]
        ctx_t, raw_t, *variant_t = bench.reps(
            [lambda side=side, n=n, count=count: writers.round(side, n, count) for side in sides], reps
        )
        events = n * count
        procs = f"{n} process{'es' if n > 1 else ''}"
        baseline = f"raw psycopg autocommit INSERT per row, {procs}"
        common = (
            f"{events:,} events per rep in all ({count:,} per writer, each writer its own run), timed from "
            "one start barrier to the last writer's finish"
        )
        bench.rows.append(
            Row(
                f"PostgreSQL append: {n} writer {'processes' if n > 1 else 'process'}, "
                "each `set()` its own transaction",
                events / median(ctx_t),
                baseline,
                events / median(raw_t),
                "events/s",
                "higher",
                ctxlog_reps=[events / t for t in ctx_t],
                baseline_reps=[events / t for t in raw_t],
                note=common + "; raw rows: same payload text + SHA-256 hex hash chained per writer, bigint identity "
                "key, no lock beyond the INSERT",
                key=f"pg-append-{n}",
            )
        )
        if n == most:
            bench.rows[-1].note += "; " + check_ledger(bench, writers, "ctxlog")
        for variant, times in zip(sides[2:], variant_t, strict=True):
            case, how = VARIANTS[variant]
            bench.rows.append(
                Row(
                    f"PostgreSQL append: {n} writer processes, {case}",
                    events / median(times),
                    baseline,
                    events / median(raw_t),
                    "events/s",
                    "higher",
                    ctxlog_reps=[events / t for t in times],
                    baseline_reps=[events / t for t in raw_t],
                    note=f"{common}; {how}; baseline: the raw figure of the row with {n} processes each `set()` its "
                    f"own transaction (same repetitions, sides alternating); " + check_ledger(bench, writers, variant),
                    key=f"pg-append-{n}-{variant.removeprefix('ctxlog-')}",
                )
            )
    bench.profiles["pg-append"] = lambda: _profile_appends(cluster.new_schema(), pairs)


def check_ledger(bench: Bench, writers: Writers, side: str) -> str:
    """The side's ledger verifies and every run holds exactly what its writer wrote (else raise)."""
    url, setup, written = writers.urls[side], writers.setup[side], writers.written[side]
    result = ctxlog.audit.verify(url)
    held = {info.run: info.events for info in ctxlog.audit.runs(url)}
    expected = {f"w{i}": setup[i] + written[i] for i in range(len(setup))}
    got = {run: held.get(run, 0) for run in expected}
    fact = f"verify ok={result.ok}, {result.events:,} events; per run held {got}, expected {expected}"
    bench.facts[f"postgres append ledger ({side})"] = fact
    bench.log(f"  append ledger ({side}): {fact}")
    if not result.ok:
        raise AssertionError(f"the {side} writers' PostgreSQL ledger does not verify: {result.summary()}")
    if got != expected or result.events != sum(held.values()):
        raise AssertionError(f"the {side} writers' PostgreSQL ledger lost or gained events: {fact}")
    return (
        f"after all rounds the writers' ledger verifies ({result.events:,} events) and each of the "
        f"{len(expected)} runs holds exactly the events its writer wrote"
    )


def _profile_appends(url: str, pairs: list[tuple[str, Any]]) -> None:
    """One writer's durable set() loop, in this process (what cProfile can see)."""
    with ContextManager(url, run="profile") as mgr:
        mgr.enter_step("hot")
        for key, value in pairs:
            mgr.set(key, value)


def build_raw_replay(cluster: Any, ledger_url: str) -> str:
    """A raw table holding the ledger's payloads in offset order with their SHA-256 chain."""
    url = raw_schema(cluster, "raw_replay")
    sha, fromhex = hashlib.sha256, bytes.fromhex
    head = GENESIS
    with _connect(ledger_url) as src, _connect(url) as dst:
        with src.cursor(name="payloads") as cur, dst.cursor() as out:
            cur.execute('SELECT payload FROM events ORDER BY "offset"')
            with out.copy("COPY raw (payload, hash) FROM STDIN") as copy:
                for (payload,) in cur:
                    head = sha(fromhex(head) + payload.encode()).hexdigest()
                    copy.write_row((payload, head))
        dst.execute("ANALYZE raw")
    return url


def replay_raw(url: str) -> int:
    """Stream every row through a server-side cursor, decode its payload, verify the chain."""
    with _connect(url) as conn, conn.cursor(name="replay") as cur:
        cur.execute("SELECT id, payload, hash FROM raw ORDER BY id")
        return raw.check_raw_rows(iter(lambda: cur.fetchmany(PAGE), []))


def replay_case(bench: Bench, cluster: Any, mode: str) -> None:
    """Verified replay of the mix run, against a raw streamed read + decode + verify."""
    url = cluster.new_schema()
    t0 = time.perf_counter()
    ops = wl.mix_ops(bench.sizes.replay, bench.pool, checkpoint_every=bench.sizes.checkpoint_every)
    wl.generate(url, ops, synchronous="NORMAL")
    with _connect(url, autocommit=True) as conn:
        conn.execute("DELETE FROM snapshots")  # a derivable cache: without it every event is folded
        conn.execute("ANALYZE")
    events = wl.count_events(ops)
    raw_url = build_raw_replay(cluster, url)
    bench.log(
        f"  generated the PostgreSQL mix ledger and raw table: {events:,} events in {time.perf_counter() - t0:.1f} s"
    )
    reference = ctxlog.replay(url, run=wl.RUN)
    tree = None

    def ctx() -> float:
        nonlocal tree
        t0 = time.perf_counter()
        tree = ctxlog.replay(url, run=wl.RUN, verify=True)
        return time.perf_counter() - t0

    def baseline() -> float:
        t0 = time.perf_counter()
        assert replay_raw(raw_url) == events
        return time.perf_counter() - t0

    ctx_t, raw_t = bench.reps([ctx, baseline], max(bench.sizes.reps, 5) if mode == "full" else None)
    assert tree == reference and tree is not None and tree.offset == events, "verified replay differs"
    sqlite = bench.facts.get("replay events/s")
    bench.rows.append(
        Row(
            f"PostgreSQL replay: fold a {events:,}-event run into a tree, chain verified",
            events / median(ctx_t),
            "raw psycopg server-side cursor read + msgspec decode + SHA-256 verify",
            events / median(raw_t),
            "events/s",
            "higher",
            ctxlog_reps=[events / t for t in ctx_t],
            baseline_reps=[events / t for t in raw_t],
            note=f"`replay(url, run=..., verify=True)` of the mix run with its snapshot cache emptied, so every "
            f"event is folded and verified; raw reads {PAGE:,} rows per FETCH; connecting counted on both sides"
            + (f"; the same fold on SQLite in this run: {sqlite:,.0f} events/s" if sqlite else ""),
            key="pg-replay",
        )
    )
    bench.facts["postgres replay events"] = events
    bench.profiles["pg-replay"] = lambda: ctxlog.replay(url, run=wl.RUN, verify=True)


def postgres_case(bench: Bench) -> None:
    """Start a durable throwaway server, measure the appends and the replay, stop it at the end."""
    reason = unavailable()
    if reason is None:
        from ctxlog.testing import ClusterUnavailable, PostgresCluster

        try:
            cluster = PostgresCluster(durable=True).start()
        except ClusterUnavailable as exc:
            reason = str(exc)
    if reason is not None:
        bench.log(f"  PostgreSQL rows skipped: {reason}")
        bench.rows.append(skipped_row(reason))
        return
    bench.closers.append(cluster.stop)  # after the writers' closers, which go first
    with _connect(cluster.url()) as conn:
        version = conn.execute("SHOW server_version").fetchone()[0]
        fsync = conn.execute("SHOW fsync").fetchone()[0]
        commit = conn.execute("SHOW synchronous_commit").fetchone()[0]
    bench.facts["postgres server"] = f"{version}, fsync={fsync}, synchronous_commit={commit}, 127.0.0.1 TCP"
    mode = "full" if bench.sizes.replay >= harness.FULL.replay else "quick"
    append_case(bench, cluster, mode)
    replay_case(bench, cluster, mode)

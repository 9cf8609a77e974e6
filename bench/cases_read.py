"""The read cases: verified replay, verify, ``ctxlog log --json``, replay --until, and memory.

The same-work floor reads the rows with the very statement ctxlog issued (``probe.py``) and does
the checking ctxlog's reader must do, with raw sqlite3, ``canonical`` and ``hashlib``; the minimal
raw table is shown for context.
"""

from __future__ import annotations

import hashlib
import os
import subprocess
import sys
import time

import floor
import memory
import raw
from harness import Bench, timed
from report import Row, median

import ctxlog

HERE = os.path.dirname(os.path.abspath(__file__))


def _raw_mix(bench: Bench) -> str:
    """The minimal raw table holding the mix's payloads and their chain (built once)."""
    path = bench.scratch.get("raw-mix")
    if path is None:
        path = bench.path("raw-mix.db")
        raw.build_raw_table(path, raw.ledger_payloads(bench.ledger("mix")))
        bench.scratch["raw-mix"] = path
    return path


def replay_case(bench: Bench) -> None:
    """Fold the mix run, chain verified, against the floor's read + canonical + SHA-256 + decode."""
    nosnap, run = bench.ledger("mix-nosnap"), bench.run_of("mix")
    raw_path = _raw_mix(bench)
    events = len(raw.ledger_payloads(nosnap))
    reference = ctxlog.replay(nosnap, run=run)
    scan = floor.scan_of(lambda: ctxlog.replay(nosnap, run=run, verify=True), run=run)
    tree = None

    def ctx() -> float:
        nonlocal tree
        t0 = time.perf_counter()
        tree = ctxlog.replay(nosnap, run=run, verify=True)
        return time.perf_counter() - t0

    counted: list[int] = []
    ctx_t, floor_t, raw_t = bench.reps(
        [
            ctx,
            lambda: timed(lambda: counted.append(floor.read_verify(nosnap, scan, decode=True))),
            lambda: timed(lambda: raw.replay_raw(raw_path)),
        ],
        max(bench.sizes.reps, 5),
    )
    assert tree == reference and tree.offset == events, "verified replay differs from the plain one"
    assert counted[-1] == events, (counted[-1], events)
    common = dict(
        context_name="minimal raw read + decode + SHA-256 of the payload",
        context=events / median(raw_t),
        context_reps=[events / t for t in raw_t],
    )
    bench.rows.append(
        Row(
            f"replay: fold a {events:,}-event run into a tree, chain verified",
            events / median(ctx_t),
            "floor: ctxlog's row scan + canonical row + SHA-256 link + msgspec decode",
            events / median(floor_t),
            "events/s",
            "higher",
            target=0.95,
            ctxlog_reps=[events / t for t in ctx_t],
            baseline_reps=[events / t for t in floor_t],
            note=f"`replay(path, run=..., verify=True)` on the ledger with its snapshot cache emptied, so every "
            f"event is folded and verified (with them it is the same: a verified replay of an unkeyed ledger "
            f"trusts no snapshot, anyone can write one); the tree: {len(reference.contexts):,} contexts, "
            f"{len(reference.to_bytes()) / 1e6:.1f} MB as JSON; floor statement: {scan[:110]}…",
            key="replay",
            **common,  # type: ignore[arg-type]
        )
    )
    bench.facts["replay events/s"] = events / median(ctx_t)
    bench.facts["replay events"] = events
    bench.profiles["replay"] = lambda: ctxlog.replay(nosnap, run=run, verify=True)


def verify_case(bench: Bench) -> None:
    """ctxlog.audit.verify of the whole mix ledger against the floor's read + canonical-row hash check."""
    full, raw_path = bench.ledger("mix"), _raw_mix(bench)
    scan = floor.scan_of(lambda: ctxlog.audit.verify(full), whole=True)
    events = len(raw.ledger_payloads(full))
    results: list[ctxlog.audit.VerifyResult] = []
    ctx_t, floor_t, raw_t = bench.reps(
        [
            lambda: timed(lambda: results.append(ctxlog.audit.verify(full))),
            lambda: timed(lambda: floor.read_verify(full, scan, decode=False)),
            lambda: timed(lambda: raw.replay_raw(raw_path, decode=False)),
        ],
        max(bench.sizes.reps, 5),
    )
    assert results[-1].ok and results[-1].events == events, results[-1].summary()
    bench.rows.append(
        Row(
            f"verify: `ctxlog.audit.verify` of the whole {events:,}-event ledger",
            events / median(ctx_t),
            "floor: ctxlog's row scan + canonical row + SHA-256 link check",
            events / median(floor_t),
            "events/s",
            "higher",
            target=0.9,
            ctxlog_reps=[events / t for t in ctx_t],
            baseline_reps=[events / t for t in floor_t],
            context_name="minimal raw read + SHA-256 of the payload",
            context=events / median(raw_t),
            context_reps=[events / t for t in raw_t],
            note="the ledger as written (snapshots included); verify also folds every run, checks each payload is "
            f"canonical, the snapshots, the checkpoint index and SQLite's integrity; floor statement: {scan[:90]}…",
            key="verify",
        )
    )
    bench.profiles["verify"] = lambda: ctxlog.audit.verify(full)


def _ctxlog_command() -> list[str]:
    script = os.path.join(os.path.dirname(sys.executable), "ctxlog")
    return [script] if os.path.exists(script) else [sys.executable, "-m", "ctxlog.cli"]


def _run_to_file(cmd: list[str], out: str) -> float:
    with open(out, "wb") as f:
        t0 = time.perf_counter()
        subprocess.run(cmd, stdout=f, stderr=subprocess.PIPE, check=True)
        return time.perf_counter() - t0


def _digest(path: str) -> tuple[int, str]:
    h = hashlib.sha256()
    with open(path, "rb") as f:
        for block in iter(lambda: f.read(1 << 20), b""):
            h.update(block)
    return os.path.getsize(path), h.hexdigest()


def log_case(bench: Bench) -> None:
    """``ctxlog log --json`` of the mix run into a file, against the floor printing the same JSON lines."""
    full, run, raw_path = bench.ledger("mix"), bench.run_of("mix"), _raw_mix(bench)
    scan = floor.scan_of(lambda: list(ctxlog.audit.log(full, run=run)), run=run)
    events = len(raw.ledger_payloads(full))
    outs = {side: bench.path(f"log-{side}.jsonl") for side in ("ctxlog", "floor", "raw")}
    cmds = {
        "ctxlog": _ctxlog_command() + ["log", full, "--run", run, "--json"],
        "floor": [sys.executable, os.path.join(HERE, "floor_print.py"), full, scan],
        "raw": [sys.executable, os.path.join(HERE, "floor_print.py"), "--raw", raw_path],
    }
    ctx_t, floor_t, raw_t = bench.reps(
        [lambda side=side: _run_to_file(cmds[side], outs[side]) for side in ("ctxlog", "floor", "raw")],
        max(bench.sizes.reps, 5),
    )
    (ctx_size, ctx_hash), (floor_size, floor_hash) = _digest(outs["ctxlog"]), _digest(outs["floor"])
    same = "byte for byte the same output" if ctx_hash == floor_hash else "OUTPUTS DIFFER"
    bench.rows.append(
        Row(
            f"`ctxlog log --json` of a {events:,}-event run into a file",
            events / median(ctx_t),
            "floor: a python process reading ctxlog's row scan, printing the same JSON lines",
            events / median(floor_t),
            "lines/s",
            "higher",
            target=0.7,
            ctxlog_reps=[events / t for t in ctx_t],
            baseline_reps=[events / t for t in floor_t],
            context_name="minimal raw table printed as {offset, payload, hash} lines",
            context=events / median(raw_t),
            context_reps=[events / t for t in raw_t],
            note=f"both whole processes, start-up included, stdout to a file; {same} ({ctx_size / 1e6:.1f} MB vs "
            f"{floor_size / 1e6:.1f} MB)",
            key="log-json",
        )
    )
    for path in outs.values():
        os.remove(path)
    bench.profiles["log-json"] = lambda: _log_in_process(full, run, bench.path("log-profile.jsonl"))


def _log_in_process(path: str, run: str, out: str) -> None:
    """``ctxlog log --json`` run in this process (for the profiler), its output to a file."""
    import contextlib

    from ctxlog.cli import main

    with open(out, "w", encoding="utf-8") as f, contextlib.redirect_stdout(f):
        try:
            main(["log", path, "--run", run, "--json"], standalone_mode=False)
        except SystemExit:
            pass


def until_case(bench: Bench) -> None:
    """replay --until the checkpoint in the middle of the big run, against a full replay of it."""
    name = f"steady-{bench.sizes.lengths[-1]}"
    full, nosnap, run = bench.ledger(name), bench.ledger(f"{name}-nosnap"), bench.run_of(name)
    events = bench.sizes.lengths[-1]
    mid_tree = ctxlog.replay(full, run=run, until="mid")
    assert mid_tree == ctxlog.replay(nosnap, run=run, until="mid"), "snapshot-based replay differs from the fold"
    until_t, full_t, head_t = bench.reps(
        [
            lambda: timed(lambda: ctxlog.replay(full, run=run, until="mid")),
            lambda: timed(lambda: ctxlog.replay(nosnap, run=run)),
            lambda: timed(lambda: ctxlog.replay(full, run=run)),
        ]
    )
    for label, key, times, target, note in (
        (f'`replay(until="mid")`: checkpoint in the middle of a {events:,}-event run', "until", until_t, 0.1, ""),
        ("`replay()` of the head, snapshot cache as written", "head", head_t, None, "starts from the newest snapshot"),
    ):
        bench.rows.append(
            Row(
                label,
                median(times),
                "full replay of the same run (every event folded)",
                median(full_t),
                "s",
                "lower",
                target=target,
                ctxlog_reps=times,
                baseline_reps=full_t,
                note=note
                or "the full replay reads a copy of the ledger whose snapshot cache is empty; checkpoints every "
                f"{bench.sizes.steady_checkpoint_every:,} events, `mid` at offset {mid_tree.offset:,}; no verify",
                key=key,
            )
        )
    bench.profiles["until"] = lambda: ctxlog.replay(full, run=run, until="mid")
    bench.profiles["full-replay"] = lambda: ctxlog.replay(nosnap, run=run)


def memory_case(bench: Bench) -> None:
    """Peak RSS of replaying the two longest steady runs (same final tree), each in a fresh process."""
    small_n, big_n = bench.sizes.lengths[-2], bench.sizes.lengths[-1]
    small, big = bench.ledger(f"steady-{small_n}-nosnap"), bench.ledger(f"steady-{big_n}-nosnap")
    run = bench.run_of(f"steady-{big_n}")
    s, b = memory.measure(small, run, verify=True), memory.measure(big, run, verify=True)
    same = (s["contexts"], s["keys"]) == (b["contexts"], b["keys"])
    bench.rows.append(
        Row(
            f"peak RSS replaying {big_n:,} events (verify=True)",
            b["maxrss_kib"],
            f"the same for {small_n:,} events",
            s["maxrss_kib"],
            "KiB",
            "lower",
            target=1.2,
            note=f"VmHWM of a fresh process each (ru_maxrss {b['ru_maxrss_kib'] / 1024:.1f} vs "
            f"{s['ru_maxrss_kib'] / 1024:.1f} MiB carries the parent's peak across exec), snapshot cache "
            f"emptied so every event is folded; final trees {'the same size' if same else 'DIFFER'}: "
            f"{b['contexts']} vs {s['contexts']} contexts, {b['keys']} vs {s['keys']} keys; RSS after imports "
            f"{b['maxrss_after_import_kib'] / 1024:.1f} vs {s['maxrss_after_import_kib'] / 1024:.1f} MiB; "
            f"replay took {b['seconds']:.2f} vs {s['seconds']:.2f} s",
            key="memory",
        )
    )
    bench.facts["memory"] = {"small": s, "big": b}

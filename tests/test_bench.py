"""The benchmark never rots: ``bench/bench.py --quick`` runs to the end and prints its table.

No timing is asserted: the figures of a smoke run on a busy machine mean nothing.
"""

from __future__ import annotations

import importlib.util
import json
import subprocess
import sys
from pathlib import Path

import pytest

from ctxlog.testing import find_bindir

ROOT = Path(__file__).resolve().parent.parent
ROWS = [
    "| durable `set()`, each its own transaction, synchronous=FULL",
    "| durable `set()`, each its own transaction, synchronous=NORMAL",
    "| batched: ",
    "| replay: fold a ",
    "| verify: `ctxlog.audit.verify` of the whole ",
    "| `ctxlog log --json` of a ",
    '| `replay(until="mid")`',
    "| bytes on disk per event (whole ledger file), run named by ctxlog",
    "| bytes per event, the log only",
    "| peak RSS replaying ",
    "| value size 100 B: durable `set()`",
]
SCALING_ROWS = [
    "| value size: `mgr.get(key)`",
    "| tree size (contexts): `mgr.checkpoint(name)`",
    "| tree size (contexts): `mgr.get(key)`, a key of the current context",
    "| tree size (contexts): `mgr.current_id`",
    "| tree size (contexts): a failed `with mgr.transaction():`",
    "| tree size (contexts): reopening the run",
    "| log length (events in one run): `replay(path, run=..., until=OFFSET)`, early",
    "| log length (events in one run): `replay(path, run=..., until=CHECKPOINT)`, late",
    "| runs per file: `replay(path, run=one_small_run)`",
    "| runs per file: `replay(path, run=one_small_run, verify=True)`",
    "| fan-in (keys merged into one parent): per task live",
    "| fan-in (keys merged into one parent): per task replayed",
    "| parallel branch writes: `mgr.parallel({...})`",
]
PG_ROWS = [
    "| PostgreSQL append: 1 writer process, each `set()` its own transaction",
    "| PostgreSQL append: 4 writer processes, each `set()` its own transaction",
    "| PostgreSQL append: 8 writer processes, each `set()` its own transaction",
    '| PostgreSQL append: 8 writer processes, `ContextManager(url, run=..., synchronous="NORMAL")`',
    "| PostgreSQL append: 8 writer processes, 50 `set()` per `mgr.transaction()` (FULL)",
    "| PostgreSQL replay: fold a ",
]
PG_SKIPPED = "| PostgreSQL: skipped ("
LANGGRAPH_ROWS = [
    "| peers, durable (one step per commit, FULL): ctxlog `set()` vs LangGraph",
    "| peers, batch (",
    "| peers, point-in-time load of a step's state (",
    "| peers, bytes per step on disk: ctxlog vs LangGraph (goal)",
]
EVENTSOURCING_ROWS = ["| peers: ctxlog verified replay vs eventsourcing aggregate replay"]


@pytest.mark.slow
def test_quick_benchmark_runs_and_prints_the_table(tmp_path: Path) -> None:
    out_json = tmp_path / "bench.json"
    workdir = tmp_path / "work"
    proc = subprocess.run(
        [
            sys.executable,
            str(ROOT / "bench" / "bench.py"),
            "--quick",
            "--json",
            str(out_json),
            "--workdir",
            str(workdir),
        ],
        capture_output=True,
        text=True,
        timeout=240,
        cwd=ROOT,
        check=False,
    )
    assert proc.returncode == 0, proc.stdout[-3000:] + proc.stderr[-3000:]
    out = proc.stdout
    assert "| case | ctxlog | baseline (same run) | ratio ctxlog/baseline (min–max) | target | result |" in out
    assert "| scaling | cost per operation at each size" in out
    expected = ROWS + SCALING_ROWS
    expected += LANGGRAPH_ROWS if importlib.util.find_spec("langgraph.checkpoint.sqlite") else []
    expected += EVENTSOURCING_ROWS if importlib.util.find_spec("eventsourcing") else []
    # With psycopg and server binaries the PostgreSQL rows must be there; without, one row says why.
    expected += PG_ROWS if importlib.util.find_spec("psycopg") and find_bindir() else [PG_SKIPPED]
    for row in expected:
        assert row in out, f"missing row {row!r} in:\n{out}"
    assert "cpu:" in out and "sqlite:" in out and "ctxlog:" in out
    results = json.loads(out_json.read_text())
    assert not results["failed"]
    statuses = {"PASS", "MISS", "info", "PASS (stretch too)", "PASS (stretch missed)"}
    assert {r["status"] for r in results["rows"] + results["scaling"]} <= statuses
    # The rows judged against the same-work floor also carry the minimal raw baseline, for context.
    two_baselines = {"durable-full", "durable-normal", "batched", "replay", "verify", "log-json", "bytes", "bytes-log"}
    rows = {r["key"]: r for r in results["rows"]}
    assert two_baselines <= set(rows)
    for key in two_baselines:
        assert rows[key]["baseline_name"].startswith("floor") and rows[key]["context_name"], rows[key]
    # The floor writes real ledger rows: its files verify, and it prints what `ctxlog log --json` prints.
    assert "the floor's file verifies with ctxlog verify" in out
    assert "byte for byte the same output" in out
    # Every scaling row measured each of its sizes.
    assert all(len(r["costs"]) == len(r["sizes"]) >= 2 for r in results["scaling"])
    # The ledgers are deleted at the end; only the empty --workdir stays.
    assert not any(workdir.iterdir())

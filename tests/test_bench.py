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
    '| `replay(until="mid")`',
    "| bytes on disk per event",
    "| peak RSS replaying ",
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
PEER_ROWS = [
    "| peers: ctxlog batched vs eventsourcing one-save append |",
    "| peers: ctxlog verified replay vs eventsourcing aggregate replay",
]


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
    assert "| case | ctxlog | baseline (same run) | ratio ctxlog/baseline | target | result |" in out
    expected = ROWS + (PEER_ROWS if importlib.util.find_spec("eventsourcing") else [])
    # With psycopg and server binaries the PostgreSQL rows must be there; without, one row says why.
    expected += PG_ROWS if importlib.util.find_spec("psycopg") and find_bindir() else [PG_SKIPPED]
    for row in expected:
        assert row in out, f"missing row {row!r} in:\n{out}"
    assert "cpu:" in out and "sqlite:" in out and "ctxlog:" in out
    results = json.loads(out_json.read_text())
    assert not results["failed"]
    statuses = {"PASS", "MISS", "info", "PASS (stretch too)", "PASS (stretch missed)"}
    assert {r["status"] for r in results["rows"]} <= statuses
    # The ledgers are deleted at the end; only the empty --workdir stays.
    assert not any(workdir.iterdir())

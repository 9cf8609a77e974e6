"""Kill a writer with SIGKILL at random moments: nothing acknowledged is lost, nothing is torn."""

from __future__ import annotations

import json
import os
import random
import signal
import sqlite3
import subprocess
import sys
import time
from pathlib import Path

from ctxlog import ContextManager
from ctxlog.audit import verify

ROUNDS = 6
ROOT = Path(__file__).resolve().parents[2]


def start_writer(path: str, run: str, count: int = -1, *extra: str) -> subprocess.Popen[str]:
    return subprocess.Popen(
        [sys.executable, "-m", "tests.reliability.writer", path, run, str(count), *extra],
        cwd=ROOT, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
    )


def committed_values(path: str, run: str) -> list[int]:
    with sqlite3.connect(path) as conn:
        rows = conn.execute("SELECT payload FROM events WHERE run = ? AND kind = 'set' ORDER BY seq", (run,))
        return [json.loads(p)["value"]["i"] for (p,) in rows]


def kill_after_acknowledged(path: str, run: str, rng: random.Random) -> int:
    """Start a writer, wait for a random number of acknowledgements, SIGKILL it; return the last one."""
    proc = start_writer(path, run)
    assert proc.stdout is not None
    wanted, last = rng.randint(1, 40), -1
    deadline = time.monotonic() + 60
    for line in proc.stdout:
        last = int(line.split()[1])
        if last + 1 >= wanted or time.monotonic() > deadline:
            break
    time.sleep(rng.random() * 0.02)
    os.kill(proc.pid, signal.SIGKILL)
    proc.communicate()
    return last


def test_sigkill_loses_nothing_acknowledged_and_resumes(tmp_path: Path) -> None:
    path, rng = str(tmp_path / "crash.db"), random.Random(20261125)
    before: list[int] = []
    for _ in range(ROUNDS):
        kill_after_acknowledged(path, "crash", rng)
        result = verify(path)
        assert result.ok, result.summary()
        values = committed_values(path, "crash")
        assert values[: len(before)] == before and len(values) > len(before)
        before = values
    with ContextManager(path, run="crash") as mgr:
        seq = mgr.tree.seq
        mgr.set("after", "restart")
        assert mgr.tree.seq == seq + 1
    assert verify(path).ok


def test_every_acknowledged_value_is_stored(tmp_path: Path) -> None:
    path, rng = str(tmp_path / "crash.db"), random.Random(7)
    for round_ in range(ROUNDS):
        run = f"round-{round_}"
        last = kill_after_acknowledged(path, run, rng)
        values = committed_values(path, run)
        assert values[: last + 1] == list(range(last + 1))
        assert values == list(range(len(values)))
    assert verify(path).ok

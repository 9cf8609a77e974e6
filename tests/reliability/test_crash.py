"""Kill a writer with SIGKILL at random moments: nothing acknowledged is lost, nothing is torn."""

from __future__ import annotations

import json
import random
import sqlite3
from pathlib import Path

from ctxlog import ContextManager
from ctxlog.audit import verify
from ctxlog.testing.writer import kill_after_acknowledged

ROUNDS = 6


def committed_values(path: str, run: str) -> list[int]:
    with sqlite3.connect(path) as conn:
        rows = conn.execute("SELECT payload FROM events WHERE run = ? AND kind = 'set' ORDER BY seq", (run,))
        return [json.loads(p)["value"]["i"] for (p,) in rows]


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

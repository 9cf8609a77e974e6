"""The plan executors of docs/embedding.md, run on a slow plan, for test_kill.py to kill with SIGKILL.

``python kill_plan.py LEDGER RUN EXECUTOR`` runs the plan below on run ``RUN`` of ``LEDGER`` with
one of the two executors the document shows, taken from the document's own text (so they cannot
drift from it): ``documented`` is "A small plan executor", ``resuming`` the one of "When the
process dies". Only the executor's definitions are taken (imports, functions, assignments); the
document's own demonstration runs are left out.

The plan has the document's shape (load, a parallel check, report) and its step functions, each
made slow with many writes and short sleeps, plus a ``commit`` stage that writes inside a
``transaction()``; the driver runs the plan stage by stage with a pause between stages. Markers on
stdout (``<where> <what>``, flushed) tell the killer where the run is.
"""

from __future__ import annotations

import ast
import json
import sys
import threading
import time
from pathlib import Path
from typing import Any

from ctxlog import ContextManager, MergePolicy

__all__ = ["PAUSE", "SETS", "executor", "plan"]

DOC = Path(__file__).resolve().parents[2] / "docs" / "embedding.md"
SECTIONS = {"documented": "## A small plan executor", "resuming": "## When the process dies"}
SETS = 12
"""Writes per slow step, the longest branch (each followed by a sleep of PAUSE seconds)."""
PAUSE = 0.008


def _block_defining(section: str, name: str) -> str:
    """The ```python block of ``section`` of the document that defines function ``name``."""
    text = DOC.read_text(encoding="utf-8")
    start = text.index(section + "\n")
    end = text.find("\n## ", start + len(section))
    blocks = [b.split("\n```\n", 1)[0] for b in text[start : end if end > 0 else None].split("```python\n")[1:]]
    (block,) = [b for b in blocks if f"def {name}(" in b]
    return block


def executor(kind: str) -> dict[str, Any]:
    """The namespace of the executor ``kind``: its imports, functions and assignments, verbatim."""
    namespace: dict[str, Any] = {}
    if kind == "resuming":  # its block builds on the first one (Step, and the plan's steps)
        namespace.update(executor("documented"))
    tree = ast.parse(_block_defining(SECTIONS[kind], "run_plan"))
    kept = [
        node
        for node in tree.body
        if isinstance(node, (ast.Import, ast.ImportFrom, ast.FunctionDef))
        or (isinstance(node, ast.Assign) and "ContextManager(" not in ast.unparse(node.value))
    ]
    exec(compile(ast.Module(body=kept, type_ignores=[]), str(DOC), "exec"), namespace)
    return namespace


_MARKERS = threading.Lock()


def marker(where: str, what: str) -> None:
    """One line on stdout, whole (branches write theirs from several threads)."""
    with _MARKERS:
        sys.stdout.write(f"{where} {what}\n")
        sys.stdout.flush()


def slow(name: str, action: Any, sets: int = SETS) -> Any:
    """``action`` after ``sets`` writes in a nested step, with a marker when it starts and ends."""

    def run(ctx: Any) -> None:
        marker(name, "busy")
        with ctx.step(f"{name}-scan", merge=MergePolicy.OVERWRITE):
            for i in range(sets):
                ctx.set(f"scanned-{name}", i)
                time.sleep(PAUSE)
        action(ctx)
        marker(name, "done")

    run.__name__ = name
    return run


def commit(mgr: Any) -> None:
    """A step whose writes are one transaction: all of them or none."""
    marker("commit", "busy")
    with mgr.transaction():
        marker("commit", "txn")
        for i in range(SETS):
            mgr.set("rows", list(range(i + 1)))
            time.sleep(PAUSE)
    marker("commit", "committed")
    marker("commit", "done")


def total(branch: Any) -> None:
    branch.set("total", len(branch.get("records")))


def plan(doc: dict[str, Any]) -> list[tuple[str, list[tuple[str, Any]]]]:
    return [
        ("load", [("load", slow("load", doc["load"]))]),
        (
            "check",
            [
                ("even", slow("even", doc["check_even"], SETS // 3)),  # the branches end one after another
                ("odd", slow("odd", doc["check_odd"], SETS * 2 // 3)),
                ("total", slow("total", total)),
            ],
        ),
        ("commit", [("commit", commit)]),
        ("report", [("report", slow("report", doc["report"]))]),
    ]


def main(path: str, run: str, kind: str, mode: str) -> None:
    """Run the plan; ``mode`` is ``new`` for a run's first start, ``again`` for a rerun."""
    doc = executor(kind)
    stages = plan(doc)
    if kind == "documented":  # opened as that section opens it
        mgr = ContextManager(path, run=run)
    else:  # … and as "When the process dies" does
        mgr = ContextManager(path, run=run, exists=mode == "again")
    with mgr:
        marker("opened", json.dumps(mgr.interrupted))
        for k in range(1, len(stages) + 1):
            doc["run_plan"](mgr, stages[:k])
            marker(stages[k - 1][0], "between")
            time.sleep(PAUSE * 4)
    marker("plan", "finished")


if __name__ == "__main__":
    main(*sys.argv[1:5])

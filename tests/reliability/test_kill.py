"""Kill the plan executors of docs/embedding.md with SIGKILL at random moments; every rerun goes on.

Both executors of the document (``documented``, "A small plan executor", exactly as the document
has it; ``resuming``, the one of "When the process dies"), taken from its text by kill_plan.py,
run a slow plan: a step, a parallel group of three branches, a step writing in a
``transaction()``, a step; between stages the driver pauses. Each round starts a run, kills it
with SIGKILL at a moment drawn from a fixed seed (inside a step, inside the group, inside the
transaction, between stages, just as a stage ends, or at any moment), reads where the kill landed
from the ledger, then reruns the run until it finishes, and compares it with an uninterrupted run:

- the checkpoints (names, in order) and the tree at each, and the final tree and root data, are
  the uninterrupted run's (contexts compared by name path, interrupted ones left out);
- no context is active but the root, and current is the root;
- every step open at the kill is recorded ``failed`` with ``Interrupted`` (children first), and
  nothing else failed: none was silently dropped;
- nothing that finished ran again: each step or branch name was entered once plus once per
  interruption of it, and no branch that had exited before the kill was entered after it;
- ``verify`` passes after every round, and ``ctxlog verify`` on the ledger at the end.

Run with ``-s`` to see the table of rounds (where each kill landed, and the result).
"""

from __future__ import annotations

import collections
import json
import random
import sqlite3
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import pytest

from ctxlog import ContextTree, replay
from ctxlog.audit import verify

from .kill_plan import PAUSE, SETS

SCRIPT = Path(__file__).with_name("kill_plan.py")

SEED = 20261201
ROUNDS = 12  # per executor
TARGETS = {
    "documented": ["step", "group", "transaction", "between", "any moment", "group"],
    "resuming": ["step", "group", "transaction", "between", "stage end", "any moment"],
}
STAGE_OF = {"load": "load", "even": "check", "odd": "check", "total": "check", "commit": "commit", "report": "report"}
BUSY = SETS * PAUSE


def start(path: str, run: str, kind: str, mode: str) -> subprocess.Popen[str]:
    command = [sys.executable, str(SCRIPT), path, run, kind, mode]
    return subprocess.Popen(command, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)


def finish(path: str, run: str, kind: str, mode: str) -> list[str]:
    proc = start(path, run, kind, mode)
    out, err = proc.communicate(timeout=60)
    assert proc.returncode == 0, err
    lines = out.splitlines()
    assert lines[-1] == "plan finished", out
    return lines


def aim(target: str, rng: random.Random, span: float) -> tuple[str, float]:
    """The marker to wait for and the delay after it, for a kill aimed at ``target`` (for "stage
    end", the delay comes after the step's ``exited`` row is in the ledger)."""
    if target == "step":
        return f"{rng.choice(['load', 'report'])} busy", rng.uniform(0, BUSY)
    if target == "group":
        return "even busy", rng.uniform(0, BUSY)  # the branches start together
    if target == "transaction":
        return "commit txn", rng.uniform(0, BUSY * 0.9)
    if target == "between":
        return f"{rng.choice(['load', 'check', 'commit'])} between", rng.uniform(0, PAUSE * 3)
    if target == "stage end":
        return f"{rng.choice(['load', 'commit', 'report'])} done", rng.uniform(0, 0.0003)
    return "opened []", rng.uniform(0, span * 0.8)


def kill_at(proc: subprocess.Popen[str], marker: str, delay: float, exited: str | None = None) -> list[str]:
    """Wait for ``marker`` on the process's stdout (and then, with ``exited``, for that step's
    ``exited`` row in the ledger), sleep ``delay``, SIGKILL it; the markers it wrote."""
    assert proc.stdout is not None
    seen = []
    for line in proc.stdout:
        seen.append(line.strip())
        if seen[-1] == marker:
            break
    if exited is not None:
        path, run = proc.args[2], proc.args[3]  # type: ignore[index]
        with sqlite3.connect(path) as conn:
            query = "SELECT 1 FROM events WHERE run = ? AND context = ? AND kind = 'exited'"
            while proc.poll() is None and conn.execute(query, (run, exited)).fetchone() is None:
                pass
    time.sleep(delay)
    proc.kill()
    proc.wait()
    seen += proc.stdout.read().splitlines()
    proc.stdout.close()
    proc.stderr.close()  # type: ignore[union-attr]
    return seen


def name_path(tree: ContextTree, cid: str) -> str:
    names = []
    ctx = tree.contexts.get(cid)
    while ctx is not None:
        names.append(ctx.name)
        ctx = tree.contexts.get(ctx.parent_id) if ctx.parent_id is not None else None
    return "/".join(reversed(names))


def shape(tree: ContextTree) -> dict[str, Any]:
    """The tree by name path, without the failed contexts and what lies below them."""
    gone = {cid for cid in tree.contexts if any(tree.contexts[a].status == "failed" for a in lineage(tree, cid))}
    contexts: dict[str, list[str]] = collections.defaultdict(list)
    for cid, c in tree.contexts.items():
        if cid not in gone:
            facts = [c.status, str(c.isolation), c.is_parallel, c.data]
            contexts[name_path(tree, cid)].append(json.dumps(facts, sort_keys=True))
    return {"current": name_path(tree, tree.current_id or ""), "contexts": {k: sorted(v) for k, v in contexts.items()}}


def lineage(tree: ContextTree, cid: str) -> list[str]:
    ids = [cid]
    while (parent := tree.contexts[ids[-1]].parent_id) is not None:
        ids.append(parent)
    return ids


def checkpoints(tree: ContextTree) -> list[str]:
    return sorted(tree.checkpoints, key=tree.checkpoints.__getitem__)


def picture(path: str, run: str) -> dict[str, Any]:
    """What the comparison with the uninterrupted run looks at: checkpoints, trees, root data."""
    head = replay(path, run=run)
    names = checkpoints(head)
    return {
        "checkpoints": names,
        "at": {name: shape(replay(path, run=run, until=name)) for name in names},
        "head": shape(head),
        "root": head.contexts[head.root_id].data if head.root_id else None,
    }


def events(path: str, run: str) -> list[tuple[int, str, str, dict[str, Any]]]:
    with sqlite3.connect(path) as conn:
        rows = conn.execute("SELECT offset, kind, context, payload FROM events WHERE run = ? ORDER BY seq", (run,))
        return [(o, k, c, json.loads(p)) for o, k, c, p in rows]


def landed(tree: ContextTree, seen: list[str]) -> str:
    """Where the kill landed, read from the ledger (and, for the transaction, the markers)."""
    live = sorted(
        (c for c in tree.contexts.values() if c.status == "active" and c.parent_id is not None),
        key=lambda c: c.created_offset,
    )
    if not tree.contexts:
        return "before the run's first event"
    if any(c.name == "commit" for c in live) and "commit txn" in seen and "rows" not in tree.contexts["commit"].data:
        return "inside transaction() of step commit"
    if any(c.is_parallel for c in live):
        done = sorted(c.name for c in tree.contexts.values() if c.is_parallel and c.status == "exited")
        running = sorted(c.name for c in live if c.is_parallel)
        return f"in group check: {','.join(running)} running, {','.join(done) or 'none'} done"
    if live:
        return f"inside step {live[0].name} ({' > '.join(c.id for c in live)} open)"
    names = checkpoints(tree)
    if names and tree.checkpoints[names[-1]] == tree.offset:
        return f"between stages, after {names[-1]}"
    last = max((c for c in tree.contexts.values() if c.parent_id == tree.root_id), key=lambda c: c.created_offset)
    return f"stage {STAGE_OF[last.name]} ended, before its checkpoint"


def check_rerun(path: str, run: str, at_kill: ContextTree, kill_offset: int, reference: dict[str, Any]) -> str:
    """The assertions of the module docstring for one round; what the rerun did, for the table."""
    assert picture(path, run) == reference
    final = replay(path, run=run)
    assert [c.id for c in final.contexts.values() if c.status == "active"] == [final.root_id]
    assert final.current_id == final.root_id
    log = events(path, run)
    failed = {c: (o, p) for o, k, c, p in log if k == "failed"}
    open_at_kill = {cid for cid, c in at_kill.contexts.items() if c.status == "active" and c.parent_id is not None}
    assert set(failed) == open_at_kill  # every open step recorded, and nothing else failed
    assert all(p["error_type"] == "Interrupted" for _, p in failed.values())
    for cid, (offset, _) in failed.items():  # children first
        parent = final.contexts[cid].parent_id
        assert parent not in failed or failed[parent][0] > offset
    # Under each parent, a name finished at most once (under a live parent, exactly once) and was
    # entered once more per interruption of it: a rerun redid only what was cut short (and, below
    # an interrupted context, what its new try opened afresh).
    entered = collections.Counter((p["parent"], p["name"]) for _, k, _, p in log if k == "entered")
    ended = collections.Counter((c.parent_id, c.name) for c in final.contexts.values() if c.status == "exited")
    cut = collections.Counter((final.contexts[cid].parent_id, final.contexts[cid].name) for cid in failed)
    for (parent, name), n in entered.items():
        assert ended[parent, name] == 1 or (parent in failed and ended[parent, name] == 0), (parent, name)
        assert n == ended[parent, name] + cut[parent, name], (parent, name, entered, cut)
    finished = {c.name for c in at_kill.contexts.values() if c.is_parallel and c.status == "exited"}
    assert not [p["name"] for o, k, _, p in log if k == "entered" and o > kill_offset and p["name"] in finished]
    result = verify(path)
    assert result.ok, result.summary()
    kept = sorted(finished)
    grouped = any(c.is_parallel and c.status == "active" for c in at_kill.contexts.values())
    return "ok: " + ", ".join(
        part
        for part in (
            f"{len(failed)} interrupted ({','.join(sorted(failed))})" if failed else "nothing interrupted",
            f"not rerun: {','.join(kept)}" if grouped and kept else "",
        )
        if part
    )


@pytest.mark.slow
@pytest.mark.parametrize("kind", ["documented", "resuming"])
def test_sigkill_anywhere_and_the_rerun_goes_on(kind: str, tmp_path: Path) -> None:
    path, rng = str(tmp_path / "kill.db"), random.Random(f"{SEED}-{kind}")
    began = time.monotonic()
    finish(path, "reference", kind, "new")
    span = time.monotonic() - began
    reference = picture(path, "reference")
    assert reference["checkpoints"] == ["after-load", "after-check", "after-commit", "after-report"]
    print(f"\n{kind} executor, {ROUNDS} rounds (seed {SEED}):")
    for i in range(ROUNDS):
        run, target = f"round-{i + 1}", TARGETS[kind][i % len(TARGETS[kind])]
        marker, delay = aim(target, rng, span)
        step = marker.split()[0] if target == "stage end" else None
        seen = kill_at(start(path, run, kind, "new"), marker, delay, step)
        at_kill = replay(path, run=run)
        where = "after the run finished" if "plan finished" in seen else landed(at_kill, seen)
        live = sorted((c for c in at_kill.contexts.values() if c.status == "active"), key=lambda c: c.created_offset)
        opened = finish(path, run, kind, "again" if at_kill.contexts else "new")[0]
        assert opened == f"opened {json.dumps([c.id for c in live if c.parent_id is not None])}"
        result = check_rerun(path, run, at_kill, at_kill.offset, reference)
        print(f"  {i + 1:>2}  {target:<12} {where:<58} {result}")  # the table of rounds (pytest -s)
    cli = subprocess.run([sys.executable, "-m", "ctxlog.cli", "verify", path], capture_output=True, text=True)
    assert cli.returncode == 0, cli.stdout + cli.stderr

"""A 500-turn chat graph on ctxlog's LangGraph saver and on LangGraph's SqliteSaver, same run.

The graph is a real ``StateGraph``: each turn the user's message comes in, one node answers,
and the state holds the growing message list plus a few scalar channels (the turn, the last
intent, a token count). Measured on each saver: bytes on disk after 100, 250 and 500 turns (the
file, its WAL written back first); ``put`` of the next checkpoint and ``get_tuple`` of the newest and of an older one at
turn 500 (medians of repeated calls); listing the thread's whole history once.

Run alone (``python bench/langgraph_chat.py [--turns N]``) or as a section of ``make bench``.
"""

from __future__ import annotations

import argparse
import operator
import os
import sqlite3
import statistics
import sys
import tempfile
import time
from collections.abc import Callable
from typing import Annotated, Any, TypedDict

__all__ = ["available", "render", "run", "section"]

MARKS = (50, 100, 250, 500)
REPS = 15


class Chat(TypedDict):
    messages: Annotated[list[dict[str, str]], operator.add]
    turn: int
    intent: str
    tokens: int


def _answer(state: Chat) -> dict[str, Any]:
    asked = state["messages"][-1]["content"]
    reply = f"Here is what I found about {asked[:40]}: " + "details " * 12
    return {
        "messages": [{"role": "assistant", "content": reply}],
        "turn": state.get("turn", 0) + 1,
        "intent": ("lookup", "smalltalk", "order", "refund")[len(state["messages"]) % 4],
        "tokens": state.get("tokens", 0) + len(reply.split()),
    }


def _graph(saver: Any) -> Any:
    from langgraph.graph import END, START, StateGraph

    builder = StateGraph(Chat)
    builder.add_node("answer", _answer)
    builder.add_edge(START, "answer")
    builder.add_edge("answer", END)
    return builder.compile(checkpointer=saver)


def _bytes(path: str) -> int:
    """The file's size once its WAL is written back (both savers' files are SQLite in WAL mode)."""
    with sqlite3.connect(path) as conn:
        conn.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    conn.close()
    return sum(os.path.getsize(path + s) for s in ("", "-wal") if os.path.exists(path + s))


def _median_ms(call: Callable[[], object], reps: int = REPS) -> float:
    times = []
    for _ in range(reps):
        t0 = time.perf_counter()
        call()
        times.append(time.perf_counter() - t0)
    return statistics.median(times) * 1000


def _next_put(saver: Any, config: dict[str, Any]) -> Callable[[], object]:
    """A put of one more turn's checkpoint after the newest, as LangGraph's loop makes it."""
    from langgraph.checkpoint.base import create_checkpoint

    def put() -> object:
        latest = saver.get_tuple(config)
        values = dict(latest.checkpoint["channel_values"])
        values["messages"] = [*values["messages"], {"role": "user", "content": "and one more thing"}]
        values["turn"] += 1
        cp = create_checkpoint(latest.checkpoint, None, latest.metadata["step"] + 1)
        cp["channel_values"] = values
        versions = dict(cp["channel_versions"])
        new = {ch: saver.get_next_version(versions.get(ch), None) for ch in ("messages", "turn")}
        cp["channel_versions"] = {**versions, **new}
        t0 = time.perf_counter()
        saver.put(latest.config, cp, {"source": "loop", "step": latest.metadata["step"] + 1}, new)
        timings.append(time.perf_counter() - t0)
        return None

    timings: list[float] = []
    put.timings = timings  # type: ignore[attr-defined]
    return put


def run(saver: Any, path: str, turns: int) -> dict[str, Any]:
    """Chat ``turns`` turns on ``saver`` (a ledger or a SQLite file at ``path``); the figures."""
    graph, config = _graph(saver), {"configurable": {"thread_id": "chat"}}
    figures: dict[str, Any] = {"bytes": {}}
    for turn in range(1, turns + 1):
        graph.invoke({"messages": [{"role": "user", "content": f"question {turn} about my order"}]}, config)
        if turn in MARKS:
            figures["bytes"][turn] = _bytes(path)
    history = [t.config for t in saver.list(config)]
    older = history[len(history) // 2]
    figures["get_latest_ms"] = _median_ms(lambda: saver.get_tuple(config))
    figures["get_older_ms"] = _median_ms(lambda: saver.get_tuple(older))
    t0 = time.perf_counter()
    listed = sum(1 for _ in saver.list(config))
    figures["list_ms"], figures["checkpoints"] = (time.perf_counter() - t0) * 1000, listed
    put = _next_put(saver, config)
    for _ in range(REPS):
        put()
    figures["put_ms"] = statistics.median(put.timings) * 1000  # type: ignore[attr-defined]
    return figures


def section(workdir: str | None = None, turns: int = 500) -> str:
    """Both savers, one after the other in this process; the Markdown section of the report."""
    from langgraph.checkpoint.sqlite import SqliteSaver

    from ctxlog.integrations.langgraph import CtxlogSaver

    with tempfile.TemporaryDirectory(prefix="lg-chat-", dir=workdir) as where:
        ledger, peer = os.path.join(where, "chat.db"), os.path.join(where, "peer.sqlite")
        with CtxlogSaver(ledger) as saver:
            ours = run(saver, ledger, turns)
        conn = sqlite3.connect(peer, check_same_thread=False)
        theirs = run(SqliteSaver(conn), peer, turns)
        conn.close()
    return render(ours, theirs, turns)


def available() -> bool:
    """Whether both savers and LangGraph itself are installed."""
    try:
        import langgraph.checkpoint.sqlite  # noqa: F401
        import langgraph.graph  # noqa: F401
    except ImportError:
        return False
    return True


def render(ours: dict[str, Any], theirs: dict[str, Any], turns: int) -> str:
    """The section's table: one row per figure, both savers and their ratio."""
    rows = [(f"bytes on disk after {n} turns", ours["bytes"][n], theirs["bytes"][n], "") for n in ours["bytes"]]
    rows += [
        (f"`put` at turn {turns} (ms, median of {REPS})", ours["put_ms"], theirs["put_ms"], ""),
        (f"`get_tuple` newest at turn {turns} (ms)", ours["get_latest_ms"], theirs["get_latest_ms"], ""),
        ("`get_tuple` of a mid-history checkpoint (ms)", ours["get_older_ms"], theirs["get_older_ms"], ""),
        (f"`list` the whole history (ms; {ours['checkpoints']} checkpoints)", ours["list_ms"], theirs["list_ms"], ""),
    ]
    lines = [
        f"## LangGraph chat graph, {turns} turns: ctxlog's CtxlogSaver against SqliteSaver",
        "",
        "| figure | CtxlogSaver | SqliteSaver | ratio |",
        "|---|---:|---:|---:|",
    ]
    for name, a, b, _ in rows:
        shown = (f"{a:,}", f"{b:,}") if isinstance(a, int) else (f"{a:.2f}", f"{b:.2f}")
        lines.append(f"| {name} | {shown[0]} | {shown[1]} | {a / b:.2f} |")
    return "\n".join(lines)


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--turns", type=int, default=500)
    args = parser.parse_args()
    sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
    print(section(turns=args.turns))

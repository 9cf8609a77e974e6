"""One writer process of the PostgreSQL append case: a real process, so writers contend as on a host.

Run as ``pg_worker.py RUN COUNT PAYLOADS SIDE=URL [SIDE=URL ...]``: the process holds one writer per
side, each on its own connection to its own ledger (or raw table), and the parent times one side at
a time. ``SIDE`` is one of

- ``ctxlog``: a ``ContextManager(URL, run=RUN)``, one ``set()`` per event, each its own durable
  transaction (synchronous="FULL", the default);
- ``ctxlog-normal``: the same with ``synchronous="NORMAL"`` (``synchronous_commit = off`` for the
  session: a commit returns once visible, before its WAL is flushed);
- ``ctxlog-batch50``: synchronous="FULL", the events in ``with mgr.transaction():`` blocks of
  ``BATCH`` ``set()`` calls (one lock, one commit, one WAL flush per block);
- ``raw``: psycopg autocommit, one single-row INSERT per event into the ``raw`` table of the URL's
  schema, with a SHA-256 chain over the payloads kept in memory.

Set-up (imports, connecting, opening the runs) happens before the worker prints ``ready SIDE=N ...``
(N: the events that side's run holds after set-up); then each ``go SIDE N`` line on stdin makes that
side write its first N (at most COUNT) events and the worker print ``done``, so the parent times
every round from one start barrier to the last ``done`` and set-up never counts. The same processes
serve every concurrency level (a level of 4 sends ``go`` to the first 4). EOF or ``quit`` ends it.

All sides write the same values: ctxlog gets the pairs of ``workload.hot_sets(COUNT, pool)``, the
raw side the payload texts ctxlog stores for exactly those pairs (the JSON file PAYLOADS).
"""

from __future__ import annotations

import hashlib
import json
import sys
from collections.abc import Callable

import workload as wl

GENESIS = "0" * 64
RAW_TABLE = (
    "CREATE TABLE raw (id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY, payload text NOT NULL, hash text NOT NULL)"
)
RAW_INSERT = "INSERT INTO raw (payload, hash) VALUES (%s, %s)"
BATCH = 50  # set() calls per mgr.transaction() of the ctxlog-batch50 side
CTXLOG_SIDES = {"ctxlog": ("FULL", 1), "ctxlog-normal": ("NORMAL", 1), "ctxlog-batch50": ("FULL", BATCH)}
"""ctxlog sides: (synchronous, set() calls per transaction)."""


def ctxlog_writer(
    url: str, run: str, count: int, synchronous: str = "FULL", batch: int = 1
) -> tuple[Callable[[int], None], Callable[[], None], int]:
    """(one round, close, events the run holds after set-up) for a ctxlog side."""
    import ctxlog

    mgr = ctxlog.ContextManager(url, run=run, synchronous=synchronous)
    mgr.enter_step("hot")
    pairs = wl.hot_sets(count, wl.value_pool())
    setup = next(info.events for info in ctxlog.audit.runs(url) if info.run == run)

    def rnd(n: int) -> None:
        if batch == 1:
            for key, value in pairs[:n]:
                mgr.set(key, value)
            return
        for start in range(0, n, batch):
            with mgr.transaction():
                for key, value in pairs[start : min(start + batch, n)]:
                    mgr.set(key, value)

    return rnd, mgr.close, setup


def raw_writer(url: str, payloads: list[str]) -> tuple[Callable[[int], None], Callable[[], None], int]:
    """(one round, close, 0) for the raw side: autocommit, so every INSERT is its own transaction."""
    import psycopg

    conn = psycopg.connect(url, autocommit=True)
    head = GENESIS
    sha, fromhex = hashlib.sha256, bytes.fromhex

    def rnd(n: int) -> None:
        nonlocal head
        execute = conn.execute
        h = head
        for payload in payloads[:n]:
            h = sha(fromhex(h) + payload.encode()).hexdigest()
            execute(RAW_INSERT, (payload, h))
        head = h

    return rnd, conn.close, 0


def main(argv: list[str]) -> int:
    run, count, payload_file = argv[0], int(argv[1]), argv[2]
    rounds: dict[str, Callable[[int], None]] = {}
    closers: list[Callable[[], None]] = []
    setups: list[str] = []
    try:
        for arg in argv[3:]:
            side, url = arg.split("=", 1)
            if side in CTXLOG_SIDES:
                synchronous, batch = CTXLOG_SIDES[side]
                rnd, close, setup = ctxlog_writer(url, run, count, synchronous, batch)
            elif side == "raw":
                with open(payload_file, encoding="utf-8") as f:
                    payloads = json.load(f)[:count]
                rnd, close, setup = raw_writer(url, payloads)
            else:
                raise SystemExit(f"unknown side {side!r}")
            rounds[side] = rnd
            closers.append(close)
            setups.append(f"{side}={setup}")
        print("ready " + " ".join(setups), flush=True)
        for line in sys.stdin:
            words = line.split()
            if len(words) != 3 or words[0] != "go":
                break
            rounds[words[1]](int(words[2]))
            print("done", flush=True)
    finally:
        for close in closers:
            close()
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))

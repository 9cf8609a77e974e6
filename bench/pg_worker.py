"""One writer process of the PostgreSQL append case: a real process, so writers contend as on a host.

Run as ``pg_worker.py SIDE URL RUN COUNT PAYLOADS``. ``SIDE`` is ``ctxlog`` (a
``ContextManager(URL, run=RUN)``, one ``set()`` per event, each its own durable transaction) or
``raw`` (psycopg autocommit, one single-row INSERT per event into the ``raw`` table of the URL's
schema, with a SHA-256 chain over the payloads kept in memory). Set-up (imports, connecting,
opening the run) happens before the worker prints ``ready``; then each ``go N`` line on stdin makes
it write the first N (at most COUNT) events and print ``done``, so the parent times every round from
one start barrier to the last ``done`` and set-up never counts. The same processes serve every
concurrency level (a level of 4 sends ``go`` to the first 4). EOF or ``quit`` ends it.

Both sides write the same values: ctxlog gets the pairs of ``workload.hot_sets(COUNT, pool)``, the
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
    "CREATE TABLE raw (id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY, payload text NOT NULL, "
    "hash text NOT NULL)"
)
RAW_INSERT = "INSERT INTO raw (payload, hash) VALUES (%s, %s)"


def ctxlog_writer(url: str, run: str, count: int) -> tuple[Callable[[int], None], Callable[[], None], int]:
    """(one round, close, events the run holds after set-up) for the ctxlog side."""
    import ctxlog

    mgr = ctxlog.ContextManager(url, run=run)
    mgr.enter_step("hot")
    pairs = wl.hot_sets(count, wl.value_pool())
    setup = next(info.events for info in ctxlog.audit.runs(url) if info.run == run)

    def rnd(n: int) -> None:
        for key, value in pairs[:n]:
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
    side, url, run, count, payload_file = argv[0], argv[1], argv[2], int(argv[3]), argv[4]
    if side == "ctxlog":
        rnd, close, setup = ctxlog_writer(url, run, count)
    elif side == "raw":
        with open(payload_file, encoding="utf-8") as f:
            payloads = json.load(f)[:count]
        rnd, close, setup = raw_writer(url, payloads)
    else:
        raise SystemExit(f"unknown side {side!r}")
    print(f"ready {setup}", flush=True)
    try:
        for line in sys.stdin:
            words = line.split()
            if len(words) != 2 or words[0] != "go":
                break
            rnd(int(words[1]))
            print("done", flush=True)
    finally:
        close()
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))

"""The benchmark cases, by name: each measures ctxlog and its baselines in the same run, on the same data.

Each case appends :class:`report.Row` objects to ``bench.rows`` (ratios against baselines) or
:class:`report.ScaleRow` objects to ``bench.scaling`` (cost per operation at several sizes), and
registers, under a key, a zero-argument callable running the ctxlog side once (for ``--profile``).
Sides alternate which goes first from one repetition to the next, and each side gets one untimed
warm-up run first.

    write       cases_write.py     durable, batched, values
    read        cases_read.py      replay, verify, log, until, memory
    bytes       cases_bytes.py     bytes
    scaling     scaling_tree.py    tree, fanin;  scaling_log.py: length, runs, parallel
    peers       cases_peers.py     LangGraph, JSON blob, eventsourcing
    postgres    postgres.py
"""

from __future__ import annotations

from collections.abc import Callable

import cases_bytes
import cases_peers
import cases_read
import cases_write
import postgres
import scaling_log
import scaling_tree
from harness import Bench

CASES: dict[str, Callable[[Bench], None]] = {
    "durable": cases_write.durable,
    "batched": cases_write.batched,
    "replay": cases_read.replay_case,
    "verify": cases_read.verify_case,
    "log": cases_read.log_case,
    "until": cases_read.until_case,
    "bytes": cases_bytes.bytes_case,
    "memory": cases_read.memory_case,
    "values": cases_write.values_case,
    "tree": scaling_tree.tree_case,
    "length": scaling_log.length_case,
    "runs": scaling_log.runs_case,
    "fanin": scaling_tree.fanin_case,
    "parallel": scaling_log.parallel_case,
    "peers": cases_peers.peers_case,
    "postgres": postgres.postgres_case,
}

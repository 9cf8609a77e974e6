"""Helpers the cases share: the payloads ctxlog stores, managers on copies of generated ledgers,
and same-work floors standing where those managers stand."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import floor
import raw
import workload as wl
from harness import Bench

import ctxlog
from ctxlog import ContextManager

RUN = wl.RUN


def set_payloads(bench: Bench, pairs: Sequence[tuple[str, Any]]) -> list[str]:
    """The payload texts ctxlog stores for these set() calls, read back from a scratch ledger."""
    path = bench.path("payloads.db")
    raw.remove_db(path)
    with ContextManager(path, run="payloads", synchronous="NORMAL") as mgr:
        mgr.enter_step("hot")
        with mgr.transaction():
            for key, value in pairs:
                mgr.set(key, value)
    payloads = raw.ledger_payloads(path, kind="set", last=len(pairs))
    raw.remove_db(path)
    return payloads


def last_record(path: str, run: str) -> ctxlog.audit.Record:
    """The last event of ``run`` (read with ``ctxlog.audit.log``)."""
    last = None
    with ctxlog.audit.log(path, run=run) as stream:
        for last in stream:  # noqa: B007
            pass
    assert last is not None
    return last


class Hot:
    """A manager in a fresh step ``hot`` of a copy of a generated ledger, and a floor file holding
    the same rows (the copy's, inserted raw, the ``entered`` row included), appending where the
    manager appends: same run, context and cause."""

    def __init__(self, bench: Bench, ledger: str, name: str, synchronous: str) -> None:
        self.path = bench.copy_of(ledger, f"{name}.db")
        self.run = bench.run_of(ledger)
        self.mgr = ContextManager(self.path, run=self.run, synchronous=synchronous)
        self.mgr.enter_step("hot")
        entered = last_record(self.path, self.run)
        self.context, self.cause = entered.context, entered.offset
        self.floor = floor.Floor.copy_of(bench.ledger(ledger), bench.path(f"floor-{name}.db"), synchronous)
        self.floor.append_batch(self.run, entered.context, entered.cause, entered.kind, [entered.payload], ([], []))
        bench.closers.extend([self.mgr.close, self.floor.close])

    def floor_each(self, payloads: Sequence[str], template: floor.Template) -> None:
        self.floor.append_each(self.run, self.context, self.cause, "set", payloads, template)

    def floor_batch(self, payloads: Sequence[str], template: floor.Template) -> None:
        self.floor.append_batch(self.run, self.context, self.cause, "set", payloads, template)

    def floor_verifies(self) -> str:
        """Whether ``ctxlog.audit.verify`` accepts the floor's file, for a note."""
        result = ctxlog.audit.verify(self.floor.path)
        return "verifies" if result.ok else f"DOES NOT VERIFY ({result.summary()})"


def raw_log(bench: Bench, name: str, synchronous: str, ledger: str = "prefix") -> raw.RawLog:
    """A minimal raw table pre-filled with a generated ledger's payloads (so both logs are the same size)."""
    log = raw.RawLog(bench.path(name), synchronous)
    log.append_batch(raw.ledger_payloads(bench.ledger(ledger)))
    bench.closers.append(log.close)
    return log

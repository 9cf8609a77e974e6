"""Threads writing one ledger: dense offsets, no forks, no lock errors.

Processes writing one ledger (four writers, two on one run; a stale writer) are in the shared store
conformance suite, ``ctxlog.testing.shared``, which both engines pass.
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from contextlib import AbstractContextManager
from pathlib import Path

from ctxlog import ContextManager, replay
from ctxlog.audit import verify

OPS = 150


def test_threads_sharing_one_manager(fresh_ledgers: Callable[[], AbstractContextManager[str]]) -> None:
    with fresh_ledgers() as path:
        _threads_sharing_one_manager(path)


def _threads_sharing_one_manager(path: str) -> None:
    errors: list[BaseException] = []
    with ContextManager(path, run="t", synchronous="NORMAL") as mgr:
        mgr.initialize()
        branches = [mgr.create_parallel_context(f"w{i}") for i in range(8)]

        def work(n: int) -> None:
            try:
                for i in range(OPS):
                    with mgr.transaction():
                        mgr.switch_to(branches[n])
                        mgr.set(f"v{i % 5}", [n, i])
            except BaseException as exc:  # pragma: no cover - reported below
                errors.append(exc)

        threads = [threading.Thread(target=work, args=(n,)) for n in range(8)]
        for t in threads:
            t.start()
        for t in threads:
            t.join()
        live = mgr.tree
    assert errors == []
    assert replay(path, run="t") == live
    assert verify(path).events == 1 + 8 + 8 * OPS * 2
    for n, branch in enumerate(branches):
        assert live.get("v4", branch) == [n, OPS - 1]


def test_many_threads_opening_new_files_at_once(tmp_path: Path) -> None:
    from ctxlog.ledger import Ledger

    errors: list[BaseException] = []

    def opener() -> None:
        for n in range(40):
            try:
                Ledger.open(str(tmp_path / f"new-{n}.db")).close()
            except BaseException as exc:  # pragma: no cover - reported below
                errors.append(exc)

    threads = [threading.Thread(target=opener) for _ in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert errors == []
    ids = {Ledger.open(str(tmp_path / f"new-{n}.db")).meta["ledger_id"] for n in range(40)}
    assert len(ids) == 40

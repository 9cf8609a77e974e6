"""Several processes and threads writing one ledger: dense offsets, no forks, no lock errors."""

from __future__ import annotations

import threading
from collections.abc import Callable
from contextlib import AbstractContextManager
from pathlib import Path

import pytest

from ctxlog import ConcurrencyError, ContextManager, replay
from ctxlog.audit import runs, verify

from .test_crash import start_writer

OPS = 150


def test_four_processes_two_runs_apart_two_on_one_run(tmp_path: Path) -> None:
    path = str(tmp_path / "shared.db")
    ContextManager(path, run="setup").close()
    writers = [
        start_writer(path, "alpha", OPS), start_writer(path, "beta", OPS),
        start_writer(path, "shared", OPS, "--retry"), start_writer(path, "shared", OPS, "--retry"),
    ]
    outputs = [w.communicate(timeout=240) for w in writers]
    for writer, (out, err) in zip(writers, outputs, strict=True):
        assert writer.returncode == 0, err
        assert out.count("committed") == OPS
    result = verify(path)
    assert result.ok, result.summary()
    counts = {info.run: info.events for info in runs(path)}
    assert counts == {"alpha": OPS + 1, "beta": OPS + 1, "shared": 2 * OPS + 1}
    assert result.events == sum(counts.values())


def test_stale_writer_gets_a_concurrency_error_and_can_continue(tmp_path: Path) -> None:
    path = str(tmp_path / "stale.db")
    with ContextManager(path, run="r") as first, ContextManager(path, run="r") as second:
        first.set("a", 1)
        with pytest.raises(ConcurrencyError, match="reload"):
            second.set("b", 2)
        second.reload()
        second.set("b", 2)
        assert (second.get("a"), second.get("b")) == (1, 2)
        with pytest.raises(ConcurrencyError):
            first.set("c", 3)
    assert verify(path).ok
    assert replay(path, run="r").get("b") == 2


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
    from ctxlog.ledger.log import Ledger

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

"""The published LangGraph checkpointer conformance suite, unchanged, on SQLite and on PostgreSQL.

``validate`` makes a fresh saver (a fresh ledger) for each capability suite and runs every test
of it; each capability must be detected and pass, the optional ones (copy_thread, prune,
delete_for_runs) included.
"""

from __future__ import annotations

import asyncio
import os
import uuid
from collections.abc import AsyncIterator, Callable
from pathlib import Path

from langgraph.checkpoint.conformance import checkpointer_test, validate
from langgraph.checkpoint.conformance.capabilities import ALL_CAPABILITIES

import ctxlog
from ctxlog.integrations.langgraph import CtxlogSaver


def _run_suite(location: Callable[[], str]) -> dict[str, object]:
    @checkpointer_test(name=f"CtxlogSaver-{uuid.uuid4().hex[:6]}")
    async def saver() -> AsyncIterator[CtxlogSaver]:
        path = location()
        with CtxlogSaver(path) as made:
            yield made
        assert ctxlog.audit.verify(path).ok  # every suite leaves a ledger whose chain verifies

    report = asyncio.run(validate(saver))
    return report.results


def _check(results: dict[str, object]) -> None:
    assert set(results) == {c.value for c in ALL_CAPABILITIES}
    failed = {name: r.failures for name, r in results.items() if not r.passed}  # type: ignore[attr-defined]
    assert failed == {}
    assert all(r.detected and r.tests_failed == 0 and r.tests_passed > 0 for r in results.values())  # type: ignore[attr-defined]


def test_conformance_on_sqlite(tmp_path: Path) -> None:
    files = (str(tmp_path / f"suite-{i}.db") for i in range(100))
    _check(_run_suite(lambda: next(files)))
    assert len(os.listdir(tmp_path)) >= len(ALL_CAPABILITIES)


def test_conformance_on_postgresql(pg_cluster: object) -> None:
    _check(_run_suite(pg_cluster.new_schema))  # type: ignore[attr-defined]

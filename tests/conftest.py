"""Shared fixtures: a fresh ledger path per test, a throwaway PostgreSQL server, hypothesis profiles.

The PostgreSQL tests skip, saying why, on a machine without PostgreSQL; under CI (``CI`` set) a
missing server is a failure instead, so the backend can never pass by not being tested.
"""

from __future__ import annotations

import contextlib
import os
import tempfile
from collections.abc import Callable, Iterator
from contextlib import AbstractContextManager
from pathlib import Path

import pytest
from hypothesis import HealthCheck, settings

settings.register_profile("default", max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
settings.register_profile("ci", max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
settings.load_profile(os.environ.get("HYPOTHESIS_PROFILE", "default"))


@pytest.fixture(scope="session")
def pg_cluster() -> Iterator[object]:
    """One throwaway PostgreSQL server for the whole session, removed at the end."""
    try:
        import psycopg  # noqa: F401

        from ctxlog.testing import PostgresCluster

        cluster = PostgresCluster(durable=False).start()
    except Exception as exc:
        reason = f"no PostgreSQL server for the tests: {exc}"
        if os.environ.get("CI"):
            pytest.fail(reason + " (under CI the PostgreSQL backend must be tested)")
        pytest.skip(reason)
    yield cluster
    cluster.stop()


@pytest.fixture
def pg_url(pg_cluster: object) -> str:
    """The URL of a new, empty ledger location (its own schema) on the throwaway server."""
    return pg_cluster.new_schema()  # type: ignore[attr-defined, no-any-return]


@pytest.fixture(scope="session", params=["sqlite", "postgresql"])
def fresh_ledgers(request: pytest.FixtureRequest) -> Callable[[], AbstractContextManager[str]]:
    """Makes a new, empty ledger location per call on each backend: per hypothesis example, where a
    function-scoped fixture would be shared by every example."""
    if request.param == "sqlite":

        @contextlib.contextmanager
        def sqlite_file() -> Iterator[str]:
            with tempfile.TemporaryDirectory(prefix="ctxlog-prop-") as tmp:
                yield os.path.join(tmp, "ctx.db")

        return sqlite_file
    cluster = request.getfixturevalue("pg_cluster")

    @contextlib.contextmanager
    def pg_schema() -> Iterator[str]:
        url = cluster.new_schema()
        try:
            yield url
        finally:
            cluster.drop_schema(url)

    return pg_schema


@pytest.fixture
def ledger_path(tmp_path: Path) -> str:
    """Path of a ledger file that does not exist yet."""
    return str(tmp_path / "ctx.db")


@pytest.fixture
def mgr(ledger_path: str) -> Iterator[object]:
    from ctxlog import ContextManager

    with ContextManager(ledger_path, run="test") as manager:
        yield manager

"""Shared fixtures: a fresh ledger path per test, a throwaway PostgreSQL server, hypothesis profiles,
and the small ledgers with known contents that several test packages read (the demo run, an empty
ledger, a keyed ledger).

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

from ctxlog import ContextManager
from ctxlog.audit import demo as write_demo
from ctxlog.ledger import Ledger

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
    with ContextManager(ledger_path, run="test") as manager:
        yield manager


@pytest.fixture
def location(ledger_path: str) -> str:
    """Where a test's ledger is made: a SQLite file here; a module that tests both engines overrides
    it (``fresh_ledgers``), and the ledgers built on ``location`` (``keyed``) follow."""
    return ledger_path


KEY = b"secret-ledger-key"
"""The key of the ``keyed`` ledger (and of the CLI's ``key_file``)."""


@pytest.fixture
def keyed_sets() -> list[tuple[str, object]]:
    """What run ``r`` of the ``keyed`` ledger sets, in order: ``a`` = 1 (two events with the root).
    A module that needs a longer keyed log overrides this fixture."""
    return [("a", 1)]


@pytest.fixture
def keyed(location: str, keyed_sets: list[tuple[str, object]]) -> str:
    """A keyed (HMAC-SHA256 under KEY) ledger at ``location``: run ``r`` setting ``keyed_sets``."""
    with ContextManager(location, run="r", key=KEY) as manager:
        for key, value in keyed_sets:
            manager.set(key, value)
    return location


@pytest.fixture
def demo_db(tmp_path: Path) -> str:
    """The sample run ``demo`` (47 events; checkpoints loaded=9, validated=38, finished=47)."""
    path = str(tmp_path / "ctx.db")
    write_demo(path, run="demo")
    return path


@pytest.fixture
def empty_db(tmp_path: Path) -> str:
    """A ctxlog ledger with its schema and no events."""
    path = str(tmp_path / "empty.db")
    Ledger.open(path).close()
    return path

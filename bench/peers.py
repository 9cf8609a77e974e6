"""The peer: the ``eventsourcing`` library with its SQLite persistence doing the same work.

One aggregate per run, one ``ValueSet`` event per ``set`` carrying the same (key, value) pairs.
"One-save append" is an ``app.save()`` after every set (one SQLite transaction each, like a
ctxlog operation outside ``transaction()``); "replay" is ``app.repository.get(id)`` of an aggregate
with N events (no snapshotting, no aggregate cache: eventsourcing's defaults).

eventsourcing opens its SQLite file in WAL mode and leaves ``synchronous`` at SQLite's default
(FULL); :func:`open_app` can set another level on each connection it opens, for a like-for-like
comparison with ctxlog at ``synchronous=NORMAL``.
"""

from __future__ import annotations

import contextlib
import time
from collections.abc import Iterator, Sequence
from typing import Any

try:
    from eventsourcing.application import Application
    from eventsourcing.domain import Aggregate, event
    from eventsourcing.sqlite import SQLiteConnectionPool
except ImportError:  # pragma: no cover - the bench extra is not installed
    Application = None  # type: ignore[assignment,misc]


def available() -> bool:
    return Application is not None


def version() -> str:
    try:
        from importlib.metadata import version as v

        return v("eventsourcing")
    except Exception:  # pragma: no cover
        return "not installed"


if Application is not None:

    class Context(Aggregate):
        """A context as an aggregate: its data, one event per set."""

        @event("Created")
        def __init__(self, name: str) -> None:
            self.name = name
            self.data: dict[str, Any] = {}

        @event("ValueSet")
        def set(self, key: str, value: Any) -> None:
            self.data[key] = value

    class ContextApp(Application):
        """The application that saves and loads Context aggregates."""


@contextlib.contextmanager
def _synchronous(level: str | None) -> Iterator[None]:
    """While active, every SQLite connection eventsourcing opens gets ``PRAGMA synchronous = level``."""
    if level is None:
        yield
        return
    original = SQLiteConnectionPool._create_connection

    def create(self: Any) -> Any:
        conn = original(self)
        conn._sqlite_conn.execute(f"PRAGMA synchronous = {level}")
        return conn

    SQLiteConnectionPool._create_connection = create  # type: ignore[method-assign]
    try:
        yield
    finally:
        SQLiteConnectionPool._create_connection = original  # type: ignore[method-assign]


class Peer:
    """One eventsourcing application on a SQLite file, and one Context aggregate in it."""

    def __init__(self, path: str, synchronous: str | None = None) -> None:
        env = {"PERSISTENCE_MODULE": "eventsourcing.sqlite", "SQLITE_DBNAME": path}
        with _synchronous(synchronous):
            self.app = ContextApp(env=env)
            self.aggregate = Context("root")
            self.app.save(self.aggregate)
            self._pragma = synchronous
        self.events = 1

    def append_each(self, pairs: Sequence[tuple[str, Any]]) -> None:
        """One ``app.save()`` per set."""
        agg, save = self.aggregate, self.app.save
        with _synchronous(self._pragma):
            for key, value in pairs:
                agg.set(key, value)
                save(agg)
        self.events += len(pairs)

    def append_batch(self, pairs: Sequence[tuple[str, Any]]) -> None:
        """All sets, then one ``app.save()`` (one transaction)."""
        agg = self.aggregate
        for key, value in pairs:
            agg.set(key, value)
        with _synchronous(self._pragma):
            self.app.save(agg)
        self.events += len(pairs)

    def replay(self) -> int:
        """Rebuild the aggregate from its events; return how many were folded."""
        with _synchronous(self._pragma):
            agg = self.app.repository.get(self.aggregate.id)
        return agg.version

    def synchronous_level(self) -> int:
        """The ``PRAGMA synchronous`` eventsourcing's connection runs with (0 OFF, 1 NORMAL, 2 FULL)."""
        with self.app.factory.datastore.get_connection(commit=False) as conn:  # type: ignore[attr-defined]
            return conn._sqlite_conn.execute("PRAGMA synchronous").fetchone()[0]

    def close(self) -> None:
        self.app.close()


def timed(fn: Any, *args: Any) -> float:
    t0 = time.perf_counter()
    fn(*args)
    return time.perf_counter() - t0

"""The store's one connection to a PostgreSQL server: connecting, and staying connected.

Autocommit mode with ctxlog's session settings; the database must be UTF8. Statements sent
through :class:`Connection` first hand over the rows queued for the open transaction, and one
that finds the connection lost while no transaction is open (a server restart, a terminated
session) reconnects and is tried once more: nothing was lost. Inside a transaction a lost
connection fails the call, and the caller's transaction with it.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Iterator
from typing import Any, TypeVar

from ...errors import InvalidArgumentError, NotALedgerError
from ..batches import next_batch
from ..urls import redacted, scrubbed
from . import errors
from .errors import psycopg, translated
from .schema import INSERT

__all__ = ["CONNECT_TIMEOUT", "PAGE", "Connection", "session_settings"]

T = TypeVar("T")

PAGE = 2000
"""Rows a paged read fetches at a time."""

CONNECT_TIMEOUT = 10
"""Seconds to wait for the server, unless the URL or ``PGCONNECT_TIMEOUT`` says otherwise."""


def session_settings(synchronous: str, *, readonly: bool) -> list[str]:
    """The SET statements of a ctxlog session: lock timeout, custom plans (paged reads keep their
    index), read committed (the head is read after the lock), durability, read-only."""
    settings = [
        f"SET lock_timeout = '{errors.LOCK_TIMEOUT}'",  # one source for the setting and the message
        "SET plan_cache_mode = force_custom_plan",
        "SET default_transaction_isolation = 'read committed'",
    ]
    if synchronous in ("OFF", "NORMAL"):
        settings.append("SET synchronous_commit = off")
    if readonly:
        settings.append("SET default_transaction_read_only = on")
    return settings


class Connection:
    """A psycopg connection that reconnects when lost between transactions."""

    def __init__(self, url: str, settings: list[str]) -> None:
        self.url, self.location, self._settings = url, redacted(url), settings
        self.queued: list[tuple] = []
        """Rows (as INSERT parameters) of the open transaction not yet sent: they go with the next statement."""
        self.in_transaction = False
        self.closed = False
        with translated(url):
            self.raw = self._connect()

    def _connect(self) -> Any:
        options: dict[str, Any] = {"autocommit": True, "client_encoding": "utf8"}
        if "connect_timeout" not in self.url and "PGCONNECT_TIMEOUT" not in os.environ:
            options["connect_timeout"] = CONNECT_TIMEOUT
        try:
            conn = psycopg.connect(self.url, **options)
        except psycopg.ProgrammingError as exc:
            text = scrubbed(str(exc), self.url)
            raise InvalidArgumentError(f"{self.location}: not a usable PostgreSQL URL ({text})") from None
        try:
            encoding = conn.info.parameter_status("server_encoding") or ""
            if encoding != "UTF8":
                raise NotALedgerError(
                    f"{self.location}: the database's encoding is {encoding}, which cannot hold every name and "
                    "value; use a UTF8 database (CREATE DATABASE ... ENCODING 'UTF8')"
                )
            conn.execute("; ".join(self._settings))
        except BaseException:
            conn.close()
            raise
        return conn

    def run(self, call: Callable[[], T]) -> T:
        """``call()``, tried once more on a new connection when the old one turned out to be lost
        while no transaction was open."""
        with translated(self.url):
            if self.raw.broken and not self.in_transaction and not self.closed:
                self._reconnect()
            try:
                return call()
            except psycopg.OperationalError:
                if not self.raw.broken or self.in_transaction or self.closed:
                    raise
                self._reconnect()
                return call()

    def _reconnect(self) -> None:
        self.raw.close()
        self.raw = self._connect()

    def execute(self, sql: str, params: tuple = ()) -> None:
        """Run one statement (after the queued rows)."""

        def call() -> None:
            self.send_queued()
            self.raw.execute(sql, params)

        self.run(call)

    def all(self, sql: str, params: tuple = ()) -> list[tuple]:
        """Every row of one query (after the queued rows)."""

        def call() -> list[tuple]:
            self.send_queued()
            return self.raw.execute(sql, params).fetchall()  # type: ignore[no-any-return]

        return self.run(call)

    def one(self, sql: str, params: tuple = ()) -> tuple | None:
        """The first row of one query, or None (after the queued rows)."""

        def call() -> tuple | None:
            self.send_queued()
            return self.raw.execute(sql, params).fetchone()  # type: ignore[no-any-return]

        return self.run(call)

    def pages(
        self,
        sql: str,
        params: tuple,
        key: int,
        start: int,
        *,
        desc: bool = False,
        row: Callable[..., T],
        page: int = PAGE,
    ) -> Iterator[T]:
        """Rows of ``sql`` (which ends in a ``> %s`` or ``< %s`` on column ``key``), a page at a
        time: pages start at 16 rows and grow up to ``page`` while the rows are small."""
        last, size = start, min(16, page)
        while True:
            rows = self.all(f"{sql} {'DESC' if desc else ''} LIMIT {size}", (*params, last))
            for values in rows:
                yield row(*values)
            if len(rows) < size:
                return
            last, size = rows[-1][key], next_batch(rows, size, page)

    def streamed(self, sql: str) -> Iterator[tuple]:
        """The rows of one query that cannot be paged by key (an aggregate), through a server-side
        cursor in a read-only transaction of its own while the stream lasts."""
        with translated(self.url), self.raw.transaction(), self.raw.cursor(name="ctxlog_stream") as cursor:
            cursor.itersize = PAGE
            cursor.execute(sql)
            yield from cursor

    def value(self, sql: str, params: tuple, default: Any) -> Any:
        """The first column of the first row of one query; ``default`` for no row or NULL."""
        row = self.one(sql, params)
        return default if row is None or row[0] is None else row[0]

    def send_queued(self) -> None:
        """Hand the queued rows to the server (before anything that could read them)."""
        if self.queued:
            queued, self.queued = self.queued, []
            with self.raw.cursor() as cursor:
                cursor.executemany(INSERT, queued)

    def abandon(self) -> None:
        """Roll back whatever is open; a lost connection has nothing open left to roll back."""
        if self.raw.broken or self.raw.info.transaction_status == psycopg.pq.TransactionStatus.IDLE:
            return
        try:
            self.raw.execute("ROLLBACK")
        except psycopg.OperationalError:
            if not self.raw.broken:
                raise

    def close(self) -> None:
        """Close the connection; further calls are errors."""
        self.closed = True
        with translated(self.url):
            self.raw.close()

"""Which store a ledger location names: a PostgreSQL URL or connection string, ``:memory:``, or a
SQLite file. psycopg is imported only when a server location is opened."""

from __future__ import annotations

from ..errors import InvalidArgumentError
from .sqlite import SQLiteStore
from .store import Store
from .urls import is_url, redacted

__all__ = ["open_store"]


def open_store(path: str, *, readonly: bool = False, create: bool = True, synchronous: str = "FULL") -> Store:
    """The backend for ``path``: PostgreSQL for a ``postgresql://`` (or ``postgres://``) URL or a
    libpq connection string, an in-memory SQLite database for ``:memory:``, else a SQLite file."""
    if not isinstance(path, str):
        path = str(path)
    if is_url(path):
        scheme = path.split("://", 1)[0] if "://" in path else "postgresql"
        if scheme.lower() not in ("postgresql", "postgres"):
            raise InvalidArgumentError(
                f"{redacted(path)}: no ledger backend for {scheme!r} URLs; use a SQLite file path or a "
                "postgresql:// URL"
            )
        from .postgres import PostgresStore

        return PostgresStore(path, readonly=readonly, synchronous=synchronous)
    return SQLiteStore(path, readonly=readonly, create=create, synchronous=synchronous)

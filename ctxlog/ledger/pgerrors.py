"""psycopg errors as ctxlog errors, translated here and only here; and URLs fit to show.

Every call of the PostgreSQL backend runs inside :class:`translated`, so no psycopg exception
reaches a caller: each becomes the ctxlog error that says what was wrong and what to do.
"""

from __future__ import annotations

import re

from ..errors import InvalidArgumentError, NotALedgerError, ReadOnlyError, StorageError

try:
    import psycopg
    from psycopg import errors as pgerrors
except ImportError:  # pragma: no cover - exercised only without the extra
    psycopg = None  # type: ignore[assignment]

LOCK_TIMEOUT = "30s"
"""How long a writer waits for another writer's lock before it gives up with a StorageError."""


def redacted(url: str) -> str:
    """``url`` with any password replaced by ``***``, fit for messages and logs."""
    return re.sub(r"(://[^:/@]*:)[^@/]*@", r"\1***@", url)


class translated:
    """Turn ``psycopg`` errors into ctxlog errors that say what to do."""

    __slots__ = ("location",)

    def __init__(self, location: str) -> None:
        self.location = location

    def __enter__(self) -> None:
        return None

    def __exit__(self, exc_type: type | None, exc: BaseException | None, tb: object) -> None:
        if exc_type is None or not issubclass(exc_type, psycopg.Error):
            return
        raise _translate(self.location, exc) from exc  # type: ignore[arg-type]


def _translate(where: str, exc: Exception) -> Exception:
    text = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
    if isinstance(exc, pgerrors.ReadOnlySqlTransaction | pgerrors.InsufficientPrivilege):
        return ReadOnlyError(f"{where}: the ledger is read-only here ({text})")
    if isinstance(exc, pgerrors.LockNotAvailable):
        return StorageError(f"{where}: another writer held the ledger's write lock for {LOCK_TIMEOUT}; try again")
    if isinstance(exc, pgerrors.InvalidSchemaName | pgerrors.InvalidCatalogName):
        return NotALedgerError(f"{where}: {text}; create it first or check the URL")
    if isinstance(exc, psycopg.DataError) and "NUL" in text:
        return InvalidArgumentError(f"{where}: PostgreSQL text cannot hold NUL characters ({text})")
    if isinstance(exc, psycopg.OperationalError) and "does not exist" in text:
        return NotALedgerError(f"{where}: {text.rsplit('FATAL:', 1)[-1].strip()}; create it first or check the URL")
    if isinstance(exc, psycopg.OperationalError):
        return StorageError(f"{where}: cannot reach the PostgreSQL server: {text}")
    return StorageError(f"{where}: PostgreSQL failed: {text}")

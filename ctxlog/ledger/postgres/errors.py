"""psycopg errors as ctxlog errors, translated here and only here.

Every call of the PostgreSQL backend runs inside :class:`translated`, so no psycopg exception
reaches a caller: each becomes the ctxlog error that says what was wrong and what to do, on one
line, with the URL's password replaced by ``***`` wherever the server or libpq echoed it.
"""

from __future__ import annotations

import logging

from ...errors import InvalidArgumentError, NotALedgerError, ReadOnlyError, StorageError
from ..urls import redacted, scrubbed

__all__ = ["LOCK_TIMEOUT", "translated"]

try:
    import psycopg
    from psycopg import errors as pgerrors

    logging.getLogger("psycopg").addHandler(logging.NullHandler())  # its notes would add stderr lines
except ImportError:  # pragma: no cover - exercised only without the extra
    psycopg = None  # type: ignore[assignment]

LOCK_TIMEOUT = "30s"
"""How long a writer waits for another writer's lock before it gives up with a StorageError."""


class translated:
    """Turn ``psycopg`` errors (and text no encoding can carry) into ctxlog errors about ``url``."""

    __slots__ = ("url", "location")

    def __init__(self, url: str) -> None:
        self.url = url
        self.location = redacted(url)

    def __enter__(self) -> None:
        return None

    def __exit__(self, exc_type: type | None, exc: BaseException | None, tb: object) -> None:
        if exc_type is None:
            return
        if issubclass(exc_type, UnicodeError):
            raise InvalidArgumentError(
                f"{self.location}: text that UTF-8 cannot carry (a lone surrogate?): {exc}"
            ) from exc
        if issubclass(exc_type, psycopg.Error):
            raise _translate(self.location, scrubbed(str(exc), self.url), exc) from exc  # type: ignore[arg-type]


def _translate(where: str, text: str, exc: Exception) -> Exception:
    text = text or type(exc).__name__
    if isinstance(exc, pgerrors.ReadOnlySqlTransaction):
        return ReadOnlyError(f"{where}: the ledger is read-only here ({text})")
    if isinstance(exc, pgerrors.InsufficientPrivilege):
        return ReadOnlyError(f"{where}: this role lacks a privilege the operation needs ({text})")
    if isinstance(exc, pgerrors.LockNotAvailable):
        return StorageError(
            f"{where}: waited {LOCK_TIMEOUT} for a lock another session held (another writer, or DDL on the "
            "ledger's tables); try again"
        )
    if isinstance(exc, pgerrors.QueryCanceled):
        return StorageError(f"{where}: the statement was cancelled (statement_timeout, or by an administrator): {text}")
    if isinstance(exc, pgerrors.ProgramLimitExceeded):
        return InvalidArgumentError(f"{where}: too large for PostgreSQL: {text}")
    if isinstance(exc, pgerrors.InvalidSchemaName | pgerrors.InvalidCatalogName):
        return NotALedgerError(f"{where}: {text}; create it first or check the URL")
    if isinstance(exc, psycopg.DataError) and "NUL" in text:
        return InvalidArgumentError(f"{where}: PostgreSQL text cannot hold NUL characters ({text})")
    if isinstance(exc, psycopg.OperationalError) and "does not exist" in text:
        return NotALedgerError(f"{where}: {text.rsplit('FATAL:', 1)[-1].strip()}; create it first or check the URL")
    if isinstance(exc, psycopg.OperationalError) and (exc.sqlstate is None or exc.sqlstate.startswith("08")):
        return StorageError(f"{where}: cannot reach the PostgreSQL server: {text}")
    return StorageError(f"{where}: PostgreSQL failed: {text}")

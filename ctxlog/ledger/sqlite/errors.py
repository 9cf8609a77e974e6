"""sqlite3 errors as ctxlog errors, translated here and only here."""

from __future__ import annotations

import sqlite3

from ...errors import InvalidArgumentError, NotALedgerError, ReadOnlyError, StorageError

__all__ = ["translated"]


class translated:
    """Turn ``sqlite3`` errors into ctxlog errors that say what to do (a class: it wraps every call)."""

    __slots__ = ("location",)

    def __init__(self, location: str) -> None:
        self.location = location

    def __enter__(self) -> None:
        return None

    def __exit__(self, exc_type: type | None, exc: BaseException | None, tb: object) -> None:
        if exc_type is not None and issubclass(exc_type, UnicodeEncodeError):
            raise InvalidArgumentError(
                f"{self.location}: text that UTF-8 cannot carry (a lone surrogate?): {exc}"
            ) from exc
        if exc_type is None or not issubclass(exc_type, (sqlite3.Error, UnicodeDecodeError)):
            return
        raise _translate(self.location, exc) from exc  # type: ignore[arg-type]


def _translate(location: str, exc: Exception) -> Exception:
    text = str(exc)
    if isinstance(exc, UnicodeDecodeError):
        return StorageError(f"{location}: the file is damaged (text that is not UTF-8); restore it from a backup")
    if isinstance(exc, sqlite3.DatabaseError):
        if "file is not a database" in text or "malformed" in text:
            return NotALedgerError(
                f"{location}: not a readable SQLite ledger ({text}); check the path or restore a backup"
            )
        if "readonly" in text or "read-only" in text:
            return ReadOnlyError(f"{location}: the ledger is read-only here ({text})")
        if "append-only" in text:
            return StorageError(f"{location}: {text}")
        if "decode" in text or "corrupt" in text:
            return StorageError(f"{location}: the file is damaged ({text}); restore it from a backup")
    return StorageError(f"{location}: SQLite failed: {text}")

"""The SQLite backend: the store (``store.py``), its schema (``schema.py``) and the translation of
sqlite3's errors (``errors.py``)."""

from __future__ import annotations

from .store import SQLiteStore

__all__ = ["SQLiteStore"]

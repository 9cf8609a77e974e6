"""The PostgreSQL backend: the store (``store.py``), its SQL (``schema.py``) and the translation of
psycopg's errors (``errors.py``). Imported only when a server location is opened."""

from __future__ import annotations

from .store import PostgresStore

__all__ = ["PostgresStore"]

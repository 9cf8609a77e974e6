"""Test support shipped with ctxlog, for its own suite and for third-party storage backends.

``PostgresCluster`` runs a throwaway PostgreSQL server. The store conformance suites live in
``ctxlog.testing.conformance`` (``StoreConformance``) and ``ctxlog.testing.shared``
(``SharedStoreConformance``, for stores several processes share): a backend's tests subclass
them unchanged, as eventsourcing's recorders subclass its recorder test cases. Those modules need
pytest; this one does not.
"""

from __future__ import annotations

from .postgres import SUPERUSER, ClusterUnavailable, PostgresCluster, find_bindir, free_port

__all__ = ["SUPERUSER", "ClusterUnavailable", "PostgresCluster", "find_bindir", "free_port"]

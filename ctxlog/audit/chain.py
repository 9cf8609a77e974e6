"""The chain and the ledger as a whole: verify it, export it, import an export.

``verify`` and ``export`` open the ledger read-only; ``import_`` creates one.
"""

from __future__ import annotations

import contextlib
import os
from collections.abc import Iterable
from typing import BinaryIO

from ..ledger import ExportHeader, Ledger, Progress, VerifyResult, check_export_key, is_url, read_export_header

__all__ = ["export", "import_", "verify"]


def verify(
    path: str,
    *,
    key: bytes | str | None = None,
    head: tuple[int, str] | None = None,
    progress: Progress | None = None,
) -> VerifyResult:
    """Recompute the whole chain of the ledger at ``path``; ``head`` is an ``(offset, hash)``
    exported earlier (``ctxlog head``) that the log must still reach unchanged.

    A keyed ledger needs its ``key``: without it a KeyMismatchError says so. ``progress(done,
    total)`` is called every 10,000 events.
    """
    with Ledger.open(str(path), readonly=True, create=False, key=key) as ledger:
        return ledger.verify(head=head, progress=progress)


def export(path: str, out: BinaryIO) -> ExportHeader:
    """Write the ledger at ``path`` as JSON Lines to ``out``: a header, then one row a line with
    every column. Payloads are the exact stored text, so an import re-verifies the chain byte for byte.
    """
    with Ledger.open(str(path), readonly=True, create=False) as ledger:
        return ledger.export(out)


def import_(
    path: str,
    source: Iterable[bytes],
    *,
    key: bytes | str | None = None,
    name: str = "<export>",
    progress: Progress | None = None,
) -> VerifyResult:
    """Create the ledger at ``path`` (or fill an empty one) from an export: all rows verified, or none.

    ``source`` yields the export's lines; ``name`` names it in errors; a keyed export needs its
    ``key``; ``progress(done, total)`` is called every 10,000 rows. When the import fails, nothing
    is appended and a file this call created is removed (a PostgreSQL schema keeps the empty
    ledger tables: dropping tables is not an importer's call).
    """
    path = str(path)
    raw_key = key.encode() if isinstance(key, str) else key
    lines = iter(source)
    header = read_export_header(lines, name)
    check_export_key(header, raw_key, name)
    created = not is_url(path) and not os.path.exists(path)
    try:
        with Ledger.open(path, key=raw_key, create=True) as ledger:
            return ledger.import_rows(lines, header, source=name, progress=progress)
    except BaseException:
        if created:
            for suffix in ("", "-wal", "-shm", "-journal"):
                with contextlib.suppress(FileNotFoundError):
                    os.remove(path + suffix)
        raise

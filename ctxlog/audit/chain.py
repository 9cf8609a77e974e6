"""The ledger as a whole: export it, import an export.

``export`` opens the ledger read-only; ``import_`` creates one.
"""

from __future__ import annotations

import contextlib
import os
from collections.abc import Iterable
from typing import BinaryIO

from ..ledger import (
    ExportHeader,
    Ledger,
    Progress,
    VerifyResult,
    bounded_lines,
    check_export_key,
    check_key,
    export_meta,
    is_url,
    read_export_header,
)
from .access import opened, verified_whole

__all__ = ["export", "import_"]


def export(path: str, out: BinaryIO, *, verify: bool = False, key: bytes | str | None = None) -> ExportHeader:
    """Write the ledger at ``path`` as JSON Lines to ``out``: a header, then one row a line with
    every column. Payloads are the exact stored text, so an import re-verifies the chain byte for
    byte. With ``verify`` the whole ledger is verified first (under its ``key``).
    """
    if verify:
        verified_whole(path, key)
    with opened(path, key) as ledger:
        return ledger.export(out)


def import_(
    path: str,
    source: Iterable[bytes] | BinaryIO,
    *,
    key: bytes | str | None = None,
    name: str = "<export>",
    progress: Progress | None = None,
) -> VerifyResult:
    """Create the ledger at ``path`` (or fill an empty one) from an export: all rows verified, or none.

    ``source`` is the export as a binary stream (read line by line, each line bounded) or as its
    lines; ``name`` names it in errors; a keyed export needs its ``key``; ``progress(done,
    total)`` is called every 10,000 rows. The copy keeps the exported ledger's id and meta, so
    exporting it again gives the same bytes. When the import fails, nothing is appended and a
    file this call created is removed (a PostgreSQL schema keeps the empty ledger tables:
    dropping tables is not an importer's call).
    """
    path = str(path)
    lines = bounded_lines(source, name) if hasattr(source, "readline") else iter(source)  # type: ignore[arg-type]
    header = read_export_header(lines, name)
    raw_key = check_key(key)
    check_export_key(header, raw_key, name)
    created = not is_url(path) and not os.path.exists(path)
    try:
        with Ledger.open(path, key=raw_key, create=True, meta=export_meta(header)) as ledger:
            return ledger.import_rows(lines, header, source=name, progress=progress)
    except BaseException:
        if created:
            for suffix in ("", "-wal", "-shm", "-journal"):
                with contextlib.suppress(FileNotFoundError):
                    os.remove(path + suffix)
        raise

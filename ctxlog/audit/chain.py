"""The ledger as a whole: export it, import an export, migrate it to the current schema.

``export`` opens the ledger read-only; ``import_`` and ``migrate`` create one.
"""

from __future__ import annotations

import contextlib
import os
from collections.abc import Iterable
from typing import BinaryIO

from ..errors import IntegrityError, InvalidArgumentError, LedgerError
from ..ledger import (
    SCHEMA_VERSION,
    ExportHeader,
    Ledger,
    Progress,
    VerifyResult,
    bounded_lines,
    check_export_key,
    check_key,
    export_meta,
    is_url,
    migrated_meta,
    read_export_header,
    redacted,
)
from .access import opened, verified_whole
from .otlp import OtlpExport, write_otlp
from .verification import verify

__all__ = ["EXPORT_FORMATS", "export", "import_", "migrate"]

EXPORT_FORMATS = ("jsonl", "otlp")
"""What ``export`` writes: the whole ledger as JSON Lines, or one run as OTLP/JSON traces."""


def export(
    path: str,
    out: BinaryIO,
    *,
    verify: bool = False,
    key: bytes | str | None = None,
    format: str = "jsonl",
    run: str | None = None,
) -> ExportHeader | OtlpExport:
    """Write the ledger at ``path`` to ``out``. ``format="jsonl"``: the whole ledger as JSON Lines,
    a header, then one row a line with every column; payloads are the exact stored text, so an
    import re-verifies the chain byte for byte. ``format="otlp"``: ``run`` (the only run when
    None) as OpenTelemetry trace data in the protobuf JSON mapping, one span per context (see
    ``docs/otel.md``), the same bytes every time. With ``verify`` the whole ledger is verified
    first (under its ``key``).
    """
    if format not in EXPORT_FORMATS:
        raise InvalidArgumentError(f"export format must be one of {', '.join(EXPORT_FORMATS)}, not {format!r}")
    if format == "jsonl" and run is not None:
        raise InvalidArgumentError("a JSON Lines export holds the whole ledger; --run goes with --format otlp")
    if verify:
        verified_whole(path, key)
    with opened(path, key) as ledger:
        if format == "otlp":
            return write_otlp(ledger, ledger.choose_run(run), out)
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
            _remove(path)
        raise


def migrate(
    path: str,
    target: str,
    *,
    key: bytes | str | None = None,
    progress: Progress | None = None,
) -> VerifyResult:
    """Bring the ledger at ``path`` (an older schema version) forward into a new ledger at
    ``target``: the same rows re-chained from the new ledger's genesis, whose meta keeps the ledger
    id and records the old schema version and head (``migrated_from``, ``migrated_head``).

    The source must verify first (a keyed one under its ``key``, which the copy keeps). Nothing is
    kept of a migration that fails, and a file this call created is removed. ``progress(done,
    total)`` is called every 10,000 rows copied. Returns the copy's verification.
    """
    raw_key = check_key(key)
    checked = verify(path, key=raw_key)
    if not checked.ok:
        raise IntegrityError(f"{redacted(str(path))}: {checked.summary()}; nothing was migrated", checked.bad_offset)
    target = str(target)
    with opened(path, raw_key) as source:
        if source.version >= SCHEMA_VERSION:
            raise LedgerError(f"{source.location}: already at schema version {source.version}; nothing to migrate")
        meta = migrated_meta(source.meta, (checked.head_offset, checked.head_hash))
        created = not is_url(target) and not os.path.exists(target)
        try:
            with Ledger.open(target, key=raw_key, create=True, meta=meta) as copy:
                if copy.head() is not None or copy.meta != meta:
                    raise LedgerError(f"{copy.location}: not a new, empty ledger; migrate into a new file")
                copy.migrate_from(source, progress=progress)
        except BaseException:
            if created:
                _remove(target)
            raise
    return verify(target, key=raw_key)


def _remove(path: str) -> None:
    for suffix in ("", "-wal", "-shm", "-journal"):
        with contextlib.suppress(FileNotFoundError):
            os.remove(path + suffix)

"""Export and import: a whole ledger as JSON Lines, byte-exact so the chain re-verifies anywhere.

The first line is a header naming the format, the source ledger and its hash algorithm and head;
every further line is one row with all its columns, the payload as the exact stored text in a
string field. An import goes into an empty ledger in one transaction: every row is verified
(offsets, seqs, chain, the header's head and count) before the commit, and nothing is kept when
any check fails.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from typing import BinaryIO

import msgspec

from ..errors import IntegrityError, KeyMismatchError, LedgerError
from .chain import Chain
from .events import Record
from .reader import Progress, counted
from .store import Store
from .verify import VerifyResult, verify_records

__all__ = [
    "EXPORT_VERSION",
    "EXPORT_VERSIONS",
    "MAX_HEADER_BYTES",
    "MAX_LINE_BYTES",
    "ExportHeader",
    "bounded_lines",
    "check_export_key",
    "export_meta",
    "export_rows",
    "import_rows",
    "inserting",
    "read_export_header",
]

EXPORT_VERSION = 2
"""The export format written: version 2 carries the whole meta table (version 1 exports still import)."""
EXPORT_VERSIONS = (1, 2)
BATCH = 1000
MAX_HEADER_BYTES = 1 << 20
"""The longest first line an import reads."""
MAX_LINE_BYTES = 256 << 20
"""The longest row line an import reads (a row carries at most a value or a tree): never more."""


class ExportHeader(msgspec.Struct, frozen=True, omit_defaults=True):
    """The first line of an export: what the rows need to be verified and imported."""

    ctxlog_export: int
    """The export format's version."""
    ledger_id: str
    """The id of the exported ledger."""
    hash_algorithm: str
    """``"sha256"``, or ``"hmac-sha256"`` for a keyed ledger."""
    schema_version: int
    """The schema version of the exported ledger."""
    events: int
    """How many rows follow the header."""
    head: str
    """``OFFSET:HASH`` of the last row, as ``ctxlog head`` prints it."""
    key_check: str | None = None
    """For a keyed ledger: the tag that tells its key from a wrong one."""
    meta: dict[str, str] | None = None
    """The exported ledger's meta table (export version 2): an import recreates it, so the copy
    keeps the id and settings the chain's genesis commits to."""

    @property
    def head_pair(self) -> tuple[int, str]:
        """:attr:`head` as ``(offset, hash)``."""
        offset, _, digest = self.head.partition(":")
        return int(offset), digest


_encoder = msgspec.json.Encoder()
_header_decoder = msgspec.json.Decoder(ExportHeader)
_record_decoder = msgspec.json.Decoder(Record)


def export_rows(store: Store, meta: dict[str, str], genesis: str, out: BinaryIO) -> ExportHeader:
    """Write the header and every row of ``store`` up to its present head to ``out``."""
    head = store.head() or (0, genesis)
    header = ExportHeader(
        EXPORT_VERSION,
        meta["ledger_id"],
        meta["hash_algorithm"],
        int(meta["schema_version"]),
        head[0],
        f"{head[0]}:{head[1]}",
        meta.get("key_check"),
        dict(sorted(meta.items())),
    )
    out.write(_encoder.encode(header) + b"\n")
    for record in store.scan(until=head[0]):
        if type(record.payload) is not str:
            raise IntegrityError(f"offset {record.offset}: the payload is not text; run ctxlog verify", record.offset)
        out.write(_encoder.encode(record) + b"\n")
    return header


def bounded_lines(stream: BinaryIO, source: str) -> Iterator[bytes]:
    """The lines of ``stream``, each read with a bound (the header's smaller), so that a file
    without newlines (``/dev/zero``) is refused instead of read whole."""
    limit = MAX_HEADER_BYTES
    while True:
        line = stream.readline(limit + 1)
        if not line:
            return
        if len(line) > limit:
            raise LedgerError(f"{source}: a line longer than {limit} bytes; not a ctxlog export")
        yield line
        limit = MAX_LINE_BYTES


def read_export_header(lines: Iterator[bytes], source: str) -> ExportHeader:
    """The header from the first line of an export; LedgerError when it is not one."""
    first = next(lines, b"")
    try:
        header = _header_decoder.decode(first)
    except (msgspec.DecodeError, msgspec.ValidationError) as exc:
        raise LedgerError(f"{source}: not a ctxlog export (line 1 is not its header: {_short(exc)})") from None
    offset, colon, digest = header.head.partition(":")
    if not (colon and offset.isdigit() and len(offset) < 20 and len(digest) == 64):
        raise LedgerError(f"{source}: the export header's head {_short(header.head)} is not OFFSET:HASH")
    if header.ctxlog_export not in EXPORT_VERSIONS:
        raise LedgerError(f"{source}: export format {header.ctxlog_export} is not one this ctxlog reads; upgrade it")
    if header.ctxlog_export >= 2 and (header.meta is None or header.meta.get("ledger_id") != header.ledger_id):
        raise LedgerError(f"{source}: the export header's meta does not name its ledger")
    return header


def _short(value: object, limit: int = 120) -> str:
    text = str(value) if isinstance(value, Exception) else repr(value)
    return text if len(text) <= limit else text[: limit - 1] + "…"


def export_meta(header: ExportHeader) -> dict[str, str]:
    """The meta table a ledger imported from ``header`` starts with: the exported one (an export
    of version 1 carried none: a schema-1 ledger of the same id and algorithm)."""
    if header.meta is not None:
        return dict(header.meta)
    meta = {
        "format": "ctxlog", "schema_version": "1", "ledger_id": header.ledger_id,
        "hash_algorithm": header.hash_algorithm, "created_ns": "0",
    }  # fmt: skip
    if header.key_check is not None:
        meta["key_check"] = header.key_check
    return meta


def check_export_key(header: ExportHeader, key: bytes | None, source: str) -> None:
    """Refuse a keyed export without its key (or with the wrong one), and a key for an unkeyed one."""
    keyed = header.hash_algorithm == "hmac-sha256"
    if keyed and key is None:
        raise KeyMismatchError(f"{source}: the export is of a keyed ledger (HMAC-SHA256); give its key")
    if not keyed and key is not None:
        raise KeyMismatchError(f"{source}: the export is of an unkeyed ledger; import it without a key")
    if keyed and header.key_check is not None and Chain(key).key_check(header.ledger_id) != header.key_check:
        raise KeyMismatchError(f"{source}: wrong key for this export")


def _records(lines: Iterator[bytes], source: str) -> Iterator[Record]:
    for number, line in enumerate(lines, start=2):
        if not line.strip():
            continue
        try:
            yield _record_decoder.decode(line)
        except (msgspec.DecodeError, msgspec.ValidationError) as exc:
            raise LedgerError(f"{source}: line {number} is not an exported row ({_short(exc)})") from None


def inserting(store: Store, records: Iterable[Record]) -> Iterator[Record]:
    """Pass each record on, then insert it in batches: only rows already checked are inserted."""
    batch: list[Record] = []
    for record in records:
        yield record
        batch.append(record)
        if len(batch) >= BATCH:
            store.insert(batch)
            batch = []
    if batch:
        store.insert(batch)


def _import_target(store: Store, meta: dict[str, str], header: ExportHeader) -> dict[str, str]:
    """The meta the copy must have, once ``store`` is known to be an empty ledger that can hold it."""
    where = store.location
    if meta.get("hash_algorithm") != header.hash_algorithm:
        raise LedgerError(
            f"{where}: the ledger uses {meta.get('hash_algorithm')} but the export {header.hash_algorithm}; "
            "import into a new file"
        )
    present = store.head()
    if present is not None:
        raise LedgerError(f"{where}: the ledger already holds {present[0]} events; import into a new file")
    wanted = export_meta(header)
    if str(store.version) != wanted.get("schema_version"):
        raise LedgerError(
            f"{where}: the export is of schema version {wanted.get('schema_version')} and this empty ledger of "
            f"version {store.version}; import into a new file"
        )
    return wanted


def import_rows(
    store: Store,
    chain: Chain,
    meta: dict[str, str],
    genesis: str,
    lines: Iterable[bytes],
    header: ExportHeader,
    *,
    source: str,
    progress: Progress | None = None,
) -> VerifyResult:
    """Append the rows after the header to the empty ``store``: all of them verified, or none.

    ``chain`` must be made with the export's key, if any (see :func:`check_export_key`); ``meta``
    and ``genesis`` are the store's. An empty ledger of another id takes the export's meta (in the
    same transaction), so that the copy's chain, which commits to its meta, re-verifies.
    """
    wanted = _import_target(store, meta, header)
    store.begin()
    try:
        if meta != wanted:
            store.replace_meta(wanted)
            genesis = chain.genesis(wanted) if store.version >= 2 else genesis
        rows = counted(inserting(store, _records(iter(lines), source)), header.events, progress)
        result = verify_records(rows, chain, genesis=genesis, expect_head=header.head_pair)
        if result.ok and result.events != header.events:
            reason = f"the export holds {result.events} rows but its header says {header.events}"
            result = result.failed(header.events + 1, reason)
        if not result.ok:
            raise IntegrityError(f"{source}: {result.summary()}; nothing was imported", result.bad_offset)
        store.commit()
    except BaseException:
        store.rollback()
        raise
    return result

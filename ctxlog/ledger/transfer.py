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
from .chain import GENESIS, Chain
from .events import Record
from .reader import Progress, counted
from .store import Store
from .verify import VerifyResult, verify_records

__all__ = ["EXPORT_VERSION", "ExportHeader", "check_export_key", "export_rows", "import_rows", "read_export_header"]

EXPORT_VERSION = 1
BATCH = 1000


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

    @property
    def head_pair(self) -> tuple[int, str]:
        """:attr:`head` as ``(offset, hash)``."""
        offset, _, digest = self.head.partition(":")
        return int(offset), digest


_encoder = msgspec.json.Encoder()
_header_decoder = msgspec.json.Decoder(ExportHeader)
_record_decoder = msgspec.json.Decoder(Record)


def export_rows(store: Store, meta: dict[str, str], out: BinaryIO) -> ExportHeader:
    """Write the header and every row of ``store`` up to its present head to ``out``."""
    head = store.head() or (0, GENESIS)
    header = ExportHeader(
        EXPORT_VERSION,
        meta["ledger_id"],
        meta["hash_algorithm"],
        int(meta["schema_version"]),
        head[0],
        f"{head[0]}:{head[1]}",
        meta.get("key_check"),
    )
    out.write(_encoder.encode(header) + b"\n")
    for record in store.scan(until=head[0]):
        out.write(_encoder.encode(record) + b"\n")
    return header


def read_export_header(lines: Iterator[bytes], source: str) -> ExportHeader:
    """The header from the first line of an export; LedgerError when it is not one."""
    first = next(lines, b"")
    try:
        header = _header_decoder.decode(first)
    except (msgspec.DecodeError, msgspec.ValidationError) as exc:
        raise LedgerError(f"{source}: not a ctxlog export (line 1 is not its header: {exc})") from None
    offset, colon, digest = header.head.partition(":")
    if not (colon and offset.isdigit() and len(digest) == 64):
        raise LedgerError(f"{source}: the export header's head {header.head!r} is not OFFSET:HASH")
    if header.ctxlog_export != EXPORT_VERSION:
        raise LedgerError(f"{source}: export format {header.ctxlog_export} is not {EXPORT_VERSION}; upgrade ctxlog")
    return header


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
            raise LedgerError(f"{source}: line {number} is not an exported row ({exc})") from None


def _inserting(store: Store, records: Iterable[Record]) -> Iterator[Record]:
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


def import_rows(
    store: Store,
    chain: Chain,
    meta: dict[str, str],
    lines: Iterable[bytes],
    header: ExportHeader,
    *,
    source: str,
    progress: Progress | None = None,
) -> VerifyResult:
    """Append the rows after the header to the empty ``store``: all of them verified, or none.

    ``chain`` must be made with the export's key, if any (see :func:`check_export_key`).
    """
    where = store.location
    if meta.get("hash_algorithm") != header.hash_algorithm:
        raise LedgerError(
            f"{where}: the ledger uses {meta.get('hash_algorithm')} but the export {header.hash_algorithm}; "
            "import into a new file"
        )
    present = store.head()
    if present is not None:
        raise LedgerError(f"{where}: the ledger already holds {present[0]} events; import into a new file")
    store.begin()
    try:
        rows = counted(_inserting(store, _records(iter(lines), source)), header.events, progress)
        result = verify_records(rows, chain, expect_head=header.head_pair)
        if result.ok and result.events != header.events:
            result = VerifyResult(
                False,
                result.events,
                result.runs,
                result.head_offset,
                result.head_hash,
                result.algorithm,
                header.events + 1,
                f"the export holds {result.events} rows but its header says {header.events}",
            )
        if not result.ok:
            raise IntegrityError(f"{source}: {result.summary()}; nothing was imported", result.bad_offset)
        store.commit()
    except BaseException:
        store.rollback()
        raise
    return result

"""Bringing a ledger of an older schema version forward: the same rows, re-chained from the new
ledger's genesis, in a new ledger whose meta records where it came from.

The source must verify first. The copy keeps the ledger id, the algorithm and the key check, and
adds ``migrated_from`` (the old schema version) and ``migrated_head`` (the old ``OFFSET:HASH``, the
head an auditor may have kept) to its meta, so its genesis, and with it every new hash, commits
to the history it was derived from. Snapshots are not copied: they are rebuilt as the runs go on.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator

import msgspec

from ..errors import IntegrityError
from .chain import Chain
from .codec import canonical
from .events import Record
from .reader import Progress, counted
from .store import SCHEMA_VERSION, Store
from .transfer import inserting
from .verify import VerifyResult, verify_records

__all__ = ["copy_rechained", "migrated_meta"]


def migrated_meta(meta: dict[str, str], head: tuple[int, str]) -> dict[str, str]:
    """The meta table of the copy of a ledger with ``meta`` whose head is ``head``."""
    copy = {k: v for k, v in meta.items() if not k.startswith("migrated_")}
    copy.update(
        schema_version=str(SCHEMA_VERSION),
        migrated_from=meta.get("schema_version", ""),
        migrated_head=f"{head[0]}:{head[1]}",
    )
    return copy


def _rechained(records: Iterable[Record], chain: Chain, genesis: str) -> Iterator[Record]:
    previous = genesis
    for r in records:
        digest = chain.link(previous, canonical(r.offset, r.run, r.seq, r.ts, r.kind, r.context, r.cause, r.payload))
        yield msgspec.structs.replace(r, hash=digest)
        previous = digest


def copy_rechained(
    store: Store, chain: Chain, genesis: str, records: Iterable[Record], *, total: int, progress: Progress | None
) -> VerifyResult:
    """Append ``records`` to the empty ``store``, re-chained from ``genesis``, in one transaction:
    every row verified as it goes in, or none kept."""
    store.begin()
    try:
        rows = counted(inserting(store, _rechained(records, chain, genesis)), total, progress)
        result = verify_records(rows, chain, genesis=genesis)
        if not result.ok:
            raise IntegrityError(f"{store.location}: {result.summary()}; nothing was migrated", result.bad_offset)
        store.commit()
    except BaseException:
        store.rollback()
        raise
    return result

"""Recomputing the chain: what an auditor runs to know the log is as it was written.

The check streams every row of the table once, in offset order, whatever its offset, with
constant memory per run: offsets must be dense from 1 (a row below 1 or past a gap is named),
each run's ``seq`` dense from 1, each payload must carry its row's kind, and each hash must be
the link of the previous hash (the ledger's genesis for row 1) and the row's canonical bytes.
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterable, Iterator

import msgspec

from ..errors import IntegrityError
from .chain import GENESIS, Chain
from .codec import canonical
from .events import Record

__all__ = ["VerifyResult", "checked", "verify_records"]


class VerifyResult(msgspec.Struct, frozen=True):
    """The outcome of a chain check: ``ok``, or the first bad ``offset`` and why."""

    ok: bool
    """Whether the whole chain verified."""
    events: int
    """Rows checked before the end (or the first fault)."""
    runs: int
    """Runs seen in them."""
    head_offset: int
    """The offset of the last good row."""
    head_hash: str
    """Its hash: with ``head_offset``, the ``OFFSET:HASH`` to keep for a later ``--head`` check."""
    algorithm: str
    """``"sha256"`` or ``"hmac-sha256"``."""
    bad_offset: int | None = None
    """The first offset that does not verify (None when ``ok``)."""
    reason: str | None = None
    """What is wrong there (None when ``ok``)."""
    ledger_id: str = ""
    """The id of the ledger verified."""
    schema_version: int = 0
    """Its storage schema version."""

    def summary(self) -> str:
        """One line for people and logs."""
        if self.ok:
            return (
                f"ok: {self.events} events in {self.runs} run(s), chain intact ({self.algorithm}), "
                f"head {self.head_offset}:{self.head_hash}"
            )
        where = f"at offset {self.bad_offset}" if self.bad_offset is not None else "(the ledger as a whole)"
        return f"FAILED {where}: {self.reason}"

    def failed(self, offset: int | None, reason: str) -> VerifyResult:
        """This result, turned into a failure at ``offset`` for ``reason``."""
        return msgspec.structs.replace(self, ok=False, bad_offset=offset, reason=reason)


def verify_records(
    records: Iterable[Record],
    chain: Chain,
    *,
    genesis: str = GENESIS,
    expect_head: tuple[int, str] | None = None,
    seqs: dict[str, int] | None = None,
) -> VerifyResult:
    """Check a whole log given in offset order from offset 1; stop at the first fault.

    The links are checked by :func:`checked`; on top of them each run's ``seq`` must be dense,
    each payload must carry its row's kind, and the log must reach ``expect_head`` unchanged.
    ``seqs``, when given, is filled with each run's last seq.
    """
    previous, count = genesis, 0
    seqs = {} if seqs is None else seqs

    def fail(offset: int | None, reason: str) -> VerifyResult:
        return VerifyResult(False, count, len(seqs), count, previous, chain.algorithm, offset, reason)

    try:
        for r in checked(records, chain, previous=genesis):
            seq = seqs.get(r.run, 0) + 1
            if r.seq != seq:
                return fail(r.offset, f"run {r.run!r} has seq {r.seq} where {seq} was due")
            if not r.payload.startswith(f'{{"kind":"{r.kind}"'):
                return fail(r.offset, f"payload does not hold an event of kind {r.kind!r}")
            if expect_head is not None and r.offset == expect_head[0] and r.hash != expect_head[1]:
                return fail(r.offset, "the hash here differs from the exported head: the log was rewritten")
            seqs[r.run] = seq
            previous, count = r.hash, count + 1
    except IntegrityError as exc:
        return fail(exc.offset, exc.reason)
    if expect_head is not None and expect_head[0] == 0 and expect_head[1] != genesis:
        return fail(1, "the exported head of the empty ledger is not this ledger's genesis: another ledger")
    if expect_head is not None and expect_head[0] > count:
        return fail(
            count + 1, f"the log ends at offset {count} but the exported head is at {expect_head[0]}: truncated"
        )
    return VerifyResult(True, count, len(seqs), count, previous, chain.algorithm)


def _broken(offset: int, reason: str) -> IntegrityError:
    return IntegrityError(f"offset {offset}: {reason}", offset, reason)


def checked(
    records: Iterable[Record],
    chain: Chain,
    *,
    after: int = 0,
    previous: str = GENESIS,
    run: str | None = None,
) -> Iterator[Record]:
    """Pass ``records`` (offsets ``after + 1`` on; only those of ``run`` when given) through,
    raising IntegrityError at the first that is missing or does not link to its predecessor,
    whose hash is ``previous``: the one walk of the chain, shared by verify and replay."""
    prev, expected = bytes.fromhex(previous), after + 1
    digest, sha256 = chain.digest, hashlib.sha256
    plain = chain.algorithm == "sha256"
    for r in records:
        if type(r.offset) is not int or r.offset < 1:
            raise _broken(r.offset, f"a row at offset {r.offset}, outside the chain (offsets run from 1)")
        if r.offset != expected:
            what = "missing" if r.offset > expected else "out of order"
            raise _broken(expected, f"offset {expected} is {what} (next row found has offset {r.offset})")
        try:
            row = canonical(r.offset, r.run, r.seq, r.ts, r.kind, r.context, r.cause, r.payload)
            link = sha256(prev + row).digest() if plain else digest(prev, row)
            intact = link.hex() == r.hash
        except (TypeError, ValueError, AttributeError) as exc:
            raise _broken(r.offset, "the row is malformed: a cell is not of its column's type") from exc
        if not intact:
            raise _broken(r.offset, "hash does not match the row and its predecessor (row or chain altered)")
        prev, expected = link, expected + 1
        if run is None or r.run == run:
            yield r

"""Rows checked against their predecessors: the head of a ledger, and the rows a verified read folds.

Checking one row needs only the row before it, read by offset: the head of a ledger is checked on
every open and before a writer builds on another writer's head, and a verified read of one run
checks its rows against their predecessors, whatever runs those belong to.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator

from ..errors import IntegrityError
from .chain import Chain
from .codec import canonical
from .events import Record
from .store import NO_BOUND, Store

__all__ = ["Links"]


class Links:
    """The link checks of one store under its chain (starting at ``genesis``); a keyed ledger read
    without its key is not ``checkable`` (its head is taken as it is)."""

    def __init__(self, store: Store, chain: Chain, genesis: str, *, checkable: bool) -> None:
        self._store, self._chain, self._genesis, self._checkable = store, chain, genesis, checkable

    def check_edges(self) -> None:
        """Every row is in 1..N and the last one links to its predecessor: a row outside the chain's
        range, or a head that is not the chain's, is an IntegrityError, never data (two index probes
        and one link; a full check is :meth:`verify`)."""
        edges = self._store.edges()
        if edges is None:
            return
        low, high = edges
        if type(low) is not int or type(high) is not int:  # a damaged file: offsets that are not integers
            raise IntegrityError(
                f"{self._store.location}: the log's offsets are not all integers (a cell is not of its column's "
                "type); the ledger is damaged or was tampered with: run ctxlog verify",
                None,
            )
        if low < 1 or high > NO_BOUND:
            bad = low if low < 1 else high
            raise IntegrityError(
                f"{self._store.location}: a row at offset {bad}, outside the chain (offsets run from 1); the "
                "ledger was tampered with: run ctxlog verify",
                bad,
            )
        self.check_tail(self._store.tail())

    def check_tail(self, tail: list[Record]) -> None:
        """The head row links to the row before it (or to the genesis): a writer never builds on,
        and a reader never stops at, a row that is not the chain's head."""
        if not tail or not self._checkable:
            return
        head = tail[0]
        previous = tail[1].hash if len(tail) > 1 and tail[1].offset == head.offset - 1 else None
        if head.offset == 1:
            previous = self._genesis
        if previous is None:
            raise IntegrityError(
                f"{self._store.location}: offset {head.offset - 1} is missing below the head at offset "
                f"{head.offset}; the ledger was tampered with: run ctxlog verify",
                head.offset - 1,
            )
        try:
            row = canonical(head.offset, head.run, head.seq, head.ts, head.kind, head.context, head.cause, head.payload)
            intact = self._chain.link(previous, row) == head.hash
        except (TypeError, ValueError, AttributeError):
            intact = False
        if not intact:
            raise IntegrityError(
                f"{self._store.location}: offset {head.offset}: the last row does not link to the one before it; the "
                "ledger was tampered with: run ctxlog verify",
                head.offset,
            )

    def linked(self, records: Iterable[Record], start: tuple[int, str] | None) -> Iterator[Record]:
        """``records`` passed through once each links to its predecessor; ``start`` is the
        ``(offset, hash)`` of the row a fold starts after, which must be there and link too."""
        link = self._chain.link
        last: tuple[int, str] | None = None
        if start is not None:
            anchor = self._store.record_at(start[0])
            if anchor is None or anchor.hash != start[1]:
                raise IntegrityError(f"offset {start[0]}: the snapshot's row changed; run ctxlog verify", start[0])
            self.check_link(anchor, None)
            last = (anchor.offset, anchor.hash)
        for r in records:
            previous = last[1] if last is not None and last[0] == r.offset - 1 else None
            self.check_link(r, previous, link)
            yield r
            last = (r.offset, r.hash)

    def check_link(self, r: Record, previous: str | None, link: Callable[[str, bytes], str] | None = None) -> None:
        """``r`` links to its predecessor (whose hash is ``previous`` when known), else IntegrityError."""
        if previous is None:
            if r.offset == 1:
                previous = self._genesis
            else:
                before = self._store.record_at(r.offset - 1)
                if before is None:
                    raise IntegrityError(
                        f"offset {r.offset - 1}: missing (the row before offset {r.offset}); run ctxlog verify",
                        r.offset - 1,
                    )
                previous = before.hash
        try:
            row = canonical(r.offset, r.run, r.seq, r.ts, r.kind, r.context, r.cause, r.payload)
            intact = (link or self._chain.link)(previous, row) == r.hash
        except (TypeError, ValueError, AttributeError) as exc:
            raise IntegrityError(
                f"offset {r.offset}: the row is malformed: a cell is not of its column's type", r.offset
            ) from exc
        if not intact:
            raise IntegrityError(
                f"offset {r.offset}: hash does not match the row and its predecessor (row or chain altered)", r.offset
            )

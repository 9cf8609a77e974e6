"""Following a ledger as it grows: the records committed after an offset, as they are committed.

A :class:`Follower` probes the head of the ledger (one index probe: the last offset) and, when it
moved, opens the ledger again the way every reader does (the head is checked to link to the row
before it) and streams the rows after the last one it handed out, up to that head, in batches.
Writers append under the write lock and commit in offset order, so what a reader sees is always a
prefix of the log: each record is handed out once, in order, none skipped, whatever the number of
writers. ``follow`` is the blocking iterator over it, ``follow_async`` the asynchronous one.
"""

from __future__ import annotations

import asyncio
import itertools
import time
from collections.abc import AsyncIterator, Generator, Iterable, Iterator

from ..errors import InvalidArgumentError
from ..ledger import KINDS, Anchor, Ledger, Record
from .access import opened

__all__ = ["BATCH", "POLL_SECONDS", "Follower", "follow", "follow_async"]

POLL_SECONDS = 0.1
"""How long a follower waits between two probes of the head when nothing was committed."""

BATCH = 10_000
"""The most records one poll hands out (the rest come at the next, without waiting)."""


class Follower:
    """The records of ``run`` (all runs when None) of the ledger at ``path`` after offset ``after``,
    polled: each :meth:`poll` returns the next records committed (at most ``BATCH``), of ``kinds``
    (all when empty), acting on ``context`` (any when None). A keyed ledger is read with its
    ``key`` when given. Close it (or use it in a ``with`` block) to release the ledger."""

    def __init__(
        self,
        path: str,
        *,
        run: str | None = None,
        after: int = 0,
        kinds: Iterable[str] = (),
        context: str | None = None,
        key: bytes | str | None = None,
    ) -> None:
        if isinstance(after, bool) or not isinstance(after, int) or after < 0:
            raise InvalidArgumentError(f"after must be an offset (an int >= 0), not {after!r}")
        self.kinds = frozenset(kinds)
        unknown = sorted(self.kinds - set(KINDS))
        if unknown:
            raise InvalidArgumentError(f"unknown event kind {unknown[0]!r}; kinds: {', '.join(KINDS)}")
        self.path, self.key, self.context = str(path), key, context
        self.offset = after
        """The offset of the last record handed out (or looked past)."""
        self._seq: int | None = None  # the seq of the run's row at ``offset``, once known
        self._probe: Ledger | None = opened(self.path, key)
        try:
            self.run = None if run is None else self._probe.choose_run(run)
        except BaseException:
            self.close()
            raise

    def head(self) -> int:
        """The offset of the last row committed (0 when the log is empty): one index probe."""
        if self._probe is None:
            raise InvalidArgumentError("the follower is closed")
        top = self._probe.head()
        return 0 if top is None else top[0]

    def poll(self, limit: int = BATCH) -> list[Record]:
        """The next records committed after :attr:`offset`, at most ``limit``; empty when none."""
        top = self.head()
        if top <= self.offset:
            return []
        with opened(self.path, self.key) as ledger:
            batch = list(itertools.islice(self._rows(ledger, top), limit))
        if batch and self.run is not None:
            self._seq = batch[-1].seq
        if len(batch) < limit:
            self.offset = max(self.offset, top)
        elif batch:
            self.offset = batch[-1].offset
        return [r for r in batch if self._wanted(r)]

    def _rows(self, ledger: Ledger, top: int) -> Iterator[Record]:
        if self.run is None or self._seq is None:
            return ledger.records(self.run, after=self.offset, until=top)
        # by seq, where the run's index starts at the next row (by offset it would walk the run)
        return ledger.run_records(self.run, start=Anchor(self.offset, self._seq, "", b""), until=top)

    def _wanted(self, r: Record) -> bool:
        return (not self.kinds or r.kind in self.kinds) and (self.context is None or r.context == self.context)

    def close(self) -> None:
        """Release the ledger; further polls are errors."""
        if self._probe is not None:
            probe, self._probe = self._probe, None
            probe.close()

    def __enter__(self) -> Follower:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


def follow(
    path: str,
    *,
    run: str | None = None,
    after: int = 0,
    kinds: Iterable[str] = (),
    context: str | None = None,
    key: bytes | str | None = None,
    poll: float = POLL_SECONDS,
) -> Iterator[Record]:
    """Every record of ``run`` (all runs when None) of the ledger at ``path`` after offset
    ``after``, then each one as it is committed, forever (like ``tail -f``): close the iterator,
    or stop iterating, to end it. ``kinds``, ``context`` and ``key`` are :class:`Follower`'s;
    ``poll`` is the seconds between two probes of the head when nothing new was committed.

    An unknown run or a path that is no ledger raises here, not at the first ``next``."""
    return _followed(Follower(path, run=run, after=after, kinds=kinds, context=context, key=key), poll)


def _followed(follower: Follower, poll: float) -> Generator[Record, None, None]:
    with follower:
        while True:
            before = follower.offset
            yield from follower.poll()
            if follower.offset == before:
                time.sleep(poll)


async def follow_async(
    path: str,
    *,
    run: str | None = None,
    after: int = 0,
    kinds: Iterable[str] = (),
    context: str | None = None,
    key: bytes | str | None = None,
    poll: float = POLL_SECONDS,
) -> AsyncIterator[Record]:
    """:func:`follow` for asyncio, with the same ``path``, ``run``, ``after``, ``kinds``,
    ``context``, ``key`` and ``poll``: the reads run in a worker thread, the waits are
    ``asyncio.sleep``, so the event loop never blocks on the ledger."""
    follower = await asyncio.to_thread(Follower, path, run=run, after=after, kinds=kinds, context=context, key=key)
    try:
        while True:
            before = follower.offset
            for record in await asyncio.to_thread(follower.poll):
                yield record
            if follower.offset == before:
                await asyncio.sleep(poll)
    finally:
        follower.close()

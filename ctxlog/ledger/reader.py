"""The read side of a ledger: which run, which position, which rows, which snapshots to believe.

Every question a caller asks of a ledger's rows is answered here, over the store and the chain, so
no caller needs the store: the run a name (or a file's only run) stands for, the offset a
checkpoint name stands for, the checkpoints of a run, the snapshots whose claimed position and tag
match the chain, and the rows to fold after one, checked link by link when asked.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator

import msgspec

from ..errors import IntegrityError, InvalidArgumentError, KeyMismatchError, UnknownCheckpointError, UnknownRunError
from .chain import GENESIS, Chain
from .codec import decode_event
from .events import CheckpointTaken, Record
from .store import Store
from .verify import checked

__all__ = ["PROGRESS_EVERY", "Anchor", "Progress", "Reader", "counted"]

Progress = Callable[[int, int], None]
"""A callback taking ``(events done, events in all)``."""

PROGRESS_EVERY = 10_000
"""Events between two calls of a ``progress`` callback."""


def counted(records: Iterable[Record], total: int, progress: Progress | None) -> Iterator[Record]:
    """``records`` passed through, with ``progress(done, total)`` every PROGRESS_EVERY of them."""
    if progress is None:
        yield from records
        return
    for count, record in enumerate(records, start=1):
        yield record
        if count % PROGRESS_EVERY == 0:
            progress(count, total)


class Anchor(msgspec.Struct, frozen=True):
    """A cached projection ``state`` standing on a row of the chain: the row's ``offset``, ``seq``
    and ``hash``. A fold can start after it instead of at the start of the run."""

    offset: int
    seq: int
    hash: str
    state: bytes


def _listing(runs: list[str]) -> str:
    shown = ", ".join(runs[:10])
    return shown + (f" … ({len(runs)} in all)" if len(runs) > 10 else "") if runs else "(none)"


class Reader:
    """Answers about the rows of one store, under its chain."""

    def __init__(self, store: Store, chain: Chain, *, keyed: bool) -> None:
        self._store, self._chain, self._keyed = store, chain, keyed

    def choose_run(self, run: str | None) -> str:
        """``run`` if the ledger holds it; the only run when None; else UnknownRunError listing runs."""
        runs, where = self._store.run_names(), self._store.location
        if run is not None:
            if run not in runs:
                raise UnknownRunError(f"no run {run!r} in {where}; runs: {_listing(runs)}")
            return run
        if len(runs) == 1:
            return runs[0]
        if not runs:
            raise UnknownRunError(f"{where} holds no runs yet")
        raise UnknownRunError(f"{where} holds {len(runs)} runs; choose one with run=: {_listing(runs)}")

    def checkpoints(self, run: str) -> Iterator[tuple[Record, CheckpointTaken]]:
        """The checkpoint rows of ``run`` with their decoded events; a damaged one is an IntegrityError."""
        for r in self._store.checkpoint_rows(run):
            try:
                event = decode_event(r.payload)
            except (msgspec.DecodeError, msgspec.ValidationError) as exc:
                raise IntegrityError(
                    f"offset {r.offset}: checkpoint payload is damaged ({exc}); run ctxlog verify", r.offset
                ) from exc
            if not isinstance(event, CheckpointTaken):
                raise IntegrityError(f"offset {r.offset}: a checkpoint row holds a {type(event).__name__}", r.offset)
            yield r, event

    def resolve(self, run: str, until: str | int | None) -> int | None:
        """The offset a checkpoint name or offset stands for in ``run`` (None for the head).

        A str names a checkpoint; if no checkpoint has that name and it is ASCII digits, it is an offset.
        """
        if until is None:
            return None
        if isinstance(until, str):
            offset = self._store.checkpoint_offset(run, until)
            if offset is None and "\x00" in until:  # SQL text stops at NUL: compare the decoded names
                offset = next((r.offset for r, e in self.checkpoints(run) if e.name == until), None)
            if offset is not None:
                return offset
            text = until.strip()
            if not (text.isascii() and text.isdigit()):
                known = ", ".join(e.name for _, e in self.checkpoints(run)) or "(none)"
                raise UnknownCheckpointError(f"no checkpoint {until!r} in run {run!r}; checkpoints: {known}")
            until = int(text)
        if isinstance(until, bool) or not isinstance(until, int):
            raise InvalidArgumentError(f"until must be a checkpoint name or an offset, not {until!r}")
        first = next(iter(self._store.scan_run(run)), None)
        head = self._store.head()
        if first is None or until < first.offset or head is None or until > head[0]:
            span = f"{first.offset}..{head[0]}" if first is not None and head else "none"
            raise UnknownCheckpointError(f"offset {until} is outside run {run!r} (its offsets span {span})")
        return until

    def snapshots(self, run: str, until: int | None) -> Iterator[Anchor]:
        """Snapshots of ``run`` at or before ``until``, newest first, whose claimed position holds a
        row of the run with the hash their tag was made from: a cache that cannot lie about where
        it stands (its state is still only as good as the caller's decoding of it)."""
        for snapshot in self._store.snapshot_before(run, until):
            row = self._store.record_at(snapshot.offset)
            if row is None or row.run != run or row.seq != snapshot.seq:
                continue
            if self._chain.snapshot_tag(row.hash, snapshot.state) != snapshot.hash:
                continue
            yield Anchor(row.offset, row.seq, row.hash, snapshot.state)

    def run_records(
        self,
        run: str,
        *,
        start: Anchor | None = None,
        until: int | None = None,
        verify: bool = False,
        progress: Progress | None = None,
    ) -> Iterator[Record]:
        """The rows of ``run`` after ``start`` (from :meth:`snapshots`; the run's start
        when None) up to offset ``until``, in order.

        With ``verify`` every row from ``start`` on (of every run, as they interleave) must link to
        its predecessor: an IntegrityError names the first that does not.
        """
        after_seq = start.seq if start is not None else 0
        if verify:
            if self._keyed and self._chain.algorithm != "hmac-sha256":
                raise KeyMismatchError(f"{self._store.location}: the ledger is keyed; give its key to verify")
            after, previous = (start.offset, start.hash) if start is not None else (0, GENESIS)
            rows = self._store.scan(after=after, until=until)
            records: Iterable[Record] = checked(rows, self._chain, after=after, previous=previous, run=run)
        else:
            records = self._store.scan_run(run, after_seq=after_seq, until=until)
        if progress is None:
            return iter(records)
        return counted(records, self._to_fold(run, after_seq, until), progress)

    def _to_fold(self, run: str, after_seq: int, until: int | None) -> int:
        """How many events of ``run`` follow ``after_seq`` up to ``until`` (an upper bound when unsure)."""
        last = self._store.last_seq(run)
        row = self._store.record_at(until) if until is not None else None
        return (row.seq if row is not None and row.run == run else last) - after_seq

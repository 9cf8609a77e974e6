"""The read side of a ledger: which run, which position, which rows, which snapshots to believe.

Every question a caller asks of a ledger's rows is answered here, over the store and the chain, so
no caller needs the store: the run a name (or a file's only run) stands for, the offset a
checkpoint name stands for, the checkpoints of a run, the snapshots whose claimed position and tag
match the chain, and the rows to fold after one, checked link by link when asked.
"""

from __future__ import annotations

import itertools
import logging
from collections.abc import Callable, Iterable, Iterator

import msgspec

from ..errors import (
    MAX_NAME_BYTES,
    IntegrityError,
    InvalidArgumentError,
    KeyMismatchError,
    UnknownCheckpointError,
    UnknownRunError,
    shown,
)
from .chain import Chain
from .codec import decode_event
from .events import CheckpointTaken, Record
from .lineage import fork_lineage
from .links import Links
from .store import Store

__all__ = ["LISTED", "MAX_NAME_BYTES", "PROGRESS_EVERY", "Anchor", "Progress", "Reader", "counted"]


class _ForkHead(msgspec.Struct):
    source_run: str
    source_offset: int


_fork_head = msgspec.json.Decoder(_ForkHead)

Progress = Callable[[int, int], None]
"""A callback taking ``(events done, events in all)``."""

PROGRESS_EVERY = 10_000
"""Events between two calls of a ``progress`` callback."""


LISTED = 10
"""How many names an error lists (runs to choose from, checkpoints there are)."""


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


_log = logging.getLogger("ctxlog")
_noted: set[str] = set()


def _note_keyless(location: str) -> None:
    """Say once per ledger (a warning of the ``ctxlog`` logger) that its snapshots go unused."""
    if location not in _noted:
        _noted.add(location)
        _log.warning(
            "%s: the ledger is keyed and was opened without its key, so its snapshots are not used (their tags "
            "cannot be checked) and folds start at the beginning of each run; give the key to use them",
            location,
        )


def _listing(names: list[str]) -> str:
    if not names:
        return "(none)"
    listed = ", ".join(shown(n, 40)[1:-1] if isinstance(n, str) else shown(n) for n in names[:LISTED])
    return listed + (" … and more" if len(names) > LISTED else "")


class Reader:
    """Answers about the rows of one store, under its chain (starting at ``genesis``)."""

    def __init__(self, store: Store, chain: Chain, genesis: str, *, keyed: bool, key_missing: bool) -> None:
        self._store, self._chain, self._genesis = store, chain, genesis
        self._keyed, self._key_missing = keyed, key_missing
        self._links = Links(store, chain, genesis, checkable=not key_missing)

    @property
    def links(self) -> Links:
        """The checks of rows against their predecessors, on this reader's store."""
        return self._links

    @property
    def trusts_snapshots(self) -> bool:
        """False for a keyed ledger read without its key: its snapshot tags cannot be checked, so
        every fold starts at the beginning of the run."""
        return not self._key_missing

    def choose_run(self, run: str | None) -> str:
        """``run`` if the ledger holds it; the only run when None; else UnknownRunError listing runs."""
        where = self._store.location
        if run is not None:
            if not isinstance(run, str) or len(run.encode("utf-8", "replace")) > MAX_NAME_BYTES:
                raise UnknownRunError(f"no run {shown(run)} in {where} (run names are at most {MAX_NAME_BYTES} bytes)")
            if not self._store.has_run(run):
                raise UnknownRunError(f"no run {shown(run)} in {where}; runs: {_listing(self._run_names())}")
            return run
        runs = self._run_names()
        if len(runs) == 1:
            return runs[0]
        if not runs:
            raise UnknownRunError(f"{where} holds no runs yet")
        count = f"{len(runs)}" if len(runs) <= LISTED else f"more than {LISTED}"
        raise UnknownRunError(f"{where} holds {count} runs; choose one with run=: {_listing(runs)}")

    def _run_names(self) -> list[str]:
        return self._store.run_names(limit=LISTED + 1)

    def checkpoints(self, run: str) -> Iterator[tuple[Record, CheckpointTaken]]:
        """The checkpoint rows of ``run`` with their decoded events, streamed; a damaged one is an
        IntegrityError."""
        for r in self._store.checkpoint_rows(run):
            yield r, self._checkpoint_event(r, run)

    def _checkpoint_event(self, r: Record, run: str) -> CheckpointTaken:
        try:
            event = decode_event(r.payload)
        except (msgspec.DecodeError, msgspec.ValidationError, RecursionError) as exc:
            raise IntegrityError(
                f"offset {r.offset}: checkpoint payload is damaged ({shown(str(exc))}); run ctxlog verify", r.offset
            ) from exc
        if not isinstance(event, CheckpointTaken) or r.kind != "checkpoint" or r.run != run:
            raise IntegrityError(
                f"offset {r.offset}: read as a checkpoint of run {shown(run)}, but it is not one; run ctxlog verify",
                r.offset,
            )
        return event

    def resolve(self, run: str, until: str | int | None) -> int | None:
        """The offset a checkpoint name or offset stands for in ``run`` (None for the head).

        A str names a checkpoint; if no checkpoint has that name and it is ASCII digits, it is an
        offset. The row a name resolves to is read back and must be that checkpoint of that run,
        whatever index or function found it.
        """
        if until is None:
            return None
        if isinstance(until, str):
            if len(until.encode("utf-8", "replace")) > MAX_NAME_BYTES and not until.strip().isdigit():
                raise UnknownCheckpointError(f"no checkpoint {shown(until)} in run {shown(run)} (names are short)")
            offset = self._named(run, until)
            if offset is None and not until.strip().isdigit():  # a checkpoint the fork carried
                offset = self._carried(run, until)
            if offset is not None:
                return offset
            text = until.strip()
            if not (text.isascii() and text.isdigit()):
                known = _listing([e.name for _, e in itertools.islice(self.checkpoints(run), LISTED + 1)])
                raise UnknownCheckpointError(f"no checkpoint {shown(until)} in run {shown(run)}; checkpoints: {known}")
            until = int(text) if len(text) <= 20 else 2**63
        if isinstance(until, bool) or not isinstance(until, int):
            raise InvalidArgumentError(f"until must be a checkpoint name or an offset, not {shown(until)}")
        first = next(iter(self._store.scan_run(run)), None)
        if first is not None and until < first.offset:  # the source's history, which a fork carries
            for source, at, start in fork_lineage(self.fork_origin, run):
                if until >= start or until > at:
                    break
                run, first = source, next(iter(self._store.scan_run(source)), None)
        head = self._store.head()
        if first is None or until < first.offset or head is None or until > head[0]:
            span = f"{first.offset}..{head[0]}" if first is not None and head else "none"
            raise UnknownCheckpointError(f"offset {shown(until)} is outside run {shown(run)} (its offsets span {span})")
        return until

    def _carried(self, run: str, name: str) -> int | None:
        """The offset of the checkpoint ``name`` a fork carried from its lineage, or None."""
        limit: int | None = None
        for source, at, _ in fork_lineage(self.fork_origin, run):
            limit = at if limit is None else min(limit, at)
            offset = self._named(source, name)
            if offset is not None:  # names are unique along a lineage: the first found is the one
                return offset if offset <= limit else None
        return None

    def fork_origin(self, run: str) -> tuple[str, int, int] | None:
        """``(source run, source offset, first offset)`` when ``run`` starts with a ``forked``
        event (its tree state skipped, not decoded), else None."""
        first = next(iter(self._store.scan_run(run, until=None)), None)
        if first is None or first.kind != "forked":
            return None
        try:
            head = _fork_head.decode(first.payload)
        except (msgspec.DecodeError, msgspec.ValidationError):
            return None  # verify reports the row; readers take the run as it is
        return (head.source_run, head.source_offset, first.offset)

    def _named(self, run: str, name: str) -> int | None:
        """The offset of ``run``'s checkpoint ``name``, or None. The row the store finds is read back
        and its decoded name compared; when it is another (SQL text stops at a NUL; a damaged index
        or function), the run's checkpoints are compared one by one instead."""
        offset = self._store.checkpoint_offset(run, name) if "\x00" not in name else None
        if offset is not None:
            row = self._store.record_at(offset)
            if row is not None and self._checkpoint_event(row, run).name == name:
                return offset
        if offset is None and "\x00" not in name:
            return None
        return next((r.offset for r, e in self.checkpoints(run) if e.name == name), None)

    def snapshots(
        self, run: str, until: int | None, *, verified: bool = False, newest_first: bool = True
    ) -> Iterator[Anchor]:
        """Snapshots of ``run`` at or before ``until``, newest first, whose claimed position holds a
        row of the run with the hash their tag was made from: a cache that cannot lie about where
        it stands (its state is still only as good as the caller's decoding of it).

        None for a keyed ledger read without its key (its tags cannot be checked), and none for a
        ``verified`` read of an unkeyed one (anyone can make an unkeyed tag).
        """
        if self._key_missing:
            _note_keyless(self._store.location)
            return
        if verified and not self._keyed:
            return
        for snapshot in self._store.snapshot_before(run, until, newest_first=newest_first):
            row = self._store.record_at(snapshot.offset)
            if row is None or row.run != run or row.seq != snapshot.seq or type(snapshot.state) is not bytes:
                continue
            try:
                if self._chain.snapshot_tag(row.hash, snapshot.state) != snapshot.hash:
                    continue
            except (TypeError, ValueError):  # a hash or tag that is not hex: not one ctxlog wrote
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
        """The rows of ``run`` after ``start`` (from :meth:`snapshots`; the run's start when None)
        up to offset ``until``, in order.

        With ``verify`` every row (and the row ``start`` stands on) must link to its predecessor
        in the global chain, which is read by offset where it belongs to another run: the cost is
        the run's, not the file's. An IntegrityError names the first row that does not link.
        """
        after_seq = start.seq if start is not None else 0
        records: Iterable[Record] = self._store.scan_run(run, after_seq=after_seq, until=until)
        if verify:
            if self._key_missing:
                raise KeyMismatchError(f"{self._store.location}: the ledger is keyed; give its key to verify")
            records = self._links.linked(records, (start.offset, start.hash) if start is not None else None)
        if progress is None:
            return iter(records)
        return counted(records, self._to_fold(run, after_seq, until), progress)

    def _to_fold(self, run: str, after_seq: int, until: int | None) -> int:
        """How many events of ``run`` follow ``after_seq`` up to ``until`` (an upper bound when unsure)."""
        last = self._store.last_seq(run)
        row = self._store.record_at(until) if until is not None else None
        return (row.seq if row is not None and row.run == run else last) - after_seq

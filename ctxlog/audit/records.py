"""The log itself: its events, its runs, its checkpoints, its head and its size.

Every function opens the ledger read-only and closes it before returning; ``log`` closes it when
its stream ends or is closed.
"""

from __future__ import annotations

from collections.abc import Callable, Generator, Iterable, Iterator
from typing import Generic, TypeVar

import msgspec

from ..errors import IntegrityError, InvalidArgumentError, UnknownContextError, shown
from ..ledger import KINDS, Ledger, Record, RunInfo
from ..manager import carried, current_timeline, load_tree
from .access import opened, verified_run, verified_whole

T = TypeVar("T")

__all__ = ["CheckpointInfo", "LedgerStats", "Stream", "checkpoints", "head", "log", "runs", "stats"]


class CheckpointInfo(msgspec.Struct, frozen=True):
    """One checkpoint of a run: its ``name``, the ``offset`` and ``seq`` of its event, its time
    ``ts`` (ns since the epoch), the ``context`` current then; ``auto`` marks those taken by
    ``checkpoint_interval``; ``on_timeline`` is false for one a restore went back past (still
    restorable); ``carried`` marks one a fork took over from its source (its offset is the source's)."""

    name: str
    offset: int
    seq: int
    ts: int
    context: str
    auto: bool
    on_timeline: bool = True
    carried: bool = False


class LedgerStats(msgspec.Struct, frozen=True):
    """Size and shape of a ledger: events by kind, runs, checkpoints, snapshots, bytes on disk."""

    ledger_id: str
    """The ledger's id."""
    schema_version: int
    """Its storage schema version."""
    hash_algorithm: str
    """``"sha256"`` or ``"hmac-sha256"``."""
    runs: int
    """How many runs it holds."""
    events: int
    """How many events."""
    checkpoints: int
    """How many checkpoints, automatic ones included."""
    snapshots: int
    """How many cached projection snapshots."""
    size_bytes: int
    """Bytes on disk (the file and its WAL; the tables on PostgreSQL)."""
    bytes_per_event: float
    """``size_bytes / events``."""
    kinds: dict[str, int]
    """Events by kind, most frequent first."""


class Stream(Generic[T]):
    """Items read from a ledger as they are needed (records, runs, checkpoints); the ledger closes
    when the stream ends or is closed. Use it in a ``with`` block when you may stop before the end.

    The first item is read when the stream is made, so a read that fails at once raises there.
    ``Stream(ledger, items)`` is made by ``log``, ``runs`` and ``checkpoints`` over their items.
    """

    def __init__(self, ledger: Ledger, items: Iterator[T]) -> None:
        self._ledger: Ledger | None = ledger
        self._items = items
        self._first: list[T] = []
        try:
            self._first = [next(items)]
        except StopIteration:
            self.close()
        except BaseException:
            self.close()
            raise

    def __iter__(self) -> Stream[T]:
        return self

    def __next__(self) -> T:
        if self._first:
            return self._first.pop()
        if self._ledger is None:
            raise StopIteration
        try:
            return next(self._items)
        except BaseException:
            self.close()
            raise

    def close(self) -> None:
        """Release the ledger; further iteration yields nothing."""
        self._first = []
        if self._ledger is not None:
            ledger, self._ledger = self._ledger, None
            close = getattr(self._items, "close", None)
            if close is not None:
                close()
            ledger.close()

    def __enter__(self) -> Stream[T]:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


def _streamed(path: str, key: bytes | str | None, items: Callable[[Ledger], Iterator[T]]) -> Stream[T]:
    ledger = opened(path, key)
    try:
        return Stream(ledger, items(ledger))
    except BaseException:
        ledger.close()
        raise


def runs(path: str, *, verify: bool = False, key: bytes | str | None = None) -> Stream[RunInfo]:
    """Every run in the ledger at ``path``, streamed in order of first appearance: event count,
    first and last offset and time, checkpoints. With ``verify`` the whole ledger is verified
    first (under its ``key``). A fork names its ``source`` run and ``source_offset``."""
    if verify:
        verified_whole(path, key)

    def infos(ledger: Ledger) -> Iterator[RunInfo]:
        for info in ledger.runs():
            origin = ledger.fork_origin(info.run)
            yield info if origin is None else msgspec.structs.replace(info, source=origin[0], source_offset=origin[1])

    return _streamed(path, key, infos)


def checkpoints(
    path: str, *, run: str | None = None, verify: bool = False, key: bytes | str | None = None
) -> Stream[CheckpointInfo]:
    """The checkpoints of ``run`` (the only run when None) in the ledger at ``path``, streamed in
    order, automatic ones included. With ``verify`` the run is folded first with every row linked
    (a keyed ledger needs its ``key``)."""

    def infos(ledger: Ledger) -> Iterator[CheckpointInfo]:
        chosen = ledger.choose_run(run)
        folded = verified_run(ledger, chosen).checkpoints if verify else None
        listed: dict[str, int] = {}
        line, inherited = set(current_timeline(ledger, chosen)), carried(ledger, chosen)
        for name, offset in inherited.items():
            source = next(iter(ledger.records(after=offset - 1, until=offset)), None)
            if source is None:
                raise IntegrityError(
                    f"offset {offset}: a fork carries a checkpoint there, but the log has no row; run ctxlog verify",
                    offset,
                )
            yield CheckpointInfo(name, offset, source.seq, source.ts, source.context, False, name in line, True)
        for r, event in ledger.checkpoints(chosen):
            if folded is not None and folded.get(event.name) != r.offset:
                raise IntegrityError(
                    f"offset {r.offset}: the checkpoint index lists a checkpoint the log has not there", r.offset
                )
            listed[event.name] = r.offset
            yield CheckpointInfo(event.name, r.offset, r.seq, r.ts, r.context, event.auto, event.name in line)
        folded = {n: o for n, o in folded.items() if n not in inherited} if folded is not None else None
        if folded is not None and listed != folded:
            missing = min(offset for name, offset in folded.items() if listed.get(name) != offset)
            raise IntegrityError(f"offset {missing}: the checkpoint index lacks a checkpoint of the log", missing)

    return _streamed(path, key, infos)


def log(
    path: str,
    *,
    run: str | None = None,
    since: int | None = None,
    until: str | int | None = None,
    kinds: Iterable[str] = (),
    context: str | None = None,
    verify: bool = False,
    key: bytes | str | None = None,
) -> Stream[Record]:
    """The events of ``run`` in the ledger at ``path``, in order: after offset ``since``, up to
    checkpoint or offset ``until``, of ``kinds`` (all when empty), that acted on ``context`` (any
    when None). With ``verify`` every row of the run streamed is checked against its predecessor
    as it comes (a keyed ledger needs its ``key``).

    Arguments are checked before the stream is returned: an unknown run, checkpoint, kind or
    context raises here, not midway.
    """
    wanted = frozenset(kinds)
    unknown = sorted(wanted - set(KINDS))
    if unknown:
        raise InvalidArgumentError(f"unknown event kind {unknown[0]!r}; kinds: {', '.join(KINDS)}")
    if since is not None and (isinstance(since, bool) or not isinstance(since, int) or since < 0):
        raise InvalidArgumentError(f"since must be an offset (an int >= 0), not {since!r}")
    ledger = opened(path, key)
    try:
        chosen = ledger.choose_run(run)
        offset = ledger.resolve(chosen, until)
        if context is not None and context not in load_tree(ledger, chosen).known_ids:
            raise UnknownContextError(f"no context {shown(context)} in run {shown(chosen)}")
        if verify:
            records = ledger.run_records(chosen, until=offset, verify=True)
        else:
            records = ledger.records(chosen, after=since or 0, until=offset)
        return Stream(ledger, _filtered(records, since or 0, wanted, context))
    except BaseException:
        ledger.close()
        raise


def _filtered(
    records: Iterator[Record], since: int, kinds: frozenset[str], context: str | None
) -> Generator[Record, None, None]:
    for r in records:
        if type(r.payload) is not str:
            raise IntegrityError(f"offset {r.offset}: the payload is not text; run ctxlog verify", r.offset)
        if r.offset > since and (not kinds or r.kind in kinds) and (context is None or r.context == context):
            yield r


def head(path: str, *, verify: bool = False, key: bytes | str | None = None) -> tuple[int, str]:
    """``(offset, hash)`` of the last event of the ledger at ``path``; ``(0, genesis)`` when empty
    (the hash its first row will link to). With ``verify`` the whole ledger is verified first
    (under its ``key``): the head of a ledger that verifies is the one to keep."""
    if verify:
        verified_whole(path, key)
    with opened(path, key) as ledger:
        return ledger.head() or (0, ledger.genesis)


def stats(path: str, *, verify: bool = False, key: bytes | str | None = None) -> LedgerStats:
    """Events by kind, runs, checkpoints, cached snapshots and bytes on disk of the ledger at
    ``path``. With ``verify`` the whole ledger is verified first (under its ``key``)."""
    if verify:
        verified_whole(path, key)
    with opened(path, key) as ledger:
        runs = count = marks = 0
        for info in ledger.runs():
            runs, count, marks = runs + 1, count + info.events, marks + info.checkpoints
        size, meta = ledger.size_bytes(), ledger.meta
        kinds, snapshots = ledger.kind_counts(), ledger.snapshot_count()
    return LedgerStats(
        meta["ledger_id"],
        ledger.version,
        meta["hash_algorithm"],
        runs,
        count,
        marks,
        snapshots,
        size,
        round(size / count, 1) if count else 0.0,
        kinds,
    )

"""``verify``: the chain, then every run folded the way every reader folds it.

"verify: ok" must mean that every reader shows what was written. So after the chain walk (every
row of the table, from the ledger's genesis, counted and bounded; the engine's own integrity
check) each run is folded through the same reads and the same fold replay uses, with the checks
the live operations made; its row count must match the chain's, every snapshot a reader would
start from must hold the fold at its offset, and the checkpoints the checkpoint index finds must
be those the fold recorded. The first bad offset of all of it is reported.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator

from ..errors import IntegrityError, shown
from ..ledger import PROGRESS_EVERY, Anchor, Forked, Ledger, Progress, Record, VerifyResult, decode_event, is_canonical
from ..manager import load_tree
from ..projections import UNREADABLE_SNAPSHOT, ContextTree, fold, fork_state, inflated

__all__ = ["verify"]


def verify(
    path: str,
    *,
    key: bytes | str | None = None,
    head: tuple[int, str] | None = None,
    progress: Progress | None = None,
) -> VerifyResult:
    """Recompute the whole chain of the ledger at ``path`` and fold every run as readers do;
    ``head`` is an ``(offset, hash)`` exported earlier (``ctxlog head``) that the log must still
    reach unchanged.

    A keyed ledger needs its ``key``: without it a KeyMismatchError says so; a key for a ledger
    that claims to be unkeyed fails (a possible downgrade). ``progress(done, total)`` is called
    every 10,000 events of the two passes, ``total`` counting both (twice the events).
    """
    try:
        ledger = Ledger.open(str(path), readonly=True, create=False, key=key, check=False)
    except IntegrityError as exc:
        return VerifyResult(False, 0, 0, 0, "", "", exc.offset, exc.reason)
    with ledger:
        seqs: dict[str, int] = {}
        walk = None if progress is None else (lambda done, total: progress(done, 2 * total))
        result = ledger.verify(head=head, progress=walk, seqs=seqs)
        if not result.ok:
            return result
        tally = _Tally(progress, result.events)
        worst: tuple[int, str] | None = None
        for run, last in seqs.items():
            problem = _fold_run(ledger, run, last, tally)
            if problem is not None and (worst is None or problem[0] < worst[0]):
                worst = problem
        return result if worst is None else result.failed(*worst)


class _Tally:
    """The fold pass's share of ``progress``: it starts where the chain walk ended."""

    def __init__(self, progress: Progress | None, events: int) -> None:
        self._progress, self._events, self._done = progress, events, events

    def counting(self, records: Iterable[Record]) -> Iterable[Record]:
        if self._progress is None:
            return records
        return self._count(records)

    def _count(self, records: Iterable[Record]) -> Iterator[Record]:
        for record in records:
            yield record
            self._done += 1
            if self._done % PROGRESS_EVERY == 0:
                self._progress(self._done, 2 * self._events)  # type: ignore[misc]


def _fold_run(ledger: Ledger, run: str, last: int, tally: _Tally) -> tuple[int, str] | None:
    """Fold ``run`` from its start, segment by segment between the snapshots readers trust, every
    payload canonical and every restore carrying the tree at its target; the first problem as
    ``(offset, reason)``, or None."""
    tree, start = ContextTree(run), None
    try:
        for anchor in ledger.snapshots(run, None, newest_first=False):
            fold(_checked(ledger, run, tally.counting(ledger.run_records(run, start=start, until=anchor.offset))), tree)
            problem = _snapshot_problem(tree, anchor)
            if problem is not None:
                return problem
            start = anchor
        fold(_checked(ledger, run, tally.counting(ledger.run_records(run, start=start))), tree)
        indexed = {e.name: r.offset for r, e in ledger.checkpoints(run)}
    except IntegrityError as exc:
        return (exc.offset if exc.offset is not None else 0, exc.reason)
    if tree.seq != last:
        return (
            tree.offset + 1,
            f"run {shown(run)}: readers find {tree.seq} of its {last} events (an index is damaged)",
        )
    origin = ledger.fork_origin(run)
    own = {n: o for n, o in tree.checkpoints.items() if origin is None or o >= origin[2]}  # a fork's carried ones
    if indexed != own:
        missing = sorted(set(own.items()) ^ set(indexed.items()), key=lambda item: item[1])[0]
        return (missing[1], f"run {shown(run)}: the checkpoint index disagrees with the log at {shown(missing[0])}")
    return None


def _checked(ledger: Ledger, run: str, records: Iterable[Record]) -> Iterator[Record]:
    """``records``, each payload in the one form ctxlog writes (so that every reader decodes it
    alike: no duplicate keys, no unknown fields, no other spelling of the same JSON), and each
    ``restored`` event carrying exactly the tree of the run at its target."""
    for r in records:
        if not is_canonical(r.payload):
            raise IntegrityError(
                f"offset {r.offset}: the payload is not in the form ctxlog writes", r.offset,
                "the payload is not in the form ctxlog writes (duplicate or unknown keys, other spelling)",
            )  # fmt: skip
        if r.kind == "forked":
            _check_fork(ledger, r, decode_event(r.payload))  # type: ignore[arg-type]
        if r.kind == "restored":
            event = decode_event(r.payload)
            if bytes(event.state) != load_tree(ledger, run, event.target).to_bytes():  # type: ignore[union-attr]
                reason = f"the tree it restores is not the run's tree at offset {event.target}"  # type: ignore[union-attr]
                raise IntegrityError(f"offset {r.offset}: {reason}", r.offset, reason)
        yield r


def _check_fork(ledger: Ledger, r: Record, event: Forked) -> None:
    """A fork's recorded hash must be its source row's, and its tree the source's fold there."""
    rows = list(ledger.records(event.source_run, after=event.source_offset - 1, until=event.source_offset))
    if not rows or rows[0].hash != event.source_hash:
        reason = f"the source row it records ({event.source_run!r} at {event.source_offset}) is not in the ledger"
        if rows:
            reason = f"the source row it records ({event.source_run!r} at {event.source_offset}) has another hash"
        raise IntegrityError(f"offset {r.offset}: {reason}", r.offset, reason)
    if bytes(event.state) != fork_state(load_tree(ledger, event.source_run, event.source_offset)):
        reason = f"the tree it carries is not run {event.source_run!r}'s at offset {event.source_offset}"
        raise IntegrityError(f"offset {r.offset}: {reason}", r.offset, reason)


def _snapshot_problem(tree: ContextTree, anchor: Anchor) -> tuple[int, str] | None:
    """A snapshot a reader would start from must hold exactly, byte for byte, the fold at its
    offset; one that verify cannot read (a reader elsewhere might) is no better."""
    if tree.seq != anchor.seq:
        return (
            anchor.offset,
            f"a snapshot claims seq {anchor.seq} at offset {anchor.offset}; the fold is at {tree.seq}",
        )
    try:
        same = inflated(anchor.state) == tree.snapshot_bytes()
    except UNREADABLE_SNAPSHOT:
        same = False
    if not same:
        return (anchor.offset, f"the snapshot cached after offset {anchor.offset} does not hold the tree there")
    return None

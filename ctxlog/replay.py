"""Time travel: the tree of a run at any checkpoint or offset, from the log.

The fold starts from the newest snapshot at or before the target whose claimed position matches
the chain (its offset holds a row of the run with the hash it names); otherwise from the start of
the run. Snapshots are a cache: a missing or mismatching one only costs time, never correctness.
"""

from __future__ import annotations

import zlib
from collections.abc import Callable, Iterable, Iterator

import msgspec

from .errors import (
    CtxlogError,
    IntegrityError,
    InvalidArgumentError,
    KeyMismatchError,
    UnknownCheckpointError,
    UnknownRunError,
)
from .ledger.chain import GENESIS
from .ledger.codec import decode_event
from .ledger.events import CheckpointTaken, Record
from .ledger.log import Ledger
from .ledger.verify import checked
from .projections.fold import fold
from .projections.tree import ContextTree


def choose_run(ledger: Ledger, run: str | None) -> str:
    """``run`` if the ledger holds it; the only run when None; else UnknownRunError listing runs."""
    runs = ledger.run_names()
    if run is not None:
        if run not in runs:
            raise UnknownRunError(f"no run {run!r} in {ledger.store.location}; runs: {_listing(runs)}")
        return run
    if len(runs) == 1:
        return runs[0]
    if not runs:
        raise UnknownRunError(f"{ledger.store.location} holds no runs yet")
    raise UnknownRunError(f"{ledger.store.location} holds {len(runs)} runs; choose one with run=: {_listing(runs)}")


def _listing(runs: list[str]) -> str:
    shown = ", ".join(runs[:10])
    return shown + (f" … ({len(runs)} in all)" if len(runs) > 10 else "") if runs else "(none)"


def checkpoint_events(ledger: Ledger, run: str) -> Iterator[tuple[Record, CheckpointTaken]]:
    """The checkpoint rows of ``run`` with their decoded events; a damaged one is an IntegrityError."""
    for r in ledger.store.checkpoint_rows(run):
        try:
            event = decode_event(r.payload)
        except (msgspec.DecodeError, msgspec.ValidationError) as exc:
            raise IntegrityError(
                f"offset {r.offset}: checkpoint payload is damaged ({exc}); run ctxlog verify", r.offset
            ) from exc
        if not isinstance(event, CheckpointTaken):
            raise IntegrityError(f"offset {r.offset}: a checkpoint row holds a {type(event).__name__}", r.offset)
        yield r, event


def checkpoint_offsets(ledger: Ledger, run: str) -> dict[str, int]:
    """Every checkpoint of ``run``: name -> offset, in order."""
    return {event.name: r.offset for r, event in checkpoint_events(ledger, run)}


def resolve_until(ledger: Ledger, run: str, until: str | int | None) -> int | None:
    """The offset a checkpoint name or offset stands for in ``run`` (None for the head).

    A str names a checkpoint; if no checkpoint has that name and it is ASCII digits, it is an offset.
    """
    if until is None:
        return None
    if isinstance(until, str):
        offset = ledger.store.checkpoint_offset(run, until)
        if offset is None and "\x00" in until:  # SQL text stops at NUL: compare the decoded names
            offset = checkpoint_offsets(ledger, run).get(until)
        if offset is not None:
            return offset
        text = until.strip()
        if not (text.isascii() and text.isdigit()):
            known = ", ".join(checkpoint_offsets(ledger, run)) or "(none)"
            raise UnknownCheckpointError(f"no checkpoint {until!r} in run {run!r}; checkpoints: {known}")
        until = int(text)
    if isinstance(until, bool) or not isinstance(until, int):
        raise InvalidArgumentError(f"until must be a checkpoint name or an offset, not {until!r}")
    first = next(iter(ledger.store.scan_run(run)), None)
    head = ledger.head()
    if first is None or until < first.offset or head is None or until > head[0]:
        span = f"{first.offset}..{head[0]}" if first is not None and head else "none"
        raise UnknownCheckpointError(f"offset {until} is outside run {run!r} (its offsets span {span})")
    return until


Progress = Callable[[int, int], None]
PROGRESS_EVERY = 10_000


def _counted(records: Iterable[Record], total: int, progress: Progress) -> Iterator[Record]:
    for count, record in enumerate(records, start=1):
        yield record
        if count % PROGRESS_EVERY == 0:
            progress(count, total)


def _events_to_fold(ledger: Ledger, run: str, after_seq: int, until: int | None) -> int:
    """How many events of ``run`` follow ``after_seq`` up to ``until`` (an upper bound when unsure)."""
    last = ledger.store.last_seq(run)
    row = ledger.store.record_at(until) if until is not None else None
    return (row.seq if row is not None and row.run == run else last) - after_seq


def load_tree(
    ledger: Ledger, run: str, until: int | None = None, *, verify: bool = False, progress: Progress | None = None,
) -> ContextTree:
    """The tree of ``run`` after its last event at or before offset ``until`` (head when None).

    With ``verify`` every row folded (and every row of other runs between them) must link to its
    predecessor, starting from the snapshot's row or from the start of the log: an IntegrityError
    names the first that does not. A full audit of the file is ``ctxlog.audit.verify``.
    """
    tree, after_seq, anchor = ContextTree(run), 0, (0, GENESIS)
    for snapshot in ledger.store.snapshot_before(run, until):
        row = ledger.store.record_at(snapshot.offset)
        if row is None or row.run != run or row.seq != snapshot.seq:
            continue
        if ledger.chain.snapshot_tag(row.hash, snapshot.state) != snapshot.hash:
            continue
        try:
            tree = ContextTree.from_snapshot(snapshot.state)
        except (msgspec.DecodeError, msgspec.ValidationError, zlib.error, CtxlogError):
            continue
        after_seq, anchor = snapshot.seq, (row.offset, row.hash)
        break
    if verify:
        if ledger.keyed and ledger.chain.algorithm != "hmac-sha256":
            raise KeyMismatchError(f"{ledger.store.location}: the ledger is keyed; give its key to verify")
        records: Iterable[Record] = checked(
            ledger.store.scan(after=anchor[0], until=until), ledger.chain, after=anchor[0], previous=anchor[1], run=run
        )
    else:
        records = ledger.store.scan_run(run, after_seq=after_seq, until=until)
    if progress is not None:
        records = _counted(records, _events_to_fold(ledger, run, after_seq, until), progress)
    return fold(records, tree)


def replay(
    path: str, *, run: str | None = None, until: str | int | None = None, verify: bool = False,
    key: bytes | str | None = None, progress: Progress | None = None,
) -> ContextTree:
    """The context tree of a run at a checkpoint name or offset (the head when ``until`` is None).

    Opens the ledger read-only; ``run`` may be left out when the ledger holds one run. With
    ``verify`` the chain of the rows folded is checked as they stream (a keyed ledger needs ``key``).
    ``progress(done, total)`` is called every PROGRESS_EVERY events folded.
    """
    with Ledger.open(path, readonly=True, create=False, key=key) as ledger:
        chosen = choose_run(ledger, run)
        return load_tree(ledger, chosen, resolve_until(ledger, chosen, until), verify=verify, progress=progress)

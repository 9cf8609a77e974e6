"""Forks: a new run that starts where another stood at one of its checkpoints or offsets.

The fork's first event, ``forked``, records the source run, the offset it forks at and the hash
of that row, and carries the source's tree, checkpoints and used ids there: its tree equals the
source's at that point, and its checkpoints up to there stay restorable. It costs a replay of
the source to that point (a snapshot and a tail) and one event, never a copy of the history.
"""

from __future__ import annotations

import msgspec

from ..errors import ContextStateError, InvalidArgumentError
from ..ledger import Forked
from ..projections import fork_state
from .session import Session, load_tree

__all__ = ["ForkInfo", "start_fork"]


class ForkInfo(msgspec.Struct, frozen=True):
    """What a fork recorded: the new ``run``, where it came from, and its ``forked`` event's offset."""

    run: str
    """The fork's name."""
    source_run: str
    """The run it was forked from."""
    source_offset: int
    """The source's last event at the fork point: the fork's tree is the source's tree there."""
    source_hash: str
    """That row's chain hash, which verify compares with the source's row."""
    offset: int
    """The offset of the fork's ``forked`` event (its first)."""
    checkpoints: dict[str, int]
    """The checkpoints carried over (names -> offsets of the source)."""


def start_fork(s: Session, source_run: str | None, at: str | int | None) -> ForkInfo:
    """Make the empty run of ``s`` a fork of ``source_run`` at checkpoint or offset ``at`` (its head
    when None): one ``forked`` event, in one commit."""
    if isinstance(at, bool) or not isinstance(at, (str, int, type(None))):
        raise InvalidArgumentError(f"at must be a checkpoint name or an offset, not {at!r}")
    with s.operation():
        if s.tree.seq != 0:
            raise ContextStateError(f"run {s.run!r} already has events; a fork starts a new run")
        source = s.ledger.choose_run(source_run)
        if source == s.run:
            raise InvalidArgumentError(f"a fork needs a new name: {s.run!r} is the run it forks")
        tree = load_tree(s.ledger, source, s.ledger.resolve(source, at))
        if tree.root_id is None or tree.current_id is None:
            raise ContextStateError(f"run {source!r} has no tree at {at!r} to fork")
        (row,) = s.ledger.records(after=tree.offset - 1, until=tree.offset)  # a point a fork carried: its source's
        tree.run = row.run
        event = Forked(
            source_run=row.run, source_offset=row.offset, source_hash=row.hash, state=msgspec.Raw(fork_state(tree))
        )
        record = s.append(event, tree.current_id, None)
    return ForkInfo(s.run, row.run, row.offset, row.hash, record.offset, dict(tree.checkpoints))

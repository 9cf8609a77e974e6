"""A fork's lineage: its source, the source's source, and so on, walked without recursion.

A fork's history before its first event is its source's up to the fork point, which may itself
be a fork's: readers follow the chain of ``forked`` first rows one run at a time. In a ledger that
verifies each source row lies before the fork's first row, so the walk ends; a forged ledger may
make it loop, which is an IntegrityError naming the fork row, never an endless walk.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator

from ..errors import IntegrityError, shown

__all__ = ["Origin", "fork_lineage"]

Origin = tuple[str, int, int]
"""``(source run, source offset, offset of the fork's first row)``."""


def fork_lineage(origin_of: Callable[[str], Origin | None], run: str) -> Iterator[Origin]:
    """The origin of ``run``, then of its source, … until a run that is not a fork (``origin_of``
    is ``Ledger.fork_origin``); lazily, one run's first row at a time."""
    seen = {run}
    origin = origin_of(run)
    while origin is not None:
        if origin[0] in seen:
            raise IntegrityError(
                f"offset {origin[2]}: this fork's lineage comes back to run {shown(origin[0])} (a loop); "
                "run ctxlog verify",
                origin[2],
            )
        seen.add(origin[0])
        yield origin
        origin = origin_of(origin[0])

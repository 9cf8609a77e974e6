"""Streaming reads in batches: how many rows to fetch next, and where a run's stream stops.

Stores fetch rows in batches that start at one row and double while they are small, so a read
holds about BATCH_BYTES at once however large its rows (rows of 16 MiB values come one at a time).
"""

from __future__ import annotations

import itertools
from collections.abc import Iterator

from .events import Record

__all__ = ["BATCH_BYTES", "next_batch", "rows_bytes", "up_to"]

BATCH_BYTES = 8 << 20
"""About how many bytes of rows a streamed read holds at once, however large the rows."""


def up_to(records: Iterator[Record], until: int | None) -> Iterator[Record]:
    """``records`` (of one run, by seq) up to offset ``until``: the stream ends at the first row
    past it, the rest of the run left unread."""
    if until is None:
        return records
    return itertools.takewhile(lambda r: r.offset <= until, records)


_NUMBERS = frozenset({int, float, type(None)})
_TEXTS = frozenset({str, bytes})


def rows_bytes(rows: list[tuple]) -> int:
    """The characters and bytes of the text and BLOB cells of ``rows``, a column at a time in C."""
    total = 0
    for column in zip(*rows, strict=True):
        types = set(map(type, column))
        if types <= _TEXTS:
            total += sum(map(len, column))
        elif not types <= _NUMBERS:
            total += sum(len(cell) for cell in column if isinstance(cell, (str, bytes)))
    return total


def next_batch(rows: list[tuple], batch: int, most: int) -> int:
    """How many rows to fetch next: twice as many while they are small, fewer once they are large,
    so that a batch holds about BATCH_BYTES (rows of 16 MiB values are fetched one at a time)."""
    size = rows_bytes(rows)
    if size * 2 <= BATCH_BYTES:
        return min(most, batch * 2)
    return max(1, min(most, BATCH_BYTES * len(rows) // max(size, 1)))

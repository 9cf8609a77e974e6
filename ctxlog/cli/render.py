"""Text and JSON renderings for the terminal: stable, greppable, one item a line.

Names chosen by users (runs, context ids, checkpoints) are printed as they are when they are
plain, and as JSON strings when they hold spaces or control characters, so a line never breaks.
"""

from __future__ import annotations

import functools
import itertools
import time
from collections.abc import Iterable, Iterator, Sequence
from typing import Any

import msgspec

from .. import ContextTree
from ..audit import CheckpointInfo, ContextDiff, LedgerStats, Record, RunInfo, TreeDiff

__all__ = [
    "LOG_HEADER",
    "PAYLOAD_WIDTH",
    "LogEntry",
    "checkpoint_json",
    "checkpoints_lines",
    "diff_lines",
    "iso_time",
    "log_json",
    "log_line",
    "plain",
    "run_json",
    "runs_lines",
    "short_payload",
    "stats_lines",
    "table",
    "to_json",
    "tree_lines",
]

PAYLOAD_WIDTH = 80

_encoder = msgspec.json.Encoder()


def to_json(value: Any) -> str:
    """Compact JSON of ``value`` (str keys, JSON-shaped values, msgspec Structs)."""
    return _encoder.encode(value).decode()


def iso_time(ts: int) -> str:
    """Nanoseconds since the epoch as ISO-8601 UTC with microseconds: ``2026-01-02T03:04:05.678901Z``."""
    seconds, nanos = divmod(ts, 1_000_000_000)
    return f"{_iso_second(seconds)}.{nanos // 1000:06d}Z"


@functools.lru_cache(maxsize=256)
def _iso_second(seconds: int) -> str:
    """The whole-second part, formatted once per second of events rather than once per event."""
    return time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime(seconds))


def plain(name: str | None) -> str:
    """``name`` as it is when it is one printable word, else as a JSON string; ``-`` for None."""
    if name is None:
        return "-"
    if name and name.isprintable() and not any(ch.isspace() for ch in name) and not name.startswith('"'):
        return name
    return to_json(name)


TABLE_WINDOW = 1000
"""Rows a table's column widths are measured on; later rows are streamed at those widths."""


def table(rows: Iterable[Sequence[str]]) -> Iterator[str]:
    """Rows as left-aligned columns two spaces apart, without trailing spaces, streamed: the widths
    are those of the first TABLE_WINDOW rows (a longer cell later just pushes its line)."""
    rows = iter(rows)
    first = list(itertools.islice(rows, TABLE_WINDOW))
    widths = [max(len(row[i]) for row in first) for i in range(len(first[0]))] if first else []
    for row in itertools.chain(first, rows):
        yield "  ".join(cell.ljust(width) for cell, width in zip(row, widths, strict=True)).rstrip()


def tree_lines(tree: ContextTree) -> list[str]:
    """The tree drawn with indentation: id, isolation, status, own data; ``*`` marks current."""
    lines = [f"run {plain(tree.run)}  offset {tree.offset}  current {plain(tree.current_id)}"]
    if tree.root_id is None:
        return lines + ["(no contexts)"]
    stack: list[tuple[str, int]] = [(tree.root_id, 0)]
    while stack:
        cid, depth = stack.pop()
        ctx = tree.contexts[cid]
        mark = "*" if cid == tree.current_id else " "
        flags = f"{ctx.isolation.value}, {ctx.status}" + (", parallel" if ctx.is_parallel else "")
        lines.append(f"{mark} {'  ' * depth}{plain(cid)} [{flags}] {to_json(ctx.data)}")
        stack.extend((child, depth + 1) for child in reversed(ctx.children))
    return lines


def short_payload(record: Record) -> str:
    """The payload without its ``kind`` tag, cut to PAYLOAD_WIDTH characters."""
    prefix = f'{{"kind":"{record.kind}"'
    body = record.payload
    if body.startswith(prefix):
        rest = body[len(prefix) :]
        body = "{" + rest[1:] if rest.startswith(",") else "{" + rest
    return body if len(body) <= PAYLOAD_WIDTH else body[: PAYLOAD_WIDTH - 1] + "…"


LOG_HEADER = f"{'offset':>6}  {'seq':>5}  {'time':<27}  {'kind':<11}  {'context':<10}  {'cause':>5}  payload"


def log_line(r: Record) -> str:
    """One event as a line: offset, seq, time, kind, context, cause, short payload."""
    cause = "-" if r.cause is None else str(r.cause)
    return (
        f"{r.offset:>6}  {r.seq:>5}  {iso_time(r.ts)}  {r.kind:<11}  {plain(r.context):<10}  {cause:>5}  "
        f"{short_payload(r)}"
    )


class LogEntry(msgspec.Struct):
    """One event as a JSON line: every column, the payload as an object, the time also as ISO."""

    offset: int
    run: str
    seq: int
    ts: int
    time: str
    kind: str
    context: str
    cause: int | None
    payload: msgspec.Raw
    hash: str


def log_json(r: Record) -> str:
    """One event as a JSON line."""
    entry = LogEntry(
        r.offset,
        r.run,
        r.seq,
        r.ts,
        iso_time(r.ts),
        r.kind,
        r.context,
        r.cause,
        msgspec.Raw(r.payload.encode()),
        r.hash,
    )
    return to_json(entry)


def runs_lines(infos: Iterable[RunInfo]) -> Iterator[str]:
    """Runs as a table: events, offsets, first and last time, checkpoints, and where a fork came from."""
    header = [["run", "events", "offsets", "first", "last", "checkpoints", "forked from"]]
    rows = (
        [
            plain(i.run),
            str(i.events),
            f"{i.first_offset}..{i.last_offset}",
            iso_time(i.first_ts),
            iso_time(i.last_ts),
            str(i.checkpoints),
            f"{plain(i.source)}@{i.source_offset}" if i.source is not None else "-",
        ]
        for i in infos
    )
    return table(itertools.chain(header, rows))


def run_json(info: RunInfo) -> str:
    """One run as a JSON line, with its times also as ISO."""
    fields = msgspec.structs.asdict(info)
    fields.update(first_time=iso_time(info.first_ts), last_time=iso_time(info.last_ts))
    return to_json(fields)


def checkpoints_lines(infos: Iterable[CheckpointInfo]) -> Iterator[str]:
    """Checkpoints as a table: name, offset, time, ``auto`` for automatic ones, and whether each is
    on the run's current timeline (``no``: a restore went back past it) or carried by a fork."""
    header = [["name", "offset", "time", "auto", "timeline"]]
    rows = ([plain(c.name), str(c.offset), iso_time(c.ts), "auto" if c.auto else "-", _timeline(c)] for c in infos)
    return table(itertools.chain(header, rows))


def _timeline(c: CheckpointInfo) -> str:
    return ("yes" if c.on_timeline else "no") + (" (carried)" if c.carried else "")


def checkpoint_json(info: CheckpointInfo) -> str:
    """One checkpoint as a JSON line, with its time also as ISO."""
    fields = msgspec.structs.asdict(info)
    fields["time"] = iso_time(info.ts)
    return to_json(fields)


def _context_lines(c: ContextDiff) -> list[str]:
    who = plain(c.id)
    parallel = ", parallel" if c.is_parallel else ""
    if c.change == "added":
        lines = [f"{who}: added [{c.isolation}, {c.new_status}{parallel}] under {plain(c.parent_id)}"]
    elif c.change == "removed":
        lines = [f"{who}: removed [{c.isolation}, {c.old_status}{parallel}]"]
    elif c.change == "status":
        lines = [f"{who}: {c.old_status} -> {c.new_status}"]
    else:
        lines = []
    for k in c.keys:
        if k.change == "added":
            lines.append(f"{who}: + {plain(k.key)} = {to_json(k.new)}")
        elif k.change == "changed":
            lines.append(f"{who}: ~ {plain(k.key)} = {to_json(k.old)} -> {to_json(k.new)}")
        else:
            lines.append(f"{who}: - {plain(k.key)} (was {to_json(k.old)})")
    return lines


def diff_lines(d: TreeDiff, a: str, b: str) -> list[str]:
    """A diff as lines that each start with the context they are about."""

    def label(name: str, offset: int) -> str:
        return f"offset {offset}" if name == str(offset) else f"{plain(name)} (offset {offset})"

    lines = [f"run {plain(d.run)}: {label(a, d.a_offset)} -> {label(b, d.b_offset)}"]
    for c in d.contexts:
        lines += _context_lines(c)
    if d.old_current != d.new_current:
        lines.append(f"current: {plain(d.old_current)} -> {plain(d.new_current)}")
    return lines + (["no changes"] if d.empty else [])


def stats_lines(s: LedgerStats) -> list[str]:
    """Stats as ``name  value`` lines, then events by kind."""
    rows = [
        ["ledger id", s.ledger_id],
        ["schema version", str(s.schema_version)],
        ["hash algorithm", s.hash_algorithm],
        ["runs", str(s.runs)],
        ["events", str(s.events)],
        ["checkpoints", str(s.checkpoints)],
        ["snapshots", str(s.snapshots)],
        ["size on disk", f"{s.size_bytes} bytes"],
        ["bytes per event", f"{s.bytes_per_event:.1f}"],
    ]
    rows += [[f"kind {kind}", str(n)] for kind, n in s.kinds.items()]
    return table(rows)

"""Questions an auditor asks of a ledger file, each one function; the CLI is a thin layer over them.

Every function opens the ledger read-only and closes it before returning (``events`` when its
stream ends or is closed), except ``import_events``, which writes a new ledger. ``progress``
callbacks receive ``(events done, events in all)`` every 10,000 events.
"""

from __future__ import annotations

import contextlib
import os
from collections.abc import Callable, Generator, Iterable, Iterator
from typing import Any, BinaryIO

import msgspec

from .errors import InvalidArgumentError, KeyMismatchError, UnknownContextError, UnknownKeyError
from .ledger.chain import GENESIS
from .ledger.events import KINDS, Record
from .ledger.log import Ledger, is_url
from .ledger.store import RunInfo
from .ledger.transfer import ExportHeader, check_key, export_ledger, import_ledger, read_header
from .ledger.urls import redacted
from .ledger.verify import VerifyResult, verify_records
from .projections.tree import ContextTree
from .replay import PROGRESS_EVERY, Progress, checkpoint_events, choose_run, load_tree, replay, resolve_until
from .treediff import TreeDiff, diff_trees

__all__ = [
    "PROGRESS_EVERY",
    "CheckpointInfo",
    "EventStream",
    "ExportHeader",
    "LedgerStats",
    "Progress",
    "RunInfo",
    "TreeDiff",
    "VerifyResult",
    "checkpoints",
    "diff",
    "events",
    "export_events",
    "get_value",
    "graph",
    "head",
    "import_events",
    "runs",
    "stats",
    "tree_at",
    "verify",
]

GRAPH_FORMATS = ("mermaid", "dot")


class CheckpointInfo(msgspec.Struct, frozen=True):
    """One checkpoint of a run; ``auto`` marks those taken by ``checkpoint_interval``."""

    name: str
    offset: int
    seq: int
    ts: int
    context: str
    auto: bool


class LedgerStats(msgspec.Struct, frozen=True):
    """Size and shape of a ledger file: events by kind, runs, bytes on disk."""

    ledger_id: str
    schema_version: int
    hash_algorithm: str
    runs: int
    events: int
    checkpoints: int
    snapshots: int
    size_bytes: int
    bytes_per_event: float
    kinds: dict[str, int]


def _open(path: str, key: bytes | str | None = None) -> Ledger:
    return Ledger.open(str(path), readonly=True, create=False, key=key)


def runs(path: str) -> list[RunInfo]:
    """Every run in the ledger at ``path``: event count, first/last offset and time, checkpoints."""
    with _open(path) as ledger:
        return ledger.runs()


def checkpoints(path: str, *, run: str | None = None) -> list[CheckpointInfo]:
    """The checkpoints of a run, in order, automatic ones included."""
    with _open(path) as ledger:
        chosen = choose_run(ledger, run)
        return [
            CheckpointInfo(event.name, r.offset, r.seq, r.ts, r.context, event.auto)
            for r, event in checkpoint_events(ledger, chosen)
        ]


class EventStream:
    """The records of a filtered log, streamed; the ledger closes when the stream ends or is closed.

    Use it in a ``with`` block when you may stop before the end.
    """

    def __init__(self, ledger: Ledger, records: Generator[Record, None, None]) -> None:
        self._ledger: Ledger | None = ledger
        self._records = records

    def __iter__(self) -> EventStream:
        return self

    def __next__(self) -> Record:
        if self._ledger is None:
            raise StopIteration
        try:
            return next(self._records)
        except BaseException:
            self.close()
            raise

    def close(self) -> None:
        """Release the ledger; further iteration yields nothing."""
        if self._ledger is not None:
            ledger, self._ledger = self._ledger, None
            self._records.close()
            ledger.close()

    def __enter__(self) -> EventStream:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


def events(
    path: str, *, run: str | None = None, since: int | None = None, until: str | int | None = None,
    kinds: Iterable[str] = (), context: str | None = None,
) -> EventStream:
    """The events of a run in order: after offset ``since``, up to ``until``, of ``kinds``, on ``context``.

    Arguments are checked before the stream is returned: an unknown run, checkpoint, kind or
    context raises here, not midway.
    """
    wanted = frozenset(kinds)
    unknown = sorted(wanted - set(KINDS))
    if unknown:
        raise InvalidArgumentError(f"unknown event kind {unknown[0]!r}; kinds: {', '.join(KINDS)}")
    if since is not None and (isinstance(since, bool) or not isinstance(since, int) or since < 0):
        raise InvalidArgumentError(f"since must be an offset (an int >= 0), not {since!r}")
    ledger = _open(path)
    try:
        chosen = choose_run(ledger, run)
        offset = resolve_until(ledger, chosen, until)
        if context is not None and context not in load_tree(ledger, chosen).known_ids:
            raise UnknownContextError(f"no context {context!r} in run {chosen!r}")
        records = ledger.records(chosen, after=since or 0, until=offset)
    except BaseException:
        ledger.close()
        raise
    return EventStream(ledger, _filtered(records, wanted, context))


def _filtered(
    records: Iterator[Record], kinds: frozenset[str], context: str | None
) -> Generator[Record, None, None]:
    for record in records:
        if (not kinds or record.kind in kinds) and (context is None or record.context == context):
            yield record


def _counting(progress: Progress, total: int) -> Callable[[int], None]:
    """A ``done`` callback (as ``verify_records`` takes) reporting ``(done, total)``."""

    def report(done: int) -> None:
        progress(done, total)

    return report


def tree_at(
    path: str, *, run: str | None = None, until: str | int | None = None, progress: Progress | None = None,
) -> ContextTree:
    """The tree of a run at a checkpoint name or offset (the head when ``until`` is None)."""
    return replay(path, run=run, until=until, progress=progress)


def get_value(
    path: str, key: str, *, run: str | None = None, context: str | None = None, until: str | int | None = None,
) -> Any:
    """The value of ``key`` as ``context`` (default: the current one) resolves it; UnknownKeyError if none.

    A stored ``None`` is a value and is returned; only a key no context on the lookup path holds
    is missing.
    """
    tree = tree_at(path, run=run, until=until)
    if context is None and tree.current_id is None:
        raise UnknownKeyError(f"run {tree.run!r} has no contexts at offset {tree.offset}, so no key {key!r}")
    if not tree.has(key, context):
        where = context if context is not None else tree.current_id
        raise UnknownKeyError(
            f"key {key!r} does not resolve from context {where!r} in run {tree.run!r} at offset {tree.offset}"
        )
    return tree.get(key, context)


def diff(path: str, a: str | int, b: str | int, *, run: str | None = None) -> TreeDiff:
    """What changed in a run between checkpoints (or offsets) ``a`` and ``b``; see :func:`diff_trees`."""
    with _open(path) as ledger:
        chosen = choose_run(ledger, run)
        old = load_tree(ledger, chosen, resolve_until(ledger, chosen, a))
        new = load_tree(ledger, chosen, resolve_until(ledger, chosen, b))
    return diff_trees(old, new)


def head(path: str) -> tuple[int, str]:
    """``(offset, hash)`` of the ledger's last event; ``(0, GENESIS)`` for an empty ledger."""
    with _open(path) as ledger:
        return ledger.head() or (0, GENESIS)


def verify(
    path: str, *, key: bytes | str | None = None, head: tuple[int, str] | None = None,
    progress: Progress | None = None,
) -> VerifyResult:
    """Recompute the whole chain of the ledger at ``path``; ``head`` is an exported ``(offset, hash)``.

    A keyed ledger needs its key: without it a KeyMismatchError says so.
    """
    with _open(path, key) as ledger:
        if ledger.keyed and key is None:
            raise KeyMismatchError(f"{redacted(path)}: the ledger is keyed (HMAC-SHA256); give its key to verify it")
        total = (ledger.head() or (0, GENESIS))[0]
        report = None if progress is None else _counting(progress, total)
        return verify_records(ledger.records(), ledger.chain, expect_head=head, progress=report)


def export_events(path: str, out: BinaryIO) -> ExportHeader:
    """Write the ledger as JSON Lines to ``out``: a header, then one row a line with every column.

    Payloads are the exact stored text, so an import re-verifies the chain byte for byte.
    """
    with _open(path) as ledger:
        return export_ledger(ledger, out)


def import_events(
    path: str, source: Iterable[bytes], *, key: bytes | str | None = None, name: str = "<export>",
    progress: Progress | None = None,
) -> VerifyResult:
    """Create the ledger at ``path`` (or fill an empty one) from an export; all rows verified, or none.

    ``source`` yields the export's lines; ``name`` names it in errors. A keyed export needs its
    ``key``. When the import fails, nothing is appended and a file this call created is removed
    (a PostgreSQL schema keeps the empty ledger tables: dropping tables is not an importer's call).
    """
    path = str(path)
    raw_key = key.encode() if isinstance(key, str) else key
    lines = iter(source)
    header = read_header(lines, name)
    check_key(header, raw_key, name)
    created = not is_url(path) and not os.path.exists(path)
    try:
        with Ledger.open(path, key=raw_key, create=True) as ledger:
            report = None if progress is None else _counting(progress, header.events)
            return import_ledger(ledger, lines, header, source=name, progress=report)
    except BaseException:
        if created:
            for suffix in ("", "-wal", "-shm", "-journal"):
                with contextlib.suppress(FileNotFoundError):
                    os.remove(path + suffix)
        raise


def graph(path: str, *, run: str | None = None, until: str | int | None = None, format: str = "mermaid") -> str:
    """The context hierarchy as diagram source: Mermaid ``graph TD`` or Graphviz ``digraph``."""
    if format not in GRAPH_FORMATS:
        raise InvalidArgumentError(f"graph format must be one of {', '.join(GRAPH_FORMATS)}, not {format!r}")
    tree = tree_at(path, run=run, until=until)
    return _mermaid(tree) if format == "mermaid" else _dot(tree)


def _nodes(tree: ContextTree) -> list[tuple[str, str, str, list[str]]]:
    """``(node id, context id, flags, child node ids)`` depth-first; node ids ``n0, n1 …`` are always safe."""
    order: list[str] = []
    stack = [tree.root_id] if tree.root_id is not None else []
    while stack:
        cid = stack.pop()
        order.append(cid)
        stack.extend(reversed(tree.contexts[cid].children))
    ids = {cid: f"n{i}" for i, cid in enumerate(order)}
    nodes = []
    for cid in order:
        ctx = tree.contexts[cid]
        flags = [ctx.status] + ["parallel"] * ctx.is_parallel + ["current"] * (cid == tree.current_id)
        nodes.append((ids[cid], cid, ", ".join(flags), [ids[c] for c in ctx.children]))
    return nodes


_MERMAID_SAFE = frozenset("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789 -_.,:/()@+=")


def _mermaid_text(text: str) -> str:
    return "".join(ch if ch in _MERMAID_SAFE else f"#{ord(ch)};" for ch in text)


def _mermaid(tree: ContextTree) -> str:
    lines = ["graph TD", f"  %% run {_mermaid_text(tree.run)} at offset {tree.offset}"]
    styled: dict[str, list[str]] = {"failed": [], "parallel": [], "current": []}
    nodes = _nodes(tree)
    for node, cid, flags, _ in nodes:
        ctx = tree.contexts[cid]
        label = f'"{_mermaid_text(cid)}<br/>{_mermaid_text(flags)}"'
        lines.append(f"  {node}([{label}])" if ctx.is_parallel else f"  {node}[{label}]")
        for name in styled:
            if name in flags.split(", "):
                styled[name].append(node)
    for node, _, _, children in nodes:
        lines.extend(f"  {node} --> {child}" for child in children)
    lines += [
        "  classDef failed stroke:#c00,stroke-width:2px",
        "  classDef parallel stroke-dasharray:4 3",
        "  classDef current stroke-width:3px",
    ]
    lines.extend(f"  class {','.join(members)} {name}" for name, members in styled.items() if members)
    return "\n".join(lines) + "\n"


def _dot_text(text: str) -> str:
    escaped = text.replace("\\", "\\\\").replace('"', '\\"')
    return "".join(ch if ch.isprintable() else f"\\\\x{ord(ch):02x}" for ch in escaped)


def _dot(tree: ContextTree) -> str:
    lines = [
        "digraph ctxlog {",
        f'  label="run {_dot_text(tree.run)} at offset {tree.offset}";',
        "  node [shape=box];",
    ]
    nodes = _nodes(tree)
    for node, cid, flags, _ in nodes:
        ctx = tree.contexts[cid]
        attrs = [f'label="{_dot_text(cid)}\\n{flags}"']
        if ctx.is_parallel:
            attrs.append("style=dashed")
        if ctx.status == "failed":
            attrs.append("color=red")
        if cid == tree.current_id:
            attrs.append("penwidth=2")
        lines.append(f"  {node} [{', '.join(attrs)}];")
    for node, _, _, children in nodes:
        lines.extend(f"  {node} -> {child};" for child in children)
    return "\n".join(lines + ["}"]) + "\n"


def stats(path: str) -> LedgerStats:
    """Events by kind, runs, checkpoints, cached snapshots and bytes on disk of the ledger at ``path``."""
    with _open(path) as ledger:
        infos = ledger.runs()
        size = ledger.store.size_bytes()
        meta = ledger.meta
        kinds, snapshots = ledger.store.kind_counts(), ledger.store.snapshot_count()
    count = sum(info.events for info in infos)
    return LedgerStats(
        meta["ledger_id"], int(meta["schema_version"]), meta["hash_algorithm"], len(infos), count,
        sum(info.checkpoints for info in infos), snapshots, size, round(size / count, 1) if count else 0.0, kinds,
    )

"""``report``: one run of a ledger as one self-contained HTML file that opens offline.

The file holds the viewer's stylesheet and scripts and the run's data, inline: its events (with
their chain columns), the trees ctxlog replayed where an event replaced the whole tree, the
timeline's spans, the checkpoints and the verify badge at the time of the report. The events and
the rest are gzip-compressed JSON (the browser inflates them with ``DecompressionStream``), so a
run of 100,000 events stays well under 20 MB. The tree at any offset is folded in the page.
"""

from __future__ import annotations

import base64
import gzip
import os
import tempfile
from contextlib import suppress
from datetime import UTC, datetime
from typing import Any

import msgspec

from .. import UnknownRunError, audit
from .data import iso, tree_json
from .pages import inline
from .timeline import spans
from .viewer import Viewer

__all__ = ["report"]

REPLACING = ("restored", "loaded")


def _packed(value: Any) -> str:
    return base64.b64encode(gzip.compress(msgspec.json.encode(value), compresslevel=6)).decode("ascii")


def _events(path: str, run: str, key: bytes | str | None) -> tuple[list[list[Any]], list[int]]:
    rows, replacing = [], []
    with audit.log(path, run=run, key=key) as stream:
        for r in stream:
            payload = msgspec.json.decode(r.payload)
            if r.kind in REPLACING:
                payload.pop("state", None)
                replacing.append(r.offset)
            rows.append([r.offset, r.seq, iso(r.ts), r.kind, r.context, r.cause, r.hash, payload])
    return rows, replacing


def _chosen(viewer: Viewer, run: str | None) -> str:
    if run is not None:
        return viewer.index(run).run
    names = [r["run"] for r in viewer.runs()]
    if len(names) != 1:
        listed = ", ".join(names[:10]) or "(none)"
        raise UnknownRunError(f"{viewer.location} holds {len(names)} runs; choose one with run=: {listed}")
    return names[0]


def report(path: str, *, run: str | None = None, out: str, key: bytes | str | None = None) -> int:
    """Write ``run`` (the only run when None) of the ledger at ``path`` (read with ``key`` when
    given) to the HTML file ``out``, put in place only once whole; returns its size in bytes."""
    viewer = Viewer(path, key)
    chosen = _chosen(viewer, run)
    index = viewer.index(chosen)
    packed = spans(index)
    events, replacing = _events(viewer.path, chosen, key)
    interrupted = sorted(n.id for n in index.nodes.values() if n.closed_status == "interrupted")
    keyframes = {str(o): tree_json(viewer.tree(chosen, o), set(interrupted)) for o in replacing}
    base = packed.items[0].start if packed.items else packed.last_ts
    data = {
        "ledger": {"location": viewer.location, "head": index.offset, "verify": viewer.wait_verified()},
        "run": viewer.run_info(chosen),
        "spans": {
            "run": chosen,
            "base_ns": str(base),
            "head": (packed.last_ts - base) / 1e6,
            "lanes": [{"depth": d, "index": i} for d, i in packed.lanes],
            "items": [
                [
                    s.id,
                    s.name,
                    s.lane,
                    (s.start - base) / 1e6,
                    None if s.end is None else (s.end - base) / 1e6,
                    s.status,
                    s.parallel,
                    s.offset,
                ]
                for s in packed.items
            ],
        },
        "keyframes": keyframes,
        "interrupted": interrupted,
    }
    made = datetime.now(UTC).strftime("%Y-%m-%d %H:%M UTC")
    config = msgspec.json.encode({"mode": "report", "run": chosen, "generated": f"report of {made}"}).decode()
    page = inline(
        f"{chosen} · {viewer.location}", config, {"ctxlog-data": _packed(data), "ctxlog-events": _packed(events)}
    )
    return _write(out, page.encode("utf-8"))


def _write(out: str, body: bytes) -> int:
    folder = os.path.dirname(os.path.abspath(out))
    fd, partial = tempfile.mkstemp(dir=folder, prefix=".ctxlog-report-")
    try:
        with os.fdopen(fd, "wb") as file:
            file.write(body)
        os.replace(partial, out)
    except BaseException:
        with suppress(FileNotFoundError):
            os.remove(partial)
        raise
    return len(body)

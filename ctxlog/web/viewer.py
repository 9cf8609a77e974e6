"""What one served ledger knows: the index of each run, the verify badge, the last trees replayed.

A :class:`Viewer` answers the server's endpoints. It indexes a run the first time it is asked
about it and then brings the index up to date, reading only what was committed since, whenever the
head moved. The verify badge is computed in a worker process (verifying a large ledger takes a
while, and holds an interpreter) and again once the head moved. Trees replayed for a context's
data are kept, the last few, so clicking through one point's contexts replays it once.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import threading
from collections import OrderedDict
from typing import Any

from .. import ContextTree, CtxlogError, IntegrityError, UnknownCheckpointError, audit
from .data import iso, run_json, run_status, structure_json, verify_json
from .index import RunIndex
from .timeline import Spans, spans

__all__ = ["TREES_KEPT", "Viewer", "verify_main"]

TREES_KEPT = 4
"""How many replayed trees a viewer keeps."""


def verify_main() -> None:
    """The worker process of a badge: verify the ledger named by the first argument (under the
    key read from stdin, if any) and print the badge as JSON."""
    os.nice(10)
    key = sys.stdin.buffer.read() or None
    try:
        badge = verify_json(audit.verify(sys.argv[1], key=key))
    except CtxlogError as exc:
        badge = verify_json(None, str(exc))
    print(json.dumps(badge))


class Viewer:
    """The read-only view of the ledger at ``path`` (read with ``key`` when given)."""

    def __init__(self, path: str, key: bytes | str | None = None) -> None:
        self.path, self.key = str(path), key
        self.location = audit.redacted(self.path)
        self._indexes: dict[str, RunIndex] = {}
        self._spans: dict[str, Spans] = {}
        self._trees: OrderedDict[tuple[str, int], ContextTree] = OrderedDict()
        self._lock = threading.Lock()
        self._verified: tuple[int, dict[str, Any]] | None = None
        self._verifying: threading.Thread | None = None
        self._runs: tuple[int, list[audit.RunInfo]] | None = None
        self._marks: dict[str, tuple[int, list[audit.CheckpointInfo]]] = {}

    # -- the ledger --------------------------------------------------------------------------

    def head(self) -> int:
        """The offset of the last event (0 when empty); an IntegrityError when the head does not link."""
        return audit.head(self.path, key=self.key)[0]

    def badge(self) -> dict[str, Any]:
        """The verify badge of the present head, started in a worker when it is not known yet."""
        try:
            head = self.head()
        except IntegrityError as exc:  # the head itself is not the chain's: verify says where
            head = -1 if exc.offset is None else -exc.offset
        with self._lock:
            known = self._verified
            if (known is None or known[0] != head) and (self._verifying is None or not self._verifying.is_alive()):
                self._verifying = threading.Thread(target=self._verify, args=(head,), daemon=True)
                self._verifying.start()
        return known[1] if known is not None else verify_json(None)

    def _verify(self, head: int) -> None:
        """Verify in another process (at a lower priority): the walk of a large ledger would
        hold this one's interpreter for as long."""
        key = self.key.encode("utf-8") if isinstance(self.key, str) else self.key or b""
        try:
            done = subprocess.run(
                [sys.executable, "-c", "from ctxlog.web.viewer import verify_main; verify_main()", self.path],
                input=key,
                capture_output=True,
                check=False,
            )
            badge = json.loads(done.stdout) if done.returncode == 0 else verify_json(None, done.stderr.decode()[-500:])
        except (OSError, ValueError) as exc:
            badge = verify_json(None, f"cannot verify: {exc}")
        with self._lock:
            self._verified = (head, badge)

    def wait_verified(self, timeout: float | None = None) -> dict[str, Any]:
        """The badge once a verification finished (for the report and tests)."""
        self.badge()
        thread = self._verifying
        if thread is not None:
            thread.join(timeout)
        return self.badge()

    # -- runs and their indexes ----------------------------------------------------------------

    def runs(self) -> list[dict[str, Any]]:
        """Every run, with its status when its index is built (None until then); read again only
        once the head moved (counting a large run's events takes a while)."""
        head = self.head()
        with self._lock:
            cached = self._runs if self._runs is not None and self._runs[0] == head else None
        if cached is None:
            with audit.runs(self.path, key=self.key) as infos:
                cached = (head, list(infos))
            with self._lock:
                self._runs = cached
        listed = []
        for info in cached[1]:
            index = self._indexes.get(info.run)
            ready = index is not None and index.offset >= info.last_offset
            listed.append(run_json(info, run_status(index) if ready and index is not None else None))
        return listed

    def run_info(self, run: str) -> dict[str, Any]:
        """One run as the runs view lists it, from its index, with its checkpoints and the head."""
        index = self.index(run)
        with self._lock:
            known = {} if self._runs is None else {i.run: i for i in self._runs[1]}
        source = known.get(run)
        info = {
            "run": run,
            "events": index.events,
            "first_offset": index.first_offset,
            "last_offset": index.last_offset,
            "first_time": iso(index.first_ts),
            "last_time": iso(index.last_ts),
            "checkpoints": index.checkpoints,
            "status": run_status(index),
            "source": getattr(source, "source", None),
            "source_offset": getattr(source, "source_offset", None),
        }
        marks = [
            {"name": c.name, "offset": c.offset, "auto": c.auto, "context": c.context} for c in self.checkpoints(run)
        ]
        return {**info, "head": index.offset, "exact_until": index.exact_until, "checkpoints_list": marks}

    def index(self, run: str) -> RunIndex:
        """The index of ``run``, up to date (UnknownRunError when the ledger has no such run)."""
        with self._lock:
            index = self._indexes.get(run)
        if index is None:
            audit.Follower(self.path, run=run, key=self.key).close()  # the run must exist
            index = RunIndex(self.path, run, self.key)
            with self._lock:
                index = self._indexes.setdefault(run, index)
        index.update()
        return index

    def spans(self, run: str) -> Spans:
        """The packed timeline spans of ``run``, repacked when its index moved."""
        index = self.index(run)
        with index.lock:
            packed = self._spans.get(run)
            if packed is None or packed.version != index.version:
                packed = self._spans[run] = spans(index)
        return packed

    def point(self, run: str, at: str | None) -> int:
        """The offset ``at`` stands for in ``run`` (a checkpoint name or an offset; the run's last
        event when None); UnknownCheckpointError, saying what exists, when it is neither."""
        index = self.index(run)
        if at is None or at == "":
            return index.last_offset
        for info in self.checkpoints(run):
            if info.name == at:
                return info.offset
        text = at.strip()
        first = index.first_offset
        if text.isascii() and text.isdigit() and first <= int(text) <= index.offset:
            return int(text)
        names = ", ".join(i.name for i in self.checkpoints(run)[:20]) or "(none)"
        raise UnknownCheckpointError(
            f"no checkpoint or offset {at!r} in run {run!r}: its offsets span {first}..{index.offset}; "
            f"checkpoints: {names}"
        )

    def checkpoints(self, run: str) -> list[audit.CheckpointInfo]:
        """The checkpoints of ``run``, in order (read again once its index moved)."""
        version = self.index(run).version
        with self._lock:
            known = self._marks.get(run)
        if known is None or known[0] != version:
            with audit.checkpoints(self.path, run=run, key=self.key) as infos:
                known = (version, list(infos))
            with self._lock:
                self._marks[run] = known
        return known[1]

    def warm(self, runs: int = 20) -> None:
        """Read what the first pages ask for ahead of them: the runs, the index of each (of the
        first ``runs``), the verify badge. Errors are left for the pages to report."""
        try:
            self.badge()
            for info in self.runs()[:runs]:
                self.index(info["run"])
        except CtxlogError:
            pass

    # -- trees -----------------------------------------------------------------------------------

    def tree(self, run: str, offset: int) -> ContextTree:
        """The replayed tree of ``run`` at ``offset`` (kept among the last TREES_KEPT)."""
        with self._lock:
            tree = self._trees.get((run, offset))
            if tree is not None:
                self._trees.move_to_end((run, offset))
                return tree
        tree = audit.replay(self.path, run=run, until=offset, key=self.key)
        with self._lock:
            self._trees[(run, offset)] = tree
            while len(self._trees) > TREES_KEPT:
                self._trees.popitem(last=False)
        return tree

    def structure(self, run: str, offset: int, opened: set[str]) -> dict[str, Any]:
        """The tree's structure at ``offset``: from the index where it is exact, else replayed."""
        index = self.index(run)
        if index.exact_at(offset):
            with index.lock:
                return index.structure(offset, opened)
        interrupted = {n.id for n in index.nodes.values() if n.closed_status == "interrupted"}
        return structure_json(self.tree(run, offset), opened, interrupted)

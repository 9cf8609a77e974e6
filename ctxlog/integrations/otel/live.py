"""Handing a run's spans to an OpenTelemetry SDK ``SpanExporter``: a finished run at once, or a
run in progress as its contexts close.

A span is handed over once: its id is derived from the ledger, the run and the offset that opened
its context, so polling again (or exporting a run twice into one ``LiveExport``) never sends it
twice. New events are found by polling the run's log (``new_offset``, the one place to switch to
a follower of the ledger).
"""

from __future__ import annotations

import threading
from typing import Any

from ... import CtxlogError, UnknownRunError, audit
from .spans import read_spans

__all__ = ["ExportFailedError", "LiveExport", "export_run", "new_offset"]


class ExportFailedError(CtxlogError):
    """The span exporter reported a failure (its endpoint refused or could not be reached)."""


def _send(exporter: Any, spans: list[Any]) -> None:
    from opentelemetry.sdk.trace.export import SpanExportResult

    if spans and exporter.export(spans) is not SpanExportResult.SUCCESS:
        raise ExportFailedError(f"{type(exporter).__name__} did not accept {len(spans)} span(s)")


def export_run(path: str, exporter: Any, *, run: str | None = None, key: bytes | str | None = None) -> int:
    """Hand every span of ``run`` (the only run when None) of the ledger at ``path`` to ``exporter``
    (any SDK ``SpanExporter``); returns how many. ExportFailedError when the exporter fails."""
    spans = [span for span, _ in read_spans(path, run=run, key=key)]
    _send(exporter, spans)
    return len(spans)


def new_offset(path: str, run: str, after: int, key: bytes | str | None = None) -> int:
    """The offset of ``run``'s last event after offset ``after`` (``after`` when there is none yet)."""
    last = after
    try:
        with audit.log(path, run=run, since=after, key=key) as records:
            for record in records:
                last = record.offset
    except UnknownRunError:
        pass
    return last


class LiveExport:
    """Hand the spans of ``run`` of the ledger at ``path`` to ``exporter`` as their contexts close.

    :meth:`poll` checks once; :meth:`start` polls every ``poll_seconds`` on a thread until
    :meth:`stop`, which polls a last time and hands over the spans still open (ended at the run's
    last event). As a ``with`` block: started on entry, stopped on exit.
    """

    def __init__(
        self, path: str, exporter: Any, *, run: str, key: bytes | str | None = None, poll_seconds: float = 0.5
    ) -> None:
        self.path, self.exporter, self.run, self.key, self.poll_seconds = str(path), exporter, run, key, poll_seconds
        self.offset = 0
        """The last event offset looked at."""
        self.sent: set[int] = set()
        """The span ids handed over."""
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None

    def poll(self, *, everything: bool = False) -> int:
        """Hand over the spans that closed since the last poll (all not yet sent with ``everything``)."""
        offset = new_offset(self.path, self.run, self.offset, self.key)
        if offset == self.offset and not everything:
            return 0
        self.offset = offset
        spans = read_spans(self.path, run=self.run, key=self.key) if offset else []
        fresh = [s for s, ended in spans if (ended or everything) and s.context.span_id not in self.sent]
        _send(self.exporter, fresh)
        self.sent.update(s.context.span_id for s in fresh)
        return len(fresh)

    def start(self) -> LiveExport:
        """Poll on a background thread until :meth:`stop`."""
        self._thread = threading.Thread(target=self._loop, name=f"ctxlog-otel-{self.run}", daemon=True)
        self._thread.start()
        return self

    def _loop(self) -> None:
        while not self._stop.wait(self.poll_seconds):
            self.poll()

    def stop(self) -> int:
        """Stop polling, then hand over every span not sent yet; returns how many that was."""
        self._stop.set()
        if self._thread is not None:
            self._thread.join()
        return self.poll(everything=True)

    def __enter__(self) -> LiveExport:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()

"""A run as OpenTelemetry spans: each context a span, from its ``entered`` event to its ``exited``
or ``failed`` one, with checkpoints, merges and restores as span events.

The fold is pure (records in, spans out). Ids are derived from the ledger id, the run and the
offset of the event that opened the context, so the same run always gives the same spans and a
span is never emitted twice under two ids. Attribute names follow the OpenTelemetry semantic
conventions 1.44.0 where one applies: the run is a GenAI ``invoke_workflow`` span
(``gen_ai.operation.name``, ``gen_ai.workflow.name``, ``gen_ai.conversation.id``; status
Development), a failure an ``exception`` event (``exception.type``, ``exception.message``).
Values set in a context become ``ctxlog.value.KEY`` attributes holding their JSON, each cut to
``MAX_VALUE_CHARS`` characters: the value a key holds when its context closes, for the first
``MAX_VALUES`` keys of a span in key order.
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterable
from typing import Any

import msgspec

from ..ledger import Record

__all__ = ["MAX_VALUES", "MAX_VALUE_CHARS", "SEMCONV_VERSION", "Span", "SpanEvent", "fold_spans"]

SEMCONV_VERSION = "1.44.0"
MAX_VALUE_CHARS = 1024
MAX_VALUES = 64

_json = msgspec.json.Decoder()
_encode = msgspec.json.Encoder()


class SpanEvent(msgspec.Struct):
    """A point in a span's life: a checkpoint, a merge, a restore, a failure."""

    name: str
    time_ns: int
    attributes: dict[str, Any]


class Span(msgspec.Struct):
    """One context of a run as a span; ``end_ns`` is the run's last event while it is still active."""

    trace_id: str
    span_id: str
    parent_span_id: str | None
    name: str
    start_ns: int
    end_ns: int
    attributes: dict[str, Any]
    events: list[SpanEvent]
    error: str | None = None
    ended: bool = False


def _id(size: int, *parts: object) -> str:
    digest = hashlib.sha256(":".join(map(str, parts)).encode()).digest()[:size]
    return (digest if any(digest) else b"\x01" + digest[1:]).hex()


class _Fold:
    def __init__(self, ledger_id: str, run: str) -> None:
        self.ledger_id, self.run = ledger_id, run
        self.trace_id = _id(16, "trace", ledger_id, run)
        self.spans: list[Span] = []
        self.of: dict[str, Span] = {}
        self.values: dict[str, dict[str, Any]] = {}
        self.root: Span | None = None
        self.last_ns = 0

    def open(self, r: Record, parent: str | None, name: str, attrs: dict[str, Any]) -> None:
        up = self.of.get(parent) if parent is not None else None
        span = Span(
            self.trace_id,
            _id(8, "span", self.ledger_id, self.run, r.offset),
            up.span_id if up is not None else None,
            name,
            r.ts,
            r.ts,
            {"ctxlog.context.id": r.context, "ctxlog.offset.entered": r.offset, **attrs},
            [],
        )
        self.spans.append(span)
        self.of[r.context] = span
        self.values[span.span_id] = {}
        if parent is None:
            self.root = span

    def event(self, r: Record, name: str, attrs: dict[str, Any]) -> None:
        span = self.of.get(r.context) or self.root
        if span is not None:
            span.events.append(SpanEvent(name, r.ts, {"ctxlog.offset": r.offset, **attrs}))

    def close(self, r: Record, body: dict[str, Any]) -> None:
        span = self.of.get(r.context)
        if span is None:
            return
        span.end_ns, span.ended = r.ts, True
        span.attributes["ctxlog.offset.closed"] = r.offset
        span.attributes["ctxlog.context.status"] = "failed" if r.kind == "failed" else "exited"
        if r.kind == "failed":
            kind, message = body.get("error_type", ""), body.get("message", body.get("error", ""))
            span.error = f"{kind}: {message}" if kind else str(message)
            attrs = {"exception.type": kind, "exception.message": message}
            span.events.append(SpanEvent("exception", r.ts, attrs))

    def take(self, r: Record) -> None:
        self.last_ns = max(self.last_ns, r.ts)
        body = _json.decode(r.payload) if r.kind != "set" or r.context in self.of else {}
        if r.kind == "initialized":
            attrs = {"gen_ai.operation.name": "invoke_workflow", "gen_ai.workflow.name": self.run}
            self.open(r, None, f"invoke_workflow {self.run}", {**attrs, "gen_ai.conversation.id": self.run})
        elif r.kind == "entered":
            flags = {"ctxlog.context.isolation": body.get("isolation", "inherit")}
            self.open(
                r, body["parent"], body["name"], {**flags, "ctxlog.context.parallel": body.get("parallel", False)}
            )
        elif r.kind == "set" and r.context in self.of:
            self.values[self.of[r.context].span_id][body["key"]] = body["value"]
        elif r.kind == "deleted" and r.context in self.of:
            self.values[self.of[r.context].span_id].pop(body["key"], None)
        elif r.kind in ("exited", "failed"):
            self.close(r, body)
        elif r.kind == "checkpoint":
            self.event(r, "ctxlog.checkpoint", {"ctxlog.checkpoint.name": body["name"]})
        elif r.kind == "merged":
            self.event(r, "ctxlog.merge", {"ctxlog.merge.child": body["child"], "ctxlog.merge.policy": body["policy"]})
        elif r.kind == "restored":
            self.event(r, "ctxlog.restore", {"ctxlog.restore.target": body["target"]})
        elif r.kind != "switched":
            self.event(r, f"ctxlog.{r.kind}", {})

    def finish(self) -> list[Span]:
        for span in self.spans:
            if not span.ended:
                span.end_ns = max(span.start_ns, self.last_ns)
                span.attributes["ctxlog.context.status"] = "active"
            values = self.values[span.span_id]
            shown = sorted(values)[:MAX_VALUES]
            for key in shown:
                text = _encode.encode(values[key]).decode()
                span.attributes[f"ctxlog.value.{key}"] = text[:MAX_VALUE_CHARS]
            if len(values) > len(shown):
                span.attributes["ctxlog.values.dropped"] = len(values) - len(shown)
        return self.spans


def fold_spans(ledger_id: str, run: str, records: Iterable[Record]) -> list[Span]:
    """The spans of ``run`` of ledger ``ledger_id`` from its records, in the order their contexts opened."""
    fold = _Fold(ledger_id, run)
    for r in records:
        fold.take(r)
    return fold.finish()

"""A run's spans (the ones ``ctxlog export --format otlp`` writes) as OpenTelemetry SDK spans.

The spans are read from that very export, so an SDK exporter receives exactly what the file
holds: the same ids, times, attributes, events and statuses.
"""

from __future__ import annotations

import io
from typing import Any

import msgspec
from opentelemetry.sdk.resources import Resource
from opentelemetry.sdk.trace import Event, ReadableSpan
from opentelemetry.sdk.util.instrumentation import InstrumentationScope
from opentelemetry.trace import SpanContext, SpanKind, Status, StatusCode, TraceFlags

from ... import audit

__all__ = ["read_spans"]


def _value(value: dict[str, Any]) -> Any:
    if "intValue" in value:
        return int(value["intValue"])
    return next(iter(value.values()))


def _attributes(items: list[dict[str, Any]]) -> dict[str, Any]:
    return {item["key"]: _value(item["value"]) for item in items}


def _context(trace_id: str, span_id: str) -> SpanContext:
    return SpanContext(int(trace_id, 16), int(span_id, 16), is_remote=False, trace_flags=TraceFlags(TraceFlags.SAMPLED))


def _span(data: dict[str, Any], resource: Resource, scope: InstrumentationScope) -> ReadableSpan:
    parent = data.get("parentSpanId")
    status = data.get("status") or {}
    return ReadableSpan(
        name=data["name"],
        context=_context(data["traceId"], data["spanId"]),
        parent=_context(data["traceId"], parent) if parent else None,
        resource=resource,
        attributes=_attributes(data["attributes"]),
        events=[Event(e["name"], _attributes(e["attributes"]), int(e["timeUnixNano"])) for e in data["events"]],
        kind=SpanKind.INTERNAL,
        status=Status(StatusCode.ERROR, status.get("message")) if status.get("code") == 2 else Status(StatusCode.UNSET),
        start_time=int(data["startTimeUnixNano"]),
        end_time=int(data["endTimeUnixNano"]),
        instrumentation_scope=scope,
    )


def read_spans(path: str, *, run: str | None = None, key: bytes | str | None = None) -> list[tuple[ReadableSpan, bool]]:
    """The spans of ``run`` (the only run when None) of the ledger at ``path``, each with whether its
    context has closed (exited or failed) or is still active."""
    out = io.BytesIO()
    audit.export(path, out, key=key, format="otlp", run=run)
    (resource_spans,) = msgspec.json.decode(out.getvalue())["resourceSpans"]
    resource = Resource(_attributes(resource_spans["resource"]["attributes"]), resource_spans.get("schemaUrl", ""))
    (scope_spans,) = resource_spans["scopeSpans"]
    meta = scope_spans["scope"]
    scope = InstrumentationScope(meta["name"], meta.get("version"), scope_spans.get("schemaUrl"))
    spans = [_span(data, resource, scope) for data in scope_spans["spans"]]
    return [(s, (s.attributes or {}).get("ctxlog.context.status") != "active") for s in spans]

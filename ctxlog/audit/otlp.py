"""A run as OTLP trace data in the protobuf JSON mapping (what ``ctxlog export --format otlp`` writes).

One ``ExportTraceServiceRequest``: ``resourceSpans`` (the resource names the service ``ctxlog``
and the ledger), one ``scopeSpans`` (scope ``ctxlog``), the run's spans in the order their
contexts opened. As the mapping asks: trace and span ids are hex, 64-bit integers (the times)
are decimal strings, enums are numbers. The same run gives the same bytes every time.
"""

from __future__ import annotations

import importlib.metadata
from typing import Any, BinaryIO

import msgspec

from ..ledger import Ledger
from .spans import SEMCONV_VERSION, Span, fold_spans

__all__ = ["SCHEMA_URL", "OtlpExport", "otlp_document", "write_otlp"]

SCHEMA_URL = f"https://opentelemetry.io/schemas/{SEMCONV_VERSION}"
_VERSION = importlib.metadata.version("ctxlog")
_KIND_INTERNAL = 1
_STATUS_ERROR = 2


class OtlpExport(msgspec.Struct, frozen=True):
    """What an OTLP export wrote: the run, its trace id, how many spans and events it covers."""

    run: str
    """The run exported."""
    trace_id: str
    """The trace id of its spans (hex)."""
    spans: int
    """How many spans (one per context)."""
    events: int
    """How many ledger events were read."""


def _value(value: Any) -> dict[str, Any]:
    if isinstance(value, bool):
        return {"boolValue": value}
    if isinstance(value, int):
        return {"intValue": str(value)}
    if isinstance(value, float):
        return {"doubleValue": value}
    return {"stringValue": str(value)}


def _attributes(attrs: dict[str, Any]) -> list[dict[str, Any]]:
    return [{"key": key, "value": _value(value)} for key, value in attrs.items()]


def _span(span: Span) -> dict[str, Any]:
    out: dict[str, Any] = {"traceId": span.trace_id, "spanId": span.span_id}
    if span.parent_span_id is not None:
        out["parentSpanId"] = span.parent_span_id
    out.update(
        name=span.name,
        kind=_KIND_INTERNAL,
        startTimeUnixNano=str(span.start_ns),
        endTimeUnixNano=str(span.end_ns),
        attributes=_attributes(span.attributes),
        events=[
            {"timeUnixNano": str(e.time_ns), "name": e.name, "attributes": _attributes(e.attributes)}
            for e in span.events
        ],
        status={"code": _STATUS_ERROR, "message": span.error} if span.error is not None else {},
    )
    return out


def otlp_document(ledger_id: str, spans: list[Span]) -> dict[str, Any]:
    """The ExportTraceServiceRequest (as JSON-ready dicts) carrying ``spans`` of ledger ``ledger_id``."""
    resource = {"service.name": "ctxlog", "ctxlog.ledger.id": ledger_id}
    return {
        "resourceSpans": [
            {
                "resource": {"attributes": _attributes(resource)},
                "scopeSpans": [
                    {
                        "scope": {"name": "ctxlog", "version": _VERSION},
                        "spans": [_span(s) for s in spans],
                        "schemaUrl": SCHEMA_URL,
                    }
                ],
                "schemaUrl": SCHEMA_URL,
            }
        ]
    }


def write_otlp(ledger: Ledger, run: str, out: BinaryIO, *, verify: bool = False) -> OtlpExport:
    """Write ``run`` of the open ``ledger`` to ``out`` as OTLP/JSON (every row linked with ``verify``)."""
    records = list(ledger.run_records(run, verify=True) if verify else ledger.records(run))
    ledger_id = ledger.meta["ledger_id"]
    spans = fold_spans(ledger_id, run, records)
    out.write(msgspec.json.encode(otlp_document(ledger_id, spans)) + b"\n")
    trace = spans[0].trace_id if spans else ""
    return OtlpExport(run, trace, len(spans), len(records))

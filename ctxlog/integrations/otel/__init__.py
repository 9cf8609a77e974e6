"""ctxlog runs as OpenTelemetry traces, handed to any SDK ``SpanExporter`` (``pip install 'ctxlog[otel]'``).

::

    from opentelemetry.exporter.otlp.proto.http.trace_exporter import OTLPSpanExporter
    from ctxlog.integrations.otel import LiveExport, export_run

    export_run("ctx.db", OTLPSpanExporter(), run="plan-42")          # a finished run
    with LiveExport("ctx.db", OTLPSpanExporter(), run="plan-43"):    # a run in progress
        ...

The spans are those of ``ctxlog export --format otlp`` (see ``docs/otel.md``).
"""

from __future__ import annotations

from .. import require

require("otel", "opentelemetry.sdk.trace")

from .live import ExportFailedError, LiveExport, export_run, new_offset  # noqa: E402
from .spans import read_spans  # noqa: E402

__all__ = ["ExportFailedError", "LiveExport", "export_run", "new_offset", "read_spans"]

"""Runs as OpenTelemetry traces: the OTLP/JSON export parsed back with opentelemetry-proto, the
same spans sent over OTLP/HTTP to a receiver on 127.0.0.1, and handed over live as contexts close."""

from __future__ import annotations

import base64
import json
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, HTTPServer
from pathlib import Path

import pytest
from click.testing import CliRunner
from google.protobuf import json_format
from opentelemetry.exporter.otlp.proto.http.trace_exporter import OTLPSpanExporter
from opentelemetry.proto.collector.trace.v1.trace_service_pb2 import (
    ExportTraceServiceRequest,
    ExportTraceServiceResponse,
)
from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter

from ctxlog import ContextManager, MergePolicy, audit
from ctxlog.cli import main
from ctxlog.integrations.otel import LiveExport, export_run


def work(mgr: ContextManager) -> None:
    """A plan: a step with three parallel branches (one fails), a checkpoint, a step that fails."""
    mgr.set("plan", {"goal": "report"})
    with mgr.step("fetch", merge=MergePolicy.MERGE):

        def source(branch: object) -> None:
            branch.set("rows", [1, 2, 3])  # type: ignore[attr-defined]

        def broken(branch: object) -> None:
            raise TimeoutError("the mirror did not answer")

        with pytest.raises(ExceptionGroup):
            mgr.parallel({"orders": source, "refunds": source, "mirror": broken})
    mgr.checkpoint("fetched")
    with pytest.raises(ValueError), mgr.step("publish"):
        mgr.set("target", "s3://reports")
        raise ValueError("bucket is read-only")


@pytest.fixture
def ledger(tmp_path: Path) -> str:
    path = str(tmp_path / "ctx.db")
    with ContextManager(path, run="plan-42") as mgr:
        work(mgr)
    return path


def parsed(data: bytes) -> ExportTraceServiceRequest:
    """The export parsed with opentelemetry-proto. OTLP/JSON writes ids as hex where the generic
    protobuf JSON mapping reads bytes as base64, so the ids are converted first, as a collector does."""
    document = json.loads(data)
    for rs in document["resourceSpans"]:
        for span in rs["scopeSpans"][0]["spans"]:
            for field in ("traceId", "spanId", "parentSpanId"):
                if field in span:
                    span[field] = base64.b64encode(bytes.fromhex(span[field])).decode()
    return json_format.ParseDict(document, ExportTraceServiceRequest())


def exported(path: str, out: Path) -> bytes:
    result = CliRunner().invoke(main, ["export", path, "--run", "plan-42", "--format", "otlp", "-o", str(out)])
    assert result.exit_code == 0, result.output
    return out.read_bytes()


def test_the_export_is_the_context_tree(ledger: str, tmp_path: Path) -> None:
    data = exported(ledger, tmp_path / "spans.json")
    assert data == exported(ledger, tmp_path / "again.json")  # the same bytes every time
    request = parsed(data)
    (scope,) = request.resource_spans[0].scope_spans
    assert {(len(s.trace_id), len(s.span_id)) for s in scope.spans} == {(16, 8)}
    spans = {s.attributes[0].value.string_value: s for s in scope.spans}  # ctxlog.context.id comes first
    tree = audit.tree(ledger, run="plan-42")
    assert set(spans) == set(tree.contexts)  # every step and branch is a span
    by_id = {s.span_id: cid for cid, s in spans.items()}
    assert {cid: by_id.get(s.parent_span_id) for cid, s in spans.items()} == {
        cid: ctx.parent_id for cid, ctx in tree.contexts.items()
    }
    assert len({s.trace_id for s in scope.spans}) == 1
    assert all(s.start_time_unix_nano <= s.end_time_unix_nano for s in scope.spans)
    assert spans["publish"].status.code == 2 and spans["publish"].status.message == "ValueError: bucket is read-only"
    assert spans["mirror"].status.message == "TimeoutError: the mirror did not answer"
    assert spans["orders"].status.code == 0 and spans["root"].name == "invoke_workflow plan-42"
    assert [e.name for e in spans["publish"].events] == ["exception"]
    assert {e.name for e in spans["root"].events} == {"ctxlog.checkpoint", "ctxlog.merge"}
    fetch_merges = [e for e in spans["fetch"].events if e.name == "ctxlog.merge"]
    assert len(fetch_merges) == 2  # the two branches that succeeded
    values = {a.key: a.value.string_value for a in spans["orders"].attributes}
    assert values["ctxlog.value.rows"] == "[1,2,3]"


def test_a_bad_format_or_run_is_one_line(ledger: str) -> None:
    result = CliRunner().invoke(main, ["export", ledger, "--run", "nope", "--format", "otlp"])
    assert result.exit_code != 0 and "no run 'nope'" in result.output and "Traceback" not in result.output


class _Receiver(BaseHTTPRequestHandler):
    received: list[ExportTraceServiceRequest] = []

    def do_POST(self) -> None:  # noqa: N802 (http.server's name)
        body = self.rfile.read(int(self.headers["Content-Length"]))
        type(self).received.append(ExportTraceServiceRequest.FromString(body))
        reply = ExportTraceServiceResponse().SerializeToString()
        self.send_response(200)
        self.send_header("Content-Type", "application/x-protobuf")
        self.send_header("Content-Length", str(len(reply)))
        self.end_headers()
        self.wfile.write(reply)

    def log_message(self, *args: object) -> None:
        pass


@pytest.fixture
def receiver() -> Iterator[tuple[str, list[ExportTraceServiceRequest]]]:
    _Receiver.received = []
    server = HTTPServer(("127.0.0.1", 0), _Receiver)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_address[1]}/v1/traces", _Receiver.received
    server.shutdown()
    server.server_close()


def test_a_run_goes_to_an_otlp_http_receiver(ledger: str, tmp_path: Path, receiver: tuple[str, list]) -> None:
    url, received = receiver
    exporter = OTLPSpanExporter(endpoint=url)
    assert export_run(ledger, exporter, run="plan-42") == 6
    exporter.shutdown()
    (request,) = received
    sent = [s for rs in request.resource_spans for ss in rs.scope_spans for s in ss.spans]
    on_file = parsed(exported(ledger, tmp_path / "s.json"))
    expected = on_file.resource_spans[0].scope_spans[0].spans
    assert [(s.span_id, s.parent_span_id, s.name, s.status.code) for s in sent] == [
        (s.span_id, s.parent_span_id, s.name, s.status.code) for s in expected
    ]
    assert [len(s.events) for s in sent] == [len(s.events) for s in expected]


def test_live_export_hands_each_span_over_once(tmp_path: Path) -> None:
    path, exporter = str(tmp_path / "live.db"), InMemorySpanExporter()
    live = LiveExport(path, exporter, run="live")
    with ContextManager(path, run="live") as mgr:
        mgr.set("started", True)
        assert live.poll() == 0  # only the root, still open
        with mgr.step("first"):
            mgr.set("x", 1)
        assert live.poll() == 1 and live.poll() == 0
        work(mgr)
        assert live.poll() == 5  # fetch, its three branches, publish, and nothing twice
    assert live.stop() == 1  # the root, still active, handed over at the end
    names = [s.name for s in exporter.get_finished_spans()]
    assert sorted(names) == sorted(["first", "fetch", "orders", "refunds", "mirror", "publish", "invoke_workflow live"])
    assert len({s.context.span_id for s in exporter.get_finished_spans()}) == len(names)

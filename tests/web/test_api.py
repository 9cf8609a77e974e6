"""The viewer's JSON endpoints, without a browser: what each view is drawn from, checked against
what ``ctxlog.audit`` says about the same ledger, on SQLite and PostgreSQL."""

from __future__ import annotations

import json
import time
from collections.abc import Iterator
from types import SimpleNamespace
from typing import Any

import msgspec
import pytest
from starlette.testclient import TestClient

from ctxlog import ContextManager, MergePolicy, audit
from ctxlog.web import create_app
from ctxlog.web.data import run_json

from ..attack import tamper
from ..conftest import KEY


@pytest.fixture(params=["sqlite", "postgresql"])
def demo_at(request: pytest.FixtureRequest, tmp_path: Any) -> str:
    """The demo run (47 events) in a SQLite file or a PostgreSQL schema."""
    where = str(tmp_path / "ctx.db") if request.param == "sqlite" else request.getfixturevalue("pg_url")
    audit.demo(where, run="demo")
    return where


@pytest.fixture
def client(demo_at: str) -> Iterator[TestClient]:
    with TestClient(create_app(demo_at)) as c:
        yield c


def _json(client: TestClient, url: str, status: int = 200) -> Any:
    response = client.get(url)
    assert response.status_code == status, response.text
    return response.json()


def _badge(client: TestClient) -> dict[str, Any]:
    for _ in range(600):  # verify runs in a worker process; give it its time
        badge = _json(client, "/api/ledger")["verify"]
        if badge["state"] != "pending":
            return badge  # type: ignore[no-any-return]
        time.sleep(0.1)
    raise AssertionError("verify never finished")


def test_ledger_and_runs(client: TestClient) -> None:
    assert _json(client, "/api/ledger")["head"] == 47
    assert _badge(client)["state"] == "ok"
    _json(client, "/api/run?run=demo")  # indexes the run: its status is known from then on
    (run,) = _json(client, "/api/runs")["runs"]
    assert (run["run"], run["events"], run["checkpoints"], run["status"]) == ("demo", 47, 3, "failed")
    assert (run["first_offset"], run["last_offset"], run["source"]) == (1, 47, None)
    info = _json(client, "/api/run?run=demo")
    assert [(c["name"], c["offset"]) for c in info["checkpoints_list"]] == [
        ("loaded", 9),
        ("validated", 38),
        ("finished", 47),
    ]


def test_a_fork_carries_its_lineage() -> None:
    info = SimpleNamespace(
        run="b",
        events=3,
        first_offset=5,
        last_offset=7,
        first_ts=0,
        last_ts=1,
        checkpoints=0,
        source="a",
        source_offset=4,
    )
    assert run_json(info, "active")["source"] == "a" and run_json(info, None)["source_offset"] == 4  # type: ignore[arg-type]


def _shape(contexts: dict[str, Any]) -> dict[str, tuple[Any, ...]]:
    return {cid: (c["parent_id"], c["name"], c["status"], c.get("shown_children")) for cid, c in contexts.items()}


def test_the_tree_at_every_offset_is_the_replayed_one(client: TestClient, demo_at: str) -> None:
    for offset in range(1, 48):
        got = _json(client, f"/api/tree?run=demo&at={offset}&open=validate,load,publish,report")
        tree = audit.replay(demo_at, run="demo", until=offset)
        assert got["offset"] == offset and got["current_id"] == tree.current_id
        assert got["total"] == len(tree.contexts)
        for cid, c in got["contexts"].items():
            ctx = tree.contexts[cid]
            assert (c["parent_id"], c["name"], c["status"], c["is_parallel"]) == (
                ctx.parent_id,
                ctx.name,
                ctx.status,
                ctx.is_parallel,
            )
            if "shown_children" in c:
                assert c["shown_children"] == ctx.children
    assert _json(client, "/api/tree?run=demo&at=validated")["offset"] == 38


def test_a_context_shows_its_data_and_what_get_resolves_from_where(client: TestClient, demo_at: str) -> None:
    tree = audit.replay(demo_at, run="demo", until="validated")
    for cid in tree.contexts:
        got = _json(client, f"/api/context?run=demo&at=validated&id={cid}")
        assert got["own"] == tree.contexts[cid].data
        for item in got["resolved"]:
            assert tree.get(item["key"], cid) == item["value"]
            assert item["key"] in tree.contexts[item["from"]].data
    worker = _json(client, "/api/context?run=demo&at=validated&id=worker-1")
    assert {i["key"]: i["from"] for i in worker["resolved"]}["config"] == "plan"
    report = _json(client, "/api/context?run=demo&id=report")  # SANDBOXED: its own data only
    assert [i["from"] for i in report["resolved"]] == ["report"]


def test_the_diff_is_audits(client: TestClient, demo_at: str) -> None:
    got = _json(client, "/api/diff?run=demo&a=loaded&b=finished")
    assert got == msgspec.to_builtins(audit.diff(demo_at, "loaded", "finished", run="demo"))
    assert {c["id"]: c["change"] for c in got["contexts"]}["publish"] == "added"


def test_the_timeline_has_a_bar_per_step_coloured_by_status(client: TestClient) -> None:
    got = _json(client, "/api/timeline?run=demo")
    bars = {b["id"]: b for b in got["bars"]}
    assert set(bars) == {"plan", "load", "validate", "worker-1", "worker-2", "worker-3", "report", "publish"}
    assert bars["publish"]["status"] == "failed" and bars["plan"]["status"] == "active" and bars["plan"]["open"]
    assert bars["worker-1"]["parallel"] and not got["aggregated"]
    assert len({bars[f"worker-{i}"]["lane"] for i in (1, 2, 3)}) == 3  # overlapping branches: a lane each
    assert bars["load"]["lane"] == bars["validate"]["lane"] == bars["publish"]["lane"]  # siblings in turn: one
    assert all(0 <= b["start"] <= b["end"] <= got["t1"] for b in got["bars"])
    window = _json(client, f"/api/timeline?run=demo&t0={bars['load']['start']}&t1={bars['load']['end']}")
    assert "load" in {b["id"] for b in window["bars"]} and "publish" not in {b["id"] for b in window["bars"]}


def test_the_chain_pages_events_with_offset_cause_and_hash(client: TestClient, demo_at: str) -> None:
    page = _json(client, "/api/events?run=demo&after=0&limit=20")
    assert [e["offset"] for e in page["events"]] == list(range(1, 21)) and page["more"]
    rest = _json(client, "/api/events?run=demo&after=20&limit=100")
    assert [e["offset"] for e in rest["events"]] == list(range(21, 48)) and not rest["more"]
    with audit.log(demo_at, run="demo") as stream:
        expected = {r.offset: (r.cause, r.hash, r.kind) for r in stream}
    for e in page["events"] + rest["events"]:
        assert (e["cause"], e["hash"], e["kind"]) == expected[e["offset"]]


@pytest.mark.parametrize(
    ("url", "says"),
    [
        ("/api/run?run=nope", "runs: demo"),
        ("/api/tree?run=demo&at=nowhere", "checkpoints: loaded, validated, finished"),
        ("/api/tree?run=demo&at=480", "its offsets span 1..47"),
        ("/api/context?run=demo&id=ghost", "contexts: plan"),
        ("/api/diff?run=demo&a=loaded&b=nope", "checkpoints: loaded"),
    ],
)
def test_unknown_names_are_404_saying_what_exists(client: TestClient, url: str, says: str) -> None:
    assert says in _json(client, url, 404)["error"]


@pytest.mark.parametrize("url", ["/runs/nope", "/runs/demo?view=tree&at=zzz", "/runs/demo?view=diff&a=1&b=999"])
def test_unknown_pages_are_a_404_page_listing_the_runs(client: TestClient, url: str) -> None:
    response = client.get(url)
    assert response.status_code == 404 and "text/html" in response.headers["content-type"]
    assert 'id="error"' in response.text and '<a href="/runs/demo">demo</a>' in response.text


def test_pages_and_assets_are_served_from_the_package(client: TestClient) -> None:
    page = client.get("/runs/demo?view=tree&at=validated")
    assert page.status_code == 200 and '<script src="/static/app.js">' in page.text
    for asset in ("app.js", "app.css", "report.js", "layout.js"):
        assert client.get(f"/static/{asset}").status_code == 200
    assert "http" not in client.get("/static/app.js").text.replace("http://x", "")  # nothing fetched elsewhere


def test_a_ledger_that_does_not_verify_gets_a_red_badge_not_a_crash(demo_at: str) -> None:
    tamper(demo_at, 'UPDATE events SET payload = ? WHERE "offset" = 20', ('{"kind":"set","key":"x","value":1}',))
    with TestClient(create_app(demo_at)) as client:
        badge = _badge(client)
        assert (badge["state"], badge["bad_offset"]) == ("bad", 20)
        assert client.get("/").status_code == 200
        assert client.get("/api/runs").status_code == 200


def test_a_cut_head_is_a_409_naming_the_offset_and_the_badge_says_it(demo_at: str) -> None:
    tamper(demo_at, 'UPDATE events SET payload = ? WHERE "offset" = 47', ('{"kind":"set","key":"x","value":1}',))
    with TestClient(create_app(demo_at)) as client:
        body = _json(client, "/api/runs", 409)
        assert body["bad_offset"] == 47 and "offset 47" in body["error"]
        badge = _badge(client)
        assert badge["state"] == "bad" and badge["bad_offset"] == 47


def test_the_stream_says_when_the_head_moved(demo_at: str) -> None:
    with TestClient(create_app(demo_at)) as client, client.stream("GET", "/api/stream") as stream:
        lines = stream.iter_lines()
        assert _next_event(lines) == {"head": 47, "runs": []}
        with ContextManager(demo_at, run="demo") as mgr:
            mgr.set("late", 1)
        assert _next_event(lines) == {"head": 48, "runs": [{"run": "demo", "last_offset": 48}]}
        with ContextManager(demo_at, run="other") as mgr:
            mgr.set("x", 1)
        moved = _next_event(lines)
        while moved["head"] < 50:  # the new run's root and its set may be two commits
            assert moved["runs"] == [{"run": "other", "last_offset": moved["head"]}]
            moved = _next_event(lines)
        assert moved == {"head": 50, "runs": [{"run": "other", "last_offset": 50}]}


def _next_event(lines: Iterator[str]) -> dict[str, Any]:
    for line in lines:
        if line.startswith("data:"):
            return json.loads(line[len("data:") :])  # type: ignore[no-any-return]
    raise AssertionError("the stream ended")


class Interrupted(Exception):
    """What an orchestrator raises when a step is interrupted (the viewer shows it as such)."""


def test_an_interrupted_step_and_a_restore(ledger_path: str) -> None:
    with ContextManager(ledger_path, run="r") as mgr:
        with mgr.step("a", merge=MergePolicy.OVERWRITE):
            mgr.set("x", 1)
        mark = mgr.checkpoint("after-a")
        with pytest.raises(Interrupted), mgr.step("b"):
            raise Interrupted("stop")
        mgr.restore("after-a")
        with mgr.step("c"):
            mgr.set("y", 2)
    with TestClient(create_app(ledger_path)) as client:
        bars = {b["id"]: b["status"] for b in _json(client, "/api/timeline?run=r")["bars"]}
        assert bars["b"] == "interrupted" and bars["a"] == "exited"
        assert _json(client, "/api/run?run=r")["exact_until"] is not None
        head = audit.tree(ledger_path, run="r")
        last = _json(client, "/api/tree?run=r")
        assert _shape(last["contexts"]) == {
            cid: (c.parent_id, c.name, c.status, list(c.children)) for cid, c in head.contexts.items()
        }
        before = _json(client, f"/api/tree?run=r&at={mark.offset + 2}")
        assert before["contexts"]["b"]["status"] == "interrupted"
        assert _json(client, "/api/runs")["runs"][0]["status"] == "interrupted"


def test_a_keyed_ledger_is_read_and_verified_with_its_key(keyed: str) -> None:
    with TestClient(create_app(keyed, key=KEY)) as client:
        assert _badge(client)["state"] == "ok"
        assert _json(client, "/api/context?run=r&id=root")["own"] == {"a": 1}
    with TestClient(create_app(keyed)) as client:  # without it: the badge says it cannot verify
        badge = _badge(client)
        assert badge["state"] == "error" and "keyed" in badge["reason"]

"""The viewer in a real headless Chromium (Debian's ``chromium``, driven by Playwright): each view
of the demo run, live updates while the ledger is written, a ledger that does not verify, and the
report opened from disk with the network off.

Without Chromium (or Playwright) these tests skip, saying why; under CI (``CI`` set) that is a
failure instead, so the viewer can never pass by not being tested (``.ci/run`` installs it).
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import threading
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from ctxlog import ContextManager, MergePolicy, audit
from ctxlog.web import report

from ..attack import tamper

TIMEOUT = 20_000  # ms: how long a test waits for something to appear before it fails


@pytest.fixture(scope="module")
def browser() -> Iterator[Any]:
    """One headless Chromium for this module, closed at its end: Playwright's synchronous API
    runs an event loop on the main thread while it is open, which ``asyncio.run`` elsewhere
    would trip over."""
    executable = shutil.which("chromium")
    try:
        from playwright.sync_api import sync_playwright
    except ImportError as exc:
        executable, missing = None, f"Playwright is not installed ({exc})"
    else:
        missing = "Debian's chromium is not installed (apt-get install chromium)"
    if executable is None:
        if os.environ.get("CI"):
            pytest.fail(f"no browser for the viewer's tests: {missing} (under CI the viewer must be tested)")
        pytest.skip(f"no browser for the viewer's tests: {missing}")
    with sync_playwright() as p:
        chromium = p.chromium.launch(executable_path=executable, args=["--no-sandbox"])
        yield chromium
        chromium.close()


@pytest.fixture
def page(browser: Any) -> Iterator[Any]:
    context = browser.new_context(viewport={"width": 1280, "height": 860})
    page = context.new_page()
    errors: list[str] = []
    page.on("pageerror", lambda exc: errors.append(str(exc)))
    yield page
    context.close()
    assert errors == []


class Served:
    """``ctxlog serve`` on a ledger, in its own process, on a free port."""

    def __init__(self, location: str) -> None:
        self.proc = subprocess.Popen(
            [sys.executable, "-m", "ctxlog.cli", "serve", location, "--port", "0"],
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        line: list[str] = []
        reader = threading.Thread(target=lambda: line.append(self.proc.stdout.readline()), daemon=True)  # type: ignore[union-attr]
        reader.start()
        reader.join(60)
        assert line and " at http://" in line[0], (line, self.proc.poll())
        self.url = line[0].split(" at ", 1)[1].strip()

    def stop(self) -> None:
        self.proc.terminate()
        self.proc.communicate(timeout=30)


@pytest.fixture
def served(demo_db: str) -> Iterator[Served]:
    server = Served(demo_db)
    yield server
    server.stop()


def _open(page: Any, url: str) -> None:
    page.goto(url)
    page.wait_for_selector("body[data-ready='1']", timeout=TIMEOUT)


def _shot(page: Any, folder: Path, name: str) -> None:
    path = folder / f"{name}.png"
    page.screenshot(path=str(path), full_page=True)
    assert path.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"


def test_each_view_of_the_demo_run(page: Any, served: Served, tmp_path: Path) -> None:
    _open(page, served.url)
    assert page.inner_text("#runs tr.run-row[data-run='demo'] .pill") in ("failed", "…")
    page.wait_for_selector("#verify.verify-ok", timeout=TIMEOUT)
    _shot(page, tmp_path, "runs")

    page.click("#runs a:text('demo')")
    page.wait_for_selector("#timeline .bar", timeout=TIMEOUT)
    bars = page.eval_on_selector_all("#timeline .bar", "els => els.map(e => [e.dataset.id, e.className])")
    assert len(bars) == 8
    assert [c for i, c in bars if i == "publish"][0].split()[1] == "status-failed"
    _shot(page, tmp_path, "timeline")

    _open(page, served.url + "runs/demo?view=tree&at=validated")
    assert page.input_value("#scrubber") == "38"
    assert page.eval_on_selector_all("#tree li.node", "els => els.map(e => e.dataset.id)") == [
        "plan",
        "load",
        "validate",
    ]
    page.click("li.node[data-id='validate'] > .twisty")
    page.wait_for_selector("li.node[data-id='worker-2']", timeout=TIMEOUT)
    page.click("li.node[data-id='worker-2'] > .node-label")
    page.wait_for_selector("#resolved", timeout=TIMEOUT)
    resolved = page.eval_on_selector_all(
        "#resolved tr.resolved-row", "rows => rows.map(r => r.cells[0].innerText + '=' + r.cells[2].innerText)"
    )
    assert "config=plan" in resolved and "errors=own" in resolved
    _shot(page, tmp_path, "tree")

    page.click("button.checkpoint:text('loaded')")
    page.wait_for_function("document.querySelector('#scrubber').value === '9'", timeout=TIMEOUT)
    assert page.eval_on_selector_all("#tree li.node", "els => els.length") == 2

    _open(page, served.url + "runs/demo?view=diff&a=loaded&b=finished")
    changes = page.eval_on_selector_all(
        "#diff tr.diff-row", "rows => rows.map(r => r.dataset.id + ':' + r.cells[1].innerText)"
    )
    assert "publish:added" in changes and "plan:data" in changes
    _shot(page, tmp_path, "diff")

    _open(page, served.url + "runs/demo?view=chain")
    assert page.eval_on_selector_all("#chain tr.event", "rows => rows.length") == 47
    assert page.inner_text("#chain tr.event[data-offset='5'] td.hash") != ""
    page.wait_for_selector("#chain-verify.verify-ok", timeout=TIMEOUT)
    _shot(page, tmp_path, "chain")


@pytest.mark.slow
def test_views_update_while_the_run_is_written(page: Any, served: Served, demo_db: str) -> None:
    _open(page, served.url + "runs/demo?view=timeline")
    page.wait_for_selector("#live:text('head 47')", timeout=TIMEOUT)
    with ContextManager(demo_db, run="demo") as mgr, mgr.step("retry", merge=MergePolicy.OVERWRITE):
        mgr.set("attempt", 2)
    page.wait_for_selector("#timeline .bar[data-id='retry']", timeout=TIMEOUT)

    _open(page, served.url + "runs/demo?view=tree")
    with ContextManager(demo_db, run="demo") as mgr:
        mgr.enter_step("again")
    page.wait_for_selector("#tree li.node[data-id='again'][data-status='active']", timeout=TIMEOUT)

    _open(page, served.url + "runs/demo?view=chain")
    rows = page.eval_on_selector_all("#chain tr.event", "rows => rows.length")
    with ContextManager(demo_db, run="demo") as mgr:
        mgr.set("note", "live")
    page.wait_for_selector("#chain tr.event td.value:has-text('\"note\"')", timeout=TIMEOUT)
    offsets = page.eval_on_selector_all("#chain tr.event", "rows => rows.map(r => Number(r.dataset.offset))")
    assert len(offsets) > rows and offsets == list(range(1, len(offsets) + 1))  # appended once each, in order


def test_a_ledger_that_does_not_verify_shows_a_red_badge(page: Any, demo_db: str, tmp_path: Path) -> None:
    tamper(demo_db, 'UPDATE events SET payload = ? WHERE "offset" = 20', ('{"kind":"set","key":"x","value":1}',))
    server = Served(demo_db)
    try:
        _open(page, server.url + "runs/demo?view=chain")
        page.wait_for_selector("#verify.verify-bad", timeout=TIMEOUT)
        assert "offset 20" in page.inner_text("#verify")
        _open(page, server.url + "runs/demo?view=chain")
        assert page.get_attribute("#chain tr.event[data-offset='20']", "class") == "event bad"
        _shot(page, tmp_path, "bad")
        response = page.goto(server.url + "runs/nope")
        assert response.status == 404 and "runs: demo" in page.inner_text("#error")
        assert page.eval_on_selector_all("#runs-known a", "els => els.map(e => e.innerText)") == ["demo"]
    finally:
        server.stop()


def _restoring_run(path: str) -> None:
    with ContextManager(path, run="r") as mgr:
        mgr.set("config", {"mode": "a", "n": [1]})
        with mgr.step("first", merge=MergePolicy.MERGE):
            mgr.set("config", {"n": [2], "deep": {"x": 1}})
            mgr.set("gone", True)
            mgr.delete("gone")
        mgr.checkpoint("one")
        branch = mgr.create_parallel_context("side")
        mgr.switch_to(branch)
        mgr.set("only", "side")
        mgr.switch_to("root")
        mgr.merge_child_to_parent(branch, MergePolicy.KEEP_EXISTING)
        mgr.switch_to(branch)
        mgr.exit_step()
        mgr.restore("one")
        with mgr.step("second", merge=MergePolicy.OVERWRITE):
            mgr.set("config", "replaced")


@pytest.mark.slow
def test_the_report_opens_offline_and_folds_the_tree_as_ctxlog_does(page: Any, tmp_path: Path) -> None:
    path = str(tmp_path / "r.db")
    _restoring_run(path)
    out = tmp_path / "run.html"
    report(path, out=str(out))
    requests: list[str] = []
    page.context.set_offline(True)
    page.on("request", lambda r: requests.append(r.url))
    _open(page, out.as_uri())
    page.wait_for_selector("#timeline .bar[data-id='second']", timeout=TIMEOUT)
    _shot(page, tmp_path, "report-timeline")
    head = audit.head(path)[0]
    for offset in range(1, head + 1):
        folded = page.evaluate("at => window.CTXLOG.source.treeAt(at)", offset)
        tree = audit.replay(path, run="r", until=offset)
        assert (folded["current_id"], folded["root_id"]) == (tree.current_id, tree.root_id), offset
        assert {cid: (c["status"], c["data"], c["children"]) for cid, c in folded["contexts"].items()} == {
            cid: (c.status, c.data, c.children) for cid, c in tree.contexts.items()
        }, offset
    page.goto(out.as_uri() + "#/runs/r?view=tree&at=one")
    page.wait_for_selector("#tree li.node[data-id='first']", timeout=TIMEOUT)
    page.goto(out.as_uri() + "#/runs/r?view=diff&a=one&b=" + str(head))
    page.wait_for_selector("#diff tr.diff-row", timeout=TIMEOUT)
    _shot(page, tmp_path, "report-diff")
    page.goto(out.as_uri() + "#/runs/r?view=chain")
    page.wait_for_selector("#chain tr.event", timeout=TIMEOUT)
    assert page.eval_on_selector_all("#chain tr.event", "rows => rows.length") == head
    assert {u.split(":", 1)[0] for u in requests} <= {"file", "data"}

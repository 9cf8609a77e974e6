"""Take the screenshots of docs/viewer.md: each view of the viewer, in Debian's headless chromium.

Writes the demo run and a run of 2,000 steps (to show an aggregated timeline) to a temporary
ledger, serves it with ``ctxlog serve``, and saves one PNG per view into ``docs/`` (or the folder
given), plus the report of the demo run opened from disk with the network off.

    .venv/bin/python docs/screenshots.py [FOLDER]
"""

from __future__ import annotations

import random
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

from playwright.sync_api import Page, sync_playwright

from ctxlog import ContextManager, MergePolicy, audit
from ctxlog.web import report

DOCS = Path(__file__).resolve().parent


def write_ledger(path: str) -> None:
    """The demo run, and run ``batch``: 2,000 short steps, some fanning out, a few failing."""
    audit.demo(path, run="demo")
    rng = random.Random(3)
    with ContextManager(path, run="batch") as mgr:
        mgr.initialize("batch")
        for i in range(2000):
            with mgr.transaction():
                try:
                    with mgr.step(f"item-{i}", merge=MergePolicy.OVERWRITE):
                        mgr.set("n", i)
                        if rng.random() < 0.2:
                            branches = [mgr.create_parallel_context(f"part-{i}-{j}") for j in range(3)]
                            for b in branches:
                                mgr.switch_to(b)
                                mgr.set("part", b)
                                mgr.exit_step()
                            mgr.switch_to(f"item-{i}")
                        if rng.random() < 0.02:
                            raise RuntimeError("item rejected")
                except RuntimeError:
                    pass
            if i % 500 == 499:
                mgr.checkpoint(f"after-{i + 1}")


def ready(page: Page, url: str) -> None:
    page.goto(url)
    page.wait_for_selector("body[data-ready='1']", timeout=60_000)
    page.wait_for_timeout(300)


def shoot(page: Page, url: str, out: Path) -> None:
    ready(page, url)
    page.wait_for_selector("#verify.verify-ok", timeout=60_000)
    page.screenshot(path=str(out / "viewer-runs.png"))
    ready(page, url + "runs/demo?view=timeline")
    page.screenshot(path=str(out / "viewer-timeline.png"))
    ready(page, url + "runs/batch?view=timeline")
    page.screenshot(path=str(out / "viewer-timeline-aggregated.png"))
    ready(page, url + "runs/demo?view=tree&at=validated")
    page.click("li.node[data-id='validate'] > .twisty")
    page.wait_for_selector("li.node[data-id='worker-2']")
    page.click("li.node[data-id='worker-2'] > .node-label")
    page.wait_for_selector("#resolved")
    page.screenshot(path=str(out / "viewer-tree.png"))
    ready(page, url + "runs/demo?view=diff&a=loaded&b=finished")
    page.screenshot(path=str(out / "viewer-diff.png"))
    ready(page, url + "runs/demo?view=chain")
    page.screenshot(path=str(out / "viewer-chain.png"))


def main(argv: list[str]) -> int:
    out = Path(argv[0]) if argv else DOCS
    with tempfile.TemporaryDirectory(prefix="ctxlog-shots-") as tmp:
        path = str(Path(tmp) / "ctx.db")
        write_ledger(path)
        server = subprocess.Popen(
            [sys.executable, "-m", "ctxlog.cli", "serve", path, "--port", "0"], stdout=subprocess.PIPE, text=True
        )
        try:
            assert server.stdout is not None
            url = server.stdout.readline().split(" at ", 1)[1].strip()
            with sync_playwright() as p:
                browser = p.chromium.launch(executable_path=shutil.which("chromium"), args=["--no-sandbox"])
                page = browser.new_page(viewport={"width": 1280, "height": 720})
                shoot(page, url, out)
                html = Path(tmp) / "run.html"
                report(path, run="demo", out=str(html))
                offline = browser.new_context(offline=True, viewport={"width": 1280, "height": 720}).new_page()
                ready(offline, html.as_uri() + "#/runs/demo?view=tree&at=finished")
                offline.screenshot(path=str(out / "viewer-report.png"))
                browser.close()
        finally:
            server.terminate()
            server.wait()
    print(f"screenshots written to {out}/viewer-*.png")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))

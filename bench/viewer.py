"""The viewer's figures on a large run: ``ctxlog serve`` and ``ctxlog report`` against their targets.

Writes the benchmark workload's realistic mix (``workload.mix_ops``) as one run of about
``--events`` events (1,000,000 by default) and one of ``--report-events`` (100,000), then:

* starts ``ctxlog serve`` on it (a real server, a separate process) and, in a real headless
  Chromium (Debian's ``chromium`` driven by Playwright), measures the time from navigation to
  the page being interactive (the view drawn, ``body[data-ready]``) for the runs page, the
  run's timeline and tree, first cold (the run's index is built on that first request) and then
  warm; the number of boxes the timeline drew;
* times ``/api/tree`` at 20 offsets spread over the run (the structure of the tree there) and
  ``/api/context`` at 5 (a context's data, replayed from the nearest snapshot);
* writes the report of the 100,000-event run and gives its size, and the time Chromium takes to
  open it from disk with the network off.

Targets (the viewer's promise): interactive within 2 s, the tree at any offset within 300 ms,
the timeline aggregated (thousands of boxes at most, not one per step), the 100k report under
20 MB.

    .venv/bin/python bench/viewer.py [--events N] [--report-events N] [--workdir DIR] [--quick]

``bench/bench.py`` prints the same section at the end of ``make bench``.
"""

from __future__ import annotations

import argparse
import json
import os
import random
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
import urllib.request

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

import workload  # noqa: E402

from ctxlog import ContextManager  # noqa: E402
from ctxlog.web import report  # noqa: E402

CTXLOG = [sys.executable, "-m", "ctxlog.cli"]


def write_run(path: str, events: int) -> float:
    """The mix of about ``events`` events as run ``bench`` of a new ledger at ``path``; seconds taken."""
    ops = workload.mix_ops(events, workload.value_pool())
    t0 = time.perf_counter()
    with ContextManager(path, run="bench") as mgr:
        for i in range(0, len(ops), 2000):
            with mgr.transaction():
                workload.apply_ops(mgr, ops[i : i + 2000])
    return time.perf_counter() - t0


def _get(url: str) -> float:
    t0 = time.perf_counter()
    with urllib.request.urlopen(url, timeout=120) as response:
        response.read()
    return (time.perf_counter() - t0) * 1000


def _served(path: str) -> tuple[subprocess.Popen[str], str]:
    proc = subprocess.Popen([*CTXLOG, "serve", path, "--port", "0"], stdout=subprocess.PIPE, text=True)
    assert proc.stdout is not None
    line = proc.stdout.readline()
    return proc, line.split(" at ", 1)[1].strip()


def _page_ms(page: object, url: str) -> float:
    t0 = time.perf_counter()
    page.goto(url)  # type: ignore[attr-defined]
    page.wait_for_selector("body[data-ready='1']", timeout=120_000)  # type: ignore[attr-defined]
    return (time.perf_counter() - t0) * 1000


def browser_figures(url: str, last: int, rows: list[tuple[str, str, str]]) -> None:
    """Page loads in Chromium, cold then warm, and the boxes the timeline drew."""
    from playwright.sync_api import sync_playwright

    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=shutil.which("chromium"), args=["--no-sandbox"])
        page = browser.new_page(viewport={"width": 1400, "height": 900})
        first = _page_ms(page, url)
        rows.append(("runs page, first load (verify running in its worker)", f"{first:.0f} ms", "< 2000 ms"))
        rows.append(("runs page, again", f"{_page_ms(page, url):.0f} ms", "< 2000 ms"))
        rows.append(("run page: timeline", f"{_page_ms(page, url + 'runs/bench'):.0f} ms", "< 2000 ms"))
        boxes = page.eval_on_selector_all("#timeline .bar, #timeline .cell", "els => els.length")
        rows.append(("timeline boxes drawn", f"{boxes}", "aggregated (not one per step)"))
        loads = [_page_ms(page, f"{url}runs/bench?view=tree&at={at}") for at in (last // 3, last // 2, last)]
        rows.append(
            ("tree page at 1/3, 1/2, end (whole page)", " / ".join(f"{t:.0f}" for t in loads) + " ms", "< 2000 ms")
        )
        scrub = []
        for at in (last // 4, last // 5 * 3, last - 7):  # the scrubber moved on an open tree page
            t0 = time.perf_counter()
            page.evaluate(f"document.querySelector('#scrubber').value = '{at}'")
            page.dispatch_event("#scrubber", "change")
            page.wait_for_selector(f"text=contexts at offset {at}")
            scrub.append((time.perf_counter() - t0) * 1000)
        rows.append(
            ("tree redrawn after a scrub, 3 offsets", " / ".join(f"{t:.0f}" for t in scrub) + " ms", "< 300 ms")
        )
        browser.close()


def report_figures(path: str, workdir: str, rows: list[tuple[str, str, str]]) -> None:
    """The size of the report of the run at ``path``, and the time to open it offline."""
    out = os.path.join(workdir, "run.html")
    t0 = time.perf_counter()
    size = report(path, out=out)
    rows.append(("report written", f"{time.perf_counter() - t0:.1f} s, {size / 1e6:.1f} MB", "< 20 MB"))
    if shutil.which("chromium") is None:
        return
    from playwright.sync_api import sync_playwright

    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=shutil.which("chromium"), args=["--no-sandbox"])
        context = browser.new_context(offline=True)
        page = context.new_page()
        opened = _page_ms(page, "file://" + out)
        t0 = time.perf_counter()
        page.goto("file://" + out + "#/runs/bench?view=tree")
        page.wait_for_selector("#tree li.node")
        rows.append(("report opened offline (timeline drawn)", f"{opened:.0f} ms", "-"))
        rows.append(
            ("report: tree at the head (folded in the page)", f"{(time.perf_counter() - t0) * 1000:.0f} ms", "-")
        )
        browser.close()


def serve_figures(path: str, rows: list[tuple[str, str, str]]) -> None:
    proc, url = _served(path)
    try:
        t0 = time.perf_counter()
        with urllib.request.urlopen(url + "api/run?run=bench", timeout=600) as r:
            last = json.loads(r.read())["last_offset"]
        rows.append(
            (
                "the run's index ready after the server started (its log read once)",
                f"{time.perf_counter() - t0:.1f} s",
                "-",
            )
        )
        if shutil.which("chromium") is not None:
            browser_figures(url, last, rows)
        else:
            rows.append(("browser figures", "not measured: no chromium on this machine", "-"))
        rng = random.Random(5)
        points = sorted(rng.randrange(1, last + 1) for _ in range(20))
        trees = [_get(f"{url}api/tree?run=bench&at={at}") for at in points]
        figure = f"median {statistics.median(trees):.0f} ms, max {max(trees):.0f} ms"
        rows.append(("GET /api/tree at 20 offsets (the tree's structure there)", figure, "< 300 ms"))
        data = [_get(f"{url}api/context?run=bench&at={at}&id=root") for at in points[::4]]
        figure = f"median {statistics.median(data):.0f} ms, max {max(data):.0f} ms"
        rows.append(("GET /api/context at 5 offsets (a context's data: a replay)", figure, "-"))
        rows.append(("GET /api/timeline, whole run", f"{_get(f'{url}api/timeline?run=bench'):.0f} ms", "-"))
    finally:
        proc.terminate()
        proc.wait()


def section(
    *, events: int = 1_000_000, report_events: int = 100_000, workdir: str | None = None, ledger: str | None = None
) -> str:
    """The viewer's figures as a Markdown section (on ``ledger``, run ``bench``, when given)."""
    folder = tempfile.mkdtemp(prefix="ctxlog-viewer-", dir=workdir)
    try:
        rows: list[tuple[str, str, str]] = []
        big = ledger or os.path.join(folder, "big.db")
        if ledger is None:
            rows.append((f"ledger of {events:,} events written", f"{write_run(big, events):.0f} s", "-"))
        serve_figures(big, rows)
        small = os.path.join(folder, "small.db")
        write_run(small, report_events)
        report_figures(small, folder, rows)
    finally:
        shutil.rmtree(folder, ignore_errors=True)
    lines = [f"## Viewer: one run of {events:,} events (report: {report_events:,})", ""]
    lines += ["| figure | measured | target |", "|---|---|---|"]
    lines += [f"| {a} | {b} | {c} |" for a, b, c in rows]
    return "\n".join(lines)


def main() -> int:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--events", type=int, default=1_000_000)
    p.add_argument("--report-events", type=int, default=100_000)
    p.add_argument("--workdir")
    p.add_argument("--ledger", help="measure this ledger's run 'bench' instead of writing one")
    p.add_argument("--quick", action="store_true", help="20,000 and 5,000 events: a smoke run")
    args = p.parse_args()
    if args.quick:
        args.events, args.report_events = 20_000, 5_000
    print(section(events=args.events, report_events=args.report_events, workdir=args.workdir, ledger=args.ledger))
    return 0


if __name__ == "__main__":
    sys.exit(main())

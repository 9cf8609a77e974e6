"""The HTML of the viewer: the page shell the scripts fill in, served or inlined, and the 404 page.

The shell is ``static/index.html``; served, it links ``static/app.css`` and ``static/app.js``;
in a report, the same files are inlined with the data, so the file opens with no network.
"""

from __future__ import annotations

import html
import urllib.parse
from pathlib import Path

__all__ = ["STATIC", "inline", "missing_page", "shell"]

STATIC = Path(__file__).resolve().parent / "static"
"""Where the viewer's assets are: package data, installed with ctxlog."""


def _template(title: str, styles: str, scripts: str) -> str:
    text = (STATIC / "index.html").read_text(encoding="utf-8")
    return text.replace("{{title}}", html.escape(title)).replace("{{styles}}", styles).replace("{{scripts}}", scripts)


def shell(location: str) -> str:
    """The page a served ledger's views are drawn in."""
    styles = '<link rel="stylesheet" href="/static/app.css">'
    scripts = '<script>window.CTXLOG = {"mode": "server"};</script>\n<script src="/static/app.js"></script>'
    return _template(location, styles, scripts)


def _safe(text: str) -> str:
    """Script or data text that cannot end the element it is inlined in."""
    return text.replace("</", "<\\/")


def inline(title: str, config: str, blocks: dict[str, str]) -> str:
    """One self-contained page: the stylesheet and every script inline, ``config`` (a JSON
    object) as ``window.CTXLOG``, and each of ``blocks`` (id: text) as a data element."""
    styles = f"<style>\n{(STATIC / 'app.css').read_text(encoding='utf-8')}\n</style>"
    data = "\n".join(f'<script type="application/octet-stream" id="{i}">{_safe(t)}</script>' for i, t in blocks.items())
    code = "\n".join(
        f"<script>\n{_safe((STATIC / name).read_text(encoding='utf-8'))}\n</script>"
        for name in ("layout.js", "report.js", "app.js")
    )
    return _template(title, styles, f"{data}\n<script>window.CTXLOG = {_safe(config)};</script>\n{code}")


def missing_page(message: str, runs: list[str]) -> str:
    """The 404 page of an unknown run, checkpoint or offset: what was asked, and what exists."""
    items = "".join(
        f'<li><a href="/runs/{html.escape(urllib.parse.quote(r, safe=""))}">{html.escape(r)}</a></li>'
        for r in runs[:200]
    )
    body = (
        f'<main id="main"><h2>Not found</h2><div class="error" id="error">{html.escape(message)}</div>'
        f'<h3>Runs in this ledger</h3><ul id="runs-known">{items or "<li>none</li>"}</ul>'
        '<p><a href="/">all runs</a></p></main>'
    )
    page = _template("not found", '<link rel="stylesheet" href="/static/app.css">', "")
    start = page.index('<main id="main">')
    end = page.index("</main>") + len("</main>")
    return page[:start] + body + page[end:]

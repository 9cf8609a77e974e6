"""The viewer's web app: JSON endpoints over a :class:`~.viewer.Viewer`, pages, and a live stream.

Every endpoint only reads. ``/api/...`` answers JSON; an unknown run, point or context is a 404
whose ``error`` says what exists, a ledger that does not verify is a 409 naming the first bad
offset. ``/api/stream`` is a server-sent event stream: one ``head`` event whenever the ledger's head
moved, with the runs as they now stand. Pages (``/`` and ``/runs/RUN``) are one HTML shell the
scripts of ``static/`` fill in; a page for an unknown run or point is a 404 page listing what exists.
Starlette is imported here, so only the ``web`` extra needs it.
"""

from __future__ import annotations

import asyncio
import json
import threading
from collections.abc import AsyncIterator, Awaitable, Callable
from typing import Any

import msgspec
from sse_starlette import EventSourceResponse
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import HTMLResponse, JSONResponse, Response
from starlette.routing import Mount, Route
from starlette.staticfiles import StaticFiles

from .. import CtxlogError, IntegrityError, UnknownCheckpointError, UnknownContextError, UnknownRunError, audit
from .data import EVENTS_PAGE, context_json, events_json
from .pages import STATIC, missing_page, shell
from .timeline import layout
from .viewer import Viewer

__all__ = ["STREAM_SECONDS", "create_app"]

STREAM_SECONDS = 0.25
"""How often the live stream probes the head."""

Handler = Callable[[Viewer, Request], Any]


def _status(exc: CtxlogError) -> int:
    if isinstance(exc, UnknownRunError | UnknownCheckpointError | UnknownContextError):
        return 404
    return 409 if isinstance(exc, IntegrityError) else 500


def _api(handler: Handler, viewer: Viewer) -> Callable[[Request], Awaitable[Response]]:
    async def endpoint(request: Request) -> Response:
        try:
            body = await asyncio.to_thread(handler, viewer, request)
        except CtxlogError as exc:
            offset = exc.offset if isinstance(exc, IntegrityError) else None
            return JSONResponse({"error": str(exc), "bad_offset": offset}, status_code=_status(exc))
        return Response(msgspec.json.encode(body), media_type="application/json")

    return endpoint


def _run(viewer: Viewer, request: Request) -> str:
    run = request.query_params.get("run")
    if run is None:
        raise UnknownRunError("give the run: ?run=NAME")
    return viewer.index(run).run


def _ledger(viewer: Viewer, request: Request) -> dict[str, Any]:
    try:
        head: int | None = viewer.head()
    except IntegrityError:  # the badge says where
        head = None
    return {"location": viewer.location, "head": head, "verify": viewer.badge()}


def _runs(viewer: Viewer, request: Request) -> dict[str, Any]:
    return {"runs": viewer.runs()}


def _run_info(viewer: Viewer, request: Request) -> dict[str, Any]:
    return viewer.run_info(_run(viewer, request))


def _tree(viewer: Viewer, request: Request) -> dict[str, Any]:
    run = _run(viewer, request)
    offset = viewer.point(run, request.query_params.get("at"))
    opened = {o for o in request.query_params.get("open", "").split(",") if o}
    return viewer.structure(run, offset, opened)


def _context(viewer: Viewer, request: Request) -> dict[str, Any]:
    run = _run(viewer, request)
    offset = viewer.point(run, request.query_params.get("at"))
    cid = request.query_params.get("id", "")
    tree = viewer.tree(run, offset)
    if cid not in tree.contexts:
        known = ", ".join(list(tree.contexts)[:20])
        raise UnknownContextError(f"no context {cid!r} in run {run!r} at offset {offset}; contexts: {known}")
    return context_json(tree, cid)


def _diff(viewer: Viewer, request: Request) -> dict[str, Any]:
    run = _run(viewer, request)
    a = viewer.point(run, request.query_params.get("a"))
    b = viewer.point(run, request.query_params.get("b"))
    return msgspec.to_builtins(audit.diff(viewer.path, a, b, run=run, key=viewer.key))


def _timeline(viewer: Viewer, request: Request) -> dict[str, Any]:
    run = _run(viewer, request)
    q = request.query_params
    t0, t1 = q.get("t0"), q.get("t1")
    return layout(viewer.spans(run), float(t0) if t0 else None, float(t1) if t1 else None)


def _events(viewer: Viewer, request: Request) -> dict[str, Any]:
    run = _run(viewer, request)
    after = request.query_params.get("after", "0")
    limit = request.query_params.get("limit", str(EVENTS_PAGE))
    if not (after.isdigit() and limit.isdigit()):
        raise UnknownCheckpointError(f"after and limit are offsets and counts, not {after!r} and {limit!r}")
    return events_json(viewer.path, run, after=int(after), limit=min(int(limit), 5000), key=viewer.key)


async def _stream(viewer: Viewer, request: Request) -> AsyncIterator[dict[str, str]]:
    """A ``head`` event at once, then one each time the head moved past ``?after=`` (the head
    when absent): the head and, for each run that grew, its last offset (read from the rows
    committed since, not from the whole log)."""
    follower = None
    try:
        after = request.query_params.get("after", "")
        follower = await asyncio.to_thread(audit.Follower, viewer.path, after=0, key=viewer.key)
        head = await asyncio.to_thread(follower.head)
        follower.offset = min(int(after), head) if after.isdigit() and len(after) < 19 else head
        yield {"event": "head", "data": json.dumps({"head": head, "runs": []})}
        while True:
            await asyncio.sleep(STREAM_SECONDS)
            grown: dict[str, int] = {}
            batch = await asyncio.to_thread(follower.poll)
            while batch:
                grown.update((r.run, r.offset) for r in batch)
                batch = await asyncio.to_thread(follower.poll)
            if grown:
                runs = [{"run": run, "last_offset": last} for run, last in grown.items()]
                yield {"event": "head", "data": json.dumps({"head": follower.offset, "runs": runs})}
    except CtxlogError as exc:
        yield {"event": "failure", "data": json.dumps({"error": str(exc)})}
    finally:
        if follower is not None:
            follower.close()


def _page(viewer: Viewer) -> Callable[[Request], Awaitable[Response]]:
    async def page(request: Request) -> Response:
        run = request.path_params.get("run")
        q = request.query_params
        try:
            if run is not None:
                await asyncio.to_thread(viewer.index, run)
                for name in ("at", "a", "b"):
                    if q.get(name):
                        await asyncio.to_thread(viewer.point, run, q[name])
        except (UnknownRunError, UnknownCheckpointError) as exc:
            runs = await asyncio.to_thread(_names, viewer)
            return HTMLResponse(missing_page(str(exc), runs), status_code=404)
        return HTMLResponse(shell(viewer.location))

    return page


def _names(viewer: Viewer) -> list[str]:
    try:
        return [r["run"] for r in viewer.runs()]
    except CtxlogError:
        return []


def create_app(path: str, *, key: bytes | str | None = None, warm: bool = True) -> Starlette:
    """The viewer of the ledger at ``path`` (read with ``key`` when given) as an ASGI app; with
    ``warm``, a thread reads the runs, their indexes and the badge at once, ahead of the pages."""
    viewer = Viewer(path, key)
    endpoints = {
        "ledger": _ledger,
        "runs": _runs,
        "run": _run_info,
        "tree": _tree,
        "context": _context,
        "diff": _diff,
        "timeline": _timeline,
        "events": _events,
    }
    routes = [Route(f"/api/{name}", _api(handler, viewer)) for name, handler in endpoints.items()]

    async def stream(request: Request) -> Response:
        return EventSourceResponse(_stream(viewer, request), ping=15)

    routes += [
        Route("/api/stream", stream),
        Route("/", _page(viewer)),
        Route("/runs/{run:path}", _page(viewer)),
        Mount("/static", StaticFiles(directory=str(STATIC)), name="static"),
    ]
    app = Starlette(routes=routes)
    app.state.viewer = viewer
    if warm:
        threading.Thread(target=viewer.warm, daemon=True).start()
    return app

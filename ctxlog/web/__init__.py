"""The viewer: ``serve`` a ledger as a local, read-only web app, or write one run as a ``report``.

Both read through ``ctxlog.audit`` only. ``serve`` needs the ``web`` extra (Starlette, uvicorn,
sse-starlette), imported when it is called, so importing ``ctxlog`` never needs it; ``report``
needs nothing but ctxlog. ``create_app`` is the ASGI app ``serve`` runs, for embedding.
"""

from __future__ import annotations

import logging
import socket
from collections.abc import Callable
from typing import Any

from .. import CtxlogError, IntegrityError, audit
from .report import report

__all__ = ["DEFAULT_PORT", "ViewerUnavailableError", "create_app", "report", "serve"]

DEFAULT_PORT = 8765
"""The port ``serve`` listens on unless told another."""


class ViewerUnavailableError(CtxlogError):
    """The ``web`` extra is not installed."""


def _web() -> Any:
    try:
        from . import server
    except ImportError as exc:
        raise ViewerUnavailableError(
            f"the viewer needs the web extra: pip install 'ctxlog[web]' ({exc.name or exc} is missing)"
        ) from None
    return server


def create_app(path: str, *, key: bytes | str | None = None, warm: bool = True) -> Any:
    """The viewer of the ledger at ``path`` (read with ``key`` when given) as a Starlette app;
    with ``warm`` it reads the runs, their indexes and the verify badge at once, in a thread."""
    return _web().create_app(path, key=key, warm=warm)


def serve(
    path: str,
    *,
    host: str = "127.0.0.1",
    port: int = DEFAULT_PORT,
    key: bytes | str | None = None,
    ready: Callable[[str], None] | None = None,
) -> None:
    """Serve the viewer of the ledger at ``path`` on ``host``:``port`` (loopback by default; port
    0 picks a free one) until interrupted; ``ready(url)`` is called once it listens. The ledger
    is read only, with ``key`` when given. A path that is no ledger raises before anything
    listens; a ledger that does not verify is served, with its first bad offset on the badge."""
    try:
        audit.head(path, key=key)
    except IntegrityError:
        pass
    app = create_app(path, key=key)
    import uvicorn

    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    sock = socket.socket(family, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    try:
        sock.bind((host, port))
    except OSError as exc:
        sock.close()
        raise ViewerUnavailableError(f"cannot listen on {host}:{port}: {exc.strerror}") from None
    sock.listen(128)  # connections wait in the backlog until the server accepts them
    bound = sock.getsockname()[1]
    shown = f"[{host}]" if ":" in host else host
    server = uvicorn.Server(uvicorn.Config(app, log_level="warning", lifespan="off"))
    # a live stream still open when Ctrl-C stops the server ends without its last chunk: not an error
    logging.getLogger("uvicorn.error").addFilter(lambda r: "without completing response" not in r.getMessage())
    if ready is not None:
        ready(f"http://{shown}:{bound}/")
    try:
        server.run(sockets=[sock])
    finally:
        sock.close()

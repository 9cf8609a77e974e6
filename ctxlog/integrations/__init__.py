"""Adapters that put ctxlog under other frameworks, each behind an optional extra.

``ctxlog.integrations.langgraph`` (``pip install 'ctxlog[langgraph]'``) is a LangGraph checkpoint
saver over a ledger; ``ctxlog.integrations.otel`` (``pip install 'ctxlog[otel]'``) hands runs to an
OpenTelemetry SDK span exporter. Importing ``ctxlog`` never imports either; importing one without its
extra raises :class:`ExtraNotInstalledError`, which names the extra to install.
"""

from __future__ import annotations

from ..errors import CtxlogError

__all__ = ["ExtraNotInstalledError", "require"]


class ExtraNotInstalledError(CtxlogError, ImportError):
    """An adapter was imported without the packages of its extra; the message names the extra."""


def require(extra: str, module: str) -> None:
    """Import ``module`` or raise ExtraNotInstalledError telling to install ctxlog's ``extra``."""
    try:
        __import__(module)
    except ImportError as exc:
        raise ExtraNotInstalledError(
            f"ctxlog.integrations.{extra} needs {module!r}: pip install 'ctxlog[{extra}]'"
        ) from exc

"""The ``ctxlog`` command: audit and replay tooling over the public library API."""

from __future__ import annotations

from .app import main

__all__ = ["main"]

"""Runs started from other runs: ``fork``, the function behind ``ctxlog fork``."""

from __future__ import annotations

from ..manager import ForkInfo
from ..manager import fork as fork_run

__all__ = ["ForkInfo", "fork"]


def fork(
    path: str, *, run: str | None = None, at: str | int | None = None, new_run: str, key: bytes | str | None = None
) -> ForkInfo:
    """Fork ``run`` (the only run when None) of the ledger at ``path`` at checkpoint or offset
    ``at`` (the head when None) into the new run ``new_run``, as ``ctxlog.fork`` does (a keyed
    ledger needs its ``key``); returns what the ``forked`` event recorded."""
    return fork_run(path, run=run, at=at, new_run=new_run, key=key)

"""The one step protocol, shared by ``ContextManager.step`` and ``Branch.step``, sync and async."""

from __future__ import annotations

import asyncio
from collections.abc import Callable

__all__ = ["Step"]


class Step:
    """The one step protocol, for ``with`` and ``async with`` alike: open a context for the body;
    when the body raises, record the context failed and let the exception propagate; else close it.

    ``async with`` runs the ledger writes on a worker thread, off the event loop. ``open()``
    creates the context and returns its ``id``; ``fail(id, exc)`` records it failed; ``leave(id)``
    closes it. Made by ``ContextManager.step`` and ``Branch.step``.
    """

    __slots__ = ("_open", "_fail", "_leave", "id")

    def __init__(
        self, open: Callable[[], str], fail: Callable[[str, BaseException], None], leave: Callable[[str], None]
    ) -> None:
        self._open, self._fail, self._leave = open, fail, leave
        self.id = ""

    def __enter__(self) -> str:
        self.id = self._open()
        return self.id

    def __exit__(self, exc_type: type | None, exc: BaseException | None, tb: object) -> None:
        if exc is None:
            self._leave(self.id)
        else:
            self._fail(self.id, exc)

    async def __aenter__(self) -> str:
        self.id = await asyncio.to_thread(self._open)
        return self.id

    async def __aexit__(self, exc_type: type | None, exc: BaseException | None, tb: object) -> None:
        if exc is None:
            await asyncio.to_thread(self._leave, self.id)
        else:
            await asyncio.to_thread(self._fail, self.id, exc)

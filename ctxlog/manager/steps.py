"""The one step protocol, shared by ``ContextManager.step`` and ``Branch.step``, sync and async."""

from __future__ import annotations

import asyncio
import functools
import inspect
from collections.abc import Callable
from typing import Any, TypeVar

from ..errors import ContextStateError

F = TypeVar("F", bound=Callable[..., Any])

__all__ = ["Step"]


class Step:
    """The one step protocol, for ``with`` and ``async with`` alike: open a context for the body;
    when the body raises, record the context failed and let the exception propagate; else close it.

    ``async with`` runs the ledger writes on a worker thread, off the event loop. ``open()``
    creates the context and returns its ``id``; ``fail(id, exc)`` records it failed; ``leave(id)``
    closes it. Made by ``ContextManager.step`` and ``Branch.step``. A step also decorates a
    function (or a coroutine function): each call runs in a step of its own.
    """

    __slots__ = ("_open", "_fail", "_leave", "id")

    def __init__(
        self, open: Callable[[], str], fail: Callable[[str, BaseException], None], leave: Callable[[str], None]
    ) -> None:
        self._open, self._fail, self._leave = open, fail, leave
        self.id = ""

    def __call__(self, func: F) -> F:
        if inspect.iscoroutinefunction(func):

            @functools.wraps(func)
            async def run_async(*args: Any, **kwargs: Any) -> Any:
                async with self._fresh():
                    return await func(*args, **kwargs)

            return run_async  # type: ignore[return-value]

        @functools.wraps(func)
        def run(*args: Any, **kwargs: Any) -> Any:
            with self._fresh():
                return func(*args, **kwargs)

        return run  # type: ignore[return-value]

    def _fresh(self) -> Step:
        return Step(self._open, self._fail, self._leave)

    def _opening(self) -> None:
        if self.id:
            raise ContextStateError(f"step {self.id!r} is already open; make a new one with step(...) to nest")

    def __enter__(self) -> str:
        self._opening()
        self.id = self._open()
        return self.id

    def __exit__(self, exc_type: type | None, exc: BaseException | None, tb: object) -> None:
        if exc is None:
            self._leave(self.id)
        else:
            self._fail(self.id, exc)

    async def __aenter__(self) -> str:
        self._opening()
        self.id = await asyncio.to_thread(self._open)
        return self.id

    async def __aexit__(self, exc_type: type | None, exc: BaseException | None, tb: object) -> None:
        if exc is None:
            await asyncio.to_thread(self._leave, self.id)
        else:
            await asyncio.to_thread(self._fail, self.id, exc)

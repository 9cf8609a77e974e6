"""Steps and parallel branches: the structured ways an orchestrator enters and leaves contexts.

A mixin of ContextManager, kept apart so each module stays small; it uses the manager's
primitives (``enter_step``, ``_close``, ``_live``) and its lock.
"""

from __future__ import annotations

import asyncio
import contextlib
import threading
from collections.abc import AsyncIterator, Awaitable, Callable, Iterator
from typing import TYPE_CHECKING, TypeVar

from .arguments import enum_arg
from .parallel import Branches, run_aparallel, run_parallel
from .policies import IsolationLevel, MergePolicy

if TYPE_CHECKING:
    from .projections.tree import ContextTree

T = TypeVar("T")


class StepsMixin:
    """``step``/``astep`` and ``parallel``/``aparallel`` of ContextManager."""

    _lock: threading.RLock
    _tree: ContextTree
    _poisoned: bool
    enter_step: Callable[..., str]
    _fail_context: Callable[..., None]
    _exit_context: Callable[..., None]

    @contextlib.contextmanager
    def step(
        self, name: str, isolation: IsolationLevel | str = IsolationLevel.INHERIT,
        merge: MergePolicy | str | None = None,
    ) -> Iterator[str]:
        """Enter a step for the ``with`` body; on an exception record it failed and let it propagate."""
        policy = None if merge is None else enum_arg(MergePolicy, merge, "merge")
        cid = self.enter_step(name, isolation)
        try:
            yield cid
        except BaseException as exc:
            self._fail_context(cid, exc)
            raise
        self._exit_context(cid, policy)

    def parallel(
        self, branches: Branches[T], merge: MergePolicy | str | None = MergePolicy.KEEP_EXISTING,
        max_workers: int | None = None,
    ) -> list[T] | dict[str, T]:
        """Run callables at the same time, each given a Branch handle on its own parallel context.

        Results come back in branch order (a dict for a dict of branches); the branches that
        succeeded are merged into the current context in branch order, whatever order they
        finished in. Failed branches are recorded ``failed`` and raised together in an
        ExceptionGroup once everything is recorded.
        """
        return run_parallel(self, None, branches, merge, max_workers)  # type: ignore[no-any-return]

    async def aparallel(
        self, branches: Branches[Awaitable[T]], merge: MergePolicy | str | None = MergePolicy.KEEP_EXISTING,
        max_workers: int | None = None,
    ) -> list[T] | dict[str, T]:
        """``parallel`` for coroutine functions, run as tasks; ledger writes stay off the event loop."""
        return await run_aparallel(self, None, branches, merge, max_workers)  # type: ignore[no-any-return]

    @contextlib.asynccontextmanager
    async def astep(
        self, name: str, isolation: IsolationLevel | str = IsolationLevel.INHERIT,
        merge: MergePolicy | str | None = None,
    ) -> AsyncIterator[str]:
        """``step`` for coroutines: entering and leaving are written off the event loop."""
        policy = None if merge is None else enum_arg(MergePolicy, merge, "merge")
        cid = await asyncio.to_thread(self.enter_step, name, isolation)
        try:
            yield cid
        except BaseException as exc:
            await asyncio.to_thread(self._fail_context, cid, exc)
            raise
        await asyncio.to_thread(self._exit_context, cid, policy)

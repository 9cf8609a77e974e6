"""Parallel branches: each on its own isolated context, run at the same time, merged in order.

A :class:`Branch` is a handle bound to one context of the tree; its reads and writes go there
(or into the steps it opens) whatever the manager's current context is, so branches running on
threads or asyncio tasks never step on each other. The handle of the code running now is
``ctxlog.current()``, kept in a ContextVar: tasks inherit it, and a thread started inside a branch
inherits it when started through ``contextvars.copy_context().run``.

Branches are created and merged in branch order by the caller, so ids and the merged result do
not depend on which branch finished first; only the interleaving of their events in the log does.
"""

from __future__ import annotations

import asyncio
import contextlib
import contextvars
from collections.abc import AsyncIterator, Awaitable, Callable, Iterator, Mapping, Sequence
from concurrent.futures import ThreadPoolExecutor
from typing import TYPE_CHECKING, Any, TypeVar

from .arguments import enum_arg, id_arg
from .errors import ContextStateError, CtxlogError, InvalidArgumentError
from .policies import IsolationLevel, MergePolicy

if TYPE_CHECKING:
    from .manager import ContextManager

T = TypeVar("T")
Branches = Sequence[Callable[["Branch"], T]] | Mapping[str, Callable[["Branch"], T]]

_CURRENT: contextvars.ContextVar[Branch | None] = contextvars.ContextVar("ctxlog_branch", default=None)


def current() -> Branch:
    """The branch handle of the code running now (inside ``parallel`` or ``aparallel``)."""
    branch = _CURRENT.get()
    if branch is None:
        raise ContextStateError(
            "not inside a ctxlog branch: current() works in code run by parallel()/aparallel(); "
            "for a thread started in a branch, start it with contextvars.copy_context().run"
        )
    return branch


class Branch:
    """A handle on one context: get/set/delete/step there, independent of the current context."""

    __slots__ = ("manager", "id", "_stack")

    def __init__(self, manager: ContextManager, context_id: str) -> None:
        self.manager = manager
        self.id = context_id
        self._stack = [context_id]

    @property
    def current_id(self) -> str:
        """The context this handle writes to: its own, or the innermost step it has open."""
        return self._stack[-1]

    def get(self, key: str, default: Any = None) -> Any:
        """The value of ``key`` as this handle's context resolves it, else ``default``."""
        return self.manager._read(self._stack[-1], key, default)

    def set(self, key: str, value: Any) -> None:
        """Set ``key`` in this handle's context."""
        self.manager._write(self._stack[-1], key, value)

    def delete(self, key: str) -> None:
        """Remove ``key`` from this handle's context's own data."""
        self.manager._remove(self._stack[-1], key)

    @contextlib.contextmanager
    def step(
        self, name: str, isolation: IsolationLevel | str = IsolationLevel.INHERIT,
        merge: MergePolicy | str | None = None,
    ) -> Iterator[str]:
        """A step inside this branch (as ``ContextManager.step``, without touching the current context)."""
        level = enum_arg(IsolationLevel, isolation, "isolation")
        policy = None if merge is None else enum_arg(MergePolicy, merge, "merge")
        cid = self.manager._open(self._stack[-1], self._scoped(name), level, switch=False)
        self._stack.append(cid)
        try:
            yield cid
        except BaseException as exc:
            self._stack.pop()
            self.manager._fail_context(cid, exc, switch=False)
            raise
        self._stack.pop()
        self.manager._exit_context(cid, policy, switch=False)

    def parallel(
        self, branches: Branches[T], merge: MergePolicy | str | None = MergePolicy.KEEP_EXISTING,
        max_workers: int | None = None,
    ) -> list[T] | dict[str, T]:
        """Nested parallel branches under this handle's context, merged back into it."""
        return run_parallel(self.manager, self._stack[-1], branches, merge, max_workers, prefix=f"{self.id}.")

    async def aset(self, key: str, value: Any) -> None:
        """``set`` with the ledger write off the event loop."""
        await asyncio.to_thread(self.set, key, value)

    async def adelete(self, key: str) -> None:
        """``delete`` with the ledger write off the event loop."""
        await asyncio.to_thread(self.delete, key)

    @contextlib.asynccontextmanager
    async def astep(
        self, name: str, isolation: IsolationLevel | str = IsolationLevel.INHERIT,
        merge: MergePolicy | str | None = None,
    ) -> AsyncIterator[str]:
        """``step`` for coroutines: entering and leaving are written off the event loop."""
        level = enum_arg(IsolationLevel, isolation, "isolation")
        policy = None if merge is None else enum_arg(MergePolicy, merge, "merge")
        cid = await asyncio.to_thread(self.manager._open, self._stack[-1], self._scoped(name), level, switch=False)
        self._stack.append(cid)
        try:
            yield cid
        except BaseException as exc:
            self._stack.pop()
            await asyncio.to_thread(self.manager._fail_context, cid, exc, switch=False)
            raise
        self._stack.pop()
        await asyncio.to_thread(self.manager._exit_context, cid, policy, switch=False)

    async def aparallel(
        self, branches: Branches[Awaitable[T]], merge: MergePolicy | str | None = MergePolicy.KEEP_EXISTING,
        max_workers: int | None = None,
    ) -> list[T] | dict[str, T]:
        """Nested coroutine branches under this handle's context."""
        return await run_aparallel(self.manager, self._stack[-1], branches, merge, max_workers, prefix=f"{self.id}.")

    def _scoped(self, name: str) -> str:
        return f"{self.id}.{id_arg(name, 'name')}"

    def __repr__(self) -> str:
        return f"Branch(id={self.id!r}, current_id={self.current_id!r})"


def _branch_name(fn: object, index: int) -> str:
    """A branch is named after its function (``worker``, ``worker-2`` …), else ``parallel-<i>``."""
    name = getattr(fn, "__name__", "")
    return name if isinstance(name, str) and name.isidentifier() else f"parallel-{index}"


def _plan(
    mgr: ContextManager, parent_id: str | None, branches: Branches[Any], merge: MergePolicy | str | None,
    max_workers: int | None, prefix: str,
) -> tuple[list[str], list[Callable[[Branch], Any]], list[Branch], MergePolicy | None]:
    """Check the arguments and open one isolated parallel context per branch, in branch order."""
    if isinstance(branches, Mapping):
        names, funcs = [id_arg(n, "branch name") for n in branches], list(branches.values())
    elif isinstance(branches, Sequence) and not isinstance(branches, (str, bytes)):
        funcs = list(branches)
        names = [_branch_name(fn, i) for i, fn in enumerate(funcs, start=1)]
    else:
        kind = type(branches).__name__
        raise InvalidArgumentError(f"branches must be a list of callables or a dict of them, not {kind}")
    for fn in funcs:
        if not callable(fn):
            raise InvalidArgumentError(f"every branch must be callable, got {fn!r}")
    if max_workers is not None and (type(max_workers) is not int or max_workers < 1):
        raise InvalidArgumentError(f"max_workers must be a positive int or None, got {max_workers!r}")
    policy = None if merge is None else enum_arg(MergePolicy, merge, "merge")
    with mgr._lock:
        if mgr._ledger.in_transaction:
            raise ContextStateError("parallel() cannot run inside transaction(): branches write from other threads")
        ids = [
            mgr._open(parent_id, prefix + name, IsolationLevel.ISOLATED, parallel=True, switch=False)
            for name in names
        ]
    return names, funcs, [Branch(mgr, cid) for cid in ids], policy


def _finish(
    mgr: ContextManager, handles: list[Branch], outcomes: list[tuple[bool, Any]], policy: MergePolicy | None,
) -> None:
    """Merge the branches that succeeded into their parent in branch order and close them; raise the failures.

    A branch whose context vanished meanwhile (a restore from another thread) counts as failed.
    """
    failures: list[BaseException] = []
    with mgr._lock:
        for handle, (ok, value) in zip(handles, outcomes, strict=True):
            ctx = mgr._tree.contexts.get(handle.id)
            if ctx is None:
                failures.append(ContextStateError(f"branch {handle.id!r} is gone from the tree (restored away?)"))
            elif ok and ctx.status == "active":
                try:
                    mgr._close(ctx, policy, switch=False)
                except CtxlogError as exc:
                    failures.append(exc)
            elif not ok:
                mgr._fail_context(handle.id, value, switch=False)
                failures.append(value)
    if failures:
        group = ExceptionGroup if all(isinstance(f, Exception) for f in failures) else BaseExceptionGroup
        raise group(f"{len(failures)} of {len(handles)} parallel branches failed", failures)


def _results(names: list[str], branches: Branches[Any], outcomes: list[tuple[bool, Any]]) -> Any:
    values = [value for _, value in outcomes]
    return dict(zip(names, values, strict=True)) if isinstance(branches, Mapping) else values


def run_parallel(
    mgr: ContextManager, parent_id: str | None, branches: Branches[T], merge: MergePolicy | str | None,
    max_workers: int | None, prefix: str = "",
) -> Any:
    """Run ``branches`` on threads, each on its own parallel context under ``parent_id``."""
    names, funcs, handles, policy = _plan(mgr, parent_id, branches, merge, max_workers, prefix)
    if not funcs:
        return _results(names, branches, [])

    def run(fn: Callable[[Branch], T], handle: Branch) -> tuple[bool, Any]:
        token = _CURRENT.set(handle)
        try:
            return True, fn(handle)
        except BaseException as exc:
            mgr._fail_context(handle.id, exc, switch=False)
            return False, exc
        finally:
            _CURRENT.reset(token)

    with ThreadPoolExecutor(max_workers=max_workers or len(funcs), thread_name_prefix="ctxlog-branch") as pool:
        futures = [
            pool.submit(contextvars.copy_context().run, run, fn, h) for fn, h in zip(funcs, handles, strict=True)
        ]
        outcomes = [f.result() for f in futures]
    _finish(mgr, handles, outcomes, policy)
    return _results(names, branches, outcomes)


async def run_aparallel(
    mgr: ContextManager, parent_id: str | None, branches: Branches[Awaitable[T]], merge: MergePolicy | str | None,
    max_workers: int | None, prefix: str = "",
) -> Any:
    """Run coroutine ``branches`` as tasks, each on its own parallel context under ``parent_id``."""
    names, funcs, handles, policy = await asyncio.to_thread(_plan, mgr, parent_id, branches, merge, max_workers, prefix)
    gate = asyncio.Semaphore(max_workers or max(len(funcs), 1))

    async def run(fn: Callable[[Branch], Awaitable[T]], handle: Branch) -> tuple[bool, Any]:
        _CURRENT.set(handle)
        try:
            async with gate:
                return True, await fn(handle)
        except BaseException as exc:
            await asyncio.to_thread(mgr._fail_context, handle.id, exc, switch=False)
            return False, exc

    tasks = [asyncio.ensure_future(run(fn, h)) for fn, h in zip(funcs, handles, strict=True)]
    try:
        outcomes = list(await asyncio.gather(*tasks))
    except asyncio.CancelledError:
        settled = await asyncio.gather(*tasks, return_exceptions=True)
        outcomes = [o if isinstance(o, tuple) else (False, o) for o in settled]
        with contextlib.suppress(BaseExceptionGroup):
            _finish(mgr, handles, outcomes, policy)
        raise
    await asyncio.to_thread(_finish, mgr, handles, outcomes, policy)
    return _results(names, branches, outcomes)

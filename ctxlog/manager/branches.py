"""Parallel branches: the branch handles and the runners that open, run and merge them.

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
from collections.abc import Awaitable, Callable, Mapping, Sequence
from concurrent.futures import ThreadPoolExecutor
from typing import Any, TypeVar

from ..errors import ContextStateError, CtxlogError, InvalidArgumentError
from ..projections import IsolationLevel, MergePolicy
from . import edits
from .arguments import id_arg, isolation_arg, merge_arg, positive_int_arg
from .session import Session
from .steps import Step

__all__ = ["Branch", "Branches", "current", "run_aparallel", "run_parallel"]

T = TypeVar("T")

_CURRENT: contextvars.ContextVar[Branch | None] = contextvars.ContextVar("ctxlog_branch", default=None)


def current() -> Branch:
    """The branch handle of the code running now (inside ``parallel`` or ``aparallel``).

    Raises ContextStateError outside a branch.
    """
    branch = _CURRENT.get()
    if branch is None:
        raise ContextStateError(
            "not inside a ctxlog branch: current() works in code run by parallel()/aparallel(); "
            "for a thread started in a branch, start it with contextvars.copy_context().run"
        )
    return branch


class Branch:
    """A handle on one context of a run: get, set, delete and open steps there, independent of the
    manager's current context (which it never reads or moves).

    ``id`` is the branch's own context; :attr:`current_id` the innermost step open in it;
    ``manager`` the ContextManager that ran the branch. Handles are made by ``parallel`` and
    ``aparallel`` (``Branch(session, manager, context_id)``), not by callers.
    """

    __slots__ = ("_session", "manager", "id", "_stack")

    def __init__(self, session: Session, manager: Any, context_id: str) -> None:
        self._session = session
        self.manager = manager
        self.id = context_id
        self._stack = [context_id]

    @property
    def current_id(self) -> str:
        """The context this handle writes to: its own, or the innermost step it has open."""
        return self._stack[-1]

    def get(self, key: str, default: Any = None) -> Any:
        """The value of ``key`` as this handle's context resolves it, else ``default``."""
        return edits.read(self._session, self._stack[-1], key, default)

    def set(self, key: str, value: Any) -> None:
        """Set ``key`` to ``value`` (JSON-shaped) in this handle's context."""
        edits.write(self._session, self._stack[-1], key, value)

    def delete(self, key: str) -> None:
        """Remove ``key`` from this handle's context's own data."""
        edits.remove(self._session, self._stack[-1], key)

    def step(
        self,
        name: str,
        isolation: IsolationLevel | str = IsolationLevel.INHERIT,
        merge: MergePolicy | str | None = None,
    ) -> Step:
        """A step inside this branch, for ``with`` or ``async with`` (as ``ContextManager.step``).

        ``name`` is scoped by the branch (``<branch id>.<name>``); ``isolation`` is how the step
        reads its parents; ``merge`` merges it back into the enclosing context when it ends well.
        The manager's current context is not touched.
        """
        level, policy, scoped = isolation_arg(isolation), merge_arg(merge), f"{self.id}.{id_arg(name, 'name')}"
        session, stack = self._session, self._stack

        def open_step() -> str:
            cid = edits.open_child(session, stack[-1], scoped, level, switch=False)
            stack.append(cid)
            return cid

        def fail(cid: str, exc: BaseException) -> None:
            stack.pop()
            edits.fail(session, cid, exc, switch=False)

        def leave(cid: str) -> None:
            stack.pop()
            edits.leave(session, cid, policy, switch=False)

        return Step(open_step, fail, leave)

    def astep(
        self,
        name: str,
        isolation: IsolationLevel | str = IsolationLevel.INHERIT,
        merge: MergePolicy | str | None = None,
    ) -> Step:
        """:meth:`step` (same ``name``, ``isolation`` and ``merge``) for ``async with``: entering and
        leaving are written off the event loop."""
        return self.step(name, isolation, merge)

    def parallel(
        self,
        branches: Branches[T],
        merge: MergePolicy | str | None = MergePolicy.KEEP_EXISTING,
        max_workers: int | None = None,
    ) -> list[T] | dict[str, T]:
        """Nested parallel branches under this handle's context, merged back into it (see
        ``ContextManager.parallel`` for ``branches``, ``merge`` and ``max_workers``)."""
        session, manager, parent = self._session, self.manager, self._stack[-1]
        return run_parallel(session, manager, parent, branches, merge, max_workers, prefix=f"{self.id}.")

    async def aset(self, key: str, value: Any) -> None:
        """``set(key, value)`` with the ledger write off the event loop."""
        await asyncio.to_thread(self.set, key, value)

    async def adelete(self, key: str) -> None:
        """``delete(key)`` with the ledger write off the event loop."""
        await asyncio.to_thread(self.delete, key)

    async def aparallel(
        self,
        branches: Branches[Awaitable[T]],
        merge: MergePolicy | str | None = MergePolicy.KEEP_EXISTING,
        max_workers: int | None = None,
    ) -> list[T] | dict[str, T]:
        """Nested coroutine branches under this handle's context (as ``parallel``: ``branches``,
        ``merge``, ``max_workers``)."""
        session, manager, parent = self._session, self.manager, self._stack[-1]
        return await run_aparallel(session, manager, parent, branches, merge, max_workers, prefix=f"{self.id}.")

    def __repr__(self) -> str:
        return f"Branch(id={self.id!r}, current_id={self.current_id!r})"


Branches = Sequence[Callable[[Branch], T]] | Mapping[str, Callable[[Branch], T]]
"""A list of callables (each named after its function) or a dict of them by branch name."""


def _branch_name(fn: object, index: int) -> str:
    """A branch is named after its function (``worker``, ``worker-2`` …), else ``parallel-<i>``."""
    name = getattr(fn, "__name__", "")
    return name if isinstance(name, str) and name.isidentifier() else f"parallel-{index}"


def _plan(
    s: Session,
    manager: Any,
    parent_id: str | None,
    branches: Branches[Any],
    merge: MergePolicy | str | None,
    max_workers: int | None,
    prefix: str,
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
    positive_int_arg(max_workers, "max_workers", optional=True)
    policy = merge_arg(merge)
    with s.lock:
        if s.ledger.in_transaction:
            raise ContextStateError("parallel() cannot run inside transaction(): branches write from other threads")
        isolated = IsolationLevel.ISOLATED
        ids = [edits.open_child(s, parent_id, prefix + name, isolated, parallel=True, switch=False) for name in names]
    return names, funcs, [Branch(s, manager, cid) for cid in ids], policy


def _finish(s: Session, handles: list[Branch], outcomes: list[tuple[bool, Any]], policy: MergePolicy | None) -> None:
    """Merge the branches that succeeded into their parent in branch order and close them; raise the failures.

    A branch whose context vanished meanwhile (a restore from another thread) counts as failed.
    """
    failures: list[BaseException] = []
    with s.lock:
        for handle, (ok, value) in zip(handles, outcomes, strict=True):
            ctx = s.tree.contexts.get(handle.id)
            if ctx is None:
                failures.append(ContextStateError(f"branch {handle.id!r} is gone from the tree (restored away?)"))
            elif ok and ctx.status == "active":
                try:
                    edits.close(s, ctx, policy, switch=False)
                except CtxlogError as exc:
                    failures.append(exc)
            elif not ok:
                edits.fail(s, handle.id, value, switch=False)
                failures.append(value)
    if failures:
        group = ExceptionGroup if all(isinstance(f, Exception) for f in failures) else BaseExceptionGroup
        raise group(f"{len(failures)} of {len(handles)} parallel branches failed", failures)


def _results(names: list[str], branches: Branches[Any], outcomes: list[tuple[bool, Any]]) -> Any:
    values = [value for _, value in outcomes]
    return dict(zip(names, values, strict=True)) if isinstance(branches, Mapping) else values


def run_parallel(
    s: Session,
    manager: Any,
    parent_id: str | None,
    branches: Branches[T],
    merge: MergePolicy | str | None,
    max_workers: int | None,
    prefix: str = "",
) -> Any:
    """Run ``branches`` on threads, each on its own parallel context under ``parent_id``; the
    handles report ``manager`` as theirs."""
    names, funcs, handles, policy = _plan(s, manager, parent_id, branches, merge, max_workers, prefix)
    if not funcs:
        return _results(names, branches, [])

    def run(fn: Callable[[Branch], T], handle: Branch) -> tuple[bool, Any]:
        token = _CURRENT.set(handle)
        try:
            return True, fn(handle)
        except BaseException as exc:
            edits.fail(s, handle.id, exc, switch=False)
            return False, exc
        finally:
            _CURRENT.reset(token)

    with ThreadPoolExecutor(max_workers=max_workers or len(funcs), thread_name_prefix="ctxlog-branch") as pool:
        futures = [
            pool.submit(contextvars.copy_context().run, run, fn, h) for fn, h in zip(funcs, handles, strict=True)
        ]
        outcomes = [f.result() for f in futures]
    _finish(s, handles, outcomes, policy)
    return _results(names, branches, outcomes)


async def run_aparallel(
    s: Session,
    manager: Any,
    parent_id: str | None,
    branches: Branches[Awaitable[T]],
    merge: MergePolicy | str | None,
    max_workers: int | None,
    prefix: str = "",
) -> Any:
    """Run coroutine ``branches`` as tasks, each on its own parallel context under ``parent_id``."""
    plan = await asyncio.to_thread(_plan, s, manager, parent_id, branches, merge, max_workers, prefix)
    names, funcs, handles, policy = plan
    gate = asyncio.Semaphore(max_workers or max(len(funcs), 1))

    async def run(fn: Callable[[Branch], Awaitable[T]], handle: Branch) -> tuple[bool, Any]:
        _CURRENT.set(handle)
        try:
            async with gate:
                return True, await fn(handle)
        except BaseException as exc:
            await asyncio.to_thread(edits.fail, s, handle.id, exc, switch=False)
            return False, exc

    tasks = [asyncio.ensure_future(run(fn, h)) for fn, h in zip(funcs, handles, strict=True)]
    try:
        outcomes = list(await asyncio.gather(*tasks))
    except asyncio.CancelledError:
        settled = await asyncio.gather(*tasks, return_exceptions=True)
        outcomes = [o if isinstance(o, tuple) else (False, o) for o in settled]
        with contextlib.suppress(BaseExceptionGroup):
            _finish(s, handles, outcomes, policy)
        raise
    await asyncio.to_thread(_finish, s, handles, outcomes, policy)
    return _results(names, branches, outcomes)

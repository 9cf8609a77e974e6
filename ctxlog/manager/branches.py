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
import contextvars
from collections.abc import Awaitable, Callable, Mapping, Sequence
from typing import Any, TypeVar

from ..errors import ContextStateError
from ..projections import IsolationLevel, MergePolicy
from . import edits
from .arguments import id_arg, isolation_arg, merge_arg
from .session import Session
from .steps import Step

__all__ = ["Branch", "Branches", "current", "enter_branch", "leave_branch", "running_branch"]

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
    ``aparallel`` (``Branch(session, manager, context_id, runners)``, ``runners`` the functions
    that run nested groups), not by callers.
    """

    __slots__ = ("_session", "manager", "id", "name", "_stack", "_runners")

    def __init__(
        self, session: Session, manager: Any, context_id: str, runners: tuple[Any, Any] = (None, None)
    ) -> None:
        self._session = session
        self._runners = runners  # the group runners (thread, task) for nested parallel groups
        self.manager = manager
        self.id = context_id
        self.name = session.tree.contexts[context_id].name
        """The branch's name (its id is ``name``, or ``name-2`` … on a retry): what scopes its steps."""
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

        ``name`` is scoped by the branch's name (``<branch name>.<name>``, the same on a retry);
        ``isolation`` is how the step reads its parents; ``merge`` merges it back into the enclosing
        context when it ends well.
        The manager's current context is not touched.
        """
        level, policy, scoped = isolation_arg(isolation), merge_arg(merge), f"{self.name}.{id_arg(name, 'name')}"
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
        *,
        fail_fast: bool = False,
        timeout: float | None = None,
    ) -> list[T] | dict[str, T]:
        """Nested parallel branches under this handle's context, merged back into it (see
        ``ContextManager.parallel`` for ``branches``, ``merge``, ``max_workers``, ``fail_fast`` and
        ``timeout``)."""
        run = self._runners[0]
        args = (self._session, self.manager, self._stack[-1], branches, merge, max_workers, f"{self.name}.")
        return run(*args, fail_fast=fail_fast, timeout=timeout)  # type: ignore[no-any-return]

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
        *,
        fail_fast: bool = False,
        timeout: float | None = None,
    ) -> list[T] | dict[str, T]:
        """Nested coroutine branches under this handle's context (as ``parallel``: ``branches``,
        ``merge``, ``max_workers``, ``fail_fast``, ``timeout``)."""
        run = self._runners[1]
        args = (self._session, self.manager, self._stack[-1], branches, merge, max_workers, f"{self.name}.")
        return await run(*args, fail_fast=fail_fast, timeout=timeout)  # type: ignore[no-any-return]

    def __repr__(self) -> str:
        return f"Branch(id={self.id!r}, current_id={self.current_id!r})"


Branches = Sequence[Callable[[Branch], T]] | Mapping[str, Callable[[Branch], T]]
"""A list of callables (each named after its function) or a dict of them by branch name."""


def running_branch() -> Branch | None:
    """The branch handle of the code running now, or None outside every branch."""
    return _CURRENT.get()


def enter_branch(handle: Branch) -> contextvars.Token[Branch | None]:
    """Make ``handle`` the branch of the code running now (undo with :func:`leave_branch`)."""
    return _CURRENT.set(handle)


def leave_branch(token: contextvars.Token[Branch | None]) -> None:
    """Undo :func:`enter_branch`."""
    _CURRENT.reset(token)

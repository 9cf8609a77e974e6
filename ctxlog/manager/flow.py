"""The structured side of ``ContextManager``: steps, parallel groups, transactions, and a run's
life across processes (open steps, interrupting them, attempts, forks).

Kept apart from the tree operations of ``manager.py``; ``ContextManager`` inherits these methods.
Every method that acts on the current context refuses to run from inside one of the manager's own
branches, whose code must go through its ``Branch`` handle.
"""

from __future__ import annotations

import contextlib
from collections.abc import Awaitable, Iterator
from typing import Any, TypeVar

from ..errors import ContextStateError
from ..projections import ExecutionContext, IsolationLevel, MergePolicy
from . import edits, lifecycle
from .arguments import id_arg, isolation_arg, merge_arg, name_arg, run_arg
from .branches import Branches, running_branch
from .forks import ForkInfo, start_fork
from .groups import run_aparallel, run_parallel
from .session import Session
from .steps import Step
from .timeline import current_timeline

__all__ = ["Flow"]

T = TypeVar("T")


class Flow:
    """Steps, branches, transactions and the run's lifecycle (mixed into ``ContextManager``)."""

    _session: Session
    _interrupted: list[str]

    def _s(self) -> Session:
        """The session, unless the caller is one of this manager's branches (ContextStateError)."""
        branch = running_branch()
        if branch is not None and branch.manager is self:
            raise ContextStateError(
                f"this manager's own operations cannot run inside its branch {branch.id!r} while parallel() "
                "runs (they act on the manager's current context); use the Branch handle the branch was given"
            )
        return self._session

    def step(
        self,
        name: str,
        isolation: IsolationLevel | str = IsolationLevel.INHERIT,
        merge: MergePolicy | str | None = None,
        *,
        keys: list[str] | None = None,
    ) -> Step:
        """A step for a ``with`` (or ``async with``) body; the block gets the step's context id.

        ``name`` and ``isolation`` are as for ``enter_step``; ``merge`` (a MergePolicy, or None for
        no merge) merges the step into its parent when the body ends well, only ``keys`` of it when
        given. When the body raises, the step is recorded ``failed``, exited without merge, and the
        exception propagates.
        """
        s = self._s()
        name, level, policy = id_arg(name, "name"), isolation_arg(isolation), merge_arg(merge)
        chosen = edits.keys_arg(keys)
        return Step(
            lambda: edits.open_child(self._s(), None, name, level),
            lambda cid, exc: edits.fail(s, cid, exc),
            lambda cid: edits.leave(s, cid, policy, keys=chosen),
        )

    def astep(
        self,
        name: str,
        isolation: IsolationLevel | str = IsolationLevel.INHERIT,
        merge: MergePolicy | str | None = None,
        *,
        keys: list[str] | None = None,
    ) -> Step:
        """:meth:`step` (same ``name``, ``isolation``, ``merge`` and ``keys``) for ``async with``:
        entering and leaving are written off the event loop."""
        return self.step(name, isolation, merge, keys=keys)

    def parallel(
        self,
        branches: Branches[T],
        merge: MergePolicy | str | None = MergePolicy.KEEP_EXISTING,
        max_workers: int | None = None,
        *,
        fail_fast: bool = False,
        timeout: float | None = None,
    ) -> list[T] | dict[str, T]:
        """Run callables at the same time, each given a Branch handle on its own parallel context.

        ``branches`` is a list of callables (each named after its function) or a dict of them by
        name; at most ``max_workers`` run at once (all when None). Each branch's end is durable on
        its own (``exited`` or ``failed`` in its own commit); the branches that returned are then
        merged into the current context by ``merge`` in branch order, in one commit. Failed
        branches are raised together in an ExceptionGroup. ``fail_fast`` stops the other branches
        at the first failure (those not started never run; a running one's context is closed, so
        its next write raises); ``timeout`` (seconds) fails a branch still running by then.

        Calling ``parallel`` again with the same branch names after some of them failed (or a
        crash interrupted them, or came after they all ended but before the merge) retries the
        group: a branch that finished is not run again (its result is None) and none is merged
        twice. Results come back in branch order (a dict for a dict of branches).
        """
        return run_parallel(  # type: ignore[no-any-return]
            self._s(), self, None, branches, merge, max_workers, fail_fast=fail_fast, timeout=timeout
        )

    async def aparallel(
        self,
        branches: Branches[Awaitable[T]],
        merge: MergePolicy | str | None = MergePolicy.KEEP_EXISTING,
        max_workers: int | None = None,
        *,
        fail_fast: bool = False,
        timeout: float | None = None,
    ) -> list[T] | dict[str, T]:
        """:meth:`parallel` (same ``branches``, ``merge``, ``max_workers``, ``fail_fast``,
        ``timeout``) for coroutine functions, run as tasks; ledger writes stay off the event loop."""
        return await run_aparallel(  # type: ignore[no-any-return]
            self._s(), self, None, branches, merge, max_workers, fail_fast=fail_fast, timeout=timeout
        )

    @contextlib.contextmanager
    def transaction(self) -> Iterator[Any]:
        """Operations inside commit as one transaction: all or none, log and live tree together."""
        with self._s().transaction():
            yield self

    # -- the run's life across processes ---------------------------------------------------------

    @property
    def open_steps(self) -> list[str]:
        """Ids of the steps and branches open now (active contexts but the root), outermost first."""
        with self._session.lock:
            return lifecycle.open_steps(self._session.tree)

    @property
    def interrupted(self) -> list[str]:
        """The steps the last writer left open that opening this manager recorded ``Interrupted``."""
        return list(self._interrupted)

    def interrupt(self, message: str = "interrupted: the step's process ended before it did") -> list[str]:
        """Record every open step ``failed`` with the error type ``Interrupted`` and ``message``
        (children first, in one commit); current returns to the root. Returns their ids."""
        return lifecycle.interrupt(self._s(), name_arg(message, "message"))

    def attempts(self, name: str) -> int:
        """How many times the run opened a step or branch ``name`` (its ids ``name``, ``name-2`` …),
        those a restore took away included: a retry budget that survives restores."""
        with self._session.lock:
            return lifecycle.attempts(self._session.tree, id_arg(name, "name"))

    def fork_from(self, source_run: str | None, at: str | int | None = None) -> ForkInfo:
        """Start this manager's run, which must have no events yet, as a fork of ``source_run`` at
        checkpoint or offset ``at`` (its head when None): one ``forked`` event recording the source
        run, offset and hash; the tree becomes the source's there, its checkpoints carried.
        ``source_run`` None is the ledger's only run."""
        return start_fork(self._s(), None if source_run is None else run_arg(source_run), at)

    @property
    def timeline(self) -> list[str]:
        """The checkpoints on the run's current timeline, oldest first: those a restore went back
        past are left out (they stay restorable). Reads the run's log once."""
        with self._session.lock:
            return current_timeline(self._session.ledger, self._session.run)

    def context(self, context_id: str | None = None) -> ExecutionContext:
        """A copy of one context (the current one when None), without copying the tree."""
        with self._session.lock:
            return self._session.tree.context(None if context_id is None else name_arg(context_id, "context_id")).copy()

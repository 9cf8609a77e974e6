"""Parallel groups: open one context per branch, run the branches, merge them back in branch order.

Each branch's end is durable on its own: a branch that returns is ``exited`` in its own commit, one
that raises is ``failed``; the merges come last, in branch order and in one commit, so the merged
result never depends on which branch finished first. A group called again with the same branch
names after some of its branches failed (or were interrupted by a crash), or after a crash between
the branches' ends and the merge, is a retry: the branches that finished are not run again, and
none is merged twice.
"""

from __future__ import annotations

import asyncio
import concurrent.futures
import contextvars
import threading
import time
from collections.abc import Awaitable, Callable, Mapping, Sequence
from typing import Any, TypeVar

from ..errors import BranchCancelledError, ContextStateError, InvalidArgumentError
from ..ledger import Merged
from ..projections import ExecutionContext, IsolationLevel, MergePolicy
from . import edits
from .arguments import id_arg, merge_arg, positive_int_arg
from .branches import Branch, Branches, enter_branch, leave_branch
from .session import Session

__all__ = ["Group", "run_aparallel", "run_parallel"]

T = TypeVar("T")
ISOLATED = IsolationLevel.ISOLATED


def _branch_name(fn: object, index: int) -> str:
    """A branch is named after its function (``worker``, ``worker-2`` …), else ``parallel-<i>``."""
    name = getattr(fn, "__name__", "")
    return name if isinstance(name, str) and name.isidentifier() else f"parallel-{index}"


def _named(branches: Branches[Any]) -> tuple[list[str], list[Callable[[Branch], Any]]]:
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
    return names, funcs


def _unmerged(s: Session, parent: ExecutionContext, done: list[ExecutionContext]) -> set[str]:
    """Which of the exited branches ``done`` were never merged into ``parent``: read from the log
    since the first of them was opened (only on a retry, so only the group's own events)."""
    by_offset = {c.created_offset: c.id for c in done}
    ids = set(by_offset.values())
    for r in s.ledger.records(s.run, after=min(by_offset, default=0)) if done else ():
        if r.kind == "merged" and r.context == parent.id and r.cause in by_offset:
            ids.discard(by_offset[r.cause])
    return ids


class Group:
    """One call of ``parallel``: which branches run, which are already done, and the merge at the end."""

    def __init__(
        self, s: Session, manager: Any, parent_id: str | None, branches: Branches[Any], prefix: str, merging: bool
    ) -> None:
        self.s, self.kind = s, dict if isinstance(branches, Mapping) else list
        names, funcs = _named(branches)
        with s.lock:
            if s.ledger.in_transaction:
                raise ContextStateError("parallel() cannot run inside transaction(): branches write from other threads")
            with s.operation():  # the root (when the run has none) and the branches' contexts: one commit
                parent = edits.target(s, parent_id)
                self.parent_id = parent.id
                done, pending = self._retried(parent, [prefix + n for n in names], merging)
                self.pending = {
                    n: done[prefix + n].id for n in names if prefix + n in done and done[prefix + n].id in pending
                }
                self.positions = [i for i, n in enumerate(names) if prefix + n not in done]
                self.funcs = [funcs[i] for i in self.positions]
                ids = [
                    edits.open_child(s, parent.id, prefix + names[i], ISOLATED, parallel=True, switch=False)
                    for i in self.positions
                ]
            self.handles = [Branch(s, manager, cid, (run_parallel, run_aparallel)) for cid in ids]
        self.all_names = names
        self.outcomes: dict[str, tuple[bool, Any]] = {}

    def _retried(
        self, parent: ExecutionContext, names: list[str], merging: bool
    ) -> tuple[dict[str, ExecutionContext], set[str]]:
        """The branches already done when this call retries the parent's last group of these names
        (some of whose latest branches failed, or, for a merging call, all of which exited but not
        all were merged: a crash between the branches' ends and the merge), and the ids of those
        never merged; nothing for a new group."""
        latest: dict[str, ExecutionContext] = {}
        if len(set(names)) != len(names):  # a list of one function several times: no retry by name
            return {}, set()
        for cid in parent.children:
            child = self.s.tree.contexts[cid]
            if child.is_parallel and child.name in names:
                latest[child.name] = child
        done = {name: c for name, c in latest.items() if c.status == "exited"}
        if len(latest) != len(names):
            return {}, set()
        unmerged = _unmerged(self.s, parent, list(done.values()))
        if any(c.status == "failed" for c in latest.values()):
            return done, unmerged
        ended = merging and len(done) == len(names)
        return (done, unmerged) if ended and unmerged else ({}, set())

    def finished(self, handle: Branch, ok: bool, value: Any) -> None:
        """Record a branch's end durably: exited when it returned, failed when it raised."""
        self.outcomes[handle.id] = (ok, value)
        if ok:
            with self.s.lock:
                ctx = self.s.tree.contexts.get(handle.id)
                if ctx is not None and ctx.status == "active":
                    edits.close(self.s, ctx, None, switch=False)
        else:
            edits.fail(self.s, handle.id, value, switch=False)

    def stop(self, handle: Branch, error: BaseException) -> None:
        """End a branch from outside (a timeout, or a sibling's failure under ``fail_fast``)."""
        if handle.id not in self.outcomes:
            self.outcomes[handle.id] = (False, error)
            edits.fail(self.s, handle.id, error, switch=False)

    def merge(self, policy: MergePolicy | None) -> None:
        """Merge the branches that returned (and a retried group's unmerged ones) in branch order,
        in one commit; then raise the failures together."""
        s, failures = self.s, []
        ran = dict(zip(self.positions, self.handles, strict=True))
        with s.operation():
            for position, name in enumerate(self.all_names) if policy is not None else ():
                handle = ran.get(position)
                ok = handle is not None and self.outcomes.get(handle.id, (False,))[0]
                cid = self.pending.get(name) if handle is None else (handle.id if ok else None)
                if cid is None:
                    continue
                ctx = s.tree.contexts.get(cid)
                if ctx is None or ctx.status != "exited":
                    failures.append(ContextStateError(f"branch {cid!r} is gone from the tree (restored away?)"))
                    continue
                s.append(Merged(child=cid, policy=policy.value), self.parent_id, ctx.created_offset)  # type: ignore[union-attr]
        failures += [value for ok, value in (self.outcomes.get(h.id, (False, None)) for h in self.handles) if not ok]
        if failures:
            group = ExceptionGroup if all(isinstance(f, Exception) for f in failures) else BaseExceptionGroup
            raise group(f"{len(failures)} of {len(self.handles)} parallel branches failed", failures)

    def results(self) -> Any:
        """Results in branch order; None for a branch a retry did not run again."""
        values: list[Any] = [None] * len(self.all_names)
        for position, handle in zip(self.positions, self.handles, strict=True):
            values[position] = self.outcomes.get(handle.id, (True, None))[1]
        return dict(zip(self.all_names, values, strict=True)) if self.kind is dict else values


def _group_args(merge: MergePolicy | str | None, max_workers: int | None, timeout: float | None) -> MergePolicy | None:
    """The merge policy, once ``max_workers`` and ``timeout`` are checked (InvalidArgumentError)."""
    positive_int_arg(max_workers, "max_workers", optional=True)
    if timeout is not None and (isinstance(timeout, bool) or not isinstance(timeout, (int, float)) or timeout <= 0):
        raise InvalidArgumentError(f"timeout must be a positive number of seconds, got {timeout!r}")
    return merge_arg(merge)


def _deadline_error(handle: Branch, timeout: float) -> TimeoutError:
    return TimeoutError(f"branch {handle.id!r} ran past its timeout of {timeout} s")


def run_parallel(
    s: Session,
    manager: Any,
    parent_id: str | None,
    branches: Branches[T],
    merge: MergePolicy | str | None,
    max_workers: int | None,
    prefix: str = "",
    *,
    fail_fast: bool = False,
    timeout: float | None = None,
) -> Any:
    """Run ``branches`` on threads, each on its own parallel context under ``parent_id``."""
    policy = _group_args(merge, max_workers, timeout)
    group = Group(s, manager, parent_id, branches, prefix, policy is not None)
    failed = threading.Event()

    def run(fn: Callable[[Branch], T], handle: Branch) -> None:
        if fail_fast and failed.is_set():
            return group.stop(handle, BranchCancelledError(f"branch {handle.id!r} not run: a sibling failed first"))
        token = enter_branch(handle)
        try:
            value, ok = fn(handle), True
        except BaseException as exc:
            value, ok = exc, False
            failed.set()
        finally:
            leave_branch(token)
        if handle.id not in group.outcomes:
            group.finished(handle, ok, value)

    pool = concurrent.futures.ThreadPoolExecutor(max_workers or max(len(group.funcs), 1), "ctxlog-branch")
    futures = {
        pool.submit(contextvars.copy_context().run, run, fn, h): h
        for fn, h in zip(group.funcs, group.handles, strict=True)
    }
    _wait(group, futures, failed if fail_fast else None, timeout)
    pool.shutdown(wait=not (fail_fast or timeout), cancel_futures=True)
    group.merge(policy)
    return group.results()


def _wait(group: Group, futures: dict, failed: threading.Event | None, timeout: float | None) -> None:
    """Wait for the branches; stop those past ``timeout`` and, once one failed, the rest (``failed``)."""
    deadline = None if timeout is None else time.monotonic() + timeout
    pending = set(futures)
    while pending:
        left = None if deadline is None else max(deadline - time.monotonic(), 0)
        step = 0.05 if failed is not None else left
        _, pending = concurrent.futures.wait(pending, timeout=step, return_when="FIRST_COMPLETED")
        if failed is not None and failed.is_set():
            for f in pending:
                group.stop(futures[f], BranchCancelledError(f"branch {futures[f].id!r} cancelled: a sibling failed"))
            return
        if deadline is not None and time.monotonic() >= deadline:
            for f in pending:
                group.stop(futures[f], _deadline_error(futures[f], timeout))  # type: ignore[arg-type]
            return


async def run_aparallel(
    s: Session,
    manager: Any,
    parent_id: str | None,
    branches: Branches[Awaitable[T]],
    merge: MergePolicy | str | None,
    max_workers: int | None,
    prefix: str = "",
    *,
    fail_fast: bool = False,
    timeout: float | None = None,
) -> Any:
    """Run coroutine ``branches`` as tasks, each on its own parallel context under ``parent_id``."""
    policy = _group_args(merge, max_workers, timeout)
    group = await asyncio.to_thread(Group, s, manager, parent_id, branches, prefix, policy is not None)
    gate = asyncio.Semaphore(max_workers or max(len(group.funcs), 1))

    async def run(fn: Callable[[Branch], Awaitable[T]], handle: Branch) -> None:
        enter_branch(handle)
        try:
            async with gate:
                value, ok = await asyncio.wait_for(fn(handle), timeout), True
        except TimeoutError:
            value, ok = _deadline_error(handle, timeout), False  # type: ignore[arg-type]
        except BaseException as exc:
            value, ok = exc, False
        await asyncio.to_thread(group.finished, handle, ok, value)
        if not ok and fail_fast:
            for other in tasks:
                other.cancel()

    tasks = [asyncio.ensure_future(run(fn, h)) for fn, h in zip(group.funcs, group.handles, strict=True)]
    settled = await asyncio.gather(*tasks, return_exceptions=True)
    for handle, outcome in zip(group.handles, settled, strict=True):
        if isinstance(outcome, BaseException) and handle.id not in group.outcomes:
            await asyncio.to_thread(group.stop, handle, BranchCancelledError(f"branch {handle.id!r} cancelled"))
    await asyncio.to_thread(group.merge, policy)
    return group.results()

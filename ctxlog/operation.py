"""The context of one operation of a ContextManager: lock, transaction, auto-checkpoint, undo."""

from __future__ import annotations

from typing import TYPE_CHECKING

from .replay import load_tree

if TYPE_CHECKING:
    from .manager import ContextManager


class Operation:
    """The context of one operation of a ContextManager.

    It holds the manager's lock and, unless the caller's ``transaction()`` is open, a write
    transaction of its own. Operations that call others run inside the outermost one, and only it
    takes the automatic checkpoint and, when the operation fails after appending, puts the live
    tree back (from the log) or marks the caller's transaction as failed.
    """

    __slots__ = ("_mgr", "_outer", "_own", "_seq", "_mark")

    def __init__(self, mgr: ContextManager) -> None:
        self._mgr = mgr

    def __enter__(self) -> None:
        mgr = self._mgr
        mgr._lock.acquire()
        self._outer = not mgr._in_op
        if not self._outer:
            return
        try:
            mgr._check_open()
            self._seq = mgr._tree.seq
            self._own = not mgr._ledger.in_transaction
            if self._own:
                mgr._ledger.begin()
            else:
                self._mark = mgr._ledger.mark()
        except BaseException:
            mgr._lock.release()
            raise
        mgr._in_op = True

    def __exit__(self, exc_type: type | None, exc: BaseException | None, tb: object) -> None:
        mgr = self._mgr
        try:
            if not self._outer:
                return
            try:
                if exc_type is None:
                    mgr._after_operation(self._seq)
                    if self._own:
                        mgr._ledger.commit()
                    return
            except BaseException:
                self._undo()
                raise
            self._undo()
        finally:
            if self._outer:
                mgr._in_op = False
            mgr._lock.release()

    def _undo(self) -> None:
        """Take back what a failed operation appended, in the log and in the live tree.

        Inside the caller's transaction the operation's rows are dropped from the ledger's buffer;
        only when they already reached the store is the whole transaction marked as failed.
        """
        mgr = self._mgr
        if self._own and mgr._ledger.in_transaction:
            mgr._ledger.rollback()
        if mgr._tree.seq == self._seq:
            return
        if self._own or mgr._ledger.undo(self._mark):
            mgr._tree = load_tree(mgr._ledger, mgr._run)
        else:
            mgr._poisoned = True

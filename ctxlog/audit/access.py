"""How every read function opens a ledger, and what its ``verify`` option checks first.

A read function opens the ledger read-only, with the ledger ``key`` when one is given (a keyed
ledger read without it folds from the log: its snapshots cannot be checked). With ``verify``, a
function about one run first folds that run with every row linked to its predecessor (the cost of
the run), and a function about the whole ledger first runs ``verify``; either raises
IntegrityError, naming the first bad offset, instead of answering from a ledger that does not
verify.
"""

from __future__ import annotations

from ..errors import IntegrityError
from ..ledger import Ledger, redacted
from ..manager import load_tree
from ..projections import ContextTree
from .verification import verify

__all__ = ["opened", "verified_run", "verified_whole"]


def opened(path: str, key: bytes | str | None = None) -> Ledger:
    """The ledger at ``path``, opened read-only (never created)."""
    return Ledger.open(str(path), readonly=True, create=False, key=key)


def verified_run(ledger: Ledger, run: str) -> ContextTree:
    """Fold ``run`` with every row checked against its predecessor; IntegrityError at the first bad one."""
    return load_tree(ledger, run, verify=True)


def verified_whole(path: str, key: bytes | str | None) -> None:
    """Verify the whole ledger at ``path``; IntegrityError when it does not verify."""
    result = verify(path, key=key)
    if not result.ok:
        raise IntegrityError(f"{redacted(str(path))}: {result.summary()}", result.bad_offset, result.reason)

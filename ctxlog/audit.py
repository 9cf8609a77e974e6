"""Questions an auditor asks of a ledger file, each one function (the CLI is a thin layer over them)."""

from __future__ import annotations

from collections.abc import Callable

from .errors import KeyMismatchError
from .ledger.log import Ledger
from .ledger.store import RunInfo
from .ledger.verify import VerifyResult, verify_records


def runs(path: str) -> list[RunInfo]:
    """Every run in the ledger at ``path``: event count, first/last offset and time, checkpoints."""
    with Ledger.open(path, readonly=True, create=False) as ledger:
        return ledger.runs()


def verify(
    path: str, *, key: bytes | str | None = None, head: tuple[int, str] | None = None,
    progress: Callable[[int], None] | None = None,
) -> VerifyResult:
    """Recompute the whole chain of the ledger at ``path``; ``head`` is an exported ``(offset, hash)``.

    A keyed ledger needs its key: without it a KeyMismatchError says so.
    """
    with Ledger.open(path, readonly=True, create=False, key=key) as ledger:
        if ledger.keyed and key is None:
            raise KeyMismatchError(f"{path}: the ledger is keyed (HMAC-SHA256); give its key to verify it")
        return verify_records(ledger.records(), ledger.chain, expect_head=head, progress=progress)

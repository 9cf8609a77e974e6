"""Opening a run for writing: whether it must exist, and holding it so that it has one writer."""

from __future__ import annotations

from ..errors import InvalidArgumentError, RunExistsError, UnknownRunError
from ..ledger import Ledger

__all__ = ["claim_run"]


def claim_run(ledger: Ledger, path: str, run: str, *, exists: bool | None, takeover: bool) -> None:
    """Check ``exists`` (True: the run must be there, False: it must not, None: either) and take
    the run's write lock, unless ``takeover`` (then the holder's next write fails instead)."""
    if exists not in (None, True, False):
        raise InvalidArgumentError(f"exists must be True, False or None, got {exists!r}")
    if not isinstance(takeover, bool):
        raise InvalidArgumentError(f"takeover must be True or False, got {takeover!r}")
    if exists is not None and ledger.has_run(run) != exists:
        if exists:
            raise UnknownRunError(
                f"no run {run!r} in {ledger.location} to reopen (exists=True); `ctxlog runs` lists its runs"
            )
        raise RunExistsError(f"run {run!r} already exists in {ledger.location} (exists=False); pick another name")
    if not takeover:
        ledger.lock_run(path, run)

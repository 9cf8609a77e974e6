"""One writer per run: a lock the operating system (SQLite) or the server (PostgreSQL) drops when
its holder dies, so a run is never held by a process that is gone.

SQLite: an exclusive ``flock`` on a file of the ledger's ``<path>.owners/`` folder, one per run,
that holds who took it (host, pid, since). PostgreSQL: a session advisory lock on a connection of
its own, keyed by the ledger id and the run, whose ``application_name`` says who holds it. Both
are released by :meth:`RunLock.release`, by closing, and by the death of the process.
"""

from __future__ import annotations

import contextlib
import hashlib
import os
import socket
import stat
import time
from typing import Any

import msgspec

from ..errors import RunOwnedError, StorageError
from .urls import is_url

__all__ = ["RunLock", "holder_text"]


def _me() -> dict[str, Any]:
    return {
        "host": socket.gethostname(),
        "pid": os.getpid(),
        "since": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()),
    }


def _owned(run: str, holder: dict[str, Any]) -> RunOwnedError:
    return RunOwnedError(
        f"run {run!r} is being written by another manager ({holder_text(holder)}); wait for it to "
        "close, or open with takeover=True (its next write then fails)"
    )


def holder_text(holder: dict[str, Any]) -> str:
    """``host <h>, pid <p>, since <t>`` for a holder's record (what is known of it)."""
    return ", ".join(f"{k} {holder[k]}" for k in ("host", "pid", "since") if holder.get(k) is not None) or "unknown"


class RunLock:
    """The write lock of one run, held until :meth:`release` (or the holder's death)."""

    def __init__(self, release: Any) -> None:
        self._release = release

    @classmethod
    def take(cls, path: str, ledger_id: str, run: str) -> RunLock | None:
        """Take the lock of ``run``, or raise RunOwnedError naming its holder; None for ``:memory:``."""
        if path == ":memory:":
            return None
        key = hashlib.sha256(f"{ledger_id}\n{run}".encode()).digest()
        if is_url(path):
            return cls._take_postgres(path, key, run)
        return cls._take_file(path, key, run)

    @classmethod
    def _take_file(cls, path: str, key: bytes, run: str) -> RunLock:
        import fcntl

        folder = f"{path}.owners"
        try:
            os.makedirs(folder, exist_ok=True)
            flags = os.O_RDWR | os.O_CREAT | os.O_NOFOLLOW | getattr(os, "O_CLOEXEC", 0) | getattr(os, "O_NONBLOCK", 0)
            fd = os.open(os.path.join(folder, key.hex()[:32]), flags, 0o644)
        except OSError as exc:
            raise StorageError(f"{folder}: cannot keep the run's write lock there ({exc.strerror})") from exc
        status = os.fstat(fd)
        if not stat.S_ISREG(status.st_mode) or status.st_nlink != 1:  # never truncate a file it links to
            os.close(fd)
            raise StorageError(f"{folder}: a run's lock file there is not a plain file of its own; remove it")
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            holder = _read(fd)
            os.close(fd)
            raise _owned(run, holder) from None
        os.ftruncate(fd, 0)
        os.pwrite(fd, msgspec.json.encode(_me()), 0)
        return cls(lambda: os.close(fd))

    @classmethod
    def _take_postgres(cls, url: str, key: bytes, run: str) -> RunLock:
        import psycopg

        lock = int.from_bytes(key[:8], "big", signed=True)
        me = _me()
        name = f"ctxlog {me['host']} {me['pid']} {me['since']}"[:63]
        try:
            conn = psycopg.connect(url, autocommit=True, application_name=name)
            (got,) = conn.execute("SELECT pg_try_advisory_lock(%s)", (lock,)).fetchone()  # type: ignore[misc]
            if not got:
                row = conn.execute(_HOLDER, ((lock >> 32) & 0xFFFFFFFF, lock & 0xFFFFFFFF)).fetchone()
                conn.close()
                holder = _parsed(row[0]) if row else {}
                raise _owned(run, holder)
        except psycopg.Error as exc:
            raise StorageError(f"cannot take the run's write lock: {exc}") from exc
        return cls(conn.close)

    def release(self) -> None:
        """Let the run go (a second call does nothing)."""
        release, self._release = self._release, None
        if release is not None:
            with contextlib.suppress(OSError, Exception):
                release()


_HOLDER = (
    "SELECT a.application_name FROM pg_locks l JOIN pg_stat_activity a ON a.pid = l.pid "
    "WHERE l.locktype = 'advisory' AND l.granted AND l.classid = %s::bigint::oid AND l.objid = %s::bigint::oid "
    "AND l.objsubid = 1"
)


def _parsed(application_name: str) -> dict[str, Any]:
    parts = (application_name or "").split(" ")
    return dict(zip(("host", "pid", "since"), parts[1:], strict=False)) if parts[0] == "ctxlog" else {}


def _read(fd: int) -> dict[str, Any]:
    try:
        data = os.pread(fd, 4096, 0)
        holder = msgspec.json.decode(data) if data else {}
        return holder if isinstance(holder, dict) else {}
    except (OSError, msgspec.DecodeError):
        return {}

"""A writer process for the crash and concurrency tests: appends and reports what committed.

Usage: python -m ctxlog.testing.writer LEDGER RUN COUNT [--retry]
Prints ``committed <i>`` after each ``set("k<i % 7>", {"i": i, ...})`` returned (it is then durable).
With ``--retry`` a ConcurrencyError reloads the run and tries the same operation again, and the
writer opens the run with ``takeover=True``: two such writers share one run, each refused a write
whenever the other appended first.
:func:`start_writer` starts one; :func:`kill_after_acknowledged` kills one with SIGKILL midway.
"""

from __future__ import annotations

import os
import random
import signal
import subprocess
import sys
import time

from ..errors import ConcurrencyError
from ..manager import ContextManager

__all__ = ["kill_after_acknowledged", "main", "start_writer"]


def start_writer(path: str, run: str, count: int = -1, *extra: str) -> subprocess.Popen[str]:
    """A writer process appending ``count`` values to ``run`` (forever when -1); ``extra``: ``--retry``."""
    return subprocess.Popen(
        [sys.executable, "-m", "ctxlog.testing.writer", path, run, str(count), *extra],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )


def kill_after_acknowledged(path: str, run: str, rng: random.Random) -> int:
    """Start a writer, wait for a random number of acknowledgements, SIGKILL it; return the last one."""
    proc = start_writer(path, run)
    assert proc.stdout is not None
    wanted, last = rng.randint(1, 40), -1
    deadline = time.monotonic() + 60
    for line in proc.stdout:
        last = int(line.split()[1])
        if last + 1 >= wanted or time.monotonic() > deadline:
            break
    time.sleep(rng.random() * 0.02)
    os.kill(proc.pid, signal.SIGKILL)
    proc.communicate()
    return last


def main(path: str, run: str, count: int, retry: bool) -> int:
    """Append to ``run`` of the ledger at ``path``, printing each acknowledged value; 0 when done."""
    conflicts = 0
    with ContextManager(path, run=run, takeover=retry) as mgr:
        i = 0
        while count < 0 or i < count:
            try:
                mgr.set(f"k{i % 7}", {"writer": run, "i": i, "pad": "x" * 150})
            except ConcurrencyError:
                if not retry:
                    raise
                conflicts += 1
                mgr.reload()
                continue
            print(f"committed {i}", flush=True)
            i += 1
    print(f"conflicts {conflicts}", flush=True)
    return 0


if __name__ == "__main__":
    args = sys.argv[1:]
    sys.exit(main(args[0], args[1], int(args[2]), "--retry" in args))

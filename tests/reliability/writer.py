"""A writer process for the crash and concurrency tests: appends and reports what committed.

Usage: python -m tests.reliability.writer LEDGER RUN COUNT [--retry]
Prints ``committed <i>`` after each ``set("k<i % 7>", {"i": i, ...})`` returned (it is then durable).
With ``--retry`` a ConcurrencyError reloads the run and tries the same operation again.
"""

from __future__ import annotations

import sys

from ctxlog import ConcurrencyError, ContextManager


def main(path: str, run: str, count: int, retry: bool) -> int:
    conflicts = 0
    with ContextManager(path, run=run) as mgr:
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

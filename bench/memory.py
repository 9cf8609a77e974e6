"""Peak memory of one replay, in a fresh interpreter so that cases never pollute each other.

Run as a script it replays one ledger and prints one JSON line: the peak RSS after importing
ctxlog and after the replay, the replay time, and the size of the tree it produced (so two runs can
be shown to end with the same tree). :func:`measure` runs it in a subprocess.

The peak is ``VmHWM`` of ``/proc/self/status`` (KiB). ``resource.getrusage(RUSAGE_SELF).ru_maxrss``
is reported too, but on Linux it is not reset by ``execve``: a child started by a parent that has
grown large (the benchmark, after generating a million events) reports the parent's peak. ``VmHWM``
belongs to the new process image only. Where ``/proc`` is missing, ``ru_maxrss`` is all there is.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from typing import Any


def measure(
    path: str, run: str, *, verify: bool = True, until: str | None = None, timeout: float = 600
) -> dict[str, Any]:
    """Replay ``run`` of ``path`` in a fresh ``python`` and return what it reports."""
    cmd = [sys.executable, os.path.abspath(__file__), path, run]
    if verify:
        cmd.append("--verify")
    if until is not None:
        cmd += ["--until", until]
    out = subprocess.run(cmd, capture_output=True, text=True, timeout=timeout, check=False)
    if out.returncode != 0:
        raise RuntimeError(f"memory probe failed ({out.returncode}): {out.stderr.strip()[-2000:]}")
    return json.loads(out.stdout.strip().splitlines()[-1])


def _peak_kib() -> int:
    """Peak resident set size of this process image, KiB."""
    try:
        with open("/proc/self/status", encoding="ascii") as f:
            for line in f:
                if line.startswith("VmHWM:"):
                    return int(line.split()[1])
    except OSError:
        pass
    import resource

    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss


def _main(argv: list[str]) -> None:
    import resource
    import time

    import ctxlog

    path, run = argv[0], argv[1]
    verify = "--verify" in argv
    until = argv[argv.index("--until") + 1] if "--until" in argv else None
    before = _peak_kib()
    t0 = time.perf_counter()
    tree = ctxlog.replay(path, run=run, until=until, verify=verify)
    seconds = time.perf_counter() - t0
    after = _peak_kib()
    print(
        json.dumps(
            {
                "maxrss_kib": after,
                "maxrss_after_import_kib": before,
                "seconds": seconds,
                "offset": tree.offset,
                "ru_maxrss_kib": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss,
                "contexts": len(tree.contexts),
                "keys": sum(len(c.data) for c in tree.contexts.values()),
                "tree_bytes": len(tree.to_bytes()),
            }
        )
    )


if __name__ == "__main__":
    _main(sys.argv[1:])

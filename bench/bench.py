"""ctxlog against raw sqlite3 and eventsourcing, in one run, on the same workload: ``make bench``.

Every figure is set against a baseline measured in the same run on the same machine, and printed
as a Markdown table with absolute figures, the ratio, which way the ratio reads, the target and
PASS/MISS. Medians of ``--reps`` repetitions (3 by default; ``--quick``: 1 repetition, tiny sizes,
about 30 seconds, what the test suite runs). See docs/performance.md for what each case measures.

    .venv/bin/python bench/bench.py [--quick] [--json FILE] [--workdir DIR] [--keep]
                                    [--only durable,batched,...] [--profile [missed|all|KEY,...]]
"""

from __future__ import annotations

import argparse
import cProfile
import dataclasses
import io
import json
import os
import pstats
import shutil
import sys
import tempfile
import time
import traceback

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

import cases  # noqa: E402
import harness  # noqa: E402
import report  # noqa: E402

# Which ctxlog-side profiles explain a row (``--profile missed``).
PROFILE_FOR = {
    "durable-full": ["durable-full"],
    "durable-normal": ["durable-normal"],
    "batched": ["batched"],
    "replay": ["replay"],
    "until": ["until", "full-replay"],
    "memory": ["full-replay"],
    "peer-append": ["batched"],
    "peer-replay": ["replay"],
    "pg-append-1": ["pg-append"],
    "pg-append-4": ["pg-append"],
    "pg-append-8": ["pg-append"],
    "pg-replay": ["pg-replay"],
}


def parse(argv: list[str]) -> argparse.Namespace:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--quick", action="store_true", help="tiny sizes, 1 repetition (a smoke run of ~30 s)")
    p.add_argument("--json", metavar="FILE", help="also write every figure, repetition and fact to FILE")
    p.add_argument("--workdir", metavar="DIR", help="where to write the ledgers (a temp dir inside it, deleted)")
    p.add_argument("--keep", action="store_true", help="keep the ledgers instead of deleting them")
    p.add_argument("--reps", type=int, help="repetitions per case (default 3; --quick 1)")
    p.add_argument("--only", metavar="CASES", help=f"comma-separated subset of: {', '.join(cases.CASES)}")
    p.add_argument(
        "--profile",
        nargs="?",
        const="missed",
        metavar="WHICH",
        help="cProfile the ctxlog side: 'missed' (the default) for rows that miss their target, 'all', "
        f"or keys among: {', '.join(sorted({k for v in PROFILE_FOR.values() for k in v}))}",
    )
    p.add_argument("--top", type=int, default=20, help="functions per profile listing (default 20)")
    args = p.parse_args(argv)
    if args.only:
        unknown = set(args.only.split(",")) - set(cases.CASES)
        if unknown:
            p.error(f"unknown case(s) {', '.join(sorted(unknown))}; choose among {', '.join(cases.CASES)}")
    if args.reps is not None and args.reps < 1:
        p.error("--reps must be at least 1")
    return args


def profile_text(fn, top: int) -> str:  # type: ignore[no-untyped-def]
    """Top functions of one run of ``fn`` by cumulative and by total (own) time."""
    prof = cProfile.Profile()
    prof.runcall(fn)
    out = io.StringIO()
    for order in ("cumulative", "tottime"):
        out.write(f"-- by {order} time --\n")
        stats = pstats.Stats(prof, stream=out)
        stats.strip_dirs().sort_stats(order).print_stats(top)
    return out.getvalue()


def main(argv: list[str] | None = None) -> int:
    args = parse(sys.argv[1:] if argv is None else argv)
    started = time.perf_counter()
    sizes = harness.QUICK if args.quick else harness.FULL
    if args.reps is not None:
        sizes = dataclasses.replace(sizes, reps=args.reps)
    if args.workdir:
        os.makedirs(args.workdir, exist_ok=True)
    workdir = tempfile.mkdtemp(prefix="ctxlog-bench-", dir=args.workdir)

    def log(message: str) -> None:
        print(message, file=sys.stderr, flush=True)

    bench = harness.Bench(sizes, workdir, log)
    machine = report.machine_info(workdir)
    selected = args.only.split(",") if args.only else list(cases.CASES)
    if "peers" in selected:  # the peer rows compare against these cases' figures
        selected += ["batched", "replay"]
    selected = [name for name in cases.CASES if name in selected]
    failed: list[str] = []
    profiles: dict[str, str] = {}
    try:
        for name in selected:
            t0 = time.perf_counter()
            log(f"[{time.perf_counter() - started:6.1f} s] {name} ...")
            try:
                cases.CASES[name](bench)
            except Exception:  # report the others, fail at the end
                failed.append(name)
                log(traceback.format_exc())
            log(f"[{time.perf_counter() - started:6.1f} s] {name} done in {time.perf_counter() - t0:.1f} s")
        if args.profile:
            wanted: list[str] = []
            if args.profile == "missed":
                for row in bench.rows:
                    if row.status == "MISS":
                        wanted += PROFILE_FOR.get(row.key, [])
            elif args.profile == "all":
                wanted = list(bench.profiles)
            else:
                wanted = args.profile.split(",")
            for key in dict.fromkeys(wanted):
                if key in bench.profiles:
                    log(f"profiling {key} ...")
                    profiles[key] = profile_text(bench.profiles[key], args.top)
    finally:
        for close in bench.closers:
            try:
                close()
            except Exception:  # pragma: no cover - closing is best effort
                pass
        if args.keep:
            log(f"ledgers kept in {workdir}")
        else:
            shutil.rmtree(workdir, ignore_errors=True)
    elapsed = time.perf_counter() - started
    machine["load average at end"] = report.loadavg()

    print("# ctxlog benchmark" + (" (--quick: tiny sizes, 1 repetition; not for comparison)" if args.quick else ""))
    print()
    print(report.render_machine(machine))
    print()
    print(
        f"Medians of at least {sizes.reps} repetition(s) per side (see the notes), each side warmed up once, "
        "sides alternating; ratio = ctxlog / baseline, the median of the per-repetition ratios where both "
        "sides were repeated."
    )
    print()
    print(report.render_table(bench.rows))
    print()
    print(report.render_details(bench.rows))
    print()
    missed = [r for r in bench.rows if r.status == "MISS"]
    print(
        f"Targets: {sum(1 for r in bench.rows if r.status.startswith('PASS'))} PASS, {len(missed)} MISS"
        + (f" ({', '.join(r.key for r in missed)})" if missed else "")
    )
    print(f"Total run time: {elapsed:.1f} s")
    for key, text in profiles.items():
        print(f"\n## Profile of the ctxlog side: {key}\n\n```\n{text.rstrip()}\n```")
    if failed:
        print(f"\nFAILED cases: {', '.join(failed)} (tracebacks on stderr)")
    if args.json:
        with open(args.json, "w", encoding="utf-8") as f:
            json.dump(
                {
                    "machine": machine,
                    "sizes": dataclasses.asdict(sizes),
                    "seconds": elapsed,
                    "rows": [r.as_dict() for r in bench.rows],
                    "facts": bench.facts,
                    "profiles": profiles,
                    "failed": failed,
                },
                f,
                indent=2,
                default=str,
            )
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())

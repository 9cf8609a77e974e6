"""ctxlog against its baselines and peers, in one run, on the same workload: ``make bench``.

Every ratio is set against baselines measured in the same run on the same machine: the same-work
floor (raw sqlite3 running ctxlog's own schema, statements and hashing) and, for context, the
minimal raw table; peers (LangGraph's SqliteSaver, a JSON-blob table, eventsourcing) like for
like. Scaling rows give the cost of one operation at several sizes and how much it grows. Printed
as Markdown: figures, the median of the per-repetition ratios with their min–max, the target and
PASS/MISS. ``--quick``: tiny sizes, 1 repetition, what the test suite runs. See docs/performance.md.

    .venv/bin/python bench/bench.py [--quick] [--json FILE] [--workdir DIR] [--keep] [--reps N]
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
import langgraph_chat  # noqa: E402
import report  # noqa: E402

# Which ctxlog-side profiles explain a row, where the row's own key is not one (``--profile missed``).
PROFILE_FOR = {
    "until": ["until", "full-replay"],
    "head": ["until"],
    "memory": ["full-replay"],
    "replay-cached": ["replay"],
    "peer-replay": ["replay"],
    "peer-durable-langgraph": ["durable-full"],
    "peer-durable-eventsourcing": ["durable-full"],
    "peer-batch": ["batched"],
    "peer-bytes": [],
    "bytes": [],
    "bytes-log": [],
    "pg-append-1": ["pg-append"],
    "pg-append-4": ["pg-append"],
    "pg-append-8": ["pg-append"],
    "pg-replay": ["pg-replay"],
}


def profiles_for(key: str) -> list[str]:
    return PROFILE_FOR.get(key, [key])


def parse(argv: list[str]) -> argparse.Namespace:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--quick", action="store_true", help="tiny sizes, 1 repetition (a smoke run)")
    p.add_argument("--json", metavar="FILE", help="also write every figure, repetition and fact to FILE")
    p.add_argument("--workdir", metavar="DIR", help="where to write the ledgers (a temp dir inside it, deleted)")
    p.add_argument("--keep", action="store_true", help="keep the ledgers instead of deleting them")
    p.add_argument("--reps", type=int, help="repetitions per case (default 5, some take more; --quick 1)")
    p.add_argument("--only", metavar="CASES", help=f"comma-separated subset of: {', '.join(cases.CASES)}")
    p.add_argument(
        "--profile",
        nargs="?",
        const="missed",
        metavar="WHICH",
        help="cProfile the ctxlog side: 'missed' (the default) for rows that miss their target, 'all', "
        "or profile keys (a row's key: durable-full, replay, tree-reopen, length-offset-early, ...)",
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
    if "peers" in selected:  # the eventsourcing replay row compares against the replay case's figure
        selected += ["replay"]
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
                for row in [*bench.rows, *bench.scaling]:
                    if row.status == "MISS":
                        wanted += profiles_for(row.key)
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
        "sides alternating; ratio = ctxlog / baseline, the median of the per-repetition ratios (min–max of "
        "them in brackets) where both sides were repeated; ↑ higher is better, ↓ lower is better."
    )
    print()
    print(report.render_table(bench.rows))
    print()
    if bench.scaling:
        print(report.render_scaling(bench.scaling))
        print()
    print(report.render_details(bench.rows, bench.scaling))
    print()
    judged = [*bench.rows, *bench.scaling]
    missed = [r for r in judged if r.status == "MISS"]
    print(
        f"Targets: {sum(1 for r in judged if r.status.startswith('PASS'))} PASS, {len(missed)} MISS"
        + (f" ({', '.join(r.key for r in missed)})" if missed else "")
    )
    goal = {r.key: r.status for r in bench.rows if r.key in ("peer-load", "peer-bytes")}
    if len(goal) == 2:
        both = "PASS" if all(v == "PASS" for v in goal.values()) else "MISS"
        print(
            f"LangGraph goal (load a step >= 0.5x SqliteSaver.get_tuple while bytes per step <= 0.25x): {both} "
            f"(load {goal['peer-load']}, bytes {goal['peer-bytes']})"
        )
    if langgraph_chat.available():  # the 500-turn chat graph on both LangGraph savers
        print(langgraph_chat.section(args.workdir, turns=50 if args.quick else 500) + "\n")
    if not args.only:  # the viewer's figures (bench/viewer.py): a 1M-event run, or a small one with --quick
        import viewer

        print(viewer.section(**({"events": 20_000, "report_events": 5_000} if args.quick else {})) + "\n")
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
                    "scaling": [r.as_dict() for r in bench.scaling],
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

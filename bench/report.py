"""Rows of the results table, the machine description, and the Markdown rendering."""

from __future__ import annotations

import os
import platform
import sqlite3
import statistics
import sys
from dataclasses import asdict, dataclass, field
from typing import Any


@dataclass
class Row:
    """One line of the table: ctxlog's figure, the baseline's from the same run, and the verdict.

    ``better`` says which way the ratio reads: "higher" (throughput) or "lower" (time, bytes,
    memory). ``target`` is the ratio to reach (None for an information row).
    """

    case: str
    ctxlog: float
    baseline_name: str
    baseline: float
    unit: str
    better: str
    target: float | None = None
    stretch: float | None = None
    ctxlog_reps: list[float] = field(default_factory=list)
    baseline_reps: list[float] = field(default_factory=list)
    note: str = ""
    key: str = ""

    @property
    def ratio(self) -> float:
        """ctxlog / baseline: the median of the per-repetition ratios when both sides were repeated in
        pairs (each pair run back to back, so drifting machine load hits both alike), else the
        ratio of the two figures."""
        if self.ctxlog_reps and len(self.ctxlog_reps) == len(self.baseline_reps):
            return median([c / b for c, b in zip(self.ctxlog_reps, self.baseline_reps, strict=True)])
        return self.ctxlog / self.baseline if self.baseline else float("nan")

    @property
    def status(self) -> str:
        if self.target is None:
            return "info"
        ok = self.ratio >= self.target if self.better == "higher" else self.ratio <= self.target
        if ok and self.stretch is not None:
            stretch_ok = self.ratio >= self.stretch if self.better == "higher" else self.ratio <= self.stretch
            return "PASS (stretch too)" if stretch_ok else "PASS (stretch missed)"
        return "PASS" if ok else "MISS"

    def as_dict(self) -> dict[str, Any]:
        d = asdict(self)
        d.update(ratio=self.ratio, status=self.status)
        return d


def median(values: list[float]) -> float:
    return statistics.median(values)


def fmt(value: float, unit: str) -> str:
    """A figure with its unit, readable at a glance ("—" for a row that measured nothing)."""
    if value != value:  # NaN: a skipped case's row
        return "—"
    if unit == "ops/s" or unit == "events/s":
        return f"{value:,.0f} {unit}"
    if unit == "s":
        return f"{value * 1000:,.1f} ms" if value < 10 else f"{value:,.2f} s"
    if unit == "B/event":
        return f"{value:,.0f} B/event"
    if unit == "KiB":
        return f"{value / 1024:,.1f} MiB"
    return f"{value:,.3g} {unit}"


def spread(values: list[float]) -> str:
    if len(values) < 2:
        return "1 rep"
    m = median(values)
    lo, hi = min(values), max(values)
    return f"{len(values)} reps, {(lo / m - 1) * 100:+.0f}%/{(hi / m - 1) * 100:+.0f}%" if m else f"{len(values)} reps"


def render_table(rows: list[Row]) -> str:
    """The results as a Markdown table."""
    out = [
        "| case | ctxlog | baseline (same run) | ratio ctxlog/baseline | target | result |",
        "|---|---:|---|---:|---|---|",
    ]
    for r in rows:
        arrow = "higher is better" if r.better == "higher" else "lower is better"
        if r.target is None:
            target = "—"
        else:
            sign = "≥" if r.better == "higher" else "≤"
            target = f"{sign} {r.target:g}×" + (f" (stretch {sign} {r.stretch:g}×)" if r.stretch else "")
        out.append(
            f"| {r.case} | {fmt(r.ctxlog, r.unit)} | {r.baseline_name}: {fmt(r.baseline, r.unit)} "
            f"| {'—' if r.ratio != r.ratio else f'{r.ratio:.2f}×'} ({arrow}) | {target} | {r.status} |"
        )
    return "\n".join(out)


def render_details(rows: list[Row]) -> str:
    """Per row: repetitions and notes (how noisy a figure was, what exactly was compared)."""
    out = []
    for r in rows:
        reps = f"ctxlog {spread(r.ctxlog_reps)}; baseline {spread(r.baseline_reps)}" if r.ctxlog_reps else ""
        text = "; ".join(x for x in (reps, r.note) if x)
        out.append(f"- **{r.case}**: {text}" if text else f"- **{r.case}**")
    return "\n".join(out)


def _cpu_model() -> str:
    try:
        with open("/proc/cpuinfo", encoding="utf-8") as f:
            for line in f:
                if line.lower().startswith("model name"):
                    return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or "unknown"


def _loadavg() -> str:
    try:
        return " ".join(f"{x:.2f}" for x in os.getloadavg())
    except OSError:  # pragma: no cover
        return "n/a"


def _ctxlog_revision(package_dir: str) -> str:
    """The git commit of the checkout ctxlog is imported from, and whether ctxlog/ has local changes."""
    import subprocess

    root = os.path.dirname(package_dir)
    try:
        head = subprocess.run(
            ["git", "-C", root, "rev-parse", "--short", "HEAD"], capture_output=True, text=True, timeout=10
        ).stdout.strip()
        dirty = subprocess.run(
            ["git", "-C", root, "status", "--porcelain", "--", "ctxlog"], capture_output=True, text=True, timeout=10
        ).stdout.strip()
    except (OSError, subprocess.SubprocessError):
        return "unknown"
    if not head:
        return "unknown"
    return head + (" + uncommitted changes in ctxlog/" if dirty else "")


def machine_info(workdir: str) -> dict[str, str]:
    """What the figures were measured on."""
    import msgspec
    import peers

    import ctxlog

    mem = ""
    try:
        with open("/proc/meminfo", encoding="utf-8") as f:
            kib = int(f.readline().split()[1])
            mem = f"{kib / 1024 / 1024:.1f} GiB"
    except (OSError, ValueError, IndexError):
        pass
    return {
        "cpu": _cpu_model(),
        "cores": str(os.cpu_count()),
        "memory": mem,
        "os": platform.platform(),
        "python": sys.version.split()[0] + f" ({platform.python_implementation()})",
        "sqlite": sqlite3.sqlite_version,
        "ctxlog": f"{ctxlog.__version__} ({os.path.dirname(ctxlog.__file__)}, git "
        f"{_ctxlog_revision(os.path.dirname(ctxlog.__file__))})",
        "msgspec": msgspec.__version__,
        "eventsourcing": peers.version(),
        "workdir": workdir,
        "load average at start": _loadavg(),
    }


def render_machine(info: dict[str, str]) -> str:
    return "\n".join(f"- {k}: {v}" for k, v in info.items())


def loadavg() -> str:
    return _loadavg()

"""Rows of the results table, the machine description, and the Markdown rendering."""

from __future__ import annotations

import os
import platform
import sqlite3
import statistics
import sys
from collections.abc import Sequence
from dataclasses import asdict, dataclass, field
from typing import Any


@dataclass
class Row:
    """One line of the table: ctxlog's figure, the baseline's from the same run, and the verdict.

    ``better`` says which way the ratio reads: "higher" (throughput) or "lower" (time, bytes,
    memory). ``target`` is the ratio to reach (None for an information row). ``context_*`` is a
    second baseline from the same repetitions, shown for context and never judged (the minimal
    raw table, where the main baseline is the same-work floor).
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
    context_name: str = ""
    context: float = float("nan")
    context_reps: list[float] = field(default_factory=list)

    @property
    def ratios(self) -> list[float]:
        """ctxlog / baseline of each repetition, when both sides were repeated in pairs."""
        if self.ctxlog_reps and len(self.ctxlog_reps) == len(self.baseline_reps):
            return [c / b for c, b in zip(self.ctxlog_reps, self.baseline_reps, strict=True) if b]
        return []

    @property
    def ratio(self) -> float:
        """ctxlog / baseline: the median of the per-repetition ratios when both sides were repeated in
        pairs (each pair run back to back, so drifting machine load hits both alike), else the
        ratio of the two figures."""
        if self.ratios:
            return median(self.ratios)
        return self.ctxlog / self.baseline if self.baseline else float("nan")

    @property
    def context_ratio(self) -> float:
        if self.ctxlog_reps and len(self.ctxlog_reps) == len(self.context_reps):
            return median([c / b for c, b in zip(self.ctxlog_reps, self.context_reps, strict=True) if b])
        return self.ctxlog / self.context if self.context else float("nan")

    @property
    def status(self) -> str:
        if self.target is None:
            return "info"
        if self.ratio != self.ratio:
            return "MISS"
        ok = self.ratio >= self.target if self.better == "higher" else self.ratio <= self.target
        if ok and self.stretch is not None:
            stretch_ok = self.ratio >= self.stretch if self.better == "higher" else self.ratio <= self.stretch
            return "PASS (stretch too)" if stretch_ok else "PASS (stretch missed)"
        return "PASS" if ok else "MISS"

    def as_dict(self) -> dict[str, Any]:
        d = asdict(self)
        d.update(ratio=self.ratio, ratios=self.ratios, context_ratio=self.context_ratio, status=self.status)
        return d


@dataclass
class ScaleRow:
    """Per-operation cost of one operation at several sizes, and how much it grows: the ratio of the
    cost at the largest size to the cost at the smallest (``target``: at most that; None: info).

    ``costs[i]`` is the median seconds per operation at ``sizes[i]``, ``spreads[i]`` the min and
    max of its repetitions; ``extra[i]`` an optional figure shown beside it (a ratio to a baseline).
    """

    case: str
    sizes: list[str]
    costs: list[float]
    spreads: list[tuple[float, float]] = field(default_factory=list)
    extra: list[str] = field(default_factory=list)
    target: float | None = 1.5
    note: str = ""
    key: str = ""

    @property
    def ratio(self) -> float:
        if len(self.costs) < 2 or not self.costs[0]:
            return float("nan")
        return self.costs[-1] / self.costs[0]

    @property
    def status(self) -> str:
        if self.target is None:
            return "info"
        return "PASS" if self.ratio == self.ratio and self.ratio <= self.target else "MISS"

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
    if unit in ("ops/s", "events/s", "loads/s", "steps/s", "tasks/s", "lines/s"):
        return f"{value:,.0f} {unit}"
    if unit == "s":
        return f"{value * 1000:,.1f} ms" if value < 10 else f"{value:,.2f} s"
    if unit in ("B/event", "B/step"):
        return f"{value:,.0f} {unit}"
    if unit == "KiB":
        return f"{value / 1024:,.1f} MiB"
    return f"{value:,.3g} {unit}"


def duration(seconds: float) -> str:
    """Seconds per operation, in the unit that reads best."""
    if seconds != seconds:
        return "—"
    if seconds < 1e-6:
        return f"{seconds * 1e9:,.0f} ns"
    if seconds < 1e-3:
        return f"{seconds * 1e6:,.1f} µs"
    if seconds < 1:
        return f"{seconds * 1e3:,.2f} ms"
    return f"{seconds:,.2f} s"


def spread(values: list[float]) -> str:
    if len(values) < 2:
        return "1 rep"
    m = median(values)
    lo, hi = min(values), max(values)
    return f"{len(values)} reps, {(lo / m - 1) * 100:+.0f}%/{(hi / m - 1) * 100:+.0f}%" if m else f"{len(values)} reps"


def _ratio_cell(r: Row) -> str:
    if r.ratio != r.ratio:
        return "—"
    ratios = r.ratios
    span = f" ({min(ratios):.2f}–{max(ratios):.2f})" if len(ratios) > 1 else ""
    return f"{r.ratio:.2f}×{span}"


def _target_cell(target: float | None, better: str, stretch: float | None = None) -> str:
    if target is None:
        return "—"
    sign = "≥" if better == "higher" else "≤"
    return f"{sign} {target:g}×" + (f" (stretch {sign} {stretch:g}×)" if stretch else "")


def render_table(rows: list[Row]) -> str:
    """The results as a Markdown table: ratio = ctxlog / baseline, median of the per-repetition
    ratios with their min–max; the context baseline and ctxlog's ratio to it in the last columns."""
    out = [
        "| case | ctxlog | baseline (same run) | ratio ctxlog/baseline (min–max) | target | result "
        "| context baseline (same run) | ratio |",
        "|---|---:|---|---:|---|---|---|---:|",
    ]
    for r in rows:
        arrow = "↑" if r.better == "higher" else "↓"
        context = f"{r.context_name}: {fmt(r.context, r.unit)}" if r.context_name else "—"
        cratio = f"{r.context_ratio:.2f}×" if r.context_name and r.context_ratio == r.context_ratio else "—"
        out.append(
            f"| {r.case} | {fmt(r.ctxlog, r.unit)} | {r.baseline_name}: {fmt(r.baseline, r.unit)} "
            f"| {_ratio_cell(r)} {arrow} | {_target_cell(r.target, r.better, r.stretch)} | {r.status} "
            f"| {context} | {cratio} |"
        )
    return "\n".join(out)


def render_scaling(rows: list[ScaleRow]) -> str:
    """The scaling rows as a Markdown table: cost per operation at each size, largest/smallest."""
    out = [
        "| scaling | cost per operation at each size (median of the repetitions) | largest/smallest | target "
        "| result |",
        "|---|---|---:|---|---|",
    ]
    for r in rows:
        cells = []
        for i, (size, cost) in enumerate(zip(r.sizes, r.costs, strict=True)):
            extra = f" ({r.extra[i]})" if i < len(r.extra) and r.extra[i] else ""
            cells.append(f"{size}: {duration(cost)}{extra}")
        ratio = f"{r.ratio:.2f}×" if r.ratio == r.ratio else "—"
        target = f"≤ {r.target:g}×" if r.target is not None else "—"
        out.append(f"| {r.case} | {' · '.join(cells)} | {ratio} | {target} | {r.status} |")
    return "\n".join(out)


def render_details(rows: list[Row], scaling: Sequence[ScaleRow] = ()) -> str:
    """Per row: repetitions and notes (how noisy a figure was, what exactly was compared)."""
    out = []
    for r in rows:
        reps = f"ctxlog {spread(r.ctxlog_reps)}; baseline {spread(r.baseline_reps)}" if r.ctxlog_reps else ""
        text = "; ".join(x for x in (reps, r.note) if x)
        out.append(f"- **{r.case}**: {text}" if text else f"- **{r.case}**")
    for s in scaling:
        spans = ", ".join(
            f"{size} {duration(lo)}–{duration(hi)}" for size, (lo, hi) in zip(s.sizes, s.spreads, strict=False)
        )
        text = "; ".join(x for x in (f"min–max per size: {spans}" if spans else "", s.note) if x)
        out.append(f"- **{s.case}**: {text}" if text else f"- **{s.case}**")
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
    import lgpeer
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
        "langgraph-checkpoint-sqlite": lgpeer.version(),
        "workdir": workdir,
        "load average at start": _loadavg(),
    }


def render_machine(info: dict[str, str]) -> str:
    return "\n".join(f"- {k}: {v}" for k, v in info.items())


def loadavg() -> str:
    return _loadavg()

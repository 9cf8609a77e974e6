"""Bytes on disk per event, the run named by ctxlog: the ledger against the same-work floor file
(ctxlog's schema and meta, the same rows inserted raw: what ctxlog adds on top is the snapshot
cache) and, for context, the minimal raw table."""

from __future__ import annotations

import floor
import raw
from cases_read import _raw_mix
from harness import Bench
from report import Row


def _log_bytes(tables: dict[str, int]) -> int:
    return tables.get("events", 0)


def bytes_case(bench: Bench) -> None:
    full, run, raw_path = bench.ledger("mix"), bench.run_of("mix"), _raw_mix(bench)
    raw.checkpoint_wal(full)
    events = len(raw.ledger_payloads(full))
    same = floor.Floor.copy_of(full, bench.path("floor-bytes.db"), "NORMAL")
    same.close()
    raw.checkpoint_wal(same.path)
    ctx_bytes, floor_bytes, raw_bytes = raw.file_bytes(full), raw.file_bytes(same.path), raw.file_bytes(raw_path)
    tables, floor_tables, raw_tables = raw.table_bytes(full), raw.table_bytes(same.path), raw.table_bytes(raw_path)
    snap = tables.get("snapshots", 0)
    context = dict(context_name="minimal raw table (offset, payload, hash)")
    bench.rows.append(
        Row(
            "bytes on disk per event (whole ledger file), run named by ctxlog",
            ctx_bytes / events,
            "floor file: same schema and meta, the same rows inserted raw",
            floor_bytes / events,
            "B/event",
            "lower",
            target=1.1,
            context=raw_bytes / events,
            note=f"{events:,}-event mix in run {run!r} after a WAL checkpoint; ledger {ctx_bytes / 1e6:.1f} MB of "
            f"which snapshots {snap / 1e6:.1f} MB ({snap / ctx_bytes:.0%}), events table+indexes "
            f"{_log_bytes(tables) / 1e6:.1f} MB, free pages {tables.get('(free pages)', 0) / 1e6:.1f} MB; "
            f"floor {floor_bytes / 1e6:.1f} MB; raw {raw_bytes / 1e6:.1f} MB",
            key="bytes",
            **context,  # type: ignore[arg-type]
        )
    )
    objects = raw.object_bytes(full)
    indexes = ", ".join(
        f"{name} {size / events:,.0f}"
        for name, size in sorted(objects.items())
        if name not in ("events", "snapshots", "meta", "sqlite_schema")
        and not name.startswith(("sqlite_autoindex_meta", "sqlite_autoindex_snapshots"))
    )
    bench.rows.append(
        Row(
            "bytes per event, the log only (events table + its indexes)",
            _log_bytes(tables) / events,
            "floor file's events table + its indexes",
            _log_bytes(floor_tables) / events,
            "B/event",
            "lower",
            target=1.1,
            context=raw_tables.get("raw", raw_bytes) / events,
            note=f"from SQLite's dbstat, B/event: events rows {objects.get('events', 0) / events:,.0f}, {indexes}; "
            "ctxlog (and the floor) also store run, seq, ts, kind, context, cause and a 32-byte hash",
            key="bytes-log",
            **context,  # type: ignore[arg-type]
        )
    )
    bench.facts["ledger tables (bytes)"] = tables
    bench.facts["floor tables (bytes)"] = floor_tables

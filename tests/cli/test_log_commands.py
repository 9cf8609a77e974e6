"""log, runs, checkpoints, head, stats: the log itself, from the command line."""

from __future__ import annotations

import json
import re
from pathlib import Path

from ctxlog import ContextManager, replay
from ctxlog.audit import head as ledger_head

from .conftest import Invoke, one_error_line

ISO = r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{6}Z"


def test_log_prints_a_header_and_one_line_per_event(cli: Invoke, demo_db: str) -> None:
    result = cli("log", demo_db)
    assert result.exit_code == 0
    lines = result.stdout.splitlines()
    assert lines[0].split() == ["offset", "seq", "time", "kind", "context", "cause", "payload"]
    assert len(lines) == 1 + 47


def test_log_line_columns(cli: Invoke, demo_db: str) -> None:
    line = cli("log", demo_db).stdout.splitlines()[5]
    assert re.fullmatch(
        rf"     5      5  {ISO}  set          load            4  \{{\"key\":\"records\",\"value\":12000\}}", line
    ), line


def test_log_root_event_has_no_cause(cli: Invoke, demo_db: str) -> None:
    first = cli("log", demo_db).stdout.splitlines()[1]
    assert first.split()[3:] == ["initialized", "plan", "-", '{"name":"plan"}']


def test_log_shortens_long_payloads(cli: Invoke, tmp_path: Path) -> None:
    path = str(tmp_path / "long.db")
    with ContextManager(path, run="r") as mgr:
        mgr.set("text", "x" * 500)
    line = cli("log", path).stdout.splitlines()[-1]
    payload = line.split("  ")[-1]
    assert payload.startswith('{"key":"text","value":"xxx') and payload.endswith("…") and len(payload) == 80


def test_log_until_a_checkpoint(cli: Invoke, demo_db: str) -> None:
    lines = cli("log", demo_db, "--until", "loaded").stdout.splitlines()
    assert [int(line.split()[0]) for line in lines[1:]] == list(range(1, 10))


def test_log_since_is_exclusive(cli: Invoke, demo_db: str) -> None:
    lines = cli("log", demo_db, "--since", "44").stdout.splitlines()
    assert [int(line.split()[0]) for line in lines[1:]] == [45, 46, 47]


def test_log_filters_by_kinds(cli: Invoke, demo_db: str) -> None:
    lines = cli("log", demo_db, "--kind", "checkpoint", "--kind", "failed").stdout.splitlines()[1:]
    assert [(int(line.split()[0]), line.split()[3]) for line in lines] == [
        (9, "checkpoint"),
        (38, "checkpoint"),
        (45, "failed"),
        (47, "checkpoint"),
    ]


def test_log_filters_by_context(cli: Invoke, demo_db: str) -> None:
    lines = cli("log", demo_db, "--context", "worker-2").stdout.splitlines()[1:]
    assert [int(line.split()[0]) for line in lines] == [13, 18, 19, 20, 30, 31]
    assert {line.split()[4] for line in lines} == {"worker-2"}


def test_log_unknown_context_exits_4(cli: Invoke, demo_db: str) -> None:
    result = cli("log", demo_db, "--context", "worker-9")
    assert result.exit_code == 4 and "'worker-9'" in one_error_line(result) and result.stdout == ""


def test_log_unknown_kind_is_a_usage_error(cli: Invoke, demo_db: str) -> None:
    assert cli("log", demo_db, "--kind", "bogus").exit_code == 2


def test_log_negative_since_is_a_usage_error(cli: Invoke, demo_db: str) -> None:
    assert cli("log", demo_db, "--since", "-1").exit_code == 2


def test_log_json_lines_hold_every_column(cli: Invoke, demo_db: str) -> None:
    lines = cli("log", demo_db, "--json").stdout.splitlines()
    assert len(lines) == 47
    entries = [json.loads(line) for line in lines]
    first = entries[0]
    assert set(first) == {"offset", "run", "seq", "ts", "time", "kind", "context", "cause", "payload", "hash"}
    assert first["payload"] == {"kind": "initialized", "name": "plan"} and first["cause"] is None
    assert re.fullmatch(ISO, first["time"]) and isinstance(first["ts"], int)
    assert entries[-1]["hash"] == ledger_head(demo_db)[1]


def test_log_of_one_of_several_runs(cli: Invoke, two_runs_db: str) -> None:
    entries = [json.loads(line) for line in cli("log", two_runs_db, "--run", "beta", "--json").stdout.splitlines()]
    assert [(e["offset"], e["run"], e["seq"]) for e in entries] == [(3, "beta", 1), (4, "beta", 2)]


def test_runs_table(cli: Invoke, two_runs_db: str) -> None:
    lines = cli("runs", two_runs_db).stdout.splitlines()
    assert lines[0].split() == ["run", "events", "offsets", "first", "last", "checkpoints", "forked", "from"]
    assert [line.split()[:3] + line.split()[-1:] for line in lines[1:]] == [
        ["alpha", "2", "1..2", "-"],
        ["beta", "2", "3..4", "-"],
    ]
    assert re.search(rf"  {ISO}  {ISO}  ", lines[1])


def test_runs_json(cli: Invoke, demo_db: str) -> None:
    (line,) = cli("runs", demo_db, "--json").stdout.splitlines()
    info = json.loads(line)
    assert (info["run"], info["events"], info["checkpoints"]) == ("demo", 47, 3)
    assert info["first_ts"] <= info["last_ts"] and re.fullmatch(ISO, info["last_time"])


def test_checkpoints_table(cli: Invoke, demo_db: str) -> None:
    lines = cli("checkpoints", demo_db).stdout.splitlines()
    assert lines[0].split() == ["name", "offset", "time", "auto", "timeline"]
    assert [(line.split()[0], line.split()[1], line.split()[3]) for line in lines[1:]] == [
        ("loaded", "9", "-"),
        ("validated", "38", "-"),
        ("finished", "47", "-"),
    ]


def test_checkpoints_marks_automatic_ones(cli: Invoke, tmp_path: Path) -> None:
    path = str(tmp_path / "auto.db")
    with ContextManager(path, run="r", checkpoint_interval=3) as mgr:
        for i in range(4):
            mgr.set("i", i)
        mgr.checkpoint("mine")
    infos = [json.loads(line) for line in cli("checkpoints", path, "--json").stdout.splitlines()]
    assert [(i["name"], i["auto"]) for i in infos] == [("auto-4", True), ("auto-7", True), ("mine", False)]
    assert replay(path).checkpoints == {i["name"]: i["offset"] for i in infos}


def test_checkpoints_of_several_runs_need_a_run(cli: Invoke, two_runs_db: str) -> None:
    result = cli("checkpoints", two_runs_db)
    assert result.exit_code == 4 and "alpha, beta" in one_error_line(result)


def test_head_prints_offset_and_hash_of_the_last_event(cli: Invoke, demo_db: str) -> None:
    last = json.loads(cli("log", demo_db, "--json").stdout.splitlines()[-1])
    assert cli("head", demo_db).stdout == f"47:{last['hash']}\n"


def test_head_of_an_empty_ledger_is_its_genesis(cli: Invoke, empty_db: str) -> None:
    from ctxlog.audit import verify

    assert cli("head", empty_db).stdout == f"0:{verify(empty_db).head_hash}\n"


def test_head_is_of_the_file_not_a_run(cli: Invoke, two_runs_db: str) -> None:
    assert cli("head", two_runs_db).stdout.startswith("4:")


def test_stats_text(cli: Invoke, demo_db: str) -> None:
    lines = cli("stats", demo_db).stdout.splitlines()
    fields = dict(re.split(r"\s{2,}", line, maxsplit=1) for line in lines)
    assert (fields["runs"], fields["events"], fields["checkpoints"]) == ("1", "47", "3")
    assert fields["hash algorithm"] == "sha256"
    assert fields["kind set"] == "16" and fields["kind failed"] == "1"
    assert int(fields["size on disk"].removesuffix(" bytes")) > 0


def test_stats_json_adds_up(cli: Invoke, two_runs_db: str) -> None:
    stats = json.loads(cli("stats", two_runs_db, "--json").stdout)
    assert stats["runs"] == 2 and stats["events"] == 4 == sum(stats["kinds"].values())
    assert stats["kinds"] == {"initialized": 2, "set": 2}
    assert stats["bytes_per_event"] == round(stats["size_bytes"] / 4, 1)


def test_stats_of_an_empty_ledger(cli: Invoke, empty_db: str) -> None:
    stats = json.loads(cli("stats", empty_db, "--json").stdout)
    assert (stats["events"], stats["runs"], stats["kinds"], stats["bytes_per_event"]) == (0, 0, {}, 0.0)


def test_fork_starts_a_run_with_the_source_tree_and_checkpoints(cli: object, demo_db: str) -> None:
    info = json.loads(cli("fork", demo_db, "--at", "validated", "--as", "retry", "--json").stdout)  # type: ignore[operator]
    assert (info["run"], info["source_run"], info["source_offset"]) == ("retry", "demo", 38)
    assert info["checkpoints"] == {"loaded": 9, "validated": 38}
    runs_out = cli("runs", demo_db, "--json").stdout  # type: ignore[operator]
    forked = [json.loads(line) for line in runs_out.splitlines()][-1]
    assert (forked["run"], forked["source"], forked["source_offset"]) == ("retry", "demo", 38)
    fork_tree = json.loads(cli("tree", demo_db, "--run", "retry", "--json").stdout)  # type: ignore[operator]
    source = cli("replay", demo_db, "--run", "demo", "--until", "validated", "--json")  # type: ignore[operator]
    source_tree = json.loads(source.stdout)
    assert fork_tree["contexts"] == source_tree["contexts"]
    assert "ok:" in cli("verify", demo_db).stdout  # type: ignore[operator]

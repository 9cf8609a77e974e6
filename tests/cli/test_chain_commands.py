"""verify, export, import, demo: the chain and the file as a whole, from the command line."""

from __future__ import annotations

import json
import os
from pathlib import Path

from ctxlog import replay
from ctxlog.audit import runs

from ..attack import tamper
from ..conftest import KEY
from .conftest import Invoke, one_error_line


def test_verify_intact_chain_exits_0_with_one_line(cli: Invoke, demo_db: str) -> None:
    result = cli("verify", demo_db)
    assert result.exit_code == 0 and result.stderr == ""
    (line,) = result.stdout.splitlines()
    assert line.startswith("ok: 47 events in 1 run(s), chain intact (sha256), head 47:")


def test_verify_names_the_first_altered_offset(cli: Invoke, demo_db: str) -> None:
    tamper(demo_db, "UPDATE events SET payload = replace(payload, '12000', '13000') WHERE \"offset\" = 5")
    result = cli("verify", demo_db)
    assert result.exit_code == 1 and result.stdout == ""
    assert "chain broken at offset 5: hash does not match" in one_error_line(result)


def test_verify_finds_a_deleted_row(cli: Invoke, demo_db: str) -> None:
    tamper(demo_db, 'DELETE FROM events WHERE "offset" = 20')
    result = cli("verify", demo_db)
    assert result.exit_code == 1 and "offset 20 is missing" in one_error_line(result)


def test_verify_with_the_head_passes(cli: Invoke, demo_db: str) -> None:
    head = cli("head", demo_db).stdout.strip()
    assert cli("verify", demo_db, "--head", head).exit_code == 0


def test_verify_head_finds_a_truncated_log(cli: Invoke, demo_db: str) -> None:
    head = cli("head", demo_db).stdout.strip()
    tamper(demo_db, 'DELETE FROM events WHERE "offset" > 40')
    assert cli("verify", demo_db).exit_code == 0
    result = cli("verify", demo_db, "--head", head)
    assert result.exit_code == 1 and "truncated" in one_error_line(result)


def test_verify_head_finds_a_rewritten_log(cli: Invoke, demo_db: str, tmp_path: Path) -> None:
    from ctxlog.audit import demo as write_demo

    other = str(tmp_path / "other.db")
    write_demo(other, run="demo")
    result = cli("verify", other, "--head", cli("head", demo_db).stdout.strip())
    assert result.exit_code == 1 and "offset 47" in one_error_line(result) and "rewritten" in result.stderr


def test_verify_malformed_head_is_a_usage_error(cli: Invoke, demo_db: str) -> None:
    result = cli("verify", demo_db, "--head", "47:abc")
    assert result.exit_code == 2 and "OFFSET:HASH" in result.stderr


def test_verify_keyed_ledger_with_its_key_file(cli: Invoke, keyed: str, key_file: str) -> None:
    result = cli("verify", keyed, "--key-file", key_file)
    assert result.exit_code == 0 and "(hmac-sha256)" in result.stdout


def test_verify_keyed_ledger_without_key_exits_5(cli: Invoke, keyed: str) -> None:
    result = cli("verify", keyed)
    assert result.exit_code == 5 and "keyed" in one_error_line(result)


def test_verify_keyed_ledger_with_a_wrong_key_exits_5(cli: Invoke, keyed: str, tmp_path: Path) -> None:
    wrong = tmp_path / "wrong.key"
    wrong.write_bytes(b"not the ledger key\n")
    result = cli("verify", keyed, "--key-file", wrong)
    assert result.exit_code == 5 and "wrong key" in one_error_line(result)


def test_verify_key_for_an_unkeyed_ledger_fails_as_a_possible_downgrade(
    cli: Invoke, demo_db: str, key_file: str
) -> None:
    result = cli("verify", demo_db, "--key-file", key_file)
    assert result.exit_code == 1 and "possible downgrade" in one_error_line(result)


def test_verify_empty_key_file_is_a_usage_error(cli: Invoke, keyed: str, tmp_path: Path) -> None:
    empty = tmp_path / "empty.key"
    empty.write_bytes(b"\n")
    result = cli("verify", keyed, "--key-file", empty)
    assert result.exit_code == 2 and "empty" in result.stderr


def test_verify_empty_ledger(cli: Invoke, empty_db: str) -> None:
    result = cli("verify", empty_db)
    assert result.exit_code == 0 and result.stdout.startswith("ok: 0 events")


def _export(cli: Invoke, ledger: str, tmp_path: Path, name: str = "out.jsonl") -> Path:
    out = tmp_path / name
    result = cli("export", ledger, "-o", out)
    assert result.exit_code == 0, result.output
    return out


def test_export_writes_a_header_then_one_row_a_line(cli: Invoke, demo_db: str, tmp_path: Path) -> None:
    lines = _export(cli, demo_db, tmp_path).read_text(encoding="utf-8").splitlines()
    header = json.loads(lines[0])
    assert header["ctxlog_export"] == 2 and header["hash_algorithm"] == "sha256" and header["events"] == 47
    assert header["head"] == cli("head", demo_db).stdout.strip()
    assert header["meta"]["ledger_id"] == header["ledger_id"] and header["meta"]["schema_version"] == "2"
    rows = [json.loads(line) for line in lines[1:]]
    assert [r["offset"] for r in rows] == list(range(1, 48))
    assert set(rows[0]) == {"offset", "run", "seq", "ts", "kind", "context", "cause", "payload", "hash"}
    assert rows[0]["payload"] == '{"kind":"initialized","name":"plan"}'


def test_export_reports_on_stderr_only_when_writing_a_file(cli: Invoke, demo_db: str, tmp_path: Path) -> None:
    to_file = cli("export", demo_db, "-o", tmp_path / "x.jsonl")
    assert to_file.stdout == "" and to_file.stderr.startswith("exported 47 events")
    to_stdout = cli("export", demo_db)
    assert to_stdout.stderr == "" and len(to_stdout.stdout.splitlines()) == 48
    assert to_stdout.stdout == (tmp_path / "x.jsonl").read_text(encoding="utf-8")


def test_export_of_a_missing_ledger_leaves_no_file(cli: Invoke, tmp_path: Path) -> None:
    result = cli("export", tmp_path / "missing.db", "-o", tmp_path / "out.jsonl")
    assert result.exit_code == 3 and not (tmp_path / "out.jsonl").exists()


def test_import_round_trips_every_row_byte_for_byte(cli: Invoke, demo_db: str, tmp_path: Path) -> None:
    exported = _export(cli, demo_db, tmp_path)
    copy = str(tmp_path / "copy.db")
    result = cli("import", copy, exported)
    assert result.exit_code == 0
    assert result.stdout.startswith(f"imported 47 events in 1 run(s) into {copy}: chain intact (sha256), head 47:")
    again = _export(cli, copy, tmp_path, "again.jsonl")
    assert exported.read_text().splitlines()[1:] == again.read_text().splitlines()[1:]
    assert cli("verify", copy).exit_code == 0
    assert replay(copy, until="validated") == replay(demo_db, until="validated")


def test_import_from_stdin(cli: Invoke, demo_db: str, tmp_path: Path) -> None:
    exported = _export(cli, demo_db, tmp_path)
    copy = tmp_path / "copy.db"
    result = cli("import", copy, "-", input=exported.read_bytes())
    assert result.exit_code == 0 and [r.events for r in runs(str(copy))] == [47]


def test_import_of_a_forged_export_imports_nothing(cli: Invoke, demo_db: str, tmp_path: Path) -> None:
    exported = _export(cli, demo_db, tmp_path)
    forged = tmp_path / "forged.jsonl"
    forged.write_text(exported.read_text().replace("12000", "13000"))
    target = tmp_path / "forged.db"
    result = cli("import", target, forged)
    assert result.exit_code == 1
    assert "FAILED at offset 5" in one_error_line(result) and "nothing was imported" in result.stderr
    assert not target.exists() and not os.path.exists(f"{target}-wal")


def test_import_of_a_truncated_export_is_refused(cli: Invoke, demo_db: str, tmp_path: Path) -> None:
    exported = _export(cli, demo_db, tmp_path)
    cut = tmp_path / "cut.jsonl"
    cut.write_text("\n".join(exported.read_text().splitlines()[:-3]) + "\n")
    result = cli("import", tmp_path / "cut.db", cut)
    assert result.exit_code == 1 and "truncated" in one_error_line(result)


def test_import_into_an_empty_existing_ledger(cli: Invoke, demo_db: str, empty_db: str, tmp_path: Path) -> None:
    exported = _export(cli, demo_db, tmp_path)
    assert cli("import", empty_db, exported).exit_code == 0
    assert [r.run for r in runs(empty_db)] == ["demo"]


def test_import_into_a_ledger_with_events_is_refused(
    cli: Invoke, demo_db: str, two_runs_db: str, tmp_path: Path
) -> None:
    exported = _export(cli, demo_db, tmp_path)
    result = cli("import", two_runs_db, exported)
    assert result.exit_code == 3 and "already holds 4 events" in one_error_line(result)
    assert [r.run for r in runs(two_runs_db)] == ["alpha", "beta"]


def test_import_of_a_file_that_is_not_an_export(cli: Invoke, tmp_path: Path) -> None:
    junk = tmp_path / "junk.jsonl"
    junk.write_text("hello\n")
    result = cli("import", tmp_path / "new.db", junk)
    assert result.exit_code == 3 and "not a ctxlog export" in one_error_line(result)
    assert not (tmp_path / "new.db").exists()


def test_import_of_a_malformed_row_names_its_line(cli: Invoke, demo_db: str, tmp_path: Path) -> None:
    lines = _export(cli, demo_db, tmp_path).read_text().splitlines()
    lines[3] = '{"offset": "three"}'
    bad = tmp_path / "bad.jsonl"
    bad.write_text("\n".join(lines) + "\n")
    result = cli("import", tmp_path / "new.db", bad)
    assert result.exit_code == 3 and "line 4" in one_error_line(result)
    assert not (tmp_path / "new.db").exists()


def test_keyed_export_imports_with_its_key(cli: Invoke, keyed: str, key_file: str, tmp_path: Path) -> None:
    exported = _export(cli, keyed, tmp_path)
    assert json.loads(exported.read_text().splitlines()[0])["hash_algorithm"] == "hmac-sha256"
    copy = tmp_path / "copy.db"
    assert cli("import", copy, exported, "--key-file", key_file).exit_code == 0
    assert cli("verify", copy).exit_code == 5
    assert cli("verify", copy, "--key-file", key_file).exit_code == 0


def test_keyed_export_without_the_key_exits_5(cli: Invoke, keyed: str, tmp_path: Path) -> None:
    exported = _export(cli, keyed, tmp_path)
    result = cli("import", tmp_path / "copy.db", exported)
    assert result.exit_code == 5 and "keyed" in one_error_line(result)
    assert not (tmp_path / "copy.db").exists()


def test_keyed_export_with_a_wrong_key_exits_5(cli: Invoke, keyed: str, tmp_path: Path) -> None:
    exported = _export(cli, keyed, tmp_path)
    wrong = tmp_path / "wrong.key"
    wrong.write_bytes(KEY + b"!")
    result = cli("import", tmp_path / "copy.db", exported, "--key-file", wrong)
    assert result.exit_code == 5 and "wrong key" in one_error_line(result)


def test_demo_writes_the_sample_run(cli: Invoke, tmp_path: Path) -> None:
    path = tmp_path / "demo.db"
    result = cli("demo", path)
    assert result.exit_code == 0
    assert result.stdout == f"wrote run 'demo' to {path} (47 events); try: ctxlog replay {path} --until validated\n"
    assert cli("verify", path).exit_code == 0


def test_demo_twice_writes_a_second_run(cli: Invoke, demo_db: str) -> None:
    assert "wrote run 'demo-2'" in cli("demo", demo_db).stdout
    assert [r.run for r in runs(demo_db)] == ["demo", "demo-2"]


def test_export_into_a_missing_directory_is_one_line_exit_3(cli: Invoke, demo_db: str, tmp_path: Path) -> None:
    result = cli("export", demo_db, "-o", tmp_path / "no" / "such" / "dir.jsonl")
    assert result.exit_code == 3 and "cannot write here" in one_error_line(result)


def test_export_failing_midway_keeps_the_previous_file(cli: Invoke, tmp_path: Path) -> None:
    previous = tmp_path / "out.jsonl"
    previous.write_text("previous export\n")
    result = cli("export", tmp_path / "missing.db", "-o", previous)
    assert result.exit_code == 3 and previous.read_text() == "previous export\n"
    assert [p.name for p in tmp_path.iterdir()] == ["out.jsonl"]

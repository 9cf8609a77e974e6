"""User errors: one clear line on stderr, a documented exit code, never a traceback or a write."""

from __future__ import annotations

import hashlib
import os
import sqlite3
from pathlib import Path

import pytest

import ctxlog
from ctxlog.cli.errors import EXIT_CODES, to_click

from ..attack import tamper
from .conftest import Invoke, one_error_line

READ_COMMANDS: list[list[str]] = [
    ["replay", "{db}", "--until", "1"],
    ["tree", "{db}"],
    ["log", "{db}"],
    ["runs", "{db}"],
    ["checkpoints", "{db}"],
    ["get", "{db}", "x"],
    ["diff", "{db}", "1", "2"],
    ["verify", "{db}"],
    ["head", "{db}"],
    ["export", "{db}"],
    ["graph", "{db}"],
    ["stats", "{db}"],
]
IDS = [args[0] for args in READ_COMMANDS]


def _run(cli: Invoke, args: list[str], db: object) -> object:
    return cli(*[a.format(db=db) for a in args])


@pytest.mark.parametrize("args", READ_COMMANDS, ids=IDS)
def test_missing_file_exits_3(cli: Invoke, tmp_path: Path, args: list[str]) -> None:
    result = _run(cli, args, tmp_path / "missing.db")
    assert result.exit_code == 3 and "no such file" in one_error_line(result)
    assert not (tmp_path / "missing.db").exists()


@pytest.mark.parametrize("args", READ_COMMANDS, ids=IDS)
def test_random_bytes_exit_3(cli: Invoke, tmp_path: Path, args: list[str]) -> None:
    junk = tmp_path / "junk.db"
    junk.write_bytes(bytes(range(256)) * 40)
    result = _run(cli, args, junk)
    assert result.exit_code == 3 and "not a readable SQLite ledger" in one_error_line(result)


@pytest.mark.parametrize("args", READ_COMMANDS, ids=IDS)
def test_other_sqlite_file_exits_3(cli: Invoke, tmp_path: Path, args: list[str]) -> None:
    other = tmp_path / "other.db"
    with sqlite3.connect(other) as conn:
        conn.execute("CREATE TABLE customers (id INTEGER PRIMARY KEY)")
    conn.close()
    result = _run(cli, args, other)
    assert result.exit_code == 3 and "not a ctxlog ledger" in one_error_line(result)


@pytest.mark.parametrize("args", READ_COMMANDS, ids=IDS)
def test_newer_schema_exits_3(cli: Invoke, demo_db: str, args: list[str]) -> None:
    tamper(demo_db, "UPDATE meta SET value = '3' WHERE key = 'schema_version'")
    result = _run(cli, args, demo_db)
    assert result.exit_code == 3 and "schema version 3 is newer" in one_error_line(result)


def test_empty_file_exits_3(cli: Invoke, tmp_path: Path) -> None:
    empty = tmp_path / "empty.db"
    empty.write_bytes(b"")
    result = cli("tree", empty)
    assert result.exit_code == 3 and "not a ctxlog ledger" in one_error_line(result)


def test_directory_exits_3(cli: Invoke, tmp_path: Path) -> None:
    result = cli("tree", tmp_path)
    assert result.exit_code == 3 and "is a directory" in one_error_line(result)


def test_several_runs_without_run_lists_them(cli: Invoke, two_runs_db: str) -> None:
    result = cli("tree", two_runs_db)
    assert result.exit_code == 4
    assert "holds 2 runs" in one_error_line(result) and "alpha, beta" in result.stderr


def test_unknown_run_exits_4(cli: Invoke, demo_db: str) -> None:
    result = cli("replay", demo_db, "--run", "nightly", "--until", "loaded")
    assert result.exit_code == 4 and "no run 'nightly'" in one_error_line(result) and "runs: demo" in result.stderr


def test_unknown_checkpoint_lists_the_known_ones(cli: Invoke, demo_db: str) -> None:
    result = cli("replay", demo_db, "--until", "deployed")
    assert result.exit_code == 4
    assert "checkpoints: loaded, validated, finished" in one_error_line(result)


def test_offset_outside_the_run_exits_4(cli: Invoke, demo_db: str) -> None:
    result = cli("get", demo_db, "dataset", "--until", "999")
    assert result.exit_code == 4 and "outside run 'demo'" in one_error_line(result)


def test_ledger_without_runs_exits_4(cli: Invoke, empty_db: str) -> None:
    result = cli("tree", empty_db)
    assert result.exit_code == 4 and "no runs" in one_error_line(result)


def test_unknown_command_is_a_usage_error(cli: Invoke) -> None:
    assert cli("rewind", "x.db").exit_code == 2


def test_version(cli: Invoke) -> None:
    result = cli("--version")
    assert (result.exit_code, result.stdout) == (0, f"ctxlog, version {ctxlog.__version__}\n")


@pytest.mark.parametrize(
    ("error", "code"),
    [
        (ctxlog.IntegrityError("x", 3), 1),
        (ctxlog.UnknownKeyError("x"), 1),
        (ctxlog.ContextStateError("x"), 1),
        (ctxlog.InvalidArgumentError("x"), 2),
        (ctxlog.NotALedgerError("x"), 3),
        (ctxlog.SchemaVersionError("x"), 3),
        (ctxlog.StorageError("x"), 3),
        (ctxlog.ReadOnlyError("x"), 3),
        (ctxlog.LedgerError("x"), 3),
        (ctxlog.UnknownRunError("x"), 4),
        (ctxlog.UnknownCheckpointError("x"), 4),
        (ctxlog.UnknownContextError("x"), 4),
        (ctxlog.KeyMismatchError("x"), 5),
        (ctxlog.CtxlogError("x"), 1),
    ],
    ids=lambda v: type(v).__name__ if isinstance(v, Exception) else str(v),
)
def test_each_library_error_has_its_exit_code(error: ctxlog.CtxlogError, code: int) -> None:
    assert to_click(error).exit_code == code


def test_exit_code_table_rows_are_most_specific_first() -> None:
    for i, (earlier, _) in enumerate(EXIT_CODES):
        for later, _ in EXIT_CODES[i + 1 :]:
            assert not issubclass(later, earlier), f"{later.__name__} is shadowed by {earlier.__name__}"


def test_a_message_over_several_lines_prints_as_one() -> None:
    assert to_click(ctxlog.LedgerError("first\nsecond")).format_message() == "first second"


def _fingerprint(path: str) -> tuple[str, int]:
    return hashlib.sha256(Path(path).read_bytes()).hexdigest(), os.stat(path).st_mtime_ns


def test_no_read_command_writes_to_the_ledger(cli: Invoke, demo_db: str, key_file: str) -> None:
    before = _fingerprint(demo_db)
    head = cli("head", demo_db).stdout.strip()
    for args in READ_COMMANDS + [
        ["replay", "{db}", "--until", "validated", "--json"],
        ["log", "{db}", "--json", "--kind", "set"],
        ["get", "{db}", "dataset", "--context", "report"],
        ["verify", "{db}", "--head", head],
        ["verify", "{db}", "--key-file", key_file],
        ["tree", "{db}", "--run", "nope"],
    ]:
        _run(cli, args, demo_db)
    assert _fingerprint(demo_db) == before
    wal = Path(f"{demo_db}-wal")
    assert not wal.exists() or wal.stat().st_size == 0, "a read-only command appended to the WAL"

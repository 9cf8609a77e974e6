"""Hostile input to the command line: no traceback, no hang, no unbounded read, one line on stderr."""

from __future__ import annotations

import os
import pwd
import shutil
import subprocess
import sys
import tempfile
from collections.abc import Iterator
from pathlib import Path

import pytest

from ctxlog import ContextManager

from ..attack import tamper
from .conftest import Invoke, one_error_line
from .test_errors import IDS, READ_COMMANDS, _run


def test_until_with_five_thousand_digits_is_outside_the_run(cli: Invoke, demo_db: str) -> None:
    result = cli("replay", demo_db, "--until", "9" * 5000)
    line = one_error_line(result)
    assert result.exit_code == 4 and "outside run" in line and len(line) < 400


@pytest.mark.parametrize("key", ["ledger_id", "hash_algorithm", "format", "schema_version"])
@pytest.mark.parametrize("args", READ_COMMANDS, ids=IDS)
def test_meta_lacking_a_key_is_one_clear_line(cli: Invoke, demo_db: str, args: list[str], key: str) -> None:
    tamper(demo_db, "DELETE FROM meta WHERE key = ?", (key,))
    result = _run(cli, args, demo_db)
    assert result.exit_code in (1, 3) and one_error_line(result)


@pytest.mark.parametrize(
    "sql",
    [
        "UPDATE events SET ts = '' WHERE \"offset\" = 5",
        'UPDATE events SET payload = CAST(payload AS BLOB) WHERE "offset" = 5',
        "UPDATE events SET seq = 'x' WHERE \"offset\" = 5",
        "UPDATE events SET cause = 'a cause' WHERE \"offset\" = 5",
        "UPDATE events SET hash = 'not a hash' WHERE \"offset\" = 5",
        "UPDATE events SET context = x'ff00' WHERE \"offset\" = 5",
    ],
    ids=["ts-empty", "payload-blob", "seq-text", "cause-text", "hash-text", "context-bytes"],
)
@pytest.mark.parametrize("args", READ_COMMANDS, ids=IDS)
def test_a_cell_of_another_type_never_gives_a_traceback(cli: Invoke, demo_db: str, args: list[str], sql: str) -> None:
    tamper(demo_db, sql)
    result = _run(cli, args, demo_db)  # the cli fixture re-raises any Python exception
    assert result.exit_code in (0, 1, 3, 4)
    if result.exit_code:
        assert one_error_line(result)
    if args[0] == "verify":
        assert result.exit_code != 0


def test_a_key_file_that_never_ends_is_refused(cli: Invoke, keyed: str) -> None:
    result = cli("verify", keyed, "--key-file", "/dev/zero")
    assert result.exit_code == 2 and "more than 1024 bytes" in result.stderr


def test_a_64_mib_key_file_is_refused_without_reading_it(cli: Invoke, keyed: str, tmp_path: Path) -> None:
    huge = tmp_path / "huge.key"
    with huge.open("wb") as f:
        f.truncate(64 << 20)
    result = cli("verify", keyed, "--key-file", huge)
    assert result.exit_code == 2 and "more than 1024 bytes" in result.stderr


def test_importing_a_file_without_newlines_is_refused(cli: Invoke, tmp_path: Path) -> None:
    result = cli("import", tmp_path / "new.db", "/dev/zero")
    assert result.exit_code == 3 and "longer than" in one_error_line(result)
    assert not (tmp_path / "new.db").exists()


@pytest.mark.parametrize("args", READ_COMMANDS, ids=IDS)
def test_a_fifo_as_the_ledger_is_refused_not_waited_on(args: list[str], tmp_path: Path) -> None:
    fifo = tmp_path / "ledger.fifo"
    os.mkfifo(fifo)
    done = subprocess.run(
        [sys.executable, "-m", "ctxlog.cli", *[a.format(db=fifo) for a in args]],
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert done.returncode == 3 and "not a regular file" in done.stderr and "Traceback" not in done.stderr


@pytest.mark.parametrize("suffix", ["", "-wal", "-shm"])
def test_export_refuses_to_write_over_the_ledger(cli: Invoke, demo_db: str, suffix: str) -> None:
    before = Path(demo_db).read_bytes()
    result = cli("export", demo_db, "-o", demo_db + suffix)
    assert result.exit_code == 3 and "the ledger's own file" in one_error_line(result)
    assert Path(demo_db).read_bytes() == before and cli("verify", demo_db).exit_code == 0


def test_a_huge_key_looked_up_is_quoted_short(cli: Invoke, demo_db: str) -> None:
    result = cli("get", demo_db, "k" * 100_000)
    line = one_error_line(result)
    assert result.exit_code == 1 and len(line) < 600


def test_the_runs_an_error_lists_are_capped(cli: Invoke, tmp_path: Path) -> None:
    path = str(tmp_path / "many.db")
    for i in range(30):
        with ContextManager(path, run=f"run-{i:02d}") as mgr:
            mgr.set("i", i)
    result = cli("tree", path)
    line = one_error_line(result)
    assert result.exit_code == 4 and "run-09" in line and "run-10" not in line and "… and more" in line


def test_runs_and_checkpoints_stream_in_order(cli: Invoke, tmp_path: Path) -> None:
    path = str(tmp_path / "many.db")
    with ContextManager(path, run="r") as mgr:
        for i in range(1500):
            mgr.checkpoint(f"cp-{i}")
    lines = cli("checkpoints", path).stdout.splitlines()
    assert len(lines) == 1501 and lines[1].startswith("cp-0 ") and lines[-1].startswith("cp-1499")


@pytest.fixture
def shelf() -> Iterator[Path]:
    """A directory anyone can enter, holding a ledger owned by the test's user, with no -wal file."""
    root = Path(tempfile.mkdtemp(prefix="ctxlog-shelf-", dir="/tmp"))
    try:
        with ContextManager(str(root / "ctx.db"), run="demo") as mgr:
            mgr.set("records", 12)
            mgr.checkpoint("validated")
        assert not (root / "ctx.db-wal").exists()
        (root / "ctx.db").chmod(0o644)
        yield root
    finally:
        root.chmod(0o755)
        shutil.rmtree(root, ignore_errors=True)


def _as_another_user() -> tuple[list[str], dict[str, object]]:
    """How to run ``python -m ctxlog.cli`` as ``nobody``: with the system's Python of this version
    (this one may live where nobody can read), finding ctxlog and its dependencies by PYTHONPATH."""
    system = shutil.which(f"python{sys.version_info[0]}.{sys.version_info[1]}", path="/usr/bin:/usr/local/bin")
    assert system, "no system Python of this version for the user 'nobody' to run ctxlog with"
    nobody = pwd.getpwnam("nobody")
    paths = [str(Path(__file__).resolve().parents[2]), *(p for p in sys.path if p.endswith("site-packages"))]
    return [system, "-m", "ctxlog.cli"], {
        "user": nobody.pw_uid, "group": nobody.pw_gid, "extra_groups": [],
        "env": {"PYTHONPATH": os.pathsep.join(paths), "PATH": "/usr/bin:/bin", "PYTHONDONTWRITEBYTECODE": "1"},
    }  # fmt: skip


@pytest.mark.parametrize("args", READ_COMMANDS, ids=IDS)
def test_an_auditor_who_cannot_write_the_directory_can_read(args: list[str], shelf: Path) -> None:
    """Root reads as ``nobody`` (who owns neither the file nor the directory); anyone else reads a
    directory made read-only, which binds its owner too."""
    if os.geteuid() == 0:
        program, how = _as_another_user()
        shelf.chmod(0o755)
    else:
        program, how = [sys.executable, "-m", "ctxlog.cli"], {}
        shelf.chmod(0o555)
    command = [a.format(db=shelf / "ctx.db") for a in args]
    done = subprocess.run([*program, *command], capture_output=True, text=True, timeout=60, cwd="/", **how)  # type: ignore[call-overload]
    expected = 1 if command[0] == "get" else 0  # no key x there: the answer is no, not a refused read
    assert done.returncode == expected, done.stderr
    assert "Traceback" not in done.stderr and not (shelf / "ctx.db-shm").exists()

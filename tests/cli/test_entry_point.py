"""The installed ``ctxlog`` script, run as a user runs it: a separate process, real stdout/stderr."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

import ctxlog

from ..attack import tamper

SCRIPT = Path(sys.executable).parent / "ctxlog"


def ctxlog_process(*args: object, cwd: Path) -> subprocess.CompletedProcess[str]:
    command = [str(SCRIPT)] if SCRIPT.exists() else [sys.executable, "-m", "ctxlog.cli"]
    return subprocess.run([*command, *map(str, args)], cwd=cwd, capture_output=True, text=True, timeout=60, check=False)


def test_the_script_is_installed_next_to_the_interpreter() -> None:
    assert SCRIPT.exists(), f"{SCRIPT} is missing: pip install -e . puts the ctxlog script there"


def test_demo_then_replay_then_verify(tmp_path: Path) -> None:
    assert ctxlog_process("--version", cwd=tmp_path).stdout == f"ctxlog, version {ctxlog.__version__}\n"
    demo = ctxlog_process("demo", "ctx.db", cwd=tmp_path)
    assert demo.returncode == 0 and "wrote run 'demo'" in demo.stdout
    replayed = ctxlog_process("replay", "ctx.db", "--until", "validated", cwd=tmp_path)
    assert replayed.returncode == 0 and replayed.stdout.startswith("run demo  offset 38  current plan\n")
    verified = ctxlog_process("verify", "ctx.db", cwd=tmp_path)
    assert (verified.returncode, verified.stderr) == (0, "") and verified.stdout.startswith("ok: 47 events")


def test_a_user_error_is_one_line_on_stderr(tmp_path: Path) -> None:
    result = ctxlog_process("tree", "missing.db", cwd=tmp_path)
    assert result.returncode == 3 and result.stdout == ""
    assert result.stderr == "Error: missing.db: no such file; give the path of a ctxlog ledger\n"


@pytest.mark.parametrize("command", [["replay", "ctx.db", "--until", "6"], ["get", "ctx.db", "x", "--until", "7"]])
def test_an_event_that_cannot_be_replayed_is_one_line_exit_1(tmp_path: Path, command: list[str]) -> None:
    assert ctxlog_process("demo", "ctx.db", cwd=tmp_path).returncode == 0
    tamper(str(tmp_path / "ctx.db"), 'UPDATE events SET payload = \'{"kind":"set","key":\' WHERE "offset" = 5')
    result = ctxlog_process(*command, cwd=tmp_path)
    assert result.returncode == 1 and result.stdout == ""
    assert result.stderr.startswith("Error: offset 5: the event cannot be replayed")
    assert result.stderr.count("\n") == 1, result.stderr

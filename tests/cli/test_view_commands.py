"""log --follow, serve and report from the command line: output, Ctrl-C, and the one-line errors."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import threading
import urllib.request
from pathlib import Path

import pytest

from ctxlog import ContextManager

from .conftest import Invoke, one_error_line

CTXLOG = [sys.executable, "-m", "ctxlog.cli"]


def _lines(proc: subprocess.Popen[str], count: int, timeout: float = 60.0) -> list[str]:
    """The next ``count`` lines of ``proc``'s stdout, read in a thread (a hang fails instead)."""
    got: list[str] = []

    def read() -> None:
        assert proc.stdout is not None
        while len(got) < count:
            line = proc.stdout.readline()
            if not line:
                return
            got.append(line.rstrip("\n"))

    reader = threading.Thread(target=read, daemon=True)
    reader.start()
    reader.join(timeout)
    assert len(got) == count, (got, proc.poll())
    return got


def _follow(*args: str) -> subprocess.Popen[str]:
    env = dict(os.environ, PYTHONUNBUFFERED="1")
    return subprocess.Popen(
        [*CTXLOG, "log", *args, "--follow"], stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=env
    )


def test_log_follow_prints_new_events_and_ctrl_c_ends_it_with_exit_0(demo_db: str) -> None:
    proc = _follow(demo_db, "--since", "45")
    try:
        header, *old = _lines(proc, 3)
        assert header.split() == ["offset", "seq", "time", "kind", "context", "cause", "payload"]
        assert [int(line.split()[0]) for line in old] == [46, 47]
        with ContextManager(demo_db, run="demo") as mgr:
            mgr.set("late", 1)
        (new,) = _lines(proc, 1)
        assert new.split()[0] == "48" and new.endswith('{"key":"late","value":1}')
    finally:
        proc.send_signal(signal.SIGINT)
        _, err = proc.communicate(timeout=30)
    assert proc.returncode == 0
    assert "Traceback" not in err and "Aborted" not in err


def test_log_follow_json_of_all_runs(two_runs_db: str) -> None:
    proc = _follow(two_runs_db, "--json")
    try:
        rows = [json.loads(line) for line in _lines(proc, 4)]
        with ContextManager(two_runs_db, run="gamma") as mgr:
            mgr.set("z", 3)
        rows += [json.loads(line) for line in _lines(proc, 2)]
    finally:
        proc.send_signal(signal.SIGINT)
        proc.communicate(timeout=30)
    assert [(r["offset"], r["run"]) for r in rows] == [
        (1, "alpha"),
        (2, "alpha"),
        (3, "beta"),
        (4, "beta"),
        (5, "gamma"),
        (6, "gamma"),
    ]
    assert rows[-1]["payload"] == {"kind": "set", "key": "z", "value": 3} and len(rows[-1]["hash"]) == 64


def test_log_follow_refuses_until_and_verify(cli: Invoke, demo_db: str) -> None:
    result = cli("log", demo_db, "--follow", "--until", "loaded")
    assert result.exit_code == 2 and "--follow cannot be combined" in result.stderr


def test_log_follow_unknown_run_is_one_line(cli: Invoke, demo_db: str) -> None:
    result = cli("log", demo_db, "--follow", "--run", "nope")
    assert result.exit_code == 4
    assert "no run 'nope'" in one_error_line(result)


@pytest.mark.parametrize("command", ["serve", "report"])
def test_a_path_that_is_no_ledger_is_one_line_and_nonzero(command: str, cli: Invoke, tmp_path: Path) -> None:
    path = tmp_path / "notes.txt"
    path.write_text("not a ledger\n" * 100)
    extra = ["-o", str(tmp_path / "r.html")] if command == "report" else ["--port", "0"]
    result = cli(command, str(path), *extra)
    assert result.exit_code == 3
    assert "not a ctxlog ledger" in one_error_line(result) or "not a database" in one_error_line(result)
    assert not (tmp_path / "r.html").exists()


def test_report_writes_the_file_and_says_how_large(cli: Invoke, demo_db: str, tmp_path: Path) -> None:
    out = tmp_path / "run.html"
    result = cli("report", demo_db, "-o", str(out))
    assert result.exit_code == 0, result.stderr
    assert result.stdout.startswith(f"wrote {out} (") and result.stdout.strip().endswith("MB)")
    text = out.read_text(encoding="utf-8")
    assert text.startswith("<!doctype html>") and 'id="ctxlog-events"' in text
    assert "<script src=" not in text and '<link rel="stylesheet"' not in text  # nothing to fetch


def test_report_of_a_file_with_several_runs_needs_the_run(cli: Invoke, two_runs_db: str, tmp_path: Path) -> None:
    result = cli("report", two_runs_db, "-o", str(tmp_path / "r.html"))
    assert result.exit_code == 4
    assert "holds 2 runs" in one_error_line(result)
    assert cli("report", two_runs_db, "--run", "beta", "-o", str(tmp_path / "r.html")).exit_code == 0


def test_serve_listens_on_loopback_and_ctrl_c_ends_it_cleanly(demo_db: str) -> None:
    proc = subprocess.Popen(
        [*CTXLOG, "serve", demo_db, "--port", "0"], stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True
    )
    try:
        (line,) = _lines(proc, 1)
        assert line.startswith(f"serving {demo_db} at http://127.0.0.1:")
        url = line.split(" at ", 1)[1]
        stream = urllib.request.urlopen(url + "api/stream", timeout=30)  # a page left open
        assert stream.readline().startswith(b"event: head")
        with urllib.request.urlopen(url + "api/runs", timeout=30) as response:
            assert json.loads(response.read())["runs"][0]["run"] == "demo"
    finally:
        proc.send_signal(signal.SIGINT)
        _, err = proc.communicate(timeout=30)
    stream.close()
    assert proc.returncode == 0 and err == ""

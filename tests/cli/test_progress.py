"""Progress bars: on stderr for long jobs when stderr is a terminal, never otherwise."""

from __future__ import annotations

import io
from pathlib import Path

import pytest

from ctxlog import ContextManager
from ctxlog.audit import PROGRESS_EVERY, export, import_, replay, verify
from ctxlog.cli import options
from ctxlog.cli.options import PROGRESS_MIN_EVENTS, progress_bar

from .conftest import Invoke

EVENTS = PROGRESS_MIN_EVENTS + 2_000


class Terminal(io.StringIO):
    def isatty(self) -> bool:
        return True


@pytest.fixture(scope="module")
def big_db(tmp_path_factory: pytest.TempPathFactory) -> str:
    """One run of EVENTS events (the root's ``initialized`` and sets), without snapshots."""
    path = str(tmp_path_factory.mktemp("big") / "big.db")
    with ContextManager(path, run="big", snapshot_interval=10**9) as mgr, mgr.transaction():
        for i in range(EVENTS - 1):
            mgr.set("i", i)
    return path


def test_no_bar_when_the_stream_is_not_a_terminal() -> None:
    with progress_bar("verifying", io.StringIO()) as report:
        assert report is None


def test_bar_for_a_long_job_on_a_terminal() -> None:
    stream = Terminal()
    with progress_bar("verifying", stream) as report:
        assert report is not None
        report(10_000, PROGRESS_MIN_EVENTS)
        report(20_000, PROGRESS_MIN_EVENTS)
    drawn = stream.getvalue()
    assert "verifying" in drawn and "100%" in drawn and drawn.endswith("\n")


def test_no_bar_for_a_short_job_even_on_a_terminal() -> None:
    stream = Terminal()
    with progress_bar("verifying", stream) as report:
        assert report is not None
        report(10_000, PROGRESS_MIN_EVENTS - 1)
    assert stream.getvalue() == ""


def test_verify_reports_done_and_total_over_its_two_passes(big_db: str) -> None:
    calls: list[tuple[int, int]] = []
    assert verify(big_db, progress=lambda done, total: calls.append((done, total))).ok
    assert calls == [(n, 2 * EVENTS) for n in range(PROGRESS_EVERY, 2 * EVENTS + 1, PROGRESS_EVERY)]


def test_import_reports_done_and_total(big_db: str, tmp_path: Path) -> None:
    exported = io.BytesIO()
    export(big_db, exported)
    exported.seek(0)
    calls: list[tuple[int, int]] = []
    assert import_(str(tmp_path / "copy.db"), exported, progress=lambda d, t: calls.append((d, t))).ok
    assert calls == [(n, EVENTS) for n in range(PROGRESS_EVERY, EVENTS + 1, PROGRESS_EVERY)]


def test_replay_reports_when_it_folds_from_the_start(big_db: str) -> None:
    calls: list[tuple[int, int]] = []
    tree = replay(big_db, progress=lambda done, total: calls.append((done, total)))
    assert calls[-1] == (50_000, EVENTS) and len(calls) == EVENTS // PROGRESS_EVERY
    assert tree == replay(big_db) and tree.get("i") == EVENTS - 2


def test_replay_from_a_near_snapshot_needs_no_progress(tmp_path: Path) -> None:
    path = str(tmp_path / "snap.db")
    with ContextManager(path, run="r") as mgr, mgr.transaction():
        for i in range(2 * PROGRESS_EVERY + 50):
            mgr.set("i", i)
    calls: list[tuple[int, int]] = []
    tree = replay(path, progress=lambda done, total: calls.append((done, total)))
    assert calls == [] and tree.get("i") == 2 * PROGRESS_EVERY + 49


@pytest.mark.parametrize("args", [["verify"], ["tree"], ["replay", "--until", "51000"]])
def test_cli_draws_a_bar_on_a_terminal(
    cli: Invoke, big_db: str, monkeypatch: pytest.MonkeyPatch, args: list[str]
) -> None:
    monkeypatch.setattr(options, "is_terminal", lambda stream: True)
    result = cli(args[0], big_db, *args[1:])
    assert result.exit_code == 0
    assert ("verifying" if args[0] == "verify" else "replaying") in result.stderr


@pytest.mark.parametrize("args", [["verify"], ["tree"]])
def test_cli_draws_nothing_when_stderr_is_not_a_terminal(cli: Invoke, big_db: str, args: list[str]) -> None:
    result = cli(args[0], big_db)
    assert result.exit_code == 0 and result.stderr == ""


def test_cli_draws_nothing_for_a_short_replay_on_a_terminal(
    cli: Invoke, big_db: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(options, "is_terminal", lambda stream: True)
    result = cli("replay", big_db, "--until", "30000")
    assert result.exit_code == 0 and result.stderr == ""

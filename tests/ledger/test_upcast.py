"""Ledgers written by the previous version of an event kind still read, replay and verify."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from ctxlog import ContextManager, replay
from ctxlog.audit import verify
from ctxlog.ledger.codec import decode_event, encode_event
from ctxlog.ledger.events import Failed

FIXTURE = Path(__file__).resolve().parents[1] / "fixtures" / "ledger-v1.db"


@pytest.fixture
def v1(tmp_path: Path) -> str:
    path = tmp_path / "v1.db"
    shutil.copy(FIXTURE, path)
    return str(path)


def test_v1_failed_payload_is_upcast() -> None:
    event = decode_event('{"kind":"failed","error":"ConnectionError: endpoint unavailable: 503"}')
    assert event == Failed(error_type="ConnectionError", message="endpoint unavailable: 503")


def test_v1_failed_without_a_type_keeps_the_whole_text() -> None:
    event = decode_event('{"kind":"failed","error":"it broke"}')
    assert (event.error_type, event.message) == ("", "it broke")  # type: ignore[union-attr]


def test_current_failed_payload_carries_its_version() -> None:
    payload = encode_event(Failed(error_type="KeyError", message="'x'"))
    assert '"v":2' in payload and decode_event(payload) == Failed(error_type="KeyError", message="'x'")


def test_v1_ledger_verifies(v1: str) -> None:
    result = verify(v1)
    assert result.ok and result.events == 12


def test_v1_ledger_replays_with_the_failed_step(v1: str) -> None:
    tree = replay(v1, until="finished")
    assert tree.contexts["publish"].status == "failed"
    assert tree.get("status") == "partial" and tree.get("records") == 120


def test_v1_run_resumes_with_the_current_code(v1: str) -> None:
    with ContextManager(v1, run="v1-run") as mgr:
        with pytest.raises(RuntimeError), mgr.step("retry"):
            raise RuntimeError("again")
        assert mgr.tree.contexts["retry"].status == "failed"
    assert verify(v1).ok

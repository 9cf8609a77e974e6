from __future__ import annotations

import msgspec

from ctxlog.ledger.chain import Chain
from ctxlog.ledger.verify import verify_records
from ctxlog.testing.conformance import make_records


def test_intact_chain_verifies() -> None:
    result = verify_records(make_records([("a", "set"), ("b", "set")]), Chain())
    assert result.ok and (result.events, result.runs, result.head_offset) == (2, 2, 2)


def test_changed_payload_is_found_at_its_offset() -> None:
    rows = make_records([("a", "set")] * 3)
    rows[1] = msgspec.structs.replace(rows[1], payload=rows[1].payload.replace("2", "7"))
    result = verify_records(rows, Chain())
    assert not result.ok and result.bad_offset == 2


def test_missing_row_is_found() -> None:
    rows = make_records([("a", "set")] * 3)
    result = verify_records([rows[0], rows[2]], Chain())
    assert not result.ok and result.bad_offset == 2 and "missing" in (result.reason or "")


def test_swapped_rows_are_found() -> None:
    rows = make_records([("a", "set")] * 3)
    result = verify_records([rows[0], rows[2], rows[1]], Chain())
    assert not result.ok and result.bad_offset == 2


def test_keyed_chain_does_not_verify_without_the_key() -> None:
    rows = make_records([("a", "set")])
    assert not verify_records(rows, Chain(b"secret-ledger-key")).ok


def test_truncation_is_found_against_an_exported_head() -> None:
    rows = make_records([("a", "set")] * 3)
    result = verify_records(rows[:2], Chain(), expect_head=(3, rows[2].hash))
    assert not result.ok and "truncated" in (result.reason or "")


def test_rewritten_log_is_found_against_an_exported_head() -> None:
    rows = make_records([("a", "set")] * 3)
    result = verify_records(rows, Chain(), expect_head=(2, "0" * 64))
    assert not result.ok and result.bad_offset == 2

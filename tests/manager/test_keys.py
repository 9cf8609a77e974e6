"""A keyed ledger: HMAC-SHA256 links, the key checked at open.

``keyed`` (tests/conftest.py) is run ``r`` on a SQLite file, ``a`` set to 1 under the key ``b"secret-ledger-key"``.
"""

from __future__ import annotations

import pytest

from ctxlog import ContextManager, IntegrityError, InvalidArgumentError, KeyMismatchError, replay
from ctxlog.audit import verify


def test_keyed_ledger_verifies_with_its_key(keyed: str) -> None:
    result = verify(keyed, key=b"secret-ledger-key")
    assert result.ok and result.algorithm == "hmac-sha256"


def test_verify_without_the_key_says_the_ledger_is_keyed(keyed: str) -> None:
    with pytest.raises(KeyMismatchError, match="keyed"):
        verify(keyed)


def test_wrong_key_is_refused(keyed: str) -> None:
    with pytest.raises(KeyMismatchError, match="wrong key"):
        ContextManager(keyed, run="r", key=b"guessed-ledger-key")


def test_appending_without_the_key_is_refused(keyed: str) -> None:
    with ContextManager(keyed, run="r") as mgr, pytest.raises(KeyMismatchError):
        mgr.set("b", 2)
    assert verify(keyed, key=b"secret-ledger-key").events == 2


def test_key_for_an_unkeyed_ledger_is_refused_as_a_possible_downgrade(ledger_path: str) -> None:
    ContextManager(ledger_path).close()
    with pytest.raises(IntegrityError, match="possible downgrade"):
        ContextManager(ledger_path, key=b"snapshot-ledger-key")


@pytest.mark.parametrize("key", [b"", b"short", "fifteen bytes!!", b"x" * 1025])
def test_empty_short_and_huge_keys_are_refused(ledger_path: str, key: bytes | str) -> None:
    with pytest.raises(InvalidArgumentError, match="16 to 1024 bytes"):
        ContextManager(ledger_path, key=key)


def test_keyed_ledger_replays_without_the_key(keyed: str) -> None:
    assert replay(keyed).get("a") == 1


def test_str_key_equals_its_utf8_bytes(keyed: str) -> None:
    assert verify(keyed, key="secret-ledger-key").ok

"""Values: JSON-shaped only, exact types kept, limits documented and enforced."""

from __future__ import annotations

import pytest

from ctxlog import MAX_DEPTH, MAX_VALUE_BYTES, ContextManager, InvalidValueError, replay
from ctxlog.projections.values import check_value, copy_value


def nested(depth: int) -> object:
    value: object = 0
    for _ in range(depth):
        value = [value]
    return value


@pytest.mark.parametrize(
    "value", [None, True, False, 0, -7, 2**70, 1.0, -0.5, 1e300, "", "ü", [], {}, [1, "a"], {"a": {"b": [None]}}]
)
def test_json_values_are_accepted(value: object) -> None:
    check_value(value, "k")


@pytest.mark.parametrize(
    "value", [float("nan"), float("inf"), {1, 2}, (1,), frozenset(), b"x", object(), {1: 2}, [1, [float("nan")]]]
)
def test_non_json_values_are_refused(value: object) -> None:
    with pytest.raises(InvalidValueError):
        check_value(value, "k")


def test_depth_limit_is_exact() -> None:
    check_value(nested(MAX_DEPTH), "k")
    with pytest.raises(InvalidValueError, match="deeper"):
        check_value(nested(MAX_DEPTH + 1), "k")


def test_value_over_the_size_limit_is_refused(mgr: ContextManager) -> None:
    with pytest.raises(InvalidValueError, match="limit"):
        mgr.set("big", "x" * (MAX_VALUE_BYTES + 1))
    assert mgr.offset == 0


def test_types_survive_the_round_trip(mgr: ContextManager, ledger_path: str) -> None:
    value = {"int": 1, "float": 1.0, "bool": True, "none": None, "list": [1, 2.0, "3"], "big": 2**80}
    mgr.set("v", value)
    for got in (mgr.get("v"), replay(ledger_path).get("v")):
        assert got == value
        assert [type(x) for x in got.values()] == [type(x) for x in value.values()]
        assert [type(x) for x in got["list"]] == [int, float, str]


def test_copy_value_is_deep() -> None:
    value = {"a": [1, {"b": 2}]}
    copy = copy_value(value)
    copy["a"][1]["b"] = 3
    assert value == {"a": [1, {"b": 2}]}


def test_int_subclass_is_refused_with_a_hint(mgr: ContextManager) -> None:
    class Count(int):
        pass

    with pytest.raises(InvalidValueError, match=r"convert it with int"):
        mgr.set("n", {"inner": Count(3)})


def test_enum_member_is_stored_as_its_value(mgr: ContextManager, ledger_path: str) -> None:
    import enum

    class Level(enum.IntEnum):
        HIGH = 3

    mgr.set("level", Level.HIGH)
    assert type(mgr.get("level")) is int and type(replay(ledger_path).get("level")) is int

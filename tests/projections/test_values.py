"""Values: JSON-shaped only, exact types kept, limits documented and enforced."""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

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


def _depth(value: object) -> int:
    if isinstance(value, dict):
        return 1 + max(map(_depth, value.values()), default=0)
    if isinstance(value, list):
        return 1 + max(map(_depth, value), default=0)
    return 0


_json = st.recursive(
    st.none() | st.booleans() | st.integers() | st.text(alphabet='[]{}"\\ab,:'),
    lambda inner: st.lists(inner, max_size=3) | st.dictionaries(st.text(alphabet='[]{}"\\a'), inner, max_size=3),
    max_leaves=40,
)


@settings(max_examples=300, deadline=None)
@given(inner=_json, extra=st.integers(min_value=MAX_DEPTH - 6, max_value=MAX_DEPTH + 2), wide=st.booleans())
def test_depth_check_on_the_encoded_bytes_matches_a_walk(inner: object, extra: int, wide: bool) -> None:
    """Brackets inside strings never count; the limit is exact however many brackets a value has."""
    value: object = inner
    for i in range(extra):
        value = [value, ']]}}\\"[{'] if i % 2 else {"k[": value}
    if wide:
        value = [value, [[] for _ in range(200)]]
    if _depth(value) > MAX_DEPTH:
        with pytest.raises(InvalidValueError, match="nested deeper"):
            check_value(value, "v")
    else:
        check_value(value, "v")


def test_a_wide_value_with_many_brackets_is_accepted() -> None:
    check_value({"rows": [[{"a": [i]} for i in range(50)] for _ in range(100)]}, "v")

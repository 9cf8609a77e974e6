"""Hostile and broken input: a clear CtxlogError, and the ledger exactly as it was."""

from __future__ import annotations

import shutil
import sqlite3
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from ctxlog import ContextManager, CtxlogError, replay
from ctxlog.audit import verify
from ctxlog.projections.values import MAX_DEPTH, MAX_VALUE_BYTES

SCALARS = (
    st.none() | st.booleans() | st.integers() | st.text(max_size=20) | st.floats(allow_nan=False, allow_infinity=False)
)
JSON = st.recursive(
    SCALARS,
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=8), inner, max_size=4),
    max_leaves=20,
)

NOT_JSON = st.one_of(
    st.just(float("nan")),
    st.just(float("inf")),
    st.just(float("-inf")),
    st.sets(st.integers(), max_size=3),
    st.frozensets(st.integers(), max_size=3),
    st.tuples(st.integers()),
    st.binary(max_size=8),
    st.complex_numbers(allow_nan=False),
    st.builds(object),
    st.dates(),
    st.decimals(allow_nan=False),
    st.dictionaries(st.integers(), st.integers(), min_size=1, max_size=3),
)


def poisoned() -> st.SearchStrategy[object]:
    """A JSON value with one non-JSON value hidden somewhere inside."""
    return st.recursive(
        NOT_JSON,
        lambda inner: (
            st.builds(lambda xs, x: [*xs, x], st.lists(JSON, max_size=3), inner)
            | st.builds(
                lambda d, k, x: {**d, k: x},
                st.dictionaries(st.text(max_size=5), JSON, max_size=3),
                st.text(max_size=5),
                inner,
            )
        ),
        max_leaves=6,
    )


@pytest.fixture(scope="module")
def base(tmp_path_factory: pytest.TempPathFactory) -> str:
    path = str(tmp_path_factory.mktemp("hostile") / "base.db")
    with ContextManager(path, run="r") as mgr:
        mgr.set("config", {"a": [1, 2.5, None]})
        with mgr.step("s"):
            mgr.set("x", "y")
        mgr.checkpoint("cp")
    return path


def state(path: str) -> tuple[int, str]:
    result = verify(path)
    assert result.ok
    return result.events, result.head_hash


TRIED = {"values": 0, "deserialize": 0, "files": 0}


@settings(max_examples=200)
@given(value=poisoned())
def test_non_json_values_are_refused_and_append_nothing(base: str, value: object) -> None:
    TRIED["values"] += 1
    before = state(base)
    with ContextManager(base, run="r") as mgr, pytest.raises(CtxlogError):
        mgr.set("v", value)
    assert state(base) == before


@settings(max_examples=200)
@given(data=st.binary(max_size=200) | st.text(max_size=200).map(str.encode) | JSON.map(lambda v: repr(v).encode()))
def test_deserialize_garbage_is_refused_and_appends_nothing(base: str, data: bytes) -> None:
    TRIED["deserialize"] += 1
    before = state(base)
    with ContextManager(base, run="r") as mgr, pytest.raises(CtxlogError):
        mgr.deserialize(data)
    assert state(base) == before


@settings(max_examples=60)
@given(
    cut=st.floats(min_value=0.0, max_value=0.95),
    flips=st.lists(st.tuples(st.floats(0, 0.999), st.integers(1, 255)), max_size=4),
)
def test_truncated_or_corrupted_file_gives_a_ctxlog_error_or_an_honest_answer(
    base: str, tmp_path_factory: pytest.TempPathFactory, cut: float, flips: list[tuple[float, int]]
) -> None:
    TRIED["files"] += 1
    path = tmp_path_factory.mktemp("broken") / "broken.db"
    shutil.copy(base, path)
    data = bytearray(path.read_bytes())
    for where, xor in flips:
        data[int(where * len(data))] ^= xor
    path.write_bytes(bytes(data[: max(1, int(len(data) * (1 - cut)))] if flips or cut else data))
    for attempt in (lambda: verify(str(path)), lambda: replay(str(path), until="cp")):
        try:
            attempt()
        except CtxlogError as exc:
            assert str(exc)


def test_deep_nesting_is_refused_not_a_crash(base: str) -> None:
    value: object = 1
    for _ in range(MAX_DEPTH * 50):
        value = {"d": value}
    before = state(base)
    with ContextManager(base, run="r") as mgr, pytest.raises(CtxlogError, match="deeper"):
        mgr.set("v", value)
    assert state(base) == before


def test_huge_string_is_refused(base: str) -> None:
    before = state(base)
    with ContextManager(base, run="r") as mgr, pytest.raises(CtxlogError, match="limit"):
        mgr.set("v", "x" * (MAX_VALUE_BYTES + 1))
    assert state(base) == before


@pytest.mark.parametrize("key", [1, None, b"k", ("a",)])
def test_non_str_keys_are_refused(base: str, key: object) -> None:
    before = state(base)
    with ContextManager(base, run="r") as mgr, pytest.raises(CtxlogError):
        mgr.set(key, 1)  # type: ignore[arg-type]
    assert state(base) == before


def test_plain_sqlite_file_is_refused_untouched(tmp_path: Path) -> None:
    path = str(tmp_path / "app.db")
    with sqlite3.connect(path) as conn:
        conn.execute("CREATE TABLE t (x)")
    for attempt in (lambda: ContextManager(path), lambda: replay(path), lambda: verify(path)):
        with pytest.raises(CtxlogError, match="not a ctxlog ledger"):
            attempt()
    with sqlite3.connect(path) as conn:
        assert [r[0] for r in conn.execute("SELECT name FROM sqlite_master")] == ["t"]


def test_empty_file_is_refused_for_reading(tmp_path: Path) -> None:
    path = tmp_path / "empty.db"
    path.write_bytes(b"")
    with pytest.raises(CtxlogError):
        replay(str(path))

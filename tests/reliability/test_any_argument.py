"""Whatever a caller passes to a public operation, what escapes is a CtxlogError or nothing."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from ctxlog import ContextManager, CtxlogError, replay
from ctxlog.audit import verify

ANYTHING = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(),
    st.floats(),
    st.text(max_size=12),
    st.binary(max_size=12),
    st.lists(st.integers(), max_size=3),
    st.dictionaries(st.text(max_size=4), st.integers(), max_size=3),
    st.tuples(st.integers()),
    st.sampled_from(["root", "step", "cp", "inherit", "merge", "1", "-1", ""]),
)

OPERATIONS: dict[str, Callable[[ContextManager, Any, Any], object]] = {
    "initialize": lambda m, a, b: m.initialize(a),
    "set": lambda m, a, b: m.set(a, b),
    "get": lambda m, a, b: m.get(a, b),
    "delete": lambda m, a, b: m.delete(a),
    "enter_step": lambda m, a, b: m.enter_step(a, b),
    "exit_step": lambda m, a, b: m.exit_step(a),
    "create_parallel_context": lambda m, a, b: m.create_parallel_context(a),
    "switch_to": lambda m, a, b: m.switch_to(a),
    "merge_child_to_parent": lambda m, a, b: m.merge_child_to_parent(a, b),
    "begin_isolated": lambda m, a, b: m.begin_isolated(a),
    "end_isolated": lambda m, a, b: m.end_isolated(a, b),
    "checkpoint": lambda m, a, b: m.checkpoint(a),
    "restore": lambda m, a, b: m.restore(a),
    "deserialize": lambda m, a, b: m.deserialize(a),
    "parallel": lambda m, a, b: m.parallel(a, b),
}


@pytest.fixture(scope="module", params=["sqlite", "postgresql"])
def mgr(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory) -> Any:
    if request.param == "sqlite":
        path = str(tmp_path_factory.mktemp("any") / "any.db")
    else:
        path = request.getfixturevalue("pg_cluster").new_schema()
    with ContextManager(path, run="r") as manager:
        manager.set("x", 1)
        manager.enter_step("step")
        manager.checkpoint("cp")
        yield manager


@settings(max_examples=300)
@given(name=st.sampled_from(sorted(OPERATIONS)), a=ANYTHING, b=ANYTHING)
def test_only_ctxlog_errors_escape(mgr: ContextManager, name: str, a: Any, b: Any) -> None:
    try:
        OPERATIONS[name](mgr, a, b)
    except CtxlogError as exc:
        assert str(exc)
    assert mgr.current_id is not None and mgr.tree.contexts[mgr.current_id].status == "active"


def test_the_ledger_still_verifies_and_replays_to_the_live_tree(mgr: ContextManager) -> None:
    location = mgr._session.ledger._store.location
    assert verify(location).ok
    assert replay(location, run="r") == mgr.tree

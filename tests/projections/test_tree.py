from __future__ import annotations

import pytest

from ctxlog import IsolationLevel, UnknownContextError
from ctxlog.projections import ContextTree, ExecutionContext


def small_tree() -> ContextTree:
    tree = ContextTree("r")
    tree.contexts = {
        "root": ExecutionContext(id="root", parent_id=None, name="root", data={"a": 1}, children=["box"]),
        "box": ExecutionContext(
            id="box", parent_id="root", name="box", isolation=IsolationLevel.SANDBOXED, children=["in"]
        ),
        "in": ExecutionContext(id="in", parent_id="box", name="in", data={"b": 2}),
    }
    tree.root_id, tree.current_id = "root", "in"
    return tree


def test_get_from_a_named_context() -> None:
    tree = small_tree()
    assert (tree.get("a", "root"), tree.get("b"), tree.get("a"), tree.get("a", "in", "dflt")) == (1, 2, None, "dflt")


def test_has_tells_stored_none_from_missing() -> None:
    tree = small_tree()
    tree.contexts["in"].data["n"] = None
    assert tree.has("n") and not tree.has("zzz")


def test_path_and_depth() -> None:
    tree = small_tree()
    assert (tree.path(), tree.depth(), tree.depth("root")) == (["root", "box", "in"], 3, 1)


def test_unknown_context_is_an_error() -> None:
    with pytest.raises(UnknownContextError, match="ghost"):
        small_tree().get("a", "ghost")


def test_equality_ignores_position_but_not_types() -> None:
    a, b = small_tree(), small_tree()
    b.offset, b.checkpoints = 99, {"cp": 3}
    assert a == b
    b.contexts["root"].data["a"] = 1.0
    assert a != b


def test_copy_is_independent() -> None:
    tree = small_tree()
    copy = tree.copy()
    copy.contexts["root"].data["a"] = 5
    assert tree.get("a", "root") == 1 and copy != tree


def test_to_dict_has_the_contract_shape() -> None:
    shape = small_tree().to_dict()
    assert set(shape) >= {"run", "offset", "current_id", "root_id", "checkpoints", "contexts"}
    assert set(shape["contexts"]["box"]) >= {"id", "parent_id", "name", "isolation", "status", "data", "children"}
    assert shape["contexts"]["box"]["isolation"] == "sandboxed"

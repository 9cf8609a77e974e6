from __future__ import annotations

from ctxlog import MergePolicy
from ctxlog.projections.merge import deep_merge, merged


def test_keep_existing_keeps_parent_values_including_none() -> None:
    assert merged({"a": 1, "n": None}, {"a": 2, "n": 3, "b": 4}, MergePolicy.KEEP_EXISTING) == {
        "a": 1,
        "n": None,
        "b": 4,
    }


def test_overwrite_lets_child_win() -> None:
    assert merged({"a": 1, "c": 0}, {"a": 2, "b": 4}, MergePolicy.OVERWRITE) == {"a": 2, "c": 0, "b": 4}


def test_merge_recurses_into_maps_and_concatenates_lists() -> None:
    parent = {"m": {"x": 1, "l": [1]}, "keep": True}
    child = {"m": {"y": 2, "l": [2]}}
    assert merged(parent, child, MergePolicy.MERGE) == {"m": {"x": 1, "y": 2, "l": [1, 2]}, "keep": True}


def test_merge_mismatched_types_child_wins() -> None:
    assert deep_merge({"a": 1}, [1]) == [1]
    assert deep_merge([1], "s") == "s"
    assert deep_merge(1, None) is None


def test_merge_does_not_mutate_its_inputs() -> None:
    parent, child = {"m": {"x": [1]}}, {"m": {"x": [2]}}
    merged(parent, child, MergePolicy.MERGE)
    assert (parent, child) == ({"m": {"x": [1]}}, {"m": {"x": [2]}})

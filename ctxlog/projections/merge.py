"""Merge policies as functions of plain data: what a ``merged`` event does to the parent's data."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from .policies import MergePolicy

__all__ = ["deep_merge", "merge_into", "merged"]

Put = Callable[[dict[str, Any], str, Any], None]


def _put(data: dict[str, Any], key: str, value: Any) -> None:
    data[key] = value


def merge_into(parent: dict[str, Any], child: dict[str, Any], policy: MergePolicy, put: Put = _put) -> None:
    """Merge ``child`` into ``parent`` in place with ``policy``, each change through ``put``.

    The cost is the child's keys, not the parent's: a thousand children merged into one parent
    cost a thousand times one merge. KEEP_EXISTING adds only keys the parent lacks (a parent's None
    is not missing); OVERWRITE lets the child win; MERGE goes deep: map+map recursively, list+list
    concatenated, else child wins. New keys come after the parent's, in the child's order.
    """
    if policy is MergePolicy.KEEP_EXISTING:
        for key, value in child.items():
            if key not in parent:
                put(parent, key, value)
    elif policy is MergePolicy.OVERWRITE:
        for key, value in child.items():
            put(parent, key, value)
    else:
        for key, value in child.items():
            put(parent, key, deep_merge(parent[key], value) if key in parent else value)


def merged(parent: dict[str, Any], child: dict[str, Any], policy: MergePolicy) -> dict[str, Any]:
    """The parent's data after merging ``child`` into it with ``policy`` (a new dict; see merge_into)."""
    result = dict(parent)
    merge_into(result, child, policy)
    return result


def deep_merge(old: Any, new: Any) -> Any:
    """MERGE of two values: map+map recursively, list+list concatenated, anything else ``new``.
    Neither value is changed: the maps and lists merged are new ones."""
    if type(old) is dict and type(new) is dict:
        result = dict(old)
        for key, value in new.items():
            result[key] = deep_merge(result[key], value) if key in result else value
        return result
    if type(old) is list and type(new) is list:
        return old + new
    return new

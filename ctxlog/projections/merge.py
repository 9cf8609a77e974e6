"""Merging a child's own data into its parent's, by policy. Pure: inputs are never mutated."""

from __future__ import annotations

from typing import Any

from .policies import MergePolicy

__all__ = ["deep_merge", "merged"]


def merged(parent: dict[str, Any], child: dict[str, Any], policy: MergePolicy) -> dict[str, Any]:
    """The parent's data after merging ``child`` into it with ``policy``.

    KEEP_EXISTING adds only keys the parent lacks (a parent's None is not missing); OVERWRITE lets
    the child win; MERGE goes deep: map+map recursively, list+list concatenated, else child wins.
    """
    result = dict(parent)
    if policy is MergePolicy.KEEP_EXISTING:
        for key, value in child.items():
            if key not in result:
                result[key] = value
    elif policy is MergePolicy.OVERWRITE:
        result.update(child)
    else:
        for key, value in child.items():
            result[key] = deep_merge(result[key], value) if key in result else value
    return result


def deep_merge(old: Any, new: Any) -> Any:
    """MERGE of two values: map+map recursively, list+list concatenated, anything else ``new``."""
    if type(old) is dict and type(new) is dict:
        result = dict(old)
        for key, value in new.items():
            result[key] = deep_merge(result[key], value) if key in result else value
        return result
    if type(old) is list and type(new) is list:
        return old + new
    return new

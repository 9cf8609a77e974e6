"""The two small vocabularies of the context tree: how a child reads, how it merges back."""

from __future__ import annotations

import enum

__all__ = ["AUTO_PREFIX", "IsolationLevel", "MergePolicy", "is_auto_name"]


class IsolationLevel(str, enum.Enum):
    """How a context reads its ancestors' data.

    INHERIT and ISOLATED read their own data, then their parent's, up to the root; ISOLATED marks
    a child whose writes siblings never see (parallel branches). SANDBOXED reads only its own data.
    """

    INHERIT = "inherit"
    ISOLATED = "isolated"
    SANDBOXED = "sandboxed"


class MergePolicy(str, enum.Enum):
    """How a child's own data is merged into its parent.

    KEEP_EXISTING: the parent wins, only keys it lacks are added. OVERWRITE: the child wins.
    MERGE: deep; map+map merge recursively, list+list concatenate, anything else the child wins.
    """

    KEEP_EXISTING = "keep_existing"
    OVERWRITE = "overwrite"
    MERGE = "merge"


AUTO_PREFIX = "auto-"
"""Automatic checkpoints are named ``auto-<offset>``; such names are reserved."""


def is_auto_name(name: str) -> bool:
    """Whether ``name`` has the reserved form of an automatic checkpoint."""
    return name.startswith(AUTO_PREFIX) and name[len(AUTO_PREFIX) :].isdigit()

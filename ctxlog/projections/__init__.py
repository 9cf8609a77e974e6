"""Projections: pure folds of events into state, and the vocabulary of that state.

Nothing here does I/O: a projection is a function of event values (``fold``, ``apply``), of trees
(``diff_trees``, ``check_tree_state``) or of plain values (``merged``, ``encode_value``). It imports
only ``ctxlog.errors`` and the event types of ``ctxlog.ledger``; the layers above import it from
here, never from its modules.
"""

from __future__ import annotations

from .check import check_tree_state
from .diff import ContextDiff, KeyChange, TreeDiff, by_name_path, diff_trees
from .folds import apply, fold
from .journal import journal_mark, revert_journal, start_journal
from .lineage import fork_state
from .merge import deep_merge, merge_into, merged
from .policies import AUTO_PREFIX, IsolationLevel, MergePolicy, is_auto_name
from .state import TREE_FORMAT, ExecutionContext, ProjectionState, TreeState, decode_tree_state
from .tree import MAX_SNAPSHOT_BYTES, UNREADABLE_SNAPSHOT, ContextTree, identical, inflated
from .values import (
    MAX_DEPTH,
    MAX_VALUE_BYTES,
    check_key,
    check_value,
    copy_value,
    encode_value,
    json_copy,
    utf8_text,
)

__all__ = [
    "AUTO_PREFIX",
    "MAX_DEPTH",
    "MAX_SNAPSHOT_BYTES",
    "MAX_VALUE_BYTES",
    "TREE_FORMAT",
    "UNREADABLE_SNAPSHOT",
    "ContextDiff",
    "ContextTree",
    "ExecutionContext",
    "IsolationLevel",
    "KeyChange",
    "MergePolicy",
    "ProjectionState",
    "TreeDiff",
    "TreeState",
    "apply",
    "check_key",
    "check_tree_state",
    "check_value",
    "copy_value",
    "decode_tree_state",
    "deep_merge",
    "by_name_path",
    "diff_trees",
    "encode_value",
    "fold",
    "fork_state",
    "identical",
    "inflated",
    "is_auto_name",
    "journal_mark",
    "json_copy",
    "merge_into",
    "merged",
    "revert_journal",
    "start_journal",
    "utf8_text",
]

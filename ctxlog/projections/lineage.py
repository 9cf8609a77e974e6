"""Forks: a run that starts as another stood at one of its offsets.

The ``forked`` event carries the source's projection there (tree, checkpoints, every id it used),
so the fork's tree equals the source's and its checkpoints up to that point stay restorable (they
name offsets of the source, whose history is the fork's too). Applying it is a pure step of the
fold; verify checks the state against the source's own fold and the recorded hash against the row.
"""

from __future__ import annotations

import msgspec

from ..ledger import Forked, Record
from .check import check_tree_state
from .journal import assign, know
from .state import ProjectionState
from .tree import ContextTree

__all__ = ["apply_fork", "fork_state"]

_decoder = msgspec.json.Decoder(ProjectionState)


def fork_state(tree: ContextTree) -> bytes:
    """What a fork of ``tree`` carries: its projection (tree, checkpoints, used ids, position)."""
    return tree.snapshot_bytes()


def apply_fork(tree: ContextTree, r: Record, e: Forked) -> None:
    """Make the empty ``tree`` the fork ``e`` of row ``r`` carries; ValueError when ``r`` is not
    the first row of a new run, or the state is no valid projection with ``r``'s context current."""
    if r.seq != 1 or e.source_run == r.run or not 0 < e.source_offset < r.offset:
        raise ValueError(f"a fork is seq 1 of a new run, from an earlier offset of another run (seq {r.seq})")
    state, context = _decoder.decode(e.state), r.context
    check_tree_state(state.tree)
    if not state.tree.contexts.keys() <= set(state.known_ids):
        raise ValueError("its contexts are not all among the ids it says the source used")
    if state.tree.current_id != context:
        raise ValueError(f"it acts on {context!r}, but the tree it carries has {state.tree.current_id!r} current")
    if any(not 0 < offset <= state.offset for offset in state.checkpoints.values()):
        raise ValueError("it carries a checkpoint past the point it forks from")
    assign(tree, tree, "contexts", state.tree.contexts)
    assign(tree, tree, "current_id", state.tree.current_id)
    assign(tree, tree, "root_id", state.tree.root_id)
    assign(tree, tree, "checkpoints", dict(state.checkpoints))
    know(tree, state.known_ids)

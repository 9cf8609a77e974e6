"""The command side: ``ContextManager`` and its branches, over one live session of a run.

``manager.py`` holds the public operations, ``branches.py`` the branch handles and the parallel
runners, ``steps.py`` the one step protocol, ``edits.py`` the edits both share, ``history.py``
checkpoints, restore and (de)serialization, ``session.py`` the ledger, tree, lock and unit of work
of a run (it imports nothing of the rest), and ``arguments.py`` the checks every argument passes
before anything is appended.
"""

from __future__ import annotations

from .branches import Branch, current
from .forks import ForkInfo
from .history import Checkpoint
from .lifecycle import INTERRUPTED
from .manager import ContextManager, fork
from .session import load_tree
from .steps import Step
from .timeline import carried, current_timeline

__all__ = [
    "INTERRUPTED",
    "Branch",
    "Checkpoint",
    "ContextManager",
    "ForkInfo",
    "Step",
    "carried",
    "current",
    "fork",
    "load_tree",
    "current_timeline",
]

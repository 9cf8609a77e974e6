"""A LangGraph checkpointer on a ctxlog ledger (``pip install 'ctxlog[langgraph]'``).

::

    from langgraph.graph import StateGraph
    from ctxlog.integrations.langgraph import CtxlogSaver

    graph = builder.compile(checkpointer=CtxlogSaver("agent.db"))

A thread is a run, a checkpoint a ctxlog checkpoint, a namespace (a subgraph) a child context;
see ``docs/langgraph.md`` for the whole mapping.
"""

from __future__ import annotations

from .. import require

require("langgraph", "langgraph.checkpoint.base")

from .codec import DecodeError  # noqa: E402
from .saver import CtxlogSaver  # noqa: E402

__all__ = ["CtxlogSaver", "DecodeError"]

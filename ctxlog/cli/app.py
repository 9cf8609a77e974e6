"""The ``ctxlog`` click group. Each command is a thin layer over one function of ``ctxlog.audit``."""

from __future__ import annotations

import click

from .. import __version__
from .commands_chain import demo, export, import_, migrate, verify
from .commands_log import checkpoints, head, log, runs, stats
from .commands_runs import fork
from .commands_tree import diff, get, graph, replay, tree
from .commands_view import report, serve
from .errors import CtxlogGroup

__all__ = ["main"]


@click.group(cls=CtxlogGroup)
@click.version_option(__version__, prog_name="ctxlog")
def main() -> None:
    """Audit and replay ctxlog ledgers. Only `demo`, `import`, `migrate` and `fork` ever write to a ledger.

    Exit codes: 0 ok, 1 verification failed or not found, 2 usage, 3 not a (usable) ledger,
    4 unknown run/checkpoint/context, 5 key missing or wrong.

    \b
    Example:
      ctxlog demo ctx.db && ctxlog replay ctx.db --until validated
    """


for _command in (
    replay,
    tree,
    log,
    runs,
    checkpoints,
    get,
    diff,
    verify,
    head,
    export,
    import_,
    migrate,
    graph,
    stats,
    demo,
    serve,
    report,
    fork,
):
    main.add_command(_command)

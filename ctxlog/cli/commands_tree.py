"""Commands about the context tree at a point of a run: replay, tree, get, diff, graph."""

from __future__ import annotations

import click

from .. import ContextTree, audit
from .options import (
    json_option,
    key_file_option,
    ledger_argument,
    ledger_key_file_option,
    progress_bar,
    run_option,
    until_option,
    verify_option,
)
from .render import diff_lines, to_json, tree_lines

__all__ = ["diff", "get", "graph", "replay", "tree"]


def _echo_tree(tree: ContextTree, as_json: bool) -> None:
    click.echo(to_json(tree.to_dict()) if as_json else "\n".join(tree_lines(tree)))


@click.command()
@ledger_argument
@run_option
@until_option(required=True)
@verify_option
@key_file_option
@json_option
def replay(ledger: str, run: str | None, until: str, verify: bool, key: bytes | None, as_json: bool) -> None:
    """Show the context tree as it stood at a checkpoint or offset.

    Each context is a line: id, [isolation, status], its own data; `*` marks the current one.
    With --verify the chain of every row folded is checked as it streams.

    \b
    Example:
      ctxlog replay ctx.db --until validated
    """
    with progress_bar("replaying") as report:
        tree = audit.replay(ledger, run=run, until=until, verify=verify, key=key, progress=report)
    _echo_tree(tree, as_json)


@click.command()
@ledger_argument
@run_option
@verify_option
@key_file_option
@json_option
def tree(ledger: str, run: str | None, verify: bool, key: bytes | None, as_json: bool) -> None:
    """Show the context tree at the head of a run.

    With --verify the chain of every row folded is checked as it streams.

    \b
    Example:
      ctxlog tree ctx.db --json
    """
    with progress_bar("replaying") as report:
        head_tree = audit.tree(ledger, run=run, verify=verify, key=key, progress=report)
    _echo_tree(head_tree, as_json)


@click.command()
@ledger_argument
@click.argument("key")
@run_option
@click.option("--context", "context", metavar="ID", default=None, help="Resolve from this context (default: current).")
@until_option()
@verify_option
@ledger_key_file_option
def get(
    ledger: str,
    key: str,
    run: str | None,
    context: str | None,
    until: str | None,
    verify: bool,
    ledger_key: bytes | None,
) -> None:
    """Print the value of KEY as JSON, as a context would resolve it.

    Own data first, then the parents' (unless the context is sandboxed). Exits 1 when no
    context on the lookup path holds KEY; a stored null prints `null` and exits 0.

    \b
    Example:
      ctxlog get ctx.db records --context load --until loaded
    """
    value = audit.get(ledger, key, run=run, context=context, until=until, verify=verify, ledger_key=ledger_key)
    click.echo(to_json(value))


@click.command()
@ledger_argument
@click.argument("a", metavar="A")
@click.argument("b", metavar="B")
@run_option
@click.option(
    "--against", "against", metavar="RUN", default=None, help="Read B in this other run; match contexts by name path."
)
@verify_option
@key_file_option
@json_option
def diff(
    ledger: str, a: str, b: str, run: str | None, against: str | None, verify: bool, key: bytes | None, as_json: bool
) -> None:
    """Show what changed between checkpoints (or offsets) A and B.

    One line per change, starting with the context it is about: contexts added or removed,
    status changes, keys added (+), changed (~, old -> new) and removed (-). With --against,
    B is a point of another run (a fork, another run of the plan; `""` for its head) and
    contexts are matched by their name path (root/plan/fetch) instead of their id.

    \b
    Example:
      ctxlog diff ctx.db loaded validated
      ctxlog diff ctx.db validated "" --run demo --against demo-retry
    """
    changes = audit.diff(ledger, a, b, run=run, against=against, verify=verify, key=key)
    click.echo(to_json(changes) if as_json else "\n".join(diff_lines(changes, a, b if b != "" else "head")))


@click.command()
@ledger_argument
@run_option
@until_option()
@click.option(
    "--format",
    "fmt",
    type=click.Choice(audit.GRAPH_FORMATS),
    default="mermaid",
    show_default=True,
    help="Mermaid `graph TD` or Graphviz `digraph` source.",
)
@verify_option
@key_file_option
def graph(ledger: str, run: str | None, until: str | None, fmt: str, verify: bool, key: bytes | None) -> None:
    """Print the context hierarchy as diagram source, labelled with ids and statuses.

    Parallel contexts are drawn rounded (Mermaid) or dashed (Graphviz), failed ones red.

    \b
    Example:
      ctxlog graph ctx.db --format dot | dot -Tsvg > run.svg
    """
    click.echo(audit.graph(ledger, run=run, until=until, format=fmt, verify=verify, key=key), nl=False)

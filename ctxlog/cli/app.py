"""The click application. Each command is a thin layer over one public library call."""

from __future__ import annotations

import json
import sys
from collections.abc import Iterator
from contextlib import contextmanager

import click

from .. import __version__
from ..audit import verify as verify_ledger
from ..demo import write_demo
from ..errors import CtxlogError, IntegrityError
from ..replay import replay as replay_tree
from .render import tree_lines


class CtxlogClickError(click.ClickException):
    """A user error: one line on stderr, exit code ``exit_code``."""

    exit_code = 2


@contextmanager
def user_errors() -> Iterator[None]:
    """Map library errors to one clear line on stderr and a non-zero exit."""
    try:
        yield
    except IntegrityError as exc:
        raise CtxlogClickError(str(exc)) from exc
    except CtxlogError as exc:
        raise CtxlogClickError(str(exc)) from exc


def _echo_tree(tree, as_json: bool) -> None:  # type: ignore[no-untyped-def]
    if as_json:
        click.echo(json.dumps(tree.to_dict(), ensure_ascii=False))
    else:
        click.echo("\n".join(tree_lines(tree)))


@click.group()
@click.version_option(__version__, prog_name="ctxlog")
def main() -> None:
    """Audit and replay ctxlog ledgers.

    \b
    Example:
      ctxlog demo ctx.db && ctxlog replay ctx.db --until validated
    """


@main.command()
@click.argument("ledger", type=click.Path(dir_okay=False))
@click.option("--run", "run", default=None, help="The run (may be left out when the file holds one).")
@click.option("--until", "until", required=True, help="A checkpoint name or an event offset.")
@click.option("--json", "as_json", is_flag=True, help="Print the tree as JSON.")
def replay(ledger: str, run: str | None, until: str, as_json: bool) -> None:
    """Show the context tree as it stood at a checkpoint or offset.

    \b
    Example:
      ctxlog replay ctx.db --until validated
    """
    with user_errors():
        _echo_tree(replay_tree(ledger, run=run, until=until), as_json)


@main.command()
@click.argument("ledger", type=click.Path(dir_okay=False))
@click.option("--run", "run", default=None, help="The run (may be left out when the file holds one).")
@click.option("--json", "as_json", is_flag=True, help="Print the tree as JSON.")
def tree(ledger: str, run: str | None, as_json: bool) -> None:
    """Show the context tree at the head of a run.

    \b
    Example:
      ctxlog tree ctx.db --json
    """
    with user_errors():
        _echo_tree(replay_tree(ledger, run=run), as_json)


@main.command()
@click.argument("ledger", type=click.Path(dir_okay=False))
@click.option("--key-file", type=click.File("rb"), default=None, help="File holding the ledger key.")
def verify(ledger: str, key_file: click.utils.LazyFile | None) -> None:
    """Recompute the hash chain; exit 0 when intact, 1 naming the first bad offset.

    \b
    Example:
      ctxlog verify ctx.db
    """
    key = key_file.read().strip() if key_file is not None else None
    with user_errors():
        result = verify_ledger(ledger, key=key)
    if not result.ok:
        click.echo(result.summary(), err=True)
        sys.exit(1)
    click.echo(result.summary())


@main.command()
@click.argument("ledger", type=click.Path(dir_okay=False), default="demo.db")
def demo(ledger: str) -> None:
    """Write a sample run (a validation workflow with parallel workers) to LEDGER.

    \b
    Example:
      ctxlog demo demo.db
    """
    with user_errors():
        mgr = write_demo(ledger)
    click.echo(f"wrote run {mgr.run!r} to {ledger} ({mgr.offset} events); try: ctxlog replay {ledger} --until validated")

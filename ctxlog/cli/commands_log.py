"""Commands about the log itself: log, runs, checkpoints, head, stats."""

from __future__ import annotations

import click

from .. import audit
from .options import json_option, ledger_argument, run_option, until_option
from .render import (
    LOG_HEADER,
    checkpoint_json,
    checkpoints_lines,
    log_json,
    log_line,
    run_json,
    runs_lines,
    stats_lines,
    to_json,
)

__all__ = ["checkpoints", "head", "log", "runs", "stats"]


@click.command()
@ledger_argument
@run_option
@click.option(
    "--since",
    "since",
    metavar="OFFSET",
    type=click.IntRange(min=0),
    default=None,
    help="Only events after this offset (e.g. a head printed earlier).",
)
@until_option(help="Only events up to this checkpoint or offset.")
@click.option(
    "--kind", "kinds", type=click.Choice(audit.KINDS), multiple=True, help="Only events of this kind (repeatable)."
)
@click.option("--context", "context", metavar="ID", default=None, help="Only events that acted on this context.")
@json_option
def log(
    ledger: str,
    run: str | None,
    since: int | None,
    until: str | None,
    kinds: tuple[str, ...],
    context: str | None,
    as_json: bool,
) -> None:
    """Print the causal chain: one event a line, streamed.

    Columns: offset, seq (position in the run), time (UTC), kind, context, cause (the offset of
    the event that caused it: the enclosing step's `entered`), and the payload, shortened.
    With --json, one JSON object a line with every column and the whole payload.

    \b
    Example:
      ctxlog log ctx.db --kind checkpoint --kind failed
    """
    with audit.log(ledger, run=run, since=since, until=until, kinds=kinds, context=context) as stream:
        if not as_json:
            click.echo(LOG_HEADER)
        for record in stream:
            click.echo(log_json(record) if as_json else log_line(record))


@click.command()
@ledger_argument
@json_option
def runs(ledger: str, as_json: bool) -> None:
    """List the runs of a ledger: events, offsets, first and last time, checkpoints.

    \b
    Example:
      ctxlog runs ctx.db
    """
    infos = audit.runs(ledger)
    click.echo("\n".join(run_json(i) for i in infos) if as_json else "\n".join(runs_lines(infos)))


@click.command()
@ledger_argument
@run_option
@json_option
def checkpoints(ledger: str, run: str | None, as_json: bool) -> None:
    """List the checkpoints of a run: name, offset, time; automatic ones are marked `auto`.

    \b
    Example:
      ctxlog checkpoints ctx.db
    """
    infos = audit.checkpoints(ledger, run=run)
    if as_json:
        for info in infos:
            click.echo(checkpoint_json(info))
    else:
        click.echo("\n".join(checkpoints_lines(infos)))


@click.command()
@ledger_argument
def head(ledger: str) -> None:
    """Print OFFSET:HASH of the last event, to check later that nothing was cut off.

    Keep the line somewhere safe; `ctxlog verify LEDGER --head OFFSET:HASH` then fails if the
    log was truncated or rewritten up to that event.

    \b
    Example:
      ctxlog head ctx.db
    """
    offset, digest = audit.head(ledger)
    click.echo(f"{offset}:{digest}")


@click.command()
@ledger_argument
@json_option
def stats(ledger: str, as_json: bool) -> None:
    """Show the size and shape of a ledger: events by kind, runs, bytes on disk and per event.

    \b
    Example:
      ctxlog stats ctx.db
    """
    result = audit.stats(ledger)
    click.echo(to_json(result) if as_json else "\n".join(stats_lines(result)))

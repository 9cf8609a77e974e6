"""Commands about the log itself: log, runs, checkpoints, head, stats."""

from __future__ import annotations

import click

from .. import audit
from .commands_view import tail
from .options import (
    echo_lines,
    json_option,
    key_file_option,
    ledger_argument,
    run_option,
    until_option,
    verify_option,
)
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
@click.option("--follow", "-f", "follow", is_flag=True, help="Then print events as they are committed, until Ctrl-C.")
@verify_option
@key_file_option
@json_option
def log(
    ledger: str,
    run: str | None,
    since: int | None,
    until: str | None,
    kinds: tuple[str, ...],
    context: str | None,
    follow: bool,
    verify: bool,
    key: bytes | None,
    as_json: bool,
) -> None:
    """Print the causal chain: one event a line, streamed.

    Columns: offset, seq (position in the run), time (UTC), kind, context, cause (the offset of
    the event that caused it: the enclosing step's `entered`), and the payload, shortened.
    With --json, one JSON object a line with every column and the whole payload.
    With --follow, of one run or (without --run) of all, it then waits for new events (like
    `tail -f`); Ctrl-C ends it.

    \b
    Example:
      ctxlog log ctx.db --kind checkpoint --kind failed
    """
    if follow:
        return tail(ledger, run, since, until, kinds, context, verify, key, as_json)
    options = {"run": run, "since": since, "until": until, "kinds": kinds, "context": context}
    with audit.log(ledger, **options, verify=verify, key=key) as stream:  # type: ignore[arg-type]
        if not as_json:
            click.echo(LOG_HEADER)
        echo_lines(log_json(r) for r in stream) if as_json else echo_lines(log_line(r) for r in stream)


@click.command()
@ledger_argument
@verify_option
@key_file_option
@json_option
def runs(ledger: str, verify: bool, key: bytes | None, as_json: bool) -> None:
    """List the runs of a ledger: events, offsets, first and last time, checkpoints (streamed).

    \b
    Example:
      ctxlog runs ctx.db
    """
    with audit.runs(ledger, verify=verify, key=key) as infos:
        echo_lines(run_json(i) for i in infos) if as_json else echo_lines(runs_lines(infos))


@click.command()
@ledger_argument
@run_option
@verify_option
@key_file_option
@json_option
def checkpoints(ledger: str, run: str | None, verify: bool, key: bytes | None, as_json: bool) -> None:
    """List the checkpoints of a run: name, offset, time; automatic ones are marked `auto`.

    \b
    Example:
      ctxlog checkpoints ctx.db
    """
    with audit.checkpoints(ledger, run=run, verify=verify, key=key) as infos:
        echo_lines(checkpoint_json(i) for i in infos) if as_json else echo_lines(checkpoints_lines(infos))


@click.command()
@ledger_argument
@verify_option
@key_file_option
def head(ledger: str, verify: bool, key: bytes | None) -> None:
    """Print OFFSET:HASH of the last event, to check later that nothing was cut off.

    Keep the line somewhere safe; `ctxlog verify LEDGER --head OFFSET:HASH` then fails if the
    log was truncated or rewritten up to that event.

    \b
    Example:
      ctxlog head ctx.db
    """
    offset, digest = audit.head(ledger, verify=verify, key=key)
    click.echo(f"{offset}:{digest}")


@click.command()
@ledger_argument
@verify_option
@key_file_option
@json_option
def stats(ledger: str, verify: bool, key: bytes | None, as_json: bool) -> None:
    """Show the size and shape of a ledger: events by kind, runs, bytes on disk and per event.

    \b
    Example:
      ctxlog stats ctx.db
    """
    result = audit.stats(ledger, verify=verify, key=key)
    click.echo(to_json(result) if as_json else "\n".join(stats_lines(result)))

"""Commands that start runs from other runs: fork."""

from __future__ import annotations

import click

from .. import audit
from .options import json_option, key_file_option, ledger_argument, run_option
from .render import to_json

__all__ = ["fork"]


@click.command()
@ledger_argument
@run_option
@click.option("--at", "at", metavar="CHECKPOINT|OFFSET", default=None, help="Where to fork (default: the head).")
@click.option("--as", "new_run", metavar="NEW", required=True, help="The new run's name (it must not exist).")
@key_file_option
@json_option
def fork(ledger: str, run: str | None, at: str | None, new_run: str, key: bytes | None, as_json: bool) -> None:
    """Start run NEW where RUN stood at a checkpoint or offset: its tree, its checkpoints up to there.

    One `forked` event records the source run, offset and that row's hash (which verify checks);
    nothing of the source is copied or changed.

    \b
    Example:
      ctxlog fork ctx.db --run plan-42 --at validated --as plan-42-retry
    """
    info = audit.fork(ledger, run=run, at=at, new_run=new_run, key=key)
    if as_json:
        click.echo(to_json(info))
        return
    click.echo(
        f"forked {info.source_run} at offset {info.source_offset} as {info.run} (event {info.offset}); "
        f"{len(info.checkpoints)} checkpoint(s) carried: {', '.join(info.checkpoints) or '(none)'}"
    )

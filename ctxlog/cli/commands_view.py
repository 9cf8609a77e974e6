"""Commands that watch a ledger: ``log --follow`` (its loop), serve and report."""

from __future__ import annotations

import click

from .. import audit, web
from .options import key_file_option, ledger_argument, run_option
from .render import LOG_HEADER, log_json, log_line

__all__ = ["report", "serve", "tail"]


def tail(
    ledger: str,
    run: str | None,
    since: int | None,
    until: str | None,
    kinds: tuple[str, ...],
    context: str | None,
    verify: bool,
    key: bytes | None,
    as_json: bool,
) -> None:
    """``log --follow``: print each event of ``audit.follow`` as it is committed, until Ctrl-C."""
    if until is not None or verify:
        raise click.UsageError("--follow cannot be combined with --until or --verify")
    records = audit.follow(ledger, run=run, after=since or 0, kinds=kinds, context=context, key=key)
    try:
        if not as_json:
            click.echo(LOG_HEADER)
        for r in records:
            click.echo(log_json(r) if as_json else log_line(r))
    except KeyboardInterrupt:
        pass
    finally:
        records.close()  # type: ignore[attr-defined]


@click.command()
@ledger_argument
@click.option("--host", "host", default="127.0.0.1", show_default=True, help="The address to listen on.")
@click.option(
    "--port",
    "port",
    type=click.IntRange(0, 65535),
    default=web.DEFAULT_PORT,
    show_default=True,
    help="The port (0: any free one).",
)
@key_file_option
def serve(ledger: str, host: str, port: int, key: bytes | None) -> None:
    """Serve a read-only viewer of the ledger in the browser, until Ctrl-C.

    Views: the runs; for a run its timeline, the context tree at any offset (with a scrubber
    and the checkpoints), a diff between two points, and the chain with the verify badge. The
    pages update by themselves while the ledger is written. Needs `pip install 'ctxlog[web]'`.

    \b
    Example:
      ctxlog serve ctx.db --port 8765
    """
    try:
        web.serve(ledger, host=host, port=port, key=key, ready=lambda url: click.echo(f"serving {ledger} at {url}"))
    except KeyboardInterrupt:
        pass


@click.command()
@ledger_argument
@run_option
@click.option("-o", "--output", "output", metavar="FILE.html", required=True, help="The HTML file to write.")
@key_file_option
def report(ledger: str, run: str | None, output: str, key: bytes | None) -> None:
    """Write one run as one self-contained HTML file (data and scripts inline) that opens offline.

    \b
    Example:
      ctxlog report ctx.db -o run.html
    """
    size = web.report(ledger, run=run, out=output, key=key)
    click.echo(f"wrote {output} ({size / 1e6:.1f} MB)")

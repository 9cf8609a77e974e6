"""Commands about the chain and the file as a whole: verify, export, import, demo."""

from __future__ import annotations

import click

from .. import audit
from ..audit import redacted
from .errors import Failed
from .options import HeadType, key_file_option, ledger_argument, output_file, progress_bar

__all__ = ["demo", "export", "import_", "verify"]


@click.command()
@ledger_argument
@key_file_option
@click.option(
    "--head",
    "head",
    type=HeadType(),
    default=None,
    help="OFFSET:HASH printed earlier by `ctxlog head`: also fail if the log was cut or rewritten.",
)
def verify(ledger: str, key: bytes | None, head: tuple[int, str] | None) -> None:
    """Recompute the hash chain; exit 0 when intact, 1 naming the first bad offset.

    \b
    Example:
      ctxlog verify ctx.db --head "$(cat ctx.head)"
    """
    with progress_bar("verifying") as report:
        result = audit.verify(ledger, key=key, head=head, progress=report)
    if not result.ok:
        raise Failed(f"{redacted(ledger)}: chain broken at offset {result.bad_offset}: {result.reason}")
    click.echo(result.summary())


@click.command(name="export")
@ledger_argument
@click.option(
    "-o",
    "--output",
    "output",
    type=click.Path(dir_okay=False, allow_dash=True, path_type=str),
    default="-",
    help="Write to this file instead of stdout (replaced only when the export is complete).",
)
def export(ledger: str, output: str) -> None:
    """Write the whole ledger as JSON Lines: a header, then one event a line.

    Every column is kept, the payload as its exact stored text, so `ctxlog import` re-verifies
    the chain byte for byte.

    \b
    Example:
      ctxlog export ctx.db -o ctx.jsonl
    """
    with output_file(output) as out:
        header = audit.export(ledger, out)
    if output != "-":
        click.echo(f"exported {header.events} events of {redacted(ledger)} to {output}, head {header.head}", err=True)


@click.command(name="import")
@ledger_argument
@click.argument("source", metavar="FILE", type=click.Path(exists=True, dir_okay=False, allow_dash=True, path_type=str))
@key_file_option
def import_(ledger: str, source: str, key: bytes | None) -> None:
    """Create LEDGER from an export FILE (`-` for stdin), verifying every event first.

    LEDGER must be new or hold no events. Nothing is written when any row fails to verify.
    A keyed export needs --key-file.

    \b
    Example:
      ctxlog import copy.db ctx.jsonl
    """
    with click.open_file(source, "rb") as lines, progress_bar("importing") as report:
        result = audit.import_(ledger, lines, key=key, name=source, progress=report)
    click.echo(
        f"imported {result.events} events in {result.runs} run(s) into {redacted(ledger)}: chain intact "
        f"({result.algorithm}), head {result.head_offset}:{result.head_hash}"
    )


@click.command()
@click.argument("ledger", type=click.Path(path_type=str), default="demo.db")
def demo(ledger: str) -> None:
    """Write a sample run (a validation workflow with parallel workers) to LEDGER.

    The run is called `demo` (`demo-2` … when the file already holds one).

    \b
    Example:
      ctxlog demo demo.db
    """
    tree = audit.demo(ledger)
    shown = redacted(ledger)
    click.echo(f"wrote run {tree.run!r} to {shown} ({tree.seq} events); try: ctxlog replay {shown} --until validated")

"""Commands about the chain and the file as a whole: verify, export, import, migrate, demo."""

from __future__ import annotations

import os

import click

from .. import audit
from ..audit import redacted
from .errors import BadFile, Failed
from .options import (
    HeadType,
    import_source_argument,
    json_option,
    key_file_option,
    ledger_argument,
    output_file,
    progress_bar,
    run_option,
    verify_option,
)
from .render import to_json

__all__ = ["LEDGER_FILES", "demo", "export", "import_", "migrate", "verify"]

LEDGER_FILES = ("", "-wal", "-shm", "-journal")
"""A SQLite ledger's files: an export never overwrites one of them."""


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
@json_option
def verify(ledger: str, key: bytes | None, head: tuple[int, str] | None, as_json: bool) -> None:
    """Check that every reader shows what was written; exit 0 when so, 1 naming the first bad offset.

    Recomputes the hash chain of every row from the ledger's genesis, counts the rows, runs the
    engine's integrity check, and folds every run as readers do. With --json the result is printed
    as one JSON object, whatever it is.

    \b
    Example:
      ctxlog verify ctx.db --head "$(cat ctx.head)"
    """
    with progress_bar("verifying") as report:
        result = audit.verify(ledger, key=key, head=head, progress=report)
    if as_json:
        click.echo(to_json(result))
    if not result.ok:
        where = f"chain broken at offset {result.bad_offset}" if result.bad_offset is not None else "does not verify"
        raise Failed(f"{redacted(ledger)}: {where}: {result.reason}")
    if not as_json:
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
@verify_option
@key_file_option
@click.option(
    "--format",
    "fmt",
    type=click.Choice(["jsonl", "otlp"]),
    default="jsonl",
    show_default=True,
    help="jsonl: the whole ledger, to import again; otlp: one run as OpenTelemetry traces (OTLP/JSON).",
)
@run_option
def export(ledger: str, output: str, verify: bool, key: bytes | None, fmt: str, run: str | None) -> None:
    """Write the whole ledger as JSON Lines (a header, then one event a line), or one run as OTLP/JSON.

    JSON Lines keeps every column, the payload as its exact stored text, so `ctxlog import`
    re-verifies the chain byte for byte. `--format otlp` writes the run as OpenTelemetry trace
    data a collector accepts: one span per step and branch, checkpoints and merges as events.

    \b
    Example:
      ctxlog export ctx.db -o ctx.jsonl
      ctxlog export ctx.db --run plan-42 --format otlp -o spans.json
    """
    if output != "-" and os.path.realpath(output) in {os.path.realpath(ledger + s) for s in LEDGER_FILES}:
        raise BadFile(f"{output}: that is the ledger's own file; export to another path")
    with output_file(output) as out:
        written = audit.export(ledger, out, verify=verify, key=key, format=fmt, run=run)
    if output != "-" and isinstance(written, audit.ExportHeader):
        click.echo(f"exported {written.events} events of {redacted(ledger)} to {output}, head {written.head}", err=True)
    elif output != "-":
        click.echo(f"exported run {written.run!r} of {redacted(ledger)} to {output}: {written.spans} spans", err=True)


@click.command(name="import")
@ledger_argument
@import_source_argument
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


@click.command()
@ledger_argument
@click.argument("target", metavar="NEW", type=click.Path(dir_okay=False, path_type=str))
@key_file_option
def migrate(ledger: str, target: str, key: bytes | None) -> None:
    """Bring LEDGER (an older schema version) forward into the new ledger NEW.

    The rows are copied and re-chained from NEW's genesis; NEW keeps the ledger id and records
    the old schema version and head in its meta. LEDGER must verify first (a keyed one needs
    --key-file, and NEW is keyed with the same key); it is left as it is.

    \b
    Example:
      ctxlog migrate old.db new.db && ctxlog verify new.db
    """
    with progress_bar("migrating") as report:
        result = audit.migrate(ledger, target, key=key, progress=report)
    click.echo(
        f"migrated {result.events} events in {result.runs} run(s) of {redacted(ledger)} into {redacted(target)}: "
        f"chain intact ({result.algorithm}), head {result.head_offset}:{result.head_hash}"
    )

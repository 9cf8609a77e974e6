"""Arguments and options shared by commands, and the progress bar for long jobs."""

from __future__ import annotations

import os
import re
import stat
import sys
import tempfile
from collections.abc import Callable, Iterable, Iterator
from contextlib import contextmanager, suppress
from pathlib import Path
from typing import IO, Any, BinaryIO, TypeVar

import click

from ..audit import MAX_KEY_BYTES, Progress
from .errors import BadFile

__all__ = [
    "ECHO_CHUNK",
    "PROGRESS_MIN_EVENTS",
    "HeadType",
    "echo_lines",
    "import_source_argument",
    "is_terminal",
    "json_option",
    "key_file_option",
    "ledger_argument",
    "ledger_key_file_option",
    "output_file",
    "progress_bar",
    "refuse_pipe",
    "run_option",
    "until_option",
    "verify_option",
]

F = TypeVar("F", bound=Callable[..., Any])

PROGRESS_MIN_EVENTS = 50_000
"""A job over fewer events finishes too fast for a bar to help."""

ledger_argument = click.argument("ledger", type=click.Path(path_type=str))
run_option = click.option(
    "--run", "run", metavar="RUN", default=None, help="The run; may be left out when the file holds one."
)
json_option = click.option("--json", "as_json", is_flag=True, help="Print JSON instead of text.")


def until_option(
    required: bool = False, help: str = "A checkpoint name or an event offset (default: the head)."
) -> Callable[[F], F]:
    """``--until CHECKPOINT|OFFSET``: a name is tried first, then an integer offset.

    No explicit default: click 8.3+ treats ``default=None`` as a value that satisfies ``required``.
    """
    return click.option("--until", "until", metavar="CHECKPOINT|OFFSET", required=required, help=help)


def _read_key(ctx: click.Context, param: click.Parameter, value: str | None) -> bytes | None:
    """The key file's bytes without a trailing newline, read with a bound (``/dev/zero`` is refused)."""
    if value is None:
        return None
    refuse_pipe(value, ctx, param)
    try:
        with Path(value).open("rb") as file:
            key = file.read(MAX_KEY_BYTES + 3)
    except OSError as exc:
        raise click.BadParameter(f"cannot read {value}: {exc.strerror}", ctx=ctx, param=param) from None
    if len(key) > MAX_KEY_BYTES + 2:
        raise click.BadParameter(f"the key file holds more than {MAX_KEY_BYTES} bytes", ctx=ctx, param=param)
    key = key.rstrip(b"\r\n")
    if not key:
        raise click.BadParameter("the key file is empty", ctx=ctx, param=param)
    return key


def refuse_pipe(path: str, ctx: click.Context | None, param: click.Parameter | None) -> None:
    """A named pipe would make opening it wait for a writer that may never come: refuse it."""
    with suppress(OSError):
        if stat.S_ISFIFO(os.stat(path).st_mode):
            raise click.BadParameter(f"{path} is a named pipe; give a file", ctx=ctx, param=param)


def _import_source(ctx: click.Context, param: click.Parameter, value: str) -> str:
    if value != "-":
        refuse_pipe(value, ctx, param)
    return value


import_source_argument = click.argument(
    "source",
    metavar="FILE",
    type=click.Path(exists=True, dir_okay=False, allow_dash=True, path_type=str),
    callback=_import_source,
)


def _key_file_option(dest: str) -> Callable[[F], F]:
    return click.option(
        "--key-file",
        dest,
        metavar="FILE",
        type=click.Path(exists=True, dir_okay=False),
        default=None,
        callback=_read_key,
        help="File holding the ledger key (its bytes, without a trailing newline).",
    )


key_file_option = _key_file_option("key")
ledger_key_file_option = _key_file_option("ledger_key")
"""``--key-file`` of ``get``, whose ``key`` is the key looked up."""

verify_option = click.option(
    "--verify",
    "verify",
    is_flag=True,
    help="Check the ledger before answering: the run's rows, linked (the whole ledger for ledger-wide commands).",
)

ECHO_CHUNK = 1 << 16
"""Bytes of output gathered before one write: a line at a time, a million lines cost a million calls."""


def echo_lines(lines: Iterable[str]) -> None:
    """Print ``lines`` (streamed), each followed by a newline, in chunks of about ECHO_CHUNK characters."""
    chunk: list[str] = []
    size = 0
    for line in lines:
        chunk.append(line)
        size += len(line) + 1
        if size >= ECHO_CHUNK:
            click.echo("\n".join(chunk))
            chunk, size = [], 0
    if chunk:
        click.echo("\n".join(chunk))


class HeadType(click.ParamType):
    """``OFFSET:HASH`` as printed by ``ctxlog head``."""

    name = "OFFSET:HASH"
    _pattern = re.compile(r"(\d{1,19}):([0-9a-fA-F]{64})")

    def convert(self, value: Any, param: click.Parameter | None, ctx: click.Context | None) -> tuple[int, str]:
        if isinstance(value, tuple):
            return value
        match = self._pattern.fullmatch(str(value).strip())
        if match is None:
            self.fail(f"{value!r} is not OFFSET:HASH (as printed by `ctxlog head`)", param, ctx)
        return int(match[1]), match[2].lower()


@contextmanager
def output_file(path: str) -> Iterator[BinaryIO]:
    """``path`` opened for binary writing and put in place only when the block completes; ``-`` is stdout.

    (click's ``atomic=True`` replaces the file even when the block raises.)
    """
    if path == "-":
        yield sys.stdout.buffer
        sys.stdout.buffer.flush()
        return
    try:
        fd, partial = tempfile.mkstemp(dir=os.path.dirname(os.path.abspath(path)), prefix=".ctxlog-partial-")
    except OSError as exc:
        raise BadFile(f"{path}: cannot write here ({exc.strerror})") from None
    try:
        with os.fdopen(fd, "wb") as out:
            yield out
        os.replace(partial, path)
    except BaseException:
        with suppress(FileNotFoundError):
            os.remove(partial)
        raise


def is_terminal(stream: IO[str]) -> bool:
    """Whether ``stream`` is an interactive terminal (a bar there helps; in a file or pipe it is noise)."""
    isatty = getattr(stream, "isatty", None)
    return bool(isatty and isatty())


@contextmanager
def progress_bar(label: str, stream: IO[str] | None = None) -> Iterator[Progress | None]:
    """A ``(done, total)`` callback drawing a bar on stderr for jobs of PROGRESS_MIN_EVENTS or more.

    Yields None when the stream is not a terminal, so the library does not even count.
    """
    out = stream if stream is not None else sys.stderr
    if not is_terminal(out):
        yield None
        return
    bars: list[Any] = []

    def report(done: int, total: int) -> None:
        if total < PROGRESS_MIN_EVENTS:
            return
        if not bars:
            bars.append(click.progressbar(length=total, label=label, file=out))
        bar = bars[0]
        bar.update(max(0, min(done, total) - bar.pos))

    try:
        yield report
        if bars:
            bars[0].update(bars[0].length - bars[0].pos)
    finally:
        if bars:
            bars[0].render_finish()

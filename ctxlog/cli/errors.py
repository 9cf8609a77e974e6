"""Library errors to exit codes: every user error is one line on stderr, never a traceback.

The table is ordered most specific first; docs/cli.md documents the same codes.
"""

from __future__ import annotations

import click

from .. import (
    CtxlogError,
    IntegrityError,
    InvalidArgumentError,
    KeyMismatchError,
    LedgerError,
    UnknownCheckpointError,
    UnknownContextError,
    UnknownKeyError,
    UnknownRunError,
)

__all__ = [
    "EXIT_CODES",
    "BadArgument",
    "BadFile",
    "CommandError",
    "CtxlogGroup",
    "Failed",
    "KeyProblem",
    "UnknownName",
    "to_click",
]


class CommandError(click.ClickException):
    """A user error: ``Error: <message>`` on one line of stderr, then exit ``exit_code``."""

    exit_code = 1

    def __init__(self, message: str) -> None:
        super().__init__(" ".join(message.splitlines()))


class Failed(CommandError):
    """The answer is no: the chain does not verify, the key is not there."""

    exit_code = 1


class BadArgument(CommandError):
    """An argument the library refused (click's own usage errors exit 2 as well)."""

    exit_code = 2


class BadFile(CommandError):
    """A file that cannot serve: missing, not a ledger or export, a newer schema, not empty, unwritable."""

    exit_code = 3


class UnknownName(CommandError):
    """No such run, checkpoint or context."""

    exit_code = 4


class KeyProblem(CommandError):
    """A keyed ledger without its key, a wrong key, or a key for an unkeyed ledger."""

    exit_code = 5


EXIT_CODES: tuple[tuple[type[CtxlogError], type[CommandError]], ...] = (
    (IntegrityError, Failed),
    (UnknownKeyError, Failed),
    (InvalidArgumentError, BadArgument),
    (KeyMismatchError, KeyProblem),
    (UnknownRunError, UnknownName),
    (UnknownCheckpointError, UnknownName),
    (UnknownContextError, UnknownName),
    (LedgerError, BadFile),
    (CtxlogError, Failed),
)


def to_click(exc: CtxlogError) -> CommandError:
    """The click exception that reports ``exc`` (the first row of EXIT_CODES it is an instance of)."""
    for error, command_error in EXIT_CODES:
        if isinstance(exc, error):
            return command_error(str(exc))
    return Failed(str(exc))


class CtxlogGroup(click.Group):
    """A click group whose commands' library errors become one-line user errors."""

    def invoke(self, ctx: click.Context) -> object:
        try:
            return super().invoke(ctx)
        except CtxlogError as exc:
            raise to_click(exc) from exc

"""docs/cli.md cannot go stale: every command is documented, and every example runs as shown.

Each ```console block line ``$ ctxlog ...`` runs in bash (the installed script first on PATH)
in one directory holding ``ctx.db``, the sample run ``demo`` written by ``write_demo``; the
output that follows it in the document must match, once times, hashes, ids and timestamps are
replaced by placeholders on both sides. ``CTXLOG_UPDATE_DOCS=1`` rewrites the outputs instead.
"""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

import click
import pytest

from ctxlog.audit import demo as write_demo
from ctxlog.cli import main
from ctxlog.cli.errors import EXIT_CODES

DOC = Path(__file__).resolve().parents[2] / "docs" / "cli.md"
VOLATILE = [
    (re.compile(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{6}Z"), "<TIME>"),
    (re.compile(r"\b[0-9a-f]{64}\b"), "<HASH>"),
    (re.compile(r"\b[0-9a-f]{32}\b"), "<ID>"),
    (re.compile(r'"ts":\d+'), '"ts":<NS>'),
    (re.compile(r'"created_at":[0-9.e+]+'), '"created_at":<S>'),
    (re.compile(r"^(snapshots|size on disk|bytes per event)( +)[0-9.]+", re.M), r"\1\2<N>"),
]
"""What differs between runs of an example: times, hashes, ids; and the storage figures of ``stats``,
which depend on the snapshot cache policy and SQLite's page allocation, not on the CLI."""


OLD_LEDGER = Path(__file__).resolve().parents[1] / "fixtures" / "ledger-v1.db"
"""``old.db`` of the examples: a ledger of schema version 1, for ``ctxlog migrate``."""


def normalised(text: str) -> str:
    for pattern, placeholder in VOLATILE:
        text = pattern.sub(placeholder, text)
    return "\n".join(line.rstrip() for line in text.splitlines()).rstrip("\n")


def console_examples(text: str) -> list[tuple[int, str, str]]:
    """``(line number, command, expected output)`` of every ``$ `` line of the console blocks."""
    examples: list[tuple[int, str, list[str]]] = []
    inside = False
    for number, line in enumerate(text.splitlines(), start=1):
        if line.startswith("```"):
            inside = line.strip() == "```console"
        elif inside and line.startswith("$ "):
            examples.append((number, line[2:], []))
        elif inside and examples:
            examples[-1][2].append(line)
    return [(number, command, "\n".join(output)) for number, command, output in examples]


def run_example(command: str, cwd: Path) -> str:
    env = dict(os.environ, PATH=f"{Path(sys.executable).parent}{os.pathsep}{os.environ.get('PATH', '')}")
    env.update(COLUMNS="100", PYTHONUNBUFFERED="1")
    done = subprocess.run(
        ["bash", "-c", command],
        cwd=cwd,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
        timeout=60,
        check=False,
    )
    return done.stdout.rstrip("\n")


def test_examples_are_found() -> None:
    text = "a\n```console\n$ ctxlog head x\n1:ab\n$ echo\n```\n```\n$ not this\n```\n"
    assert console_examples(text) == [(3, "ctxlog head x", "1:ab"), (5, "echo", "")]


def test_normalised_hides_only_what_varies() -> None:
    line = "2026-01-02T03:04:05.678901Z 47:" + "a" * 64 + ' "ts":1795614682990909602 offset 47'
    assert normalised(line) == '<TIME> 47:<HASH> "ts":<NS> offset 47'


def with_outputs(text: str, outputs: dict[int, str]) -> str:
    """``text`` with the output after each example at line N replaced by ``outputs[N]``."""
    lines = text.splitlines()
    for number, _, expected in reversed(console_examples(text)):
        if number in outputs:
            lines[number : number + len(expected.splitlines())] = outputs[number].splitlines()
    return "\n".join(lines) + "\n"


def test_with_outputs_replaces_only_the_given_outputs() -> None:
    text = "```console\n$ a\nold a\n$ b\nold b\nold b2\n```\n"
    assert with_outputs(text, {4: "new b"}) == "```console\n$ a\nold a\n$ b\nnew b\n```\n"


@pytest.mark.slow
def test_every_documented_example_gives_the_documented_output(tmp_path: Path) -> None:
    assert shutil.which("bash"), "the documentation examples are shell commands"
    write_demo(str(tmp_path / "ctx.db"), run="demo")
    shutil.copy(OLD_LEDGER, tmp_path / "old.db")
    text = DOC.read_text(encoding="utf-8")
    examples = console_examples(text)
    assert len(examples) >= 30
    outputs: dict[int, str] = {}
    mismatches: list[str] = []
    for number, command, expected in examples:
        actual = run_example(command, tmp_path)
        if normalised(actual) != normalised(expected):
            outputs[number] = actual
            mismatches.append(f"docs/cli.md:{number}: $ {command}\n--- documented\n{expected}\n--- actual\n{actual}")
    if mismatches and os.environ.get("CTXLOG_UPDATE_DOCS") == "1":
        DOC.write_text(with_outputs(text, outputs), encoding="utf-8")
        pytest.fail("docs/cli.md was rewritten with the actual outputs: review the diff and run again")
    assert not mismatches, "\n\n".join(mismatches)


@pytest.mark.parametrize("name", sorted(main.commands))
def test_every_command_has_help_with_an_example(name: str) -> None:
    command = main.commands[name]
    assert re.search(rf"Example:\n\s+ctxlog {name}\b", command.help or ""), f"ctxlog {name} --help has no example"
    with click.Context(command, info_name=name) as ctx:
        assert "Example:" in command.get_help(ctx)


@pytest.mark.parametrize("name", sorted(main.commands))
def test_every_command_is_documented_with_a_run_example(name: str) -> None:
    text = DOC.read_text(encoding="utf-8")
    assert f"\n## ctxlog {name}\n" in text, f"docs/cli.md has no section for ctxlog {name}"
    assert any(command.startswith(f"ctxlog {name} ") for _, command, _ in console_examples(text)), (
        f"docs/cli.md runs no example of ctxlog {name}"
    )


def test_the_exit_code_table_matches_the_error_mapping() -> None:
    rows = dict(re.findall(r"^\| (\d) \| (.*) \|$", DOC.read_text(encoding="utf-8"), flags=re.M))
    for error, command_error in EXIT_CODES:
        assert f"`{error.__name__}`" in rows[str(command_error.exit_code)], (error, command_error.exit_code)

"""Every CLI command on a PostgreSQL URL behaves as on a SQLite file, and ledgers move between engines.

The examples of docs/cli.md run a second time with each file name replaced by the URL of its own
schema on the throwaway server; once the URLs are named back, the output must be the documented one.
"""

from __future__ import annotations

import io
import re
from pathlib import Path

import pytest
from click.testing import CliRunner

from ctxlog import ContextManager, replay
from ctxlog.audit import demo as write_demo
from ctxlog.audit import export, import_, verify
from ctxlog.cli import main

from .test_docs_cli import DOC, OLD_LEDGER, console_examples, normalised, run_example

FILES = ("ctx.db", "copy.db", "forged.db", "demo.db", "missing.db", "old.db", "migrated.db", "again.db")
ON_FILES_ONLY = {'ctxlog tree missing.db; echo "exit $?"'}
"""A missing file and a missing server ledger are both exit 3, with their own one-line reasons."""


@pytest.mark.slow
def test_documented_examples_give_the_documented_output_on_postgres(tmp_path: Path, pg_cluster: object) -> None:
    urls = {name: pg_cluster.new_schema() for name in FILES}  # type: ignore[attr-defined]
    write_demo(urls["ctx.db"], run="demo")
    exported = io.BytesIO()
    export(str(OLD_LEDGER), exported)  # a schema-1 ledger on the server, as one made by an older ctxlog
    import_(urls["old.db"], io.BytesIO(exported.getvalue()))
    pattern = re.compile(r"(?<![\w.])(" + "|".join(re.escape(name) for name in FILES) + r")(?![\w.])")
    back = {url: name for name, url in urls.items()}
    mismatches = []
    examples = [e for e in console_examples(DOC.read_text(encoding="utf-8")) if e[1] not in ON_FILES_ONLY]
    assert len(examples) >= 30
    for number, command, expected in examples:
        actual = run_example(pattern.sub(lambda m: f"'{urls[m[1]]}'", command), tmp_path)
        for url, name in back.items():
            actual = actual.replace(url, name)
        if normalised(actual) != normalised(expected):
            mismatches.append(
                f"docs/cli.md:{number}: $ {command}\n--- documented\n{expected}\n--- on postgres\n{actual}"
            )
    assert not mismatches, "\n\n".join(mismatches)


def test_missing_server_ledger_is_exit_3_in_one_line(pg_url: str) -> None:
    result = CliRunner().invoke(main, ["tree", pg_url])
    assert result.exit_code == 3
    assert result.stderr.count("\n") == 1 and "not a ctxlog ledger" in result.stderr


def test_unreachable_server_is_exit_3_without_a_traceback() -> None:
    result = CliRunner().invoke(main, ["verify", "postgresql://ann:pw@127.0.0.1:1/x?connect_timeout=2"])
    assert result.exit_code == 3
    assert "cannot reach" in result.stderr and "pw" not in result.stderr and "Traceback" not in result.output


def _ledger(path: str) -> None:
    with ContextManager(path, run="r", key=None) as mgr:
        mgr.set("a", {"n": 1})
        with mgr.step("s"):
            mgr.set("b", [1, 2, 3])
            mgr.checkpoint("mid")
        mgr.set("c", "ü\x00ok")


def _export(path: str, out: Path) -> bytes:
    with out.open("wb") as f:
        export(path, f)
    return out.read_bytes()


def test_sqlite_to_postgres_and_back_keeps_the_chain(tmp_path: Path, pg_url: str) -> None:
    source, back = str(tmp_path / "source.db"), str(tmp_path / "back.db")
    _ledger(source)
    first = _export(source, tmp_path / "a.jsonl")
    import_(pg_url, first.splitlines(keepends=True))
    assert verify(pg_url).ok
    second = _export(pg_url, tmp_path / "b.jsonl")
    assert first.splitlines()[1:] == second.splitlines()[1:]
    import_(back, second.splitlines(keepends=True))
    assert verify(back).ok
    assert replay(back, run="r") == replay(pg_url, run="r") == replay(source, run="r")
    assert replay(pg_url, run="r", until="mid") == replay(source, run="r", until="mid")


def test_cli_moves_a_ledger_into_postgres_and_out_again(tmp_path: Path, pg_url: str) -> None:
    runner, source, back = CliRunner(), str(tmp_path / "source.db"), str(tmp_path / "back.db")
    _ledger(source)
    steps = [
        ["export", source, "-o", str(tmp_path / "a.jsonl")],
        ["import", pg_url, str(tmp_path / "a.jsonl")],
        ["verify", pg_url],
        ["export", pg_url, "-o", str(tmp_path / "b.jsonl")],
        ["import", back, str(tmp_path / "b.jsonl")],
        ["verify", back],
    ]
    for args in steps:
        result = runner.invoke(main, args)
        assert result.exit_code == 0, (args, result.output)
    heads = [runner.invoke(main, ["head", where]).output for where in (source, pg_url, back)]
    assert heads[0] == heads[1] == heads[2]


def test_import_into_a_postgres_ledger_with_events_is_refused(tmp_path: Path, pg_url: str) -> None:
    source = str(tmp_path / "source.db")
    _ledger(source)
    _ledger(pg_url)
    data = _export(source, tmp_path / "a.jsonl")
    before = verify(pg_url)
    result = CliRunner().invoke(main, ["import", pg_url, str(tmp_path / "a.jsonl")])
    assert result.exit_code != 0 and data
    assert verify(pg_url).events == before.events


def test_an_argument_utf8_cannot_carry_is_one_line_on_either_engine(tmp_path: Path, pg_url: str) -> None:
    source = str(tmp_path / "source.db")
    for ledger in (source, pg_url):
        _ledger(ledger)
        result = CliRunner().invoke(main, ["replay", ledger, "--until", "\udcff"])
        assert result.exit_code in (2, 4), result.output
        assert result.stderr.count("\n") == 1 and "Traceback" not in result.output


def test_no_command_prints_the_password_of_the_url(tmp_path: Path, pg_url: str) -> None:
    """The throwaway server trusts 127.0.0.1, so a URL with any password connects."""
    secret_url = pg_url.replace("postgresql://ctxlog@", "postgresql://ctxlog:hunter2@")
    runner, export = CliRunner(), str(tmp_path / "a.jsonl")
    outputs = [
        runner.invoke(main, args)
        for args in (
            ["demo", secret_url],
            ["export", secret_url, "-o", export],
            ["verify", secret_url],
            ["runs", secret_url],
            ["tree", secret_url, "--run", "nope"],
        )
    ]
    assert [r.exit_code for r in outputs] == [0, 0, 0, 0, 4]
    for result in outputs:
        assert "hunter2" not in result.output and "hunter2" not in result.stderr
    assert "ctxlog:***@" in outputs[0].output

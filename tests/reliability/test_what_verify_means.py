""" "verify: ok" means that every reader shows what was written.

An attacker with write access to the database (but not the key) writes arbitrary rows (any
offset, 0, negative or huge included; any kind, context, cause and payload; text or BLOB cells;
hashes that link, or not) or snapshots, or flips bytes of the file. Then either ``verify`` (with
the key and the head exported before) fails, or every read command exits 0 and shows exactly what
a clean ledger holding the same rows shows: never a traceback, never another view.
"""

from __future__ import annotations

import contextlib
import json
import os
import shutil
import sqlite3
import tempfile
import zlib
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner
from hypothesis import HealthCheck, event, given, settings
from hypothesis import strategies as st

from ctxlog import ContextManager, CtxlogError, MergePolicy
from ctxlog.audit import KINDS, head, verify
from ctxlog.cli import main
from ctxlog.ledger import is_url
from ctxlog.ledger.chain import Chain
from ctxlog.ledger.codec import canonical

from ..attack import attacker, genesis, rows

KEY = b"the-ledger-key-of-the-test"
RUNS = ("plan", "side", "copy")


def write_history(location: str, key: bytes | None) -> None:
    """Two runs with steps, a merge, a failure, parallel branches, checkpoints, a restore and snapshots;
    then a fork of the first that restores a checkpoint it carried, and a tombstone of the second."""
    with (
        ContextManager(location, run="plan", key=key, snapshot_interval=4) as mgr,
        ContextManager(location, run="side", key=key) as side,
    ):
        mgr.initialize("root")
        mgr.set("config", {"env": "prod", "n": 3})
        side.set("other", [1, 2])
        with mgr.step("load", merge=MergePolicy.OVERWRITE):
            mgr.set("records", 120)
        mgr.checkpoint("loaded")
        mgr.parallel({"a": lambda b: b.set("x", 1), "b": lambda b: b.set("x", 2)}, merge=MergePolicy.MERGE)
        side.checkpoint("half")
        with contextlib.suppress(RuntimeError), mgr.step("fails"):
            mgr.set("partial", True)
            raise RuntimeError("boom")
        mgr.set("records", 0)
        mgr.restore("loaded")
        mgr.checkpoint("finished")
        side.set("done", None)
        with mgr.fork("finished", "copy") as copy:
            copy.set("copied", True)
            copy.restore("loaded")
            copy.checkpoint("own")
        side.delete_run("done with")


def read_commands(path: str, keyed: bool) -> list[list[str]]:
    key = ["--key-file", KEY_FILE] if keyed else []
    commands = [["head", path], ["runs", path, "--json"], ["export", path]]
    for run in RUNS:
        commands += [
            ["tree", path, "--run", run, "--json", *key],
            ["log", path, "--run", run, "--json"],
            ["checkpoints", path, "--run", run, "--json"],
            ["graph", path, "--run", run, *key],
            ["get", path, "other" if run == "side" else "records", "--run", run, *key],
        ]
    for until in ("loaded", "finished", "3", "9", "14"):
        commands += [["replay", path, "--run", "plan", "--until", until, "--json", *key]]
    for until in ("finished", "own"):  # a checkpoint the fork carried, and its own
        commands += [["replay", path, "--run", "copy", "--until", until, "--json", *key]]
    commands += [["diff", path, "loaded", "finished", "--run", "plan", "--json", *key]]
    return commands


KEY_FILE = os.path.join(tempfile.mkdtemp(prefix="ctxlog-key-"), "ledger.key")
Path(KEY_FILE).write_bytes(KEY)


def outputs(path: str, keyed: bool) -> list[tuple[int, str]]:
    """``(exit code, stdout)`` of every read command; a Python exception is a failure of the test."""
    runner, shown = CliRunner(), []
    for command in read_commands(path, keyed):
        result = runner.invoke(main, command)
        if result.exception is not None and not isinstance(result.exception, SystemExit):
            raise result.exception
        shown.append((result.exit_code, result.stdout))
    return shown


def clean_copy(location: str, keyed: bool, target: str) -> str:
    """A ledger at ``target`` holding the rows and meta of ``location``, written by nobody but SQLite."""
    with attacker(location) as conn:
        meta = dict(conn.execute("SELECT key, value FROM meta").fetchall())
        every = rows(conn)
    from ctxlog.ledger import Ledger

    Ledger.open(target, key=KEY if keyed else None, meta=meta).close()
    with contextlib.closing(sqlite3.connect(target, isolation_level=None)) as db:
        db.executemany(
            'INSERT INTO events ("offset", run, seq, ts, kind, context, cause, payload, hash) '
            "VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)",
            [(*r[:8], bytes.fromhex(r[8])) for r in every],
        )
    return target


def the_promise(location: str, keyed: bool, exported: tuple[int, str], workdir: str) -> bool:
    """Either verify fails, or every reader shows what a clean ledger of the same rows shows.
    Returns whether verify passed (to count the cases)."""
    try:
        result = verify(location, key=KEY if keyed else None, head=exported)
    except CtxlogError:  # not a readable ledger at all (exit 3 of ctxlog verify): it does not verify
        event("verify refused the ledger")
        return False
    if not result.ok:
        event("verify failed" if result.bad_offset is None else "verify failed at an offset")
        return False
    event("verify passed; every reader showed the clean ledger's view")
    reference = clean_copy(location, keyed, os.path.join(workdir, "reference.db"))
    assert outputs(location, keyed) == outputs(reference, keyed)
    return True


# -- what the attacker writes ----------------------------------------------------------------------


@st.composite
def forged_row(draw: st.DrawFn, n: int, contexts: list[str], fork: tuple[str, str]) -> tuple[Any, ...]:
    offset = draw(st.sampled_from([0, -1, -(2**62), 2**62 + 1, 2**63 - 1, n + 1, n + 2]) | st.integers(1, n))
    run = draw(st.sampled_from([*RUNS, "forged-run"]))
    seq = draw(st.integers(-2, 40) | st.just(2**62))
    ts = draw(st.integers(0, 2**62) | st.just("") | st.binary(max_size=3))
    kind = draw(st.sampled_from([*KINDS, "bogus"]) | st.sampled_from(["forked", "deleted_run"]))
    context = draw(st.sampled_from([*contexts, "ghost"]) | st.text(max_size=4))
    cause = draw(st.none() | st.integers(-2, n + 3) | st.just("a cause"))
    payload = draw(
        st.sampled_from([f'{{"kind":"{kind}","key":"records","value":999}}', f'{{"kind":"{kind}","name":"x"}}'])
        | st.text(max_size=12)
        | st.binary(max_size=12)
        | (fork_payload(n, fork) if kind == "forked" else st.sampled_from([f'{{"kind":"{kind}","reason":"x"}}']))
    )
    return offset, run, seq, ts, kind, context, cause, payload, draw(st.sampled_from(["link", "random", "text"]))


def real_fork(conn: Any) -> tuple[str, str]:
    """The recorded hash and the state (JSON text) of the history's fork row."""
    payload = next(r[7] for r in rows(conn) if r[4] == "forked")
    return json.loads(payload)["source_hash"], payload[payload.index('"state":') + len('"state":') : -1]


@st.composite
def fork_payload(draw: st.DrawFn, n: int, fork: tuple[str, str]) -> str:
    """A ``forked`` payload: from any run (the fork itself, one that is not there), at any offset,
    with the real fork's hash and state or not."""
    run = draw(st.sampled_from([*RUNS, "forged-run"]))
    offset = draw(st.integers(-1, n + 2))
    digest, state = draw(st.sampled_from([fork, (fork[0], "{}"), ("0" * 64, fork[1]), (fork[0], "1")]))
    return f'{{"kind":"forked","source_run":"{run}","source_offset":{offset},"source_hash":"{digest}","state":{state}}}'


def write_row(conn: Any, row: tuple[Any, ...], pg: bool) -> None:
    offset, run, seq, ts, kind, context, cause, payload, how = row
    every = {r[0]: r for r in rows(conn)}
    previous = every[offset - 1][8] if offset - 1 in every else genesis(conn)
    linkable = all(isinstance(v, (int, type(None))) for v in (ts, cause)) and isinstance(payload, str)
    if how == "link" and linkable and _is_hash(previous):
        digest: Any = bytes.fromhex(
            Chain().link(previous, canonical(offset, run, seq, ts, kind, context, cause, payload))
        )
    elif how == "random":
        digest = os.urandom(32)
    else:
        digest = "not a hash"
    untyped = isinstance(ts, (str, bytes)) or isinstance(cause, str) or isinstance(payload, bytes)
    if pg and (untyped or isinstance(digest, str)):
        return  # PostgreSQL's typed columns refuse such cells: no such row can be written there
    if pg and (offset < 1 or seq < 1 or offset >= 2**63 or "\x00" in context + run + str(payload)):
        return
    conn.execute('DELETE FROM events WHERE "offset" = ?', (offset,))
    try:
        conn.execute(
            'INSERT INTO events ("offset", run, seq, ts, kind, context, cause, payload, hash) '
            "VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)",
            (offset, run, seq, ts, kind, context, cause, payload, digest),
        )
    except (sqlite3.IntegrityError, *_pg_refusals()):
        pass  # a (run, seq) taken: the unique index refuses it, as it would any writer


def _pg_refusals() -> tuple[type[BaseException], ...]:
    try:
        import psycopg
    except ImportError:  # pragma: no cover
        return ()
    return (psycopg.errors.UniqueViolation,)


def _is_hash(text: str) -> bool:
    return len(text) == 64 and all(c in "0123456789abcdef" for c in text)


def forge_snapshot(conn: Any) -> None:
    """Edit the state of a snapshot and re-tag it as anyone can tag for an unkeyed ledger."""
    found = conn.execute('SELECT run, seq, "offset", state FROM snapshots ORDER BY "offset" LIMIT 1').fetchone()
    if found is None:
        return
    run, seq, offset, state = found
    data = zlib.decompress(bytes(state)).replace(b'"records":120', b'"records":121')
    forged = zlib.compress(data)
    row_hash = next((r[8] for r in rows(conn) if r[0] == offset), None)
    if row_hash is None or not _is_hash(row_hash):
        return
    tag = Chain().snapshot_tag(row_hash, forged)
    conn.execute("UPDATE snapshots SET state = ?, hash = ? WHERE run = ? AND seq = ?", (forged, tag, run, seq))


# -- the properties --------------------------------------------------------------------------------


@pytest.fixture(scope="module", params=[False, True], ids=["unkeyed", "keyed"])
def pristine(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory) -> tuple[str, bool]:
    keyed = request.param
    path = str(tmp_path_factory.mktemp("pristine") / "ctx.db")
    write_history(path, KEY if keyed else None)
    with contextlib.closing(sqlite3.connect(path)) as db:
        db.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    return path, keyed


@contextlib.contextmanager
def copy_of(pristine: tuple[str, bool]) -> Iterator[tuple[str, str]]:
    with tempfile.TemporaryDirectory(prefix="ctxlog-promise-") as workdir:
        path = os.path.join(workdir, "ctx.db")
        shutil.copy(pristine[0], path)
        yield path, workdir


# CTXLOG_PROMISE_EXAMPLES=500 for a longer hunt than the suite's.
PROMISE = settings(
    max_examples=int(os.environ.get("CTXLOG_PROMISE_EXAMPLES", "30")),
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture],
)


@pytest.mark.slow
@PROMISE
@given(data=st.data(), forge=st.integers(1, 3), snapshot=st.booleans())
def test_arbitrary_rows_fail_verify_or_change_nothing_a_reader_shows(
    pristine: tuple[str, bool], data: st.DataObject, forge: int, snapshot: bool
) -> None:
    with copy_of(pristine) as (path, workdir):
        exported = head(path)
        with attacker(path) as conn:
            contexts = [c for (c,) in conn.execute("SELECT DISTINCT context FROM events")]
            fork = real_fork(conn)
            for _ in range(forge):
                write_row(conn, data.draw(forged_row(exported[0], contexts, fork), label="row"), pg=False)
            if snapshot:
                forge_snapshot(conn)
        the_promise(path, pristine[1], exported, workdir)


@pytest.mark.slow
@PROMISE
@given(data=st.data(), flips=st.integers(1, 4))
def test_flipped_bytes_fail_verify_or_change_nothing_a_reader_shows(
    pristine: tuple[str, bool], data: st.DataObject, flips: int
) -> None:
    with copy_of(pristine) as (path, workdir):
        exported = head(path)
        raw = bytearray(Path(path).read_bytes())
        for _ in range(flips):
            i = data.draw(st.integers(0, len(raw) - 1), label="byte")
            raw[i] ^= data.draw(st.integers(1, 255), label="xor")
        Path(path).write_bytes(bytes(raw))
        if not the_promise(path, pristine[1], exported, workdir):
            for code, _ in outputs(path, pristine[1]):  # a reader of a damaged file answers, or says why
                assert code in (0, 1, 2, 3, 4, 5)


@pytest.mark.slow
@PROMISE
@given(data=st.data(), forge=st.integers(1, 3))
def test_arbitrary_rows_on_postgresql(pg_cluster: Any, data: st.DataObject, forge: int) -> None:
    url = pg_cluster.new_schema()
    try:
        write_history(url, None)
        exported = head(url)
        with attacker(url) as conn:
            contexts = [c for (c,) in conn.execute("SELECT DISTINCT context FROM events").fetchall()]
            fork = real_fork(conn)
            for _ in range(forge):
                write_row(conn, data.draw(forged_row(exported[0], contexts, fork), label="row"), pg=True)
        with tempfile.TemporaryDirectory(prefix="ctxlog-promise-") as workdir:
            assert is_url(url)
            the_promise(url, False, exported, workdir)
    finally:
        pg_cluster.drop_schema(url)

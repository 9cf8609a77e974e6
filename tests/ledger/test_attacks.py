"""Attacks found by review, each held shut: the attacker writes the database, but has no key.

Each test names the attack; together with test_tamper.py (every column of a row) and
tests/reliability/test_what_verify_means.py (arbitrary rows and bytes) they are the attack table
of docs/reliability.md.
"""

from __future__ import annotations

import hashlib
import json
import os
import sys
import zlib
from pathlib import Path

import pytest
from click.testing import CliRunner, Result

from ctxlog import ContextManager, IntegrityError, MergePolicy, StorageError, fork, replay
from ctxlog.audit import checkpoints, head, tree, verify
from ctxlog.cli import main
from ctxlog.ledger.chain import Chain

from ..attack import attacker, rehash, rows, tamper

KEY = b"the-key-no-attacker-has"


def demo(path: str, key: bytes | None = None) -> str:
    with ContextManager(path, run="demo", key=key) as mgr:
        mgr.initialize("plan")
        mgr.set("config", {"env": "production"})
        with mgr.step("load", merge=MergePolicy.OVERWRITE):
            mgr.set("records", 12_000)
        mgr.checkpoint("loaded")
        mgr.set("records", 0)
        mgr.restore("loaded")
        mgr.set("status", "done")
        mgr.checkpoint("finished")
    return path


@pytest.fixture
def plain(tmp_path: Path) -> str:
    return demo(str(tmp_path / "plain.db"))


@pytest.fixture
def keyed_demo(tmp_path: Path) -> str:
    return demo(str(tmp_path / "keyed.db"), KEY)


def last_offset(path: str, kind: str) -> int:
    with attacker(path) as conn:
        return max(r[0] for r in rows(conn) if r[4] == kind)


# -- cells stored as another type than their column's -----------------------------------------------


@pytest.mark.parametrize(
    "sql",
    [
        'UPDATE events SET kind = CAST(kind AS BLOB) WHERE "offset" = ?',
        "UPDATE events SET seq = CAST(seq AS TEXT) || 'x' WHERE \"offset\" = ?",
        'UPDATE events SET ts = ts + 0.5 WHERE "offset" = ?',
        'UPDATE events SET hash = CAST(hash AS TEXT) WHERE "offset" = ?',
    ],
    ids=["kind-as-blob", "seq-as-text", "ts-as-real", "hash-as-text"],
)
def test_a_cell_stored_as_another_type_fails_verify_at_its_row(keyed_demo: str, sql: str) -> None:
    exported = head(keyed_demo, key=KEY)
    tamper(keyed_demo, sql, (5,))
    result = verify(keyed_demo, key=KEY, head=exported)
    assert not result.ok and result.bad_offset == 5


def test_a_text_seq_on_the_last_row_does_not_lock_writers_out(keyed_demo: str) -> None:
    tamper(keyed_demo, 'UPDATE events SET seq = CAST(seq AS TEXT) WHERE "offset" = (SELECT max("offset") FROM events)')
    with ContextManager(keyed_demo, run="demo", key=KEY) as mgr:
        mgr.set("after", 1)
    assert tree(keyed_demo, key=KEY).get("after") == 1


@pytest.mark.parametrize("value", ["'some text'", "42"], ids=["text", "integer"])
def test_a_snapshot_state_of_another_type_is_not_read(keyed_demo: str, value: str) -> None:
    tamper(keyed_demo, f"UPDATE snapshots SET state = {value}")
    assert tree(keyed_demo).get("status") == "done" and tree(keyed_demo, key=KEY).get("status") == "done"
    assert verify(keyed_demo, key=KEY).ok  # a cache entry nobody reads changes nothing anyone shows


# -- forged snapshots of an unkeyed ledger ----------------------------------------------------------


def forge(path: str, mutate: object, *, compress: bool = True, raw: bytes | None = None) -> None:
    """Replace the snapshot after the last checkpoint, tagged as anyone can tag an unkeyed one."""
    with attacker(path) as conn:
        offset = max(r[0] for r in rows(conn) if r[4] == "checkpoint")
        seq = next(r[2] for r in rows(conn) if r[0] == offset)
        row_hash = next(r[8] for r in rows(conn) if r[0] == offset)
        state = raw
        if state is None:
            projection = json.loads(replay(path, until=offset).snapshot_bytes())
            mutate(projection)
            state = json.dumps(projection, separators=(",", ":"), ensure_ascii=False).encode()
            state = zlib.compress(state) if compress else state
        conn.execute("DELETE FROM snapshots")
        conn.execute(
            'INSERT INTO snapshots (run, seq, "offset", hash, state) VALUES (?, ?, ?, ?, ?)',
            ("demo", seq, offset, Chain().snapshot_tag(row_hash, state), state),
        )


def reorder(projection: dict) -> None:
    plan = projection["tree"]["contexts"]["plan"]
    plan["data"] = dict(reversed(list(plan["data"].items())))


def dangling(projection: dict) -> None:
    projection["tree"]["contexts"]["plan"]["children"].append("ghost")


def cycle(projection: dict) -> None:
    projection["tree"]["contexts"]["load"]["children"].append("plan")


def inflate(projection: dict) -> None:
    projection["tree"]["contexts"]["plan"]["data"]["records"] = 99_999


@pytest.mark.parametrize("mutate", [reorder, dangling, cycle, inflate], ids=lambda f: f.__name__)
def test_a_forged_unkeyed_snapshot_fails_verify_and_never_misleads_a_reader(plain: str, mutate: object) -> None:
    truth = tree(plain).to_dict()
    exported = head(plain)
    forge(plain, mutate)
    result = verify(plain, head=exported)
    assert not result.ok and result.bad_offset == last_offset(plain, "checkpoint")
    if mutate in (dangling, cycle):  # not a tree: no reader uses it, whatever verify says
        assert tree(plain).to_dict() == truth


def test_a_decompression_bomb_is_not_inflated_past_the_bound(plain: str) -> None:
    bomb = zlib.compress(b"{" + b" " * (300 << 20), 9)  # a few hundred KiB that inflate past 256 MiB
    forge(plain, None, raw=bomb)
    assert tree(plain).get("status") == "done"
    assert not verify(plain).ok


def test_a_payload_nested_past_the_stack_is_an_integrity_error(keyed_demo: str) -> None:
    deep = '{"kind":"set","key":"k","value":' + "[" * 100_000 + "]" * 100_000 + "}"
    tamper(keyed_demo, 'UPDATE events SET payload = ? WHERE "offset" = ?', (deep, last_offset(keyed_demo, "set")))
    with pytest.raises(IntegrityError):
        tree(keyed_demo)  # without the key: a fold from the start, through the deep payload
    assert not verify(keyed_demo, key=KEY).ok


# -- chain-valid rows no reader may read differently ------------------------------------------------


def test_a_payload_with_a_duplicate_key_fails_verify(plain: str) -> None:
    offset = last_offset(plain, "checkpoint")
    with attacker(plain) as conn:
        payload = next(r[7] for r in rows(conn) if r[0] == offset)
        conn.execute('UPDATE events SET payload = ? WHERE "offset" = ?', (payload[:-1] + ',"name":"5"}', offset))
        conn.execute("DELETE FROM snapshots")
        rehash(conn, offset)
    result = verify(plain)
    assert not result.ok and result.bad_offset == offset and "form ctxlog writes" in result.reason


def test_a_restore_carrying_another_tree_fails_verify(plain: str) -> None:
    offset = last_offset(plain, "restored")
    with attacker(plain) as conn:
        payload = next(r[7] for r in rows(conn) if r[0] == offset)
        conn.execute('UPDATE events SET payload = ? WHERE "offset" = ?', (payload.replace("12000", "1"), offset))
        conn.execute("DELETE FROM snapshots")
        rehash(conn, offset)
    result = verify(plain)
    assert not result.ok and result.bad_offset == offset and "restores" in result.reason


def test_an_emptied_checkpoint_index_fails_checkpoints_verify(plain: str) -> None:
    # An index built over no rows, then declared (by editing the schema) to hold the checkpoints:
    # the planner trusts it and the index lists none.
    tamper(plain, "DROP INDEX events_checkpoints")
    tamper(plain, "CREATE INDEX events_checkpoints ON events (run) WHERE kind = 'nothing'")
    with attacker(plain) as conn:
        conn.execute("PRAGMA writable_schema = ON")
        conn.execute(
            "UPDATE sqlite_master SET sql = replace(sql, 'nothing', 'checkpoint') WHERE name = 'events_checkpoints'"
        )
    assert list(checkpoints(plain)) == []
    with pytest.raises(IntegrityError, match="checkpoint index"):
        list(checkpoints(plain, verify=True))
    assert not verify(plain).ok


# -- the command line ---------------------------------------------------------------------------------


def cli(*args: str) -> Result:
    return CliRunner().invoke(main, list(args))


def test_a_head_of_five_thousand_digits_is_a_usage_error(plain: str) -> None:
    result = cli("verify", plain, "--head", "9" * 5000 + ":" + "0" * 64)
    assert result.exit_code == 2 and "Traceback" not in result.output


def test_a_head_at_offset_zero_is_compared_with_the_genesis(plain: str, tmp_path: Path) -> None:
    other = demo(str(tmp_path / "other.db"))
    empty_head = f"0:{verify(other).head_hash}"
    assert cli("verify", plain, "--head", empty_head).exit_code == 1


@pytest.mark.parametrize("option", ["--key-file", "import"])
def test_a_fifo_as_a_key_file_or_an_export_is_refused_not_waited_on(
    option: str, keyed_demo: str, tmp_path: Path
) -> None:
    import subprocess
    import sys

    fifo = tmp_path / "pipe"
    os.mkfifo(fifo)
    args = (
        ["verify", keyed_demo, "--key-file", str(fifo)]
        if option == "--key-file"
        else ["import", str(tmp_path / "n.db"), str(fifo)]
    )
    done = subprocess.run([sys.executable, "-m", "ctxlog.cli", *args], capture_output=True, text=True, timeout=60)
    assert done.returncode == 2 and "named pipe" in done.stderr and "Traceback" not in done.stderr


def test_a_rule_that_swallows_appends_fails_verify_on_postgresql(pg_url: str) -> None:
    import psycopg

    demo(pg_url)
    with psycopg.connect(pg_url, autocommit=True) as conn:
        conn.execute("CREATE RULE swallow AS ON INSERT TO events DO INSTEAD NOTHING")
    result = verify(pg_url)
    assert not result.ok and "rule" in (result.reason or "")


# -- forks: lineages walked one run at a time, forged fork rows --------------------------------------


def forked_demo(path: str) -> str:
    """The demo, then a fork of it at ``loaded`` that sets a value and restores the carried ``loaded``."""
    demo(path)
    with ContextManager(path, run="demo") as mgr, mgr.fork("finished", "copy") as copy:
        copy.set("copied", True)
        copy.restore("loaded")
    return path


def fork_row(path: str) -> tuple[int, dict]:
    with attacker(path) as conn:
        row = next(r for r in rows(conn) if r[4] == "forked")
    return row[0], json.loads(row[7])


def rewrite(path: str, offset: int, payload: dict) -> None:
    with attacker(path) as conn:
        conn.execute(
            'UPDATE events SET payload = ? WHERE "offset" = ?', (json.dumps(payload, separators=(",", ":")), offset)
        )
        rehash(conn, offset)


def test_a_chain_of_forks_deeper_than_the_stack_reads_restores_and_verifies(tmp_path: Path) -> None:
    path = str(tmp_path / "chain.db")
    with ContextManager(path, run="r0") as mgr:
        mgr.set("a", 1)
        mgr.checkpoint("c1")
    depth = sys.getrecursionlimit() + 50
    for i in range(1, depth + 1):
        with ContextManager(path, run=f"r{i}", exists=False) as fork:
            fork.fork_from(f"r{i - 1}", None)
    last = f"r{depth}"
    for args in (["checkpoints", path, "--run", last], ["replay", path, "--run", last, "--until", "c1"]):
        assert cli(*args).exit_code == 0
    assert replay(path, run=last, until="2").get("a") == 1
    with ContextManager(path, run=last) as mgr:
        mgr.restore("c1")
        assert mgr.timeline == ["c1"]
    assert verify(path).ok


@pytest.mark.parametrize("source", ["copy", "demo"], ids=["itself", "a-loop-of-two"])
def test_a_fork_lineage_that_loops_is_an_integrity_error_not_a_recursion(tmp_path: Path, source: str) -> None:
    path = forked_demo(str(tmp_path / "loop.db"))
    offset, payload = fork_row(path)
    if source == "copy":
        rewrite(path, offset, {**payload, "source_run": "copy"})
    else:  # the demo's first row made a fork of the copy
        with attacker(path) as conn:
            conn.execute('UPDATE events SET kind = ? WHERE "offset" = 1', ("forked",))
        rewrite(path, 1, {**payload, "source_run": "copy", "source_offset": offset + 1})
    result = verify(path)
    assert not result.ok and result.bad_offset == (offset if source == "copy" else 1)
    for run in ("copy", "demo"):
        for args in (["checkpoints", path, "--run", run], ["replay", path, "--run", run, "--until", "2"]):
            answer = cli(*args)
            assert answer.exception is None or isinstance(answer.exception, SystemExit), args
            assert answer.exit_code in (0, 1, 4), args


@pytest.mark.parametrize(
    "change",
    [{"state": 1}, {"state": None}, {"state": {"checkpoints": {"loaded": 999}}}],
    ids=["state-not-an-object", "no-state", "a-carried-checkpoint-at-no-row"],
)
def test_a_fork_row_that_names_its_source_but_holds_no_state_fails_verify_and_readers(
    tmp_path: Path, change: dict
) -> None:
    path = forked_demo(str(tmp_path / "fork.db"))
    offset, payload = fork_row(path)
    if isinstance(change["state"], dict):
        change = {"state": {**payload["state"], **change["state"]}}
    forged = {k: v for k, v in {**payload, **change}.items() if v is not None}
    rewrite(path, offset, forged)
    result = verify(path)
    assert not result.ok and result.bad_offset == offset
    answer = cli("checkpoints", path, "--run", "copy")
    assert answer.exit_code == 1 and "run ctxlog verify" in answer.stderr, answer.output


def test_a_restore_to_a_carried_checkpoint_brings_back_the_source_timeline_there(tmp_path: Path) -> None:
    path = forked_demo(str(tmp_path / "fork.db"))
    shown = {c.name: c.on_timeline for c in checkpoints(path, run="copy")}
    assert shown == {"loaded": True, "finished": False}  # as the source shows after the same restore
    with ContextManager(path, run="demo") as mgr:
        mgr.restore("loaded")
    assert {c.name: c.on_timeline for c in checkpoints(path, run="demo")} == shown


def test_a_fork_of_a_fork_at_a_point_it_carried_forks_the_source_there(tmp_path: Path) -> None:
    path = forked_demo(str(tmp_path / "fork.db"))
    info = fork(path, run="copy", at="loaded", new_run="again")
    assert (info.source_run, info.offset > info.source_offset) == ("demo", True)
    assert tree(path, run="again") == replay(path, run="demo", until="loaded")
    assert verify(path).ok


# -- run lock files: the folder beside the ledger is the attacker's too --------------------------------


def lock_file(path: str, run: str) -> str:
    with ContextManager(path, run="first") as mgr:
        mgr.set("a", 1)
    with attacker(path) as conn:
        (ledger_id,) = conn.execute("SELECT value FROM meta WHERE key = 'ledger_id'").fetchone()
    return os.path.join(f"{path}.owners", hashlib.sha256(f"{ledger_id}\n{run}".encode()).hexdigest()[:32])


@pytest.mark.parametrize("planted", ["symlink", "hardlink", "fifo"])
def test_a_lock_file_planted_as_a_link_or_fifo_is_refused_and_its_target_untouched(
    tmp_path: Path, planted: str
) -> None:
    path = str(tmp_path / "ctx.db")
    lock, victim = lock_file(path, "next"), tmp_path / "victim.txt"
    victim.write_text("precious\n")
    if planted == "symlink":
        os.symlink(victim, lock)
    elif planted == "hardlink":
        os.link(victim, lock)
    else:
        os.mkfifo(lock)
    with pytest.raises(StorageError, match="lock"):
        ContextManager(path, run="next").close()
    assert victim.read_text() == "precious\n"
    with ContextManager(path, run="first") as mgr:  # the other runs' locks still work
        mgr.set("b", 2)


def test_a_row_that_lost_its_run_and_time_is_an_integrity_error_for_runs(plain: str) -> None:
    """A damaged page reads as NULL cells; the schema's NOT NULL, edited away, lets a writer store them."""
    with attacker(plain) as conn:
        conn.execute("PRAGMA writable_schema = ON")
        conn.execute("UPDATE sqlite_master SET sql = replace(sql, 'NOT NULL', '') WHERE name = 'events'")
    tamper(plain, 'UPDATE events SET run = NULL, ts = NULL WHERE "offset" = 2')
    assert not verify(plain).ok
    answer = cli("runs", plain, "--json")
    assert answer.exit_code == 1 and "offset 2: a row without a run name" in answer.stderr, answer.output

"""The attack table of docs/reliability.md, measured: each attack run on a copy of one history.

The attacker writes the database but has no key. After each attack, ``verify`` runs as an auditor
runs it (with the key of a keyed ledger, against the head exported before the attack; "unpinned"
cases go without the head, to show what the fold itself catches), and every read command of
``test_what_verify_means`` runs too. A case passes when verify gives the outcome the case expects
and, whenever verify passes, every reader shows exactly what it showed before the attack.

The table in docs/reliability.md is this module's rendering; ``make attack-table`` rewrites it.
"""

from __future__ import annotations

import contextlib
import json
import os
import re
import shutil
import sqlite3
import tempfile
import zlib
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from ctxlog import CtxlogError
from ctxlog.audit import head, verify
from ctxlog.ledger.chain import Chain
from ctxlog.ledger.codec import canonical

from ..attack import attacker, genesis, rehash, rows
from .test_what_verify_means import KEY, forge_snapshot, outputs, write_history

DOC = Path(__file__).resolve().parents[2] / "docs" / "reliability.md"
BEGIN, END = "<!-- attack table: begin -->", "<!-- attack table: end -->"
LAST = 30  # the history of write_history holds offsets 1..30
FORKED = 26  # the first row of run copy: a fork of plan at its checkpoint 'finished' (offset 24)


def insert(conn: Any, offset: int, run: str, seq: int, kind: str, context: str, payload: str, digest: Any) -> None:
    conn.execute(
        'INSERT INTO events ("offset", run, seq, ts, kind, context, cause, payload, hash) '
        "VALUES (?, ?, ?, 1, ?, ?, NULL, ?, ?)",
        (offset, run, seq, kind, context, payload, digest),
    )


def linked_row(conn: Any, offset: int, seq: int, kind: str, context: str, payload: str) -> None:
    """A row of run ``plan`` linked to the row before it with the unkeyed chain anyone computes."""
    previous = next(r[8] for r in rows(conn) if r[0] == offset - 1)
    digest = Chain().link(previous, canonical(offset, "plan", seq, 1, kind, context, None, payload))
    insert(conn, offset, "plan", seq, kind, context, payload, bytes.fromhex(digest))


def edit(offset: int, payload: str) -> Callable[[Any], None]:
    """Replace the payload at ``offset`` and recompute the unkeyed chain from there on."""

    def write(conn: Any) -> None:
        conn.execute('UPDATE events SET payload = ? WHERE "offset" = ?', (payload, offset))
        rehash(conn, offset)

    return write


def appended(kind: str, context: str, payload: str) -> Callable[[Any], None]:
    """A chain-valid row after the last one, as an unkeyed writer (or a bug) could write it."""
    return lambda conn: linked_row(conn, LAST + 1, 22, kind, context, payload)


def rewritten(offset: int, change: Callable[[str], str]) -> Callable[[Any], None]:
    """Replace the payload at ``offset`` by ``change`` of it and recompute the unkeyed chain from there on."""

    def write(conn: Any) -> None:
        payload = next(r[7] for r in rows(conn) if r[0] == offset)
        assert change(payload) != payload
        edit(offset, change(payload))(conn)

    return write


def in_fork(old: str, new: str) -> Callable[[Any], None]:
    """Replace the first ``old`` of the fork row's payload by ``new``, re-chaining the rest."""
    return rewritten(FORKED, lambda payload: payload.replace(old, new, 1))


def other_source_hash(payload: str) -> str:
    return re.sub('"source_hash":"[0-9a-f]+"', '"source_hash":"' + "0" * 64 + '"', payload)


def no_fork_state(payload: str) -> str:
    return payload[: payload.index(',"state":')] + "}"


def first_row_forks_the_fork(conn: Any) -> None:
    """Make plan's first row a fork of run copy, which forks plan: a lineage that loops."""
    conn.execute("UPDATE events SET kind = 'forked' WHERE \"offset\" = 1")
    digest = "0" * 64
    edit(1, f'{{"kind":"forked","source_run":"copy","source_offset":29,"source_hash":"{digest}","state":{{}}}}')(conn)


def appended_fork(conn: Any) -> None:
    """A copy of the fork row appended to plan, as its next event."""
    linked_row(conn, LAST + 1, 22, "forked", "root", next(r[7] for r in rows(conn) if r[0] == FORKED))


def sql(*statements: str) -> Callable[[Any], None]:
    def write(conn: Any) -> None:
        for statement in statements:
            conn.execute(statement)

    return write


def rechained_with_sha256(conn: Any) -> None:
    """Downgrade: say the ledger is unkeyed, forge a value, re-chain everything with plain SHA-256."""
    conn.execute("UPDATE meta SET value = 'sha256' WHERE key = 'hash_algorithm'")
    conn.execute("DELETE FROM meta WHERE key = 'key_check'")
    conn.execute("UPDATE events SET payload = replace(payload, '120', '999') WHERE \"offset\" = 6")
    rehash(conn, 1)


def spliced(conn: Any) -> None:
    """The rows of another ledger written under the same key replace this ledger's rows."""
    with tempfile.TemporaryDirectory() as tmp:
        other = os.path.join(tmp, "other.db")
        write_history(other, KEY)
        with contextlib.closing(sqlite3.connect(other)) as db:
            theirs = db.execute('SELECT * FROM events ORDER BY "offset"').fetchall()
    conn.execute("DELETE FROM events")
    conn.executemany("INSERT INTO events VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)", theirs)


def crafted_index(conn: Any) -> None:
    """The (run, seq) index readers use swapped for one built over every row but offset 20."""
    conn.execute("CREATE TABLE shadow AS SELECT * FROM events WHERE 0")
    conn.execute("CREATE UNIQUE INDEX shadow_run_seq ON shadow (run, seq)")
    conn.execute('INSERT INTO shadow SELECT * FROM events WHERE "offset" != 20')
    conn.execute("PRAGMA writable_schema = ON")
    conn.execute(
        "UPDATE sqlite_master SET rootpage = (SELECT rootpage FROM sqlite_master WHERE name = 'shadow_run_seq') "
        "WHERE name = 'sqlite_autoindex_events_1'"
    )
    conn.execute("DELETE FROM sqlite_master WHERE tbl_name = 'shadow'")


def emptied_checkpoint_index(conn: Any) -> None:
    """An index built over no rows, then declared (by editing the schema) to hold the checkpoints."""
    conn.execute("DROP INDEX events_checkpoints")
    conn.execute("CREATE INDEX events_checkpoints ON events (run) WHERE kind = 'nothing'")
    conn.execute("PRAGMA writable_schema = ON")
    conn.execute(
        "UPDATE sqlite_master SET sql = replace(sql, 'nothing', 'checkpoint') WHERE name = 'events_checkpoints'"
    )


def retagged_snapshot(change: Callable[[dict], None]) -> Callable[[Any], None]:
    """Edit the decoded tree of the first snapshot and re-tag it as anyone can on an unkeyed ledger."""

    def write(conn: Any) -> None:
        run, seq, offset, state = conn.execute(
            'SELECT run, seq, "offset", state FROM snapshots ORDER BY "offset" LIMIT 1'
        ).fetchone()
        tree = json.loads(zlib.decompress(state))
        change(tree)
        forged = zlib.compress(json.dumps(tree).encode())
        row_hash = next(r[8] for r in rows(conn) if r[0] == offset)
        tag = Chain().snapshot_tag(row_hash, forged)
        conn.execute("UPDATE snapshots SET state = ?, hash = ? WHERE run = ? AND seq = ?", (forged, tag, run, seq))

    return write


def _forge_value(snapshot: dict) -> None:
    snapshot["tree"]["contexts"]["load"]["data"]["records"] = 121


def _cycle(snapshot: dict) -> None:
    snapshot["tree"]["contexts"]["root"]["parent_id"] = "load"


def restore_of_nothing(conn: Any) -> None:
    state = {"format": "ctxlog.tree/1", "root_id": "root", "current_id": "root", "contexts": []}
    edit(23, json.dumps({"kind": "restored", "target": 9, "state": state}, separators=(",", ":")))(conn)


DEEP = '{"kind":"set","key":"k","value":' + "[" * 5000 + "]" * 5000 + "}"


@dataclass(frozen=True)
class Case:
    """One attack: what it does, how, on which ledger, and the outcome verify must give
    (``None``: verify passes, so every reader must show the history as written; an offset: verify
    fails there; ``"file"``: verify fails for the file as a whole; ``"refused"``: verify refuses to
    read the ledger at all)."""

    attack: str
    write: Callable[[Any], None]
    expect: int | str | None
    keyed: bool = True
    pinned: bool = True
    engine: str = "sqlite"


def copied(
    offset: str, source: int, run: str = "run", seq: str = "99", payload: str = "payload"
) -> Callable[[Any], None]:
    """Insert a copy of the row at ``source`` at ``offset`` (an SQL expression), hash and all."""
    columns = f"{offset}, {run}, {seq}, ts, kind, context, cause, {payload}, hash"
    return sql(f'INSERT INTO events SELECT {columns} FROM events WHERE "offset" = {source}')


def update(assignment: str, offset: int) -> Callable[[Any], None]:
    return sql(f'UPDATE events SET {assignment} WHERE "offset" = {offset}')


FOLD: dict[str, Any] = {"keyed": False, "pinned": False}  # what the fold alone catches
PG: dict[str, Any] = {"engine": "postgresql"}
SET = '{"kind":"set","key":"k","value":1}'
ENTERED_GHOST = '{"kind":"entered","parent":"ghost","name":"x"}'
EDITED = '{"kind":"set","key":"records","value":121}'
NO_NAME = (
    "CREATE OR REPLACE FUNCTION ctxlog_checkpoint_name(payload text) RETURNS text LANGUAGE sql AS $$ SELECT NULL $$"
)

CASES = [
    # Snapshots: a cache outside the chain, used only when its tag checks.
    Case("forge a snapshot's values, tag it with the unkeyed chain", forge_snapshot, None),
    Case("forge a snapshot's values, tag it with the unkeyed chain", retagged_snapshot(_forge_value), 6, keyed=False),
    Case("make a snapshot's tree a cycle, tag it with the unkeyed chain", retagged_snapshot(_cycle), 6, keyed=False),
    Case("store a snapshot's state as text", sql("UPDATE snapshots SET state = 'text'"), None),
    # Rows outside 1..N.
    Case("insert a row at offset 2**62+1", copied("4611686018427387905", LAST), LAST + 1),
    Case("insert a row at offset 2**63-1", copied("9223372036854775807", LAST), LAST + 1),
    Case("insert a checkpoint row at offset 0", copied("0", 9, payload="replace(payload, 'loaded', 'x')"), 0),
    Case("insert a row at offset -1 of a new run", copied("-1", 1, run="'fake'", seq="1"), -1),
    Case("insert a row with a NULL offset (SQLite gives it N+1)", copied("NULL", LAST), LAST + 1),
    # Cells of another type than their column's.
    Case("store a kind as a BLOB", update("kind = CAST(kind AS BLOB)", 5), 5),
    Case("store the last seq as text", update("seq = seq || 'x'", LAST), LAST),
    Case("store a ts as ''", update("ts = ''", 5), 5),
    Case("store the last hash as non-hex text", update("hash = 'zz'", LAST), LAST),
    Case("store a payload as a BLOB", update("payload = CAST(payload AS BLOB)", 6), 6),
    # The engine's own structures.
    Case("swap the (run, seq) index for one lacking offset 20", crafted_index, "file"),
    Case("empty the checkpoint index, declare it whole", emptied_checkpoint_index, "file"),
    Case("add a table", sql("CREATE TABLE extra (x)"), "file"),
    # The meta table and the chain's seed.
    Case("downgrade: say sha256, drop the key check, re-chain with a forged value", rechained_with_sha256, 1),
    Case("paste the rows of another ledger with the same key", spliced, 1),
    Case("change the ledger id", sql("UPDATE meta SET value = 'x' WHERE key = 'ledger_id'"), "refused"),
    Case("change the ledger id", sql("UPDATE meta SET value = 'x' WHERE key = 'ledger_id'"), 1, keyed=False),
    Case("set hash_algorithm to md5", sql("UPDATE meta SET value = 'md5' WHERE key = 'hash_algorithm'"), 1),
    Case("set schema_version to -5", sql("UPDATE meta SET value = '-5' WHERE key = 'schema_version'"), "refused"),
    Case("delete the key check", sql("DELETE FROM meta WHERE key = 'key_check'"), 1),
    # Rows that link under the unkeyed chain but that no operation could write.
    Case("restore a state with no contexts", restore_of_nothing, 23, **FOLD),
    Case(
        "restore another tree than the checkpoint's", edit(23, '{"kind":"restored","target":2,"state":{}}'), 23, **FOLD
    ),
    Case("append a row of an unknown kind", appended("bogus", "root", '{"kind":"bogus"}'), LAST + 1, **FOLD),
    Case("append a set on an unknown context", appended("set", "ghost", SET), LAST + 1, **FOLD),
    Case("append a set on an exited context", appended("set", "load", SET), LAST + 1, **FOLD),
    Case("append an entered under an unknown parent", appended("entered", "x", ENTERED_GHOST), LAST + 1, **FOLD),
    Case(
        "append a second initialized",
        appended("initialized", "root", '{"kind":"initialized","name":"r"}'),
        LAST + 1,
        **FOLD,
    ),
    Case("append an exited of the root", appended("exited", "root", '{"kind":"exited"}'), LAST + 1, **FOLD),
    Case("a payload with a duplicate key", edit(6, '{"kind":"set","key":"k","value":120,"value":1}'), 6, **FOLD),
    Case("a payload nested 5,000 deep", edit(6, DEEP), 6, **FOLD),
    # Forks: a first row that says where the run came from, and carries the source's tree there.
    Case("a fork recording another hash than its source row's", rewritten(FORKED, other_source_hash), FORKED),
    Case("a fork recording another hash than its source row's", rewritten(FORKED, other_source_hash), FORKED, **FOLD),
    Case("a fork from a row of another run", in_fork('"source_offset":24', '"source_offset":25'), FORKED, **FOLD),
    Case("a fork from a later offset", in_fork('"source_offset":24', '"source_offset":27'), FORKED, **FOLD),
    Case("a fork of a run the ledger lacks", in_fork('"source_run":"plan"', '"source_run":"ghost"'), FORKED, **FOLD),
    Case("a fork of itself", in_fork('"source_run":"plan"', '"source_run":"copy"'), FORKED, **FOLD),
    Case("a first row forking a fork of its own run (a loop)", first_row_forks_the_fork, 1, **FOLD),
    Case("a fork carrying another tree than its source's", in_fork('"records":120', '"records":121'), FORKED, **FOLD),
    Case("a fork carrying a checkpoint past its fork point", in_fork('"finished":24', '"finished":29'), FORKED, **FOLD),
    Case("a fork whose state does not decode as a tree", in_fork('"state":{', '"state":1,"tree":{'), FORKED, **FOLD),
    Case("a fork row lacking its state", rewritten(FORKED, no_fork_state), FORKED, **FOLD),
    Case(
        "rename the checkpoint a fork carried",
        rewritten(24, lambda p: p.replace("finished", "finishes")),
        FORKED,
        **FOLD,
    ),
    Case(
        "a fork restoring a carried checkpoint to another tree",
        rewritten(28, lambda p: p.replace("120", "121")),
        28,
        **FOLD,
    ),
    Case("append a forked row that is not its run's first", appended_fork, LAST + 1, **FOLD),
    Case(
        "append a tombstone of an unknown context",
        appended("deleted_run", "ghost", '{"kind":"deleted_run"}'),
        LAST + 1,
        **FOLD,
    ),
    # Classic edits (every column: tests/ledger/test_tamper.py).
    Case("edit a value", update("payload = replace(payload, '120', '121')", 6), 6),
    Case("edit a value, re-chain the rest without the key", edit(6, EDITED), 6),
    Case("edit a value of an unkeyed ledger, re-chain the rest", edit(6, EDITED), LAST, keyed=False),
    Case("delete the last two rows", sql(f'DELETE FROM events WHERE "offset" > {LAST - 2}'), LAST - 1),
    Case("delete a row in the middle", sql('DELETE FROM events WHERE "offset" = 12'), 12),
    # PostgreSQL: the table owner's powers.
    Case("forge a snapshot's values, tag it with the unkeyed chain", forge_snapshot, None, **PG),
    Case("edit a value", update("payload = replace(payload, '120', '121')", 6), 6, **PG),
    Case(
        "replace events by a view of the same rows",
        sql("ALTER TABLE events RENAME TO hidden", "CREATE VIEW events AS SELECT * FROM hidden"),
        "file",
        **PG,
    ),  # fmt: skip
    Case("replace ctxlog_checkpoint_name() by one naming none", sql(NO_NAME), "file", **PG),
    Case(
        "add a rule that swallows appends",
        sql("CREATE RULE swallow AS ON INSERT TO events DO INSTEAD NOTHING"),
        "file",
        **PG,
    ),
]


@dataclass(frozen=True)
class Outcome:
    verify: str
    readers: str


def run(case: Case, location: str, before: list[tuple[int, str]]) -> tuple[int | str | None, Outcome]:
    """Attack the ledger at ``location`` (a fresh copy of the history), verify it, read it."""
    exported = head(location)
    with attacker(location) as conn:
        case.write(conn)
    key = KEY if case.keyed else None
    try:
        result = verify(location, key=key, head=exported if case.pinned else None)
    except CtxlogError as exc:
        found: int | str | None = "refused"
        said = f"refused: {exc}"
    else:
        found = None if result.ok else ("file" if result.bad_offset is None else result.bad_offset)
        at = "" if result.bad_offset is None else f" at {result.bad_offset}"
        said = "ok" if result.ok else f"fails{at}: {result.reason}"
    said = said.replace(location, "ctx.db")
    after = outputs(location, case.keyed)  # a traceback here fails the test
    if after == before:
        readers = "as written"
    elif all(code != 0 for (code, out), old in zip(after, before, strict=True) if (code, out) != old):
        readers = "refuse"
    else:
        readers = "show the edit"
    return found, Outcome(said, readers)


@pytest.fixture(scope="module")
def pristine(tmp_path_factory: pytest.TempPathFactory) -> dict[bool, tuple[str, list[tuple[int, str]]]]:
    """The history on SQLite, unkeyed and keyed, with what every reader shows of it."""
    made = {}
    for keyed in (False, True):
        path = str(tmp_path_factory.mktemp("pristine") / "ctx.db")
        write_history(path, KEY if keyed else None)
        with contextlib.closing(sqlite3.connect(path)) as db:
            db.execute("PRAGMA wal_checkpoint(TRUNCATE)")
        made[keyed] = (path, outputs(path, keyed))
    return made


@contextlib.contextmanager
def fresh(case: Case, pristine: dict, pg_cluster: Any) -> Iterator[tuple[str, list[tuple[int, str]]]]:
    """A new ledger holding the history, on the case's engine, and what readers showed of it."""
    if case.engine == "postgresql":
        url = pg_cluster.new_schema()
        try:
            write_history(url, KEY if case.keyed else None)
            yield url, outputs(url, case.keyed)
        finally:
            pg_cluster.drop_schema(url)
        return
    original, before = pristine[case.keyed]
    with tempfile.TemporaryDirectory(prefix="ctxlog-attack-") as workdir:
        path = os.path.join(workdir, "ctx.db")
        shutil.copy(original, path)
        yield path, before


def render(measured: list[tuple[Case, Outcome]]) -> str:
    lines = ["| attack | ledger | verify (key, exported head) | readers |", "|---|---|---|---|"]
    for case, outcome in measured:
        ledger = ("keyed" if case.keyed else "unkeyed") + ("" if case.pinned else ", no head")
        ledger += ", PostgreSQL" if case.engine == "postgresql" else ""
        said = outcome.verify.replace("|", "\\|").replace("\n", " ")
        said = said if len(said) <= 200 else said[:199] + "…"
        lines.append(f"| {case.attack} | {ledger} | {said} | {outcome.readers} |")
    return "\n".join(lines)


@pytest.mark.slow
def test_every_attack_has_the_outcome_the_table_says(pristine: dict, pg_cluster: Any) -> None:
    measured, wrong = [], []
    for case in CASES:
        with fresh(case, pristine, pg_cluster) as (location, before):
            found, outcome = run(case, location, before)
        if found != case.expect or (found is None and outcome.readers != "as written"):
            wrong.append(f"{case.attack}: expected {case.expect}, got {outcome}")
        measured.append((case, outcome))
    assert not wrong, "\n".join(wrong)
    table = render(measured)
    if os.environ.get("CTXLOG_WRITE_ATTACK_TABLE"):
        text = DOC.read_text()
        start, end = text.index(BEGIN) + len(BEGIN), text.index(END)
        DOC.write_text(text[:start] + "\n" + table + "\n" + text[end:])
    documented = DOC.read_text().split(BEGIN, 1)[1].split(END, 1)[0].strip()
    assert documented == table, "docs/reliability.md's attack table is stale: run make attack-table"


def test_the_cases_are_distinct() -> None:
    keys = [(c.attack, c.keyed, c.pinned, c.engine) for c in CASES]
    assert len(keys) == len(set(keys))


def test_genesis_of_the_pristine_history_is_what_row_one_links_to(pristine: dict) -> None:
    with attacker(pristine[False][0]) as conn:
        first = rows(conn)[0]
        assert Chain().link(genesis(conn), canonical(*first[:8])) == first[8]

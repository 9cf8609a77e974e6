"""Properties of the core, each a short @given test over random operation lists and values.

Live state == replayed state; restore(checkpoint) == the tree at the checkpoint; serialize →
deserialize round-trips; values come back with their exact types; the chain verifies after
anything and fails, at the right offset, after any tampering; automatic checkpoints land every N
events; reopening a run resumes it exactly.
"""

from __future__ import annotations

import contextlib
import os
import sqlite3
import tempfile
from collections.abc import Callable, Iterator
from contextlib import AbstractContextManager
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from ctxlog import (
    MAX_DEPTH,
    ConcurrencyError,
    ContextManager,
    ContextTree,
    CtxlogError,
    InvalidValueError,
    replay,
)
from ctxlog.audit import verify
from ctxlog.ledger import Ledger, is_url

from ..attack import attacker
from ..attack import rows as attack_rows
from ..model import (
    checkpoint_names,
    isolations,
    json_values,
    keys,
    norm_tree,
    optional_policies,
    policies,
    step_names,
    typed,
)

RUN = "r"
Ledgers = Callable[[], AbstractContextManager[str]]
"""``fresh_ledgers``: a new ledger location per example, on SQLite and on PostgreSQL."""

ON_BOTH_ENGINES_SLOW_ON_POSTGRESQL = pytest.mark.parametrize(
    "fresh_ledgers", ["sqlite", pytest.param("postgresql", marks=pytest.mark.slow)], indirect=True
)
"""``fresh_ledgers``' own two cases, the PostgreSQL one marked slow: seconds of round trips per property."""

OPS = st.one_of(
    st.tuples(st.just("set"), keys, json_values),
    st.tuples(st.just("delete"), keys),
    st.tuples(st.just("enter"), step_names, isolations),
    st.tuples(st.just("exit"), optional_policies),
    st.tuples(st.just("parallel"), step_names),
    st.tuples(st.just("switch"), st.integers(0, 50)),
    st.tuples(st.just("merge"), st.integers(0, 50), policies),
    st.tuples(st.just("end"), st.integers(0, 50), policies),
    st.tuples(st.just("checkpoint"), checkpoint_names),
    st.tuples(st.just("restore"), st.integers(0, 50), st.booleans()),
    st.tuples(st.just("save")),
    st.tuples(st.just("load"), st.integers(0, 50)),
)
op_lists = st.lists(OPS, max_size=25)


@contextlib.contextmanager
def ledger_file() -> Iterator[str]:
    """A fresh ledger path per example (the ``ledger_path`` fixture is per test, not per example)."""
    with tempfile.TemporaryDirectory(prefix="ctxlog-prop-") as tmp:
        yield os.path.join(tmp, "ctx.db")


def apply_op(mgr: ContextManager, op: tuple, blobs: list[bytes]) -> bool:
    """Apply one op; a refused one must raise a CtxlogError and change nothing. True if applied."""
    kind, *a = op
    tree, offset = mgr.tree, mgr.offset
    ids = sorted(tree.contexts)
    pick = (lambda i: ids[i % len(ids)]) if ids else (lambda i: "nowhere")
    try:
        if kind == "set":
            mgr.set(a[0], a[1])
        elif kind == "delete":
            mgr.delete(a[0])
        elif kind == "enter":
            mgr.enter_step(a[0], a[1])
        elif kind == "exit":
            mgr.exit_step(a[0])
        elif kind == "parallel":
            mgr.create_parallel_context(a[0])
        elif kind == "switch":
            mgr.switch_to(pick(a[0]))
        elif kind == "merge":
            mgr.merge_child_to_parent(pick(a[0]), a[1])
        elif kind == "end":
            mgr.end_isolated(pick(a[0]), a[1])
        elif kind == "checkpoint":
            mgr.checkpoint(a[0])
        elif kind == "restore":
            names = sorted(tree.checkpoints)
            if not names:
                mgr.restore(max(offset, 1))
            else:
                name = names[a[0] % len(names)]
                mgr.restore(tree.checkpoints[name] if a[1] else name)
        elif kind == "save":
            if tree.root_id is not None:
                blobs.append(mgr.serialize())
                assert mgr.offset == offset, "serialize appended"
            return False
        elif kind == "load":
            if not blobs:
                return False
            mgr.deserialize(blobs[a[0] % len(blobs)])
        else:  # pragma: no cover
            raise AssertionError(kind)
    except CtxlogError:
        after = mgr.tree
        assert mgr.offset == offset and after == tree and norm_tree(after) == norm_tree(tree)
        return False
    return True


def run_ops(mgr: ContextManager, ops: list[tuple], blobs: list[bytes] | None = None) -> list[tuple[int, ContextTree]]:
    """Apply ``ops`` (``load`` picks among ``blobs``, ``save`` adds to them); (offset, tree) after each."""
    blobs = [] if blobs is None else blobs
    seen = []
    for op in ops:
        if apply_op(mgr, op, blobs):
            seen.append((mgr.offset, mgr.tree))
    return seen


def same_tree(a: ContextTree, b: ContextTree, *, offsets: bool = True) -> None:
    """Equal as ContextTrees, and equal type-aware (creation offsets too, unless ``offsets=False``)."""
    assert a == b
    assert norm_tree(a, offsets=offsets) == norm_tree(b, offsets=offsets)


# -- live == replayed ---------------------------------------------------------------------------


@ON_BOTH_ENGINES_SLOW_ON_POSTGRESQL
@given(ops=op_lists)
def test_live_state_equals_replayed_state(ops: list[tuple], fresh_ledgers: Ledgers) -> None:
    with fresh_ledgers() as path, ContextManager(path, run=RUN) as mgr:
        mgr.initialize()
        seen = run_ops(mgr, ops)
        live = mgr.tree
        replayed = replay(path, run=RUN)
        same_tree(replayed, live)
        assert replayed.checkpoints == live.checkpoints and replayed.offset == live.offset == mgr.offset
        for cid, ctx in live.contexts.items():
            assert replayed.contexts[cid].created_at == ctx.created_at
        for offset, tree in seen:  # and at every offset on the way
            same_tree(replay(path, run=RUN, until=offset), tree)
        assert verify(path).ok


@given(ops=op_lists)
def test_every_offset_holds_a_well_formed_tree(ops: list[tuple]) -> None:
    """replay/restore may stop at any offset: the tree there must be one a run can go on from."""
    with ledger_file() as path, ContextManager(path, run=RUN) as mgr:
        mgr.initialize()
        run_ops(mgr, ops)
        for offset in range(1, mgr.offset + 1):
            tree = replay(path, run=RUN, until=offset)
            current = tree.contexts[tree.current_id]
            assert current.status == "active", f"at offset {offset} the current {current.id!r} is {current.status}"


# -- restore(checkpoint) == the tree at the checkpoint -------------------------------------------


@ON_BOTH_ENGINES_SLOW_ON_POSTGRESQL
@given(before=op_lists, after=op_lists, data=st.data())
def test_restore_gives_the_tree_at_the_checkpoint(
    before: list[tuple], after: list[tuple], data: st.DataObject, fresh_ledgers: Ledgers
) -> None:
    with fresh_ledgers() as path, ContextManager(path, run=RUN) as mgr:
        taken: dict[str, tuple[int, ContextTree]] = {}
        for i, ops in enumerate((before, after)):
            run_ops(mgr, ops)
            name = data.draw(checkpoint_names.filter(lambda n: n not in mgr.checkpoints), label=f"name-{i}")
            cp = mgr.checkpoint(name)
            assert cp.offset == mgr.offset and cp.name == name
            taken[name] = (cp.offset, mgr.tree)
            run_ops(mgr, data.draw(op_lists, label=f"then-{i}"))
        for name, (offset, tree) in taken.items():
            same_tree(replay(path, run=RUN, until=name), tree)
            same_tree(replay(path, run=RUN, until=offset), tree)
        # every checkpoint stays restorable, by name or offset, in any order, also after restores
        order = data.draw(st.lists(st.sampled_from(sorted(taken)), min_size=1, max_size=4), label="order")
        for name in order:
            offset, tree = taken[name]
            head = mgr.offset
            mgr.restore(offset if data.draw(st.booleans(), label="by offset") else name)
            assert mgr.offset == head + 1
            same_tree(mgr.tree, tree)
            assert set(taken) <= set(mgr.checkpoints)
            same_tree(replay(path, run=RUN), mgr.tree)


# -- serialize / deserialize ---------------------------------------------------------------------


@given(ops=op_lists)
def test_serialize_deserialize_round_trip(ops: list[tuple]) -> None:
    with ContextManager(":memory:", run=RUN) as mgr:
        mgr.initialize()
        run_ops(mgr, ops)
        head = mgr.offset
        blob = mgr.serialize()
        assert mgr.offset == head
        with ContextManager(":memory:") as fresh:
            fresh.deserialize(blob)
            same_tree(fresh.tree, mgr.tree, offsets=False)
            assert fresh.current_id == mgr.current_id and fresh.depth == mgr.depth
            with ContextManager(":memory:") as third:  # and again from the fresh one's bytes
                third.deserialize(fresh.serialize())
                same_tree(third.tree, mgr.tree, offsets=False)
        before = mgr.tree
        mgr.deserialize(blob)  # into itself: one `loaded` event, same state
        assert mgr.offset == head + 1
        same_tree(mgr.tree, before, offsets=False)


# -- values ------------------------------------------------------------------------------------


@given(value=json_values, key=keys, where=st.sampled_from(["root", "step", "sandboxed"]))
def test_values_round_trip_with_exact_types(value: Any, key: str, where: str) -> None:
    with ledger_file() as path:
        with ContextManager(path, run=RUN) as mgr:
            mgr.initialize()
            if where != "root":
                mgr.enter_step(where, "sandboxed" if where == "sandboxed" else "inherit")
            mgr.set(key, value)
            assert typed(mgr.get(key)) == typed(value)
            assert typed(mgr.tree.contexts[mgr.current_id].data[key]) == typed(value)
            cid = mgr.current_id
            returned = mgr.exit_step() if where != "root" else None
            if returned is not None:
                assert typed(returned.data[key]) == typed(value)
        assert typed(replay(path, run=RUN).contexts[cid].data[key]) == typed(value)
        with ContextManager(path, run=RUN) as again:
            assert typed(again.tree.contexts[cid].data[key]) == typed(value)


@given(kind=st.sampled_from(["list", "dict"]), key=keys)
def test_nesting_limit_is_exact(kind: str, key: str) -> None:
    def nest(levels: int) -> Any:
        value: Any = 0
        for _ in range(levels):
            value = [value] if kind == "list" else {"k": value}
        return value

    with ContextManager(":memory:", run=RUN) as mgr:
        mgr.initialize()
        mgr.set(key, nest(MAX_DEPTH))
        assert typed(mgr.get(key)) == typed(nest(MAX_DEPTH))
        head = mgr.offset
        with pytest.raises(InvalidValueError):
            mgr.set(key, nest(MAX_DEPTH + 1))
        assert mgr.offset == head


BAD_LEAVES = st.sampled_from(
    [float("nan"), float("inf"), float("-inf"), {1, 2}, frozenset(), (1,), b"x", object(), {1: "x"}, {None: 0}]
)


@st.composite
def value_with_a_bad_leaf(draw: st.DrawFn) -> tuple[Any, list]:
    """A valid container with one invalid value put somewhere inside it, and the path to it."""
    bad = draw(BAD_LEAVES)
    path: list = []
    value: Any = bad
    for _ in range(draw(st.integers(1, 4))):
        if draw(st.booleans()):
            siblings = draw(st.lists(json_values, max_size=2))
            i = draw(st.integers(0, len(siblings)))
            value = siblings[:i] + [value] + siblings[i:]
            path.insert(0, i)
        else:
            siblings = draw(st.dictionaries(st.text("xyz", max_size=2), json_values, max_size=2))
            k = draw(st.text("abc", min_size=1, max_size=3))
            value = {**siblings, k: value}
            path.insert(0, k)
    return value, path


@given(case=value_with_a_bad_leaf())
def test_a_bad_value_anywhere_is_refused_naming_its_key(case: tuple[Any, list]) -> None:
    value, path = case
    with ContextManager(":memory:", run=RUN) as mgr:
        mgr.set("ok", 1)
        tree, head = mgr.tree, mgr.offset
        with pytest.raises(InvalidValueError) as err:
            mgr.set("field", value)
        assert "field" in str(err.value)
        assert mgr.offset == head and mgr.tree == tree


surrogates = st.text(st.characters(categories=["Cs"]), min_size=1, max_size=2)


@given(
    bad=st.builds(lambda pre, s, post: pre + s + post, st.text(max_size=2), surrogates, st.text(max_size=2)),
    where=st.sampled_from(["key", "value", "map key", "step name", "parallel name", "checkpoint name"]),
)
def test_text_that_utf8_cannot_carry_is_refused(bad: str, where: str) -> None:
    """A lone surrogate cannot be written as UTF-8 JSON: a CtxlogError, and nothing appended."""
    calls = {
        "key": lambda m: m.set(bad, 1),
        "value": lambda m: m.set("k", bad),
        "map key": lambda m: m.set("k", {bad: 1}),
        "step name": lambda m: m.enter_step(bad),
        "parallel name": lambda m: m.create_parallel_context(bad),
        "checkpoint name": lambda m: m.checkpoint(bad),
    }
    with ContextManager(":memory:", run=RUN) as mgr:
        mgr.set("ok", 1)
        tree, head = mgr.tree, mgr.offset
        with pytest.raises(CtxlogError):
            calls[where](mgr)
        assert mgr.offset == head and mgr.tree == tree


# -- the chain ---------------------------------------------------------------------------------

COLUMNS = ["payload", "payload bytes", "kind", "context", "ts", "cause", "seq", "run", "hash", "row deleted"]


@ON_BOTH_ENGINES_SLOW_ON_POSTGRESQL
@given(
    ops=op_lists,
    other=st.lists(st.tuples(keys, json_values), max_size=4),
    keyed=st.booleans(),
    column=st.sampled_from(COLUMNS),
    data=st.data(),
)
def test_chain_verifies_and_detects_any_tampering(
    ops: list[tuple], other: list[tuple], keyed: bool, column: str, data: st.DataObject, fresh_ledgers: Ledgers
) -> None:
    key = b"secret-ledger-key" if keyed else None
    with fresh_ledgers() as path:
        if column == "payload bytes" and is_url(path):
            column = "payload"  # PostgreSQL text holds only valid UTF-8: no byte-level edit to make
        with ContextManager(path, run=RUN, key=key) as mgr, ContextManager(path, run="other", key=key) as mgr2:
            mgr.set("start", 0)
            for i, op in enumerate(ops):  # another run interleaved: offsets and seqs differ
                apply_op(mgr, op, [])
                if i < len(other):
                    mgr2.set(*other[i])
        result = verify(path, key=key)
        assert result.ok, result.summary()
        head = result.events
        with attacker(path) as db:
            # a deleted row must not be the last: a truncated tail needs the exported head to show
            rows = head - 1 if column == "row deleted" else head
            offset = 1 + data.draw(st.integers(0, 10**6), label="row") % rows
            row = dict(
                zip(
                    ["offset", "run", "seq", "ts", "kind", "context", "cause", "payload", "hash"],
                    next(r for r in attack_rows(db) if r[0] == offset),
                    strict=True,
                )
            )
            if column == "row deleted":
                db.execute('DELETE FROM events WHERE "offset" = ?', (offset,))
            else:
                field, new = tampered(column, row, db, data)
                if field == "hash":  # stored as 32 bytes: the edited hex, made whole bytes
                    new = bytes.fromhex(new if len(new) % 2 == 0 else new + "0")
                db.execute(f'UPDATE events SET {field} = ? WHERE "offset" = ?', (new, offset))
        result = verify(path, key=key)
        assert result.ok is False
        assert result.bad_offset == offset, (column, result.summary())


def tampered(column: str, row: dict[str, Any], db: Any, data: st.DataObject) -> tuple[str, Any]:
    """The column to change and a value for it that differs from the row's."""
    if column in ("payload", "context", "kind", "run", "hash"):
        text: str = row[column]
        alphabet = "0123456789abcdef" if column == "hash" else None
        i = data.draw(st.integers(0, 10**6), label="position") % (len(text) + 1)
        chars = st.characters(codec="utf-8", exclude_characters="\x00" if getattr(db, "pg", False) else None)
        char = data.draw(chars if alphabet is None else st.sampled_from(alphabet), label="char")
        if i < len(text) and column != "kind" and data.draw(st.booleans(), label="replace"):
            new = text[:i] + char + text[i + 1 :]
        else:
            new = text[:i] + char + text[i:]
        if column == "run":
            taken = {r for (r,) in db.execute("SELECT DISTINCT run FROM events")}
            if new in taken:
                new = new + "\x01"
        if new == text:
            new = text + ("0" if column == "hash" else "x")
        return column, new
    if column == "payload bytes":  # one byte of the payload flipped, stored as a BLOB
        raw = bytearray(row["payload"].encode())
        i = data.draw(st.integers(0, 10**6), label="byte") % len(raw)
        raw[i] ^= data.draw(st.integers(1, 255), label="xor")
        return "payload", bytes(raw)
    if column == "ts":
        return "ts", row["ts"] + data.draw(st.integers(-(10**12), 10**12).filter(bool), label="delta")
    if column == "cause":
        choices = [None] if row["cause"] is not None else []
        options = st.sampled_from(choices) | st.integers(0, 10**6) if choices else st.integers(0, 10**6)
        new = data.draw(options.filter(lambda c: c != row["cause"]), label="cause")
        return "cause", new
    assert column == "seq"
    used = {s for (s,) in db.execute("SELECT seq FROM events WHERE run = ?", (row["run"],))}
    new = data.draw(st.integers(1, 10**6).filter(lambda s: s not in used), label="seq")  # the schema refuses < 1
    return "seq", new


# -- automatic checkpoints ---------------------------------------------------------------------


def checkpoint_rows(path: str, run: str = RUN) -> list[tuple[int, str]]:
    with contextlib.closing(sqlite3.connect(path)) as db:
        rows = db.execute(
            "SELECT \"offset\", json_extract(payload, '$.name') FROM events "
            "WHERE run = ? AND kind = 'checkpoint' ORDER BY \"offset\"",
            (run,),
        ).fetchall()
    return [(o, n) for o, n in rows]


@given(n=st.integers(2, 6), values=st.lists(json_values, min_size=1, max_size=30))
def test_auto_checkpoints_every_n_events(n: int, values: list[Any]) -> None:
    with ledger_file() as path:
        trees: dict[int, ContextTree] = {}
        with ContextManager(path, run=RUN, checkpoint_interval=n) as mgr:
            mgr.initialize()
            trees[1] = mgr.tree
            for i, value in enumerate(values):
                before = mgr.offset
                mgr.set(f"k{i % 3}", value)
                trees[before + 1] = mgr.tree
            head = mgr.offset
        autos = checkpoint_rows(path)
        assert [o for o, _ in autos] == list(range(n + 1, head + 1, n))
        assert head % n != 0  # the head is never an event that was due a checkpoint after it
        for offset, name in autos:
            assert name == f"auto-{offset}"
            same_tree(replay(path, run=RUN, until=name), trees[offset - 1])


@given(n=st.integers(1, 6), ops=op_lists)
def test_auto_checkpoints_with_any_operations(n: int, ops: list[tuple]) -> None:
    """Whatever the operations (some append several events), after each one fewer than N events
    have been appended since the last automatic checkpoint, and each is named after its offset."""
    with ledger_file() as path:
        ends = []
        blobs: list[bytes] = []
        with ContextManager(path, run=RUN, checkpoint_interval=n) as mgr:
            mgr.initialize()
            ends.append(mgr.offset)
            for op in ops:
                apply_op(mgr, op, blobs)
                ends.append(mgr.offset)
            live = mgr.tree
        same_tree(replay(path, run=RUN), live)
        with contextlib.closing(sqlite3.connect(path)) as db:
            rows = db.execute(
                "SELECT \"offset\", kind, json_extract(payload, '$.name') FROM events WHERE run = ? ORDER BY seq",
                (RUN,),
            ).fetchall()
        autos = [o for o, kind, name in rows if kind == "checkpoint" and name.startswith("auto-")]
        for offset in autos:
            assert live.checkpoints[f"auto-{offset}"] == offset
        for end in ends:
            last = max([o for o in autos if o <= end], default=0)
            since = [o for o, _, _ in rows if last < o <= end]
            assert len(since) < n, f"{len(since)} events since the last automatic checkpoint, interval {n}"
        assert verify(path).ok


# -- reopening ---------------------------------------------------------------------------------


@ON_BOTH_ENGINES_SLOW_ON_POSTGRESQL
@given(first=op_lists, second=op_lists, interleave=st.lists(st.tuples(keys, json_values), max_size=3))
def test_reopening_a_run_resumes_exactly(
    first: list[tuple], second: list[tuple], interleave: list[tuple], fresh_ledgers: Ledgers
) -> None:
    with fresh_ledgers() as path, fresh_ledgers() as straight:
        blobs: list[bytes] = []
        with ContextManager(path, run=RUN) as mgr:
            mgr.initialize()
            run_ops(mgr, first, blobs)
            tree, offset, checkpoints = mgr.tree, mgr.offset, mgr.checkpoints
        with ContextManager(path, run=RUN, resume="keep") as mgr:
            same_tree(mgr.tree, tree)
            assert (mgr.offset, mgr.checkpoints, mgr.current_id) == (offset, checkpoints, tree.current_id)
            run_ops(mgr, second, blobs)
            resumed = mgr.tree
        # the same operations without closing in between give the same state (times aside)
        with ContextManager(straight, run=RUN) as mgr:
            mgr.initialize()
            run_ops(mgr, first + second)
            assert norm_tree(resumed) == norm_tree(mgr.tree)
            assert resumed.checkpoints == mgr.checkpoints
        # another run appends meanwhile: the run resumes, and goes on appending, seq dense
        with ContextManager(path, run="other") as other:
            for k, v in interleave:
                other.set(k, v)
        with ContextManager(path, run=RUN, resume="keep") as mgr:
            same_tree(mgr.tree, resumed)
            mgr.set("after", True)
            mgr.enter_step("later")
            final = mgr.tree
        with Ledger.open(path, readonly=True) as ledger:
            seqs = [r.seq for r in ledger.records(RUN)]
        assert seqs == list(range(1, len(seqs) + 1))
        same_tree(replay(path, run=RUN), final)
        assert verify(path).ok


@ON_BOTH_ENGINES_SLOW_ON_POSTGRESQL
@given(ops=op_lists, value=json_values)
def test_a_stale_writer_is_refused_not_forked(ops: list[tuple], value: Any, fresh_ledgers: Ledgers) -> None:
    with fresh_ledgers() as path:
        with ContextManager(path, run=RUN) as a:
            a.set("x", 1)
            with ContextManager(path, run=RUN, takeover=True, resume="keep") as b:  # a second writer of the run
                run_ops(b, ops)
                b.set("b", value)
                b_tree = b.tree
            head, a_tree = verify(path).events, a.tree
            with pytest.raises(ConcurrencyError):
                a.set("x", 2)  # its view of the run is stale
            assert verify(path).events == head
            same_tree(a.tree, a_tree)
        with ContextManager(path, run=RUN, resume="keep") as again:  # reopening gives what was stored
            same_tree(again.tree, b_tree)
            again.set("x", 3)
            b_tree = again.tree
        assert verify(path).ok
        same_tree(replay(path, run=RUN), b_tree)

"""Random operation sequences against a ContextManager on a file ledger and the reference model.

After every step the live tree, the replayed tree and the model must agree (ids, parents, status,
isolation, children, creation offsets, current/root, checkpoints and data with exact types), the
hash chain must verify, and the log must hold exactly the events the model predicts. A refused
operation must raise the error the model expects and append nothing.
"""

from __future__ import annotations

import copy
import os
import shutil
import tempfile
from collections.abc import Callable
from typing import Any

import pytest
from hypothesis import settings
from hypothesis import strategies as st
from hypothesis.stateful import RuleBasedStateMachine, initialize, invariant, precondition, rule

from ctxlog import (
    MAX_DEPTH,
    ContextManager,
    CtxlogError,
    DeserializeError,
    IsolationLevel,
    MergePolicy,
    NotInitializedError,
    UnknownCheckpointError,
    replay,
)
from ctxlog.audit import verify
from ctxlog.ledger import Ledger as StoredLedger

from ..model import (
    Ledger,
    Model,
    State,
    checkpoint_names,
    colliding_values,
    isolations,
    keys,
    merge_values,
    norm_tree,
    optional_policies,
    policies,
    state_from_tree,
    step_names,
    typed,
    values,
)

MAIN, OTHER = "main", "other"
SENTINEL = object()


class Boom(Exception):
    """Raised inside transactions and steps to make them fail."""


def _too_deep() -> list:
    value: list = []
    for _ in range(MAX_DEPTH):
        value = [value]
    return value  # MAX_DEPTH + 1 levels of lists


def _refuse_deserialize(m: Model, r: Any) -> None:
    raise DeserializeError("not a serialized tree")


# (label, call on the manager, call on the model) — the model decides whether it is refused.
REFUSALS: list[tuple[str, Callable[[ContextManager], Any], Callable[[Model, Any], Any]]] = [
    ("set nan", lambda g: g.set("a", float("nan")), lambda m, r: m.set("a", float("nan"))),
    ("set inf", lambda g: g.set("a", float("inf")), lambda m, r: m.set("a", float("inf"))),
    (
        "set nested -inf",
        lambda g: g.set("a", {"x": [1, float("-inf")]}),
        lambda m, r: m.set("a", {"x": [1, float("-inf")]}),
    ),
    ("set set", lambda g: g.set("a", {1, 2}), lambda m, r: m.set("a", {1, 2})),
    ("set tuple", lambda g: g.set("a", (1, 2)), lambda m, r: m.set("a", (1, 2))),
    ("set nested tuple", lambda g: g.set("a", [{"x": (1,)}]), lambda m, r: m.set("a", [{"x": (1,)}])),
    ("set int map key", lambda g: g.set("a", {1: "x"}), lambda m, r: m.set("a", {1: "x"})),
    ("set None map key", lambda g: g.set("a", {None: 1}), lambda m, r: m.set("a", {None: 1})),
    ("set bytes", lambda g: g.set("a", b"raw"), lambda m, r: m.set("a", b"raw")),
    ("set object", lambda g: g.set("a", object()), lambda m, r: m.set("a", object())),
    ("set too deep", lambda g: g.set("a", _too_deep()), lambda m, r: m.set("a", _too_deep())),
    ("set surrogate value", lambda g: g.set("a", "x\ud800"), lambda m, r: m.set("a", "x\ud800")),
    ("set surrogate map key", lambda g: g.set("a", {"\udc00": 1}), lambda m, r: m.set("a", {"\udc00": 1})),
    ("set int key", lambda g: g.set(1, "v"), lambda m, r: m.set(1, "v")),  # type: ignore[arg-type]
    ("set None key", lambda g: g.set(None, "v"), lambda m, r: m.set(None, "v")),  # type: ignore[arg-type]
    ("set surrogate key", lambda g: g.set("k\ud800", 1), lambda m, r: m.set("k\ud800", 1)),
    ("get int key", lambda g: g.get(1), lambda m, r: m.get(1)),  # type: ignore[arg-type]
    ("delete missing", lambda g: g.delete("no-such-key"), lambda m, r: m.delete("no-such-key")),
    ("enter empty name", lambda g: g.enter_step(""), lambda m, r: m.enter_step("", IsolationLevel.INHERIT, r)),
    ("enter int name", lambda g: g.enter_step(5), lambda m, r: m.enter_step(5, IsolationLevel.INHERIT, r)),  # type: ignore[arg-type]
    (
        "enter surrogate name",
        lambda g: g.enter_step("\ud800"),
        lambda m, r: m.enter_step("\ud800", IsolationLevel.INHERIT, r),
    ),
    ("enter bad isolation", lambda g: g.enter_step("s", "leaky"), lambda m, r: m.enter_step("s", "leaky", r)),
    ("parallel empty name", lambda g: g.create_parallel_context(""), lambda m, r: m.create_parallel_context("", r)),
    ("exit bad policy", lambda g: g.exit_step("sideways"), lambda m, r: m.exit_step("sideways")),
    ("switch unknown", lambda g: g.switch_to("nowhere"), lambda m, r: m.switch_to("nowhere")),
    ("switch int", lambda g: g.switch_to(3), lambda m, r: m.switch_to(3)),  # type: ignore[arg-type]
    ("merge unknown", lambda g: g.merge_child_to_parent("nowhere"), lambda m, r: m.merge_child_to_parent("nowhere")),
    (
        "merge bad policy",
        lambda g: g.merge_child_to_parent("root", "sideways"),
        lambda m, r: m.merge_child_to_parent("root", "sideways"),
    ),
    ("end unknown", lambda g: g.end_isolated("nowhere"), lambda m, r: m.end_isolated("nowhere")),
    ("checkpoint empty", lambda g: g.checkpoint(""), lambda m, r: m.checkpoint("")),
    ("checkpoint reserved", lambda g: g.checkpoint("auto-3"), lambda m, r: m.checkpoint("auto-3")),
    ("checkpoint surrogate", lambda g: g.checkpoint("\udfff"), lambda m, r: m.checkpoint("\udfff")),
    ("restore unknown", lambda g: g.restore("no-such-checkpoint"), lambda m, r: m.restore("no-such-checkpoint")),
    ("restore 0", lambda g: g.restore(0), lambda m, r: m.restore(0)),
    ("restore -1", lambda g: g.restore(-1), lambda m, r: m.restore(-1)),
    ("restore far", lambda g: g.restore(10**6), lambda m, r: m.restore(10**6)),
    ("restore True", lambda g: g.restore(True), lambda m, r: m.restore(True)),
    ("restore float", lambda g: g.restore(1.5), lambda m, r: m.restore(1.5)),  # type: ignore[arg-type]
    ("restore None", lambda g: g.restore(None), lambda m, r: m.restore(None)),  # type: ignore[arg-type]
    ("deserialize garbage", lambda g: g.deserialize(b"\x00garbage"), _refuse_deserialize),
    ("deserialize empty object", lambda g: g.deserialize(b"{}"), _refuse_deserialize),
    ("deserialize list", lambda g: g.deserialize(b"[1, 2]"), _refuse_deserialize),
    ("deserialize int", lambda g: g.deserialize(42), _refuse_deserialize),  # type: ignore[arg-type]
    ("initialize again", lambda g: g.initialize("again"), lambda m, r: m.initialize("again")),
]

# Operations a transaction body is made of: (kind, args).
TX_OPS = st.one_of(
    st.tuples(st.just("set"), keys, values),
    st.tuples(st.just("enter"), step_names, isolations),
    st.tuples(st.just("exit"), optional_policies),
    st.tuples(st.just("checkpoint"), checkpoint_names),
    st.tuples(st.just("refused"), st.sampled_from(range(len(REFUSALS)))),
)


class LedgerMachine(RuleBasedStateMachine):
    """The state machine on a SQLite file; :class:`PostgresLedgerMachine` runs it on PostgreSQL."""

    def new_location(self) -> str:
        self.dir = tempfile.mkdtemp(prefix="ctxlog-stateful-")
        return os.path.join(self.dir, "ctx.db")

    def remove_location(self) -> None:
        shutil.rmtree(self.dir, ignore_errors=True)

    def __init__(self) -> None:
        super().__init__()
        self.path = self.new_location()
        self.interval: int | None = None
        self.mgr = ContextManager(self.path, run=MAIN)
        self.ledger = Ledger()
        self.model = Model(self.ledger, MAIN)
        self.other: ContextManager | None = None
        self.other_model = Model(self.ledger, OTHER)
        self.blobs: list[tuple[bytes, State]] = []

    def teardown(self) -> None:
        self.mgr.close()
        if self.other is not None:
            self.other.close()
        self.remove_location()

    # -- the harness --------------------------------------------------------------------------

    def both(self, call_mgr: Callable[[], Any], call_model: Callable[[Model, Any], Any]) -> tuple[bool, Any, Any]:
        """Run one operation on the manager and on a trial copy of the model; compare outcomes.

        Returns (accepted, manager result, model result). A refusal must be the error the model
        expects, and must leave the head offset and the live tree as they were.
        """
        head, tree, model_head = self.mgr.offset, self.mgr.tree, self.ledger.head
        trial = self.model.clone()
        actual: CtxlogError | None = None
        result = None
        try:
            result = call_mgr()
        except CtxlogError as exc:
            actual = exc
        try:
            expected = call_model(trial, result)
        except CtxlogError as exc:
            assert self.ledger.head == model_head, "model bug: it appended before refusing"
            assert actual is not None, f"accepted (result {result!r}) where the model refuses: {exc!r}"
            assert isinstance(actual, type(exc)), f"refused with {actual!r}; expected a {type(exc).__name__}"
            assert self.mgr.offset == head, "a refused operation moved the head"
            after = self.mgr.tree
            assert after == tree and norm_tree(after) == norm_tree(tree), "a refused operation changed the tree"
            assert after.checkpoints == tree.checkpoints
            return False, None, None
        if actual is not None:
            raise AssertionError(f"refused with {actual!r} where the model accepts") from actual
        self.commit(trial)
        return True, result, expected

    def commit(self, trial: Model) -> None:
        """Take a trial model whose operation was accepted, with the automatic checkpoint it is due.

        With ``checkpoint_interval=N`` an operation whose events carry the run's seq across a
        multiple of N is followed by ``auto-<offset>``: every N events, counting the checkpoint
        (test_properties checks that reading of "every N events" on its own).
        """
        if self.interval and trial.seq // self.interval != self.model.seq // self.interval:
            trial.auto_checkpoint()
        self.model = trial

    # -- setup --------------------------------------------------------------------------------

    @initialize(
        explicit=st.booleans(),
        name=st.sampled_from(["root", "main", "r00t"]),
        interval=st.sampled_from([None, None, None, 2, 3, 5]),
    )
    def start(self, explicit: bool, name: str, interval: int | None) -> None:
        if interval is not None:
            self.mgr.close()
            self.interval = interval
            self.mgr = ContextManager(self.path, run=MAIN, checkpoint_interval=interval)
        if explicit:
            ok, cid, _ = self.both(lambda: self.mgr.initialize(name), lambda m, r: m.initialize(name))
            assert ok and cid == name

    # -- values -------------------------------------------------------------------------------

    def do_set(self, key: str, value: Any, mutate: bool = False) -> None:
        ok, _, _ = self.both(lambda: self.mgr.set(key, value), lambda m, r: m.set(key, value))
        if ok and mutate:  # the ledger must have taken a copy: changing ours changes nothing there
            if type(value) is list:
                value.append("mutated")
            elif type(value) is dict:
                value["mutated"] = True

    @rule(key=keys, value=values, mutate=st.booleans())
    def set_value(self, key: str, value: Any, mutate: bool) -> None:
        self.do_set(key, value, mutate)

    @rule(key=st.sampled_from(["a", "b"]), value=colliding_values)
    def set_small(self, key: str, value: Any) -> None:
        """Few keys and small values: parents and children hold the same keys, merges collide."""
        self.do_set(key, value)

    @rule(
        key=st.sampled_from(["a", "b"]),
        mine=merge_values,
        theirs=merge_values,
        isolation=isolations,
        merge=optional_policies,
    )
    def step_with_merge(
        self, key: str, mine: Any, theirs: Any, isolation: IsolationLevel, merge: MergePolicy | None
    ) -> None:
        """A value here, another under the same key in a child, then the child exits (merging)."""
        self.do_set(key, mine)
        self.do_enter("m", isolation)
        self.do_set(key, theirs)
        self.do_exit(merge)

    @rule(data=st.data())
    def get_value(self, data: st.DataObject) -> None:
        key = data.draw(st.sampled_from(sorted(self.model.all_keys()) or ["a"]) | keys, label="key")
        got = self.mgr.get(key, SENTINEL)
        want = self.model.get(key, SENTINEL)
        assert (got is SENTINEL) == (want is SENTINEL), f"get({key!r}): {got!r} != {want!r}"
        assert typed(got) == typed(want) or got is SENTINEL
        if type(got) is list:  # a read hands out a copy
            got.append("mutated")
        elif type(got) is dict:
            got["mutated"] = True

    @rule(data=st.data())
    def delete_key(self, data: st.DataObject) -> None:
        key = data.draw(st.sampled_from(sorted(self.model.all_keys()) or ["a"]) | keys, label="key")
        self.both(lambda: self.mgr.delete(key), lambda m, r: m.delete(key))

    # -- structure ----------------------------------------------------------------------------

    def do_enter(self, name: str, isolation: IsolationLevel) -> None:
        self.both(lambda: self.mgr.enter_step(name, isolation), lambda m, r: m.enter_step(name, isolation, r))

    @rule(name=step_names, isolation=isolations)
    def enter_step(self, name: str, isolation: IsolationLevel) -> None:
        self.do_enter(name, isolation)

    def do_exit(self, merge: MergePolicy | None) -> None:
        before = self.model.current
        ok, got, want = self.both(lambda: self.mgr.exit_step(merge), lambda m, r: m.exit_step(merge))
        if ok:
            assert before is not None
            assert (got.id, got.parent_id, got.status) == (before.id, before.parent_id, "exited")
            assert typed(got.data) == typed(want.data) == typed(before.data)

    @rule(merge=optional_policies)
    def exit_step(self, merge: MergePolicy | None) -> None:
        self.do_exit(merge)

    @rule(name=st.none() | step_names)
    def create_parallel(self, name: str | None) -> None:
        def on_model(m: Model, cid: Any) -> str:
            chosen = name if name is not None else (self.mgr.tree.contexts[cid].name if cid else "parallel")
            return m.create_parallel_context(chosen, cid)

        before = self.model.state.current_id
        ok, _, _ = self.both(lambda: self.mgr.create_parallel_context(name), on_model)
        if ok and before is not None:
            assert self.mgr.current_id == before, "create_parallel_context changed the current context"

    def context_ids(self, data: st.DataObject, label: str) -> str:
        ids = sorted(self.model.contexts)
        return data.draw(st.sampled_from(ids) if ids else st.just("nowhere"), label=label)

    @rule(data=st.data())
    def switch_to(self, data: st.DataObject) -> None:
        target = self.context_ids(data, "target")  # exited ones must be refused
        self.both(lambda: self.mgr.switch_to(target), lambda m, r: m.switch_to(target))

    @rule(data=st.data(), policy=policies)
    def merge_child(self, data: st.DataObject, policy: MergePolicy) -> None:
        child = self.context_ids(data, "child")
        self.both(
            lambda: self.mgr.merge_child_to_parent(child, policy), lambda m, r: m.merge_child_to_parent(child, policy)
        )

    @rule(name=step_names)
    def begin_isolated(self, name: str) -> None:
        ok, _, _ = self.both(lambda: self.mgr.begin_isolated(name), lambda m, r: m.begin_isolated(name, r))
        if ok:
            assert self.mgr.tree.contexts[self.mgr.current_id].isolation == IsolationLevel.ISOLATED

    @rule(data=st.data(), policy=policies)
    def end_isolated(self, data: st.DataObject, policy: MergePolicy) -> None:
        child = self.context_ids(data, "child")
        self.both(lambda: self.mgr.end_isolated(child, policy), lambda m, r: m.end_isolated(child, policy))

    @rule(name=step_names.filter(lambda n: "\x00" not in n), key=keys, value=values)
    def step_that_raises(self, name: str, key: str, value: Any) -> None:
        """``with mgr.step(...)``: the body raises; the step is recorded failed, exited without merge."""
        tree = self.mgr.tree
        cid = None
        with pytest.raises(Boom):
            with self.mgr.step(name) as cid:
                self.mgr.set(key, value)
                raise Boom
        for op in (
            lambda m: m.enter_step(name, IsolationLevel.INHERIT, cid),
            lambda m: m.set(key, value),
            lambda m: m.fail_step(cid),
        ):
            trial = self.model.clone()
            op(trial)  # the model must accept each: the current context is always active
            self.commit(trial)
        assert self.mgr.current_id == (tree.current_id or "root")
        assert self.mgr.tree.contexts[cid].status == "failed"

    # -- checkpoints, restore, serialize ------------------------------------------------------

    def do_checkpoint(self, name: str) -> None:
        ok, cp, offset = self.both(lambda: self.mgr.checkpoint(name), lambda m, r: m.checkpoint(name))
        if ok:
            assert (cp.name, cp.offset, cp.run) == (name, offset, MAIN)

    @rule(data=st.data())
    def checkpoint(self, data: st.DataObject) -> None:
        existing = sorted(self.model.checkpoints)
        name = data.draw(checkpoint_names | st.sampled_from(existing) if existing else checkpoint_names, label="name")
        self.do_checkpoint(name)

    @rule(data=st.data())
    def restore(self, data: st.DataObject) -> None:
        m = self.model
        choices: list[st.SearchStrategy[Any]] = []
        if m.checkpoints:
            names = sorted(m.checkpoints)
            choices += [st.sampled_from(names), st.sampled_from([m.checkpoints[n] for n in names])]
        if m.own_offsets:  # any offset of the run, or of another run in between (not inside a cascade)
            choices.append(st.sampled_from(self.known_offsets()))
        choices.append(st.sampled_from([-1, 0, self.ledger.head + 1]))  # outside the run
        target = data.draw(st.one_of(choices), label="target")
        self.both(lambda: self.mgr.restore(target), lambda m, r: m.restore(target))

    def known_offsets(self) -> list[int]:
        """Offsets from the run's first to the head whose state the model knows."""
        m = self.model
        return [o for o in range(m.own_offsets[0], self.ledger.head + 1) if m.known_at(o)]

    @rule(data=st.data())
    def replay_until(self, data: st.DataObject) -> None:
        """The tree ``until`` a checkpoint name or an offset is the model's state at that offset."""
        m = self.model
        if not m.own_offsets:
            return
        choices: list[st.SearchStrategy[Any]] = [st.sampled_from(self.known_offsets())]
        if m.checkpoints:
            choices.append(st.sampled_from(sorted(m.checkpoints)))
        until = data.draw(st.one_of(choices), label="until")
        offset = m.checkpoints[until] if isinstance(until, str) else until
        tree = replay(self.path, run=MAIN, until=until)
        assert norm_tree(tree) == norm_tree(m.state_at(offset))
        assert tree.offset == max(o for o in m.own_offsets if o <= offset)
        beyond = self.ledger.head + 1
        with pytest.raises(UnknownCheckpointError):
            replay(self.path, run=MAIN, until=beyond)

    @rule()
    def serialize_roundtrip(self) -> None:
        """serialize appends nothing; its bytes deserialize into a fresh manager as the same tree."""
        if self.model.state.root_id is None:
            with pytest.raises(NotInitializedError):
                self.mgr.serialize()
            return
        head = self.mgr.offset
        blob = self.mgr.serialize()
        assert isinstance(blob, bytes) and self.mgr.offset == head
        live = self.mgr.tree
        with ContextManager(":memory:", run="fresh") as fresh:
            fresh.deserialize(blob)
            got = fresh.tree
            assert got == live
            # creation offsets are positions in a log: the fresh run's are its `loaded` event's
            assert norm_tree(got, offsets=False) == norm_tree(live, offsets=False)
            assert norm_tree(live, offsets=False) == norm_tree(self.model.state, offsets=False)
            assert {c.created_offset for c in got.contexts.values()} == {1}
            assert fresh.offset == 1
            for key in self.model.all_keys():
                assert typed(fresh.get(key, SENTINEL)) == typed(self.mgr.get(key, SENTINEL))
            # the fresh manager goes on from there; new ids do not collide with loaded ones
            cid = fresh.enter_step(live.current_id or "root")
            assert cid not in live.contexts
        self.blobs.append((blob, copy.deepcopy(self.model.state)))

    @precondition(lambda self: bool(self.blobs))
    @rule(data=st.data())
    def deserialize(self, data: st.DataObject) -> None:
        blob, state = data.draw(st.sampled_from(self.blobs), label="blob")
        self.both(lambda: self.mgr.deserialize(blob), lambda m, r: m.deserialize(state))

    @rule(data=st.data())
    def deserialize_foreign(self, data: st.DataObject) -> None:
        """A tree built by another manager replaces this one's, ids included."""
        with ContextManager(":memory:", run="elsewhere") as other:
            other.initialize(data.draw(st.sampled_from(["root", "elsewhere"]), label="root"))
            ids = step_names.filter(lambda n: "\x00" not in n)  # a NUL cannot be a context id
            for name in data.draw(st.lists(ids, max_size=3), label="steps"):
                other.enter_step(name)
                other.set("from", name)
            blob, state = other.serialize(), state_from_tree(other.tree)
        self.both(lambda: self.mgr.deserialize(blob), lambda m, r: m.deserialize(state))

    # -- transactions, refusals, other writers, reopening --------------------------------------

    def do_op(self, op: tuple) -> None:
        kind, *args = op
        if kind == "set":
            self.do_set(*args)
        elif kind == "enter":
            self.do_enter(*args)
        elif kind == "exit":
            self.do_exit(*args)
        elif kind == "checkpoint":
            self.do_checkpoint(*args)
        else:
            _, call_mgr, call_model = REFUSALS[args[0]]
            self.both(lambda: call_mgr(self.mgr), call_model)

    @rule(
        ops=st.lists(TX_OPS, min_size=1, max_size=4),
        inner=st.lists(TX_OPS, max_size=3),
        outcome=st.sampled_from(["commit", "raise", "inner raises"]),
    )
    def transaction(self, ops: list[tuple], inner: list[tuple], outcome: str) -> None:
        """All or none: an exception inside rolls back the log and the live tree together."""
        saved, saved_head = self.model.clone(), self.ledger.head
        tree, offset = self.mgr.tree, self.mgr.offset
        try:
            with self.mgr.transaction():
                for op in ops:
                    self.do_op(op)
                if outcome == "inner raises":
                    inner_saved, inner_head = self.model.clone(), self.ledger.head
                    inner_tree = self.mgr.tree
                    with pytest.raises(Boom):
                        with self.mgr.transaction():
                            for op in inner:
                                self.do_op(op)
                            raise Boom
                    self.model, self.ledger.head = inner_saved, inner_head
                    assert self.mgr.tree == inner_tree and self.mgr.offset == inner_saved.offset
                if outcome == "raise":
                    raise Boom
        except Boom:
            assert outcome == "raise"
            self.model, self.ledger.head = saved, saved_head
            after = self.mgr.tree
            assert after == tree and norm_tree(after) == norm_tree(tree) and self.mgr.offset == offset
            assert after.checkpoints == tree.checkpoints

    @rule(data=st.data())
    def refused(self, data: st.DataObject) -> None:
        label, call_mgr, call_model = data.draw(st.sampled_from(REFUSALS), label="refusal")
        self.both(lambda: call_mgr(self.mgr), call_model)

    @rule(key=keys, value=values)
    def other_run_appends(self, key: str, value: Any) -> None:
        """Another run in the same file takes offsets in between; this run's view must not change."""
        if self.other is None:
            self.other = ContextManager(self.path, run=OTHER)
        self.other.set(key, value)
        self.other_model.set(key, value)
        assert self.other.offset == self.ledger.head

    @rule()
    def reopen(self) -> None:
        """Closing and reopening the run with resume="keep" resumes it exactly (open steps stay open)."""
        tree, offset = self.mgr.tree, self.mgr.offset
        self.mgr.close()
        self.mgr = ContextManager(self.path, run=MAIN, checkpoint_interval=self.interval, resume="keep")
        after = self.mgr.tree
        assert after == tree and norm_tree(after) == norm_tree(tree)
        assert self.mgr.offset == offset and after.checkpoints == tree.checkpoints

    # -- invariants ---------------------------------------------------------------------------

    @invariant()
    def tree_is_well_formed(self) -> None:
        """The current context is active (only live contexts can be current); links are consistent."""
        tree = self.mgr.tree
        if tree.current_id is None:
            assert tree.contexts == {}
            return
        current = tree.contexts[tree.current_id]
        assert current.status == "active", f"the current context {current.id!r} is {current.status}"
        assert tree.contexts[tree.root_id].parent_id is None
        for cid, ctx in tree.contexts.items():
            assert ctx.id == cid
            if ctx.parent_id is not None:
                assert tree.contexts[ctx.parent_id].children.count(cid) == 1
            for child in ctx.children:
                assert tree.contexts[child].parent_id == cid

    @invariant()
    def live_tree_is_the_model(self) -> None:
        live, m = self.mgr.tree, self.model
        assert norm_tree(live) == norm_tree(m.state)
        assert live.checkpoints == m.checkpoints
        assert self.mgr.checkpoints == m.checkpoints
        assert self.mgr.offset == live.offset == m.offset
        assert self.mgr.current_id == m.state.current_id
        assert self.mgr.depth == m.depth()

    @invariant()
    def reads_resolve_as_the_model(self) -> None:
        live, m = self.mgr.tree, self.model
        for key in sorted(m.all_keys()) + ["never-set"]:
            got = self.mgr.get(key, SENTINEL)
            want = m.get(key, SENTINEL)
            assert (got is SENTINEL) == (want is SENTINEL) and (got is SENTINEL or typed(got) == typed(want)), key
            for cid in m.contexts:
                assert typed(live.get(key, cid)) == typed(m.get(key, None, cid)), (key, cid)

    def log_changed(self, what: str) -> bool:
        """Whether the log (or the manager) changed since ``what`` was last checked."""
        key = (self.ledger.head, id(self.mgr))
        seen = self.__dict__.setdefault("_checked", {})
        if seen.get(what) == key:
            return False
        seen[what] = key
        return True

    @invariant()
    def replay_is_the_live_tree(self) -> None:
        if not self.log_changed("replay"):
            return
        if self.model.seq == 0:
            assert self.mgr.tree.contexts == {}
            return
        live = self.mgr.tree
        replayed = replay(self.path, run=MAIN)
        assert replayed == live and norm_tree(replayed) == norm_tree(live)
        assert replayed.checkpoints == live.checkpoints and replayed.offset == live.offset
        for cid, ctx in live.contexts.items():
            assert replayed.contexts[cid].created_at == ctx.created_at

    @invariant()
    def chain_verifies_and_log_is_predicted(self) -> None:
        if not self.log_changed("chain"):
            return
        result = verify(self.path)
        assert result.ok, result.summary()
        assert result.events == result.head_offset == self.ledger.head
        with StoredLedger.open(self.path, readonly=True) as stored:
            rows = [(r.offset, r.seq, r.kind, r.context, r.cause) for r in stored.records(MAIN)]
        events = self.model.events
        assert [r[:3] for r in rows] == [(e.offset, e.seq, e.kind) for e in events]
        i = 0
        while i < len(events):
            event = events[i]
            if event.cascade is None:
                if event.context is not None:
                    assert rows[i][3] == event.context, (rows[i], event)
                if event.check_cause:
                    assert rows[i][4] == event.cause, (rows[i], event)
                i += 1
                continue
            # closing active descendants: each once, every one before its ancestors
            j = i
            while j < len(events) and events[j].cascade is event.cascade:
                j += 1
            closed = [row[3] for row in rows[i:j]]
            assert sorted(closed) == sorted(event.cascade), (closed, event)
            position = {cid: k for k, cid in enumerate(closed)}
            for cid, parent in event.cascade.items():
                if parent in position:
                    assert position[cid] < position[parent], f"{parent!r} closed before its child {cid!r}"
            i = j


class PostgresLedgerMachine(LedgerMachine):
    """The same machine, each example on a new ledger schema of the throwaway PostgreSQL server."""

    cluster: Any = None

    def new_location(self) -> str:
        return str(self.cluster.new_schema())

    def remove_location(self) -> None:
        self.cluster.drop_schema(self.path)


LedgerMachine.TestCase.settings = settings(stateful_step_count=50)
TestLedgerMachine = pytest.mark.slow(LedgerMachine.TestCase)


@pytest.mark.slow
class TestPostgresLedgerMachine(PostgresLedgerMachine.TestCase):  # type: ignore[name-defined]
    """50 examples, whatever the profile: each PostgreSQL step costs round trips, and the SQLite
    machine above runs the same rules at the profile's full count."""

    settings = settings(max_examples=50, stateful_step_count=50)

    @pytest.fixture(autouse=True)
    def _server(self, pg_cluster: Any) -> None:
        PostgresLedgerMachine.cluster = pg_cluster

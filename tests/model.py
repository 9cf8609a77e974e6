"""An independent in-memory reference model of ctxlog's semantics (DESIGN.md section 2).

Written from the design, not from ctxlog's projections: a dict-based tree with the ``get``
resolution rules, the three merge policies, exit/switch/restore/deserialize, checkpoints, and a
prediction of the events every operation appends (kind and context, in order, with their offsets).

Every operation checks its arguments first and raises the ctxlog error class the design calls for
*before* changing anything, so a refused operation leaves the model as it was. Offsets are global
to the ledger file (other runs may append in between); ``history`` keeps the state after every
event of this run, which is what a restore or a replay ``until`` an offset must give back.

Where DESIGN.md is silent the model follows the library's stated choices: closing a context first
closes its active descendants (one ``exited``/``failed`` event each, descendants before ancestors,
in an order left open, so the model does not predict the states between those events); a merge
into a parent that is no longer active is refused; contexts loaded by ``deserialize`` take the
``loaded`` event's offset as their creation offset.

Only contract names are taken from ctxlog: the error classes, the two enums and ``MAX_DEPTH``.
"""

from __future__ import annotations

import bisect
import copy
import math
from dataclasses import dataclass, field
from typing import Any

import msgspec
from hypothesis import strategies as st

from ctxlog import (
    MAX_DEPTH,
    ContextStateError,
    CtxlogError,
    DuplicateCheckpointError,
    InvalidArgumentError,
    InvalidValueError,
    IsolationLevel,
    MergePolicy,
    NotInitializedError,
    UnknownCheckpointError,
    UnknownContextError,
    UnknownKeyError,
)

ROOT = "root"
AUTO_PREFIX = "auto-"
MISSING = object()


# -- values -------------------------------------------------------------------------------------


def has_surrogate(text: str) -> bool:
    """Whether ``text`` holds a lone surrogate, which no UTF-8 JSON text can carry."""
    return any(0xD800 <= ord(ch) <= 0xDFFF for ch in text)


def check_value(value: Any, path: str, depth: int = 0) -> None:
    """Raise InvalidValueError unless ``value`` is JSON-shaped (exact types, finite, <= MAX_DEPTH)."""
    t = type(value)
    if value is None or t is bool or t is int:
        return
    if t is str:
        if has_surrogate(value):
            raise InvalidValueError(f"{path}: lone surrogate")
        return
    if t is float:
        if not math.isfinite(value):
            raise InvalidValueError(f"{path}: not finite")
        return
    if t is list or t is dict:
        if depth >= MAX_DEPTH:
            raise InvalidValueError(f"{path}: too deep")
        if t is list:
            for i, item in enumerate(value):
                check_value(item, f"{path}[{i}]", depth + 1)
        else:
            for k, item in value.items():
                if type(k) is not str or has_surrogate(k):
                    raise InvalidValueError(f"{path}: bad map key {k!r}")
                check_value(item, f"{path}.{k}", depth + 1)
        return
    raise InvalidValueError(f"{path}: {t.__name__} is not a JSON value")


def typed(value: Any) -> Any:
    """A type-tagged form of a JSON value, so that ``1``, ``1.0`` and ``True`` compare unequal."""
    t = type(value)
    if value is None:
        return None
    if t is bool:
        return ("bool", value)
    if t is int:
        return ("int", value)
    if t is float:
        return ("float", value.hex())  # hex: exact, and tells 0.0 from -0.0
    if t is str:
        return ("str", value)
    if t is list:
        return ("list", [typed(v) for v in value])
    if t is dict:
        return ("dict", {k: typed(v) for k, v in value.items()})
    return ("other", t.__name__, repr(value))


def deep_merge(old: Any, new: Any) -> Any:
    """MERGE of two values: map+map recursively, list+list concatenated, anything else the child's."""
    if type(old) is dict and type(new) is dict:
        out = copy.deepcopy(old)
        for k, v in new.items():
            out[k] = deep_merge(out[k], v) if k in out else copy.deepcopy(v)
        return out
    if type(old) is list and type(new) is list:
        return copy.deepcopy(old) + copy.deepcopy(new)
    return copy.deepcopy(new)


def merge_into(parent: dict[str, Any], child: dict[str, Any], policy: MergePolicy) -> dict[str, Any]:
    """The parent's own data after merging the child's own data into it with ``policy``."""
    out = copy.deepcopy(parent)
    for k, v in child.items():
        if policy is MergePolicy.KEEP_EXISTING:
            if k not in out:  # a parent's None is a value, not a missing key
                out[k] = copy.deepcopy(v)
        elif policy is MergePolicy.OVERWRITE:
            out[k] = copy.deepcopy(v)
        else:
            out[k] = deep_merge(out[k], v) if k in out else copy.deepcopy(v)
    return out


# -- the tree -----------------------------------------------------------------------------------


@dataclass
class Ctx:
    id: str
    parent_id: str | None
    name: str
    isolation: str = "inherit"
    data: dict[str, Any] = field(default_factory=dict)
    children: list[str] = field(default_factory=list)
    status: str = "active"
    created_offset: int = 0
    is_parallel: bool = False


@dataclass
class State:
    """What a restore or a deserialize replaces: the contexts, the current one and the root."""

    contexts: dict[str, Ctx] = field(default_factory=dict)
    root_id: str | None = None
    current_id: str | None = None


@dataclass
class Event:
    offset: int
    seq: int
    kind: str
    context: str | None  # None: not predicted (restored/loaded, or one of a cascade)
    cause: int | None = None
    check_cause: bool = False
    cascade: dict[str, str] | None = None  # closing active descendants: their ids -> parent ids


def _norm_ctx(c: Any, offsets: bool) -> dict[str, Any]:
    iso = c.isolation
    out = {
        "id": c.id,
        "parent_id": c.parent_id,
        "name": c.name,
        "isolation": getattr(iso, "value", iso),
        "data": typed(dict(c.data)),
        "children": list(c.children),
        "status": c.status,
        "is_parallel": c.is_parallel,
    }
    if offsets:
        out["created_offset"] = c.created_offset
    return out


def norm_tree(tree: Any, *, offsets: bool = True) -> dict[str, Any]:
    """Comparable, type-aware form of a model ``State`` or a ctxlog ``ContextTree``.

    ``offsets=False`` leaves out the creation offsets: positions in one log, which a tree
    deserialized into another run does not keep.
    """
    return {
        "root_id": tree.root_id,
        "current_id": tree.current_id,
        "contexts": {cid: _norm_ctx(c, offsets) for cid, c in tree.contexts.items()},
    }


def state_from_tree(tree: Any) -> State:
    """A model state holding the same contexts as a ctxlog tree (for deserializing its bytes)."""
    contexts = {
        cid: Ctx(
            id=c.id,
            parent_id=c.parent_id,
            name=c.name,
            isolation=getattr(c.isolation, "value", c.isolation),
            data=msgspec.json.decode(msgspec.json.encode(c.data)),
            children=list(c.children),
            status=c.status,
            created_offset=c.created_offset,
            is_parallel=c.is_parallel,
        )
        for cid, c in tree.contexts.items()
    }
    return State(contexts, tree.root_id, tree.current_id)


def _check_name(name: Any, what: str) -> str:
    if type(name) is not str or not name:
        raise InvalidArgumentError(f"{what} must be a non-empty str, got {name!r}")
    if has_surrogate(name):
        raise CtxlogError(f"{what} holds a lone surrogate")  # any CtxlogError will do
    return name


def _check_id(name: Any, what: str) -> str:
    """A name that becomes a context id: no NUL characters either (no SQL engine stores them alike)."""
    if "\x00" in _check_name(name, what):
        raise InvalidArgumentError(f"{what} holds a NUL character")
    return name


def _check_key(key: Any) -> str:
    if type(key) is not str:
        raise InvalidArgumentError(f"key must be a str, got {key!r}")
    if has_surrogate(key):
        raise CtxlogError("key holds a lone surrogate")
    return key


def _policy(value: Any) -> MergePolicy:
    if isinstance(value, MergePolicy):
        return value
    raise CtxlogError(f"not a merge policy: {value!r}")


def _isolation(value: Any) -> IsolationLevel:
    if isinstance(value, IsolationLevel):
        return value
    raise CtxlogError(f"not an isolation level: {value!r}")


class Ledger:
    """The part of the file every run shares: the global offset counter."""

    def __init__(self) -> None:
        self.head = 0


class Model:
    """One run of the reference model."""

    def __init__(self, ledger: Ledger | None = None, run: str = "run") -> None:
        self.ledger = ledger if ledger is not None else Ledger()
        self.run = run
        self.state = State()
        self.checkpoints: dict[str, int] = {}
        self.known_ids: set[str] = set()
        self.events: list[Event] = []
        self.offset = 0  # offset of this run's last event
        self.seq = 0
        # offset -> state after that event (never mutated); None inside a cascade of closes
        self.history: dict[int, State | None] = {}
        self.own_offsets: list[int] = []

    # -- cloning (for refusals and transactions) ------------------------------------------------

    def clone(self) -> Model:
        other = Model.__new__(Model)
        other.ledger = self.ledger
        other.run = self.run
        other.state = copy.deepcopy(self.state)
        other.checkpoints = dict(self.checkpoints)
        other.known_ids = set(self.known_ids)
        other.events = list(self.events)
        other.offset, other.seq = self.offset, self.seq
        other.history = dict(self.history)
        other.own_offsets = list(self.own_offsets)
        return other

    # -- reading --------------------------------------------------------------------------------

    @property
    def contexts(self) -> dict[str, Ctx]:
        return self.state.contexts

    @property
    def current(self) -> Ctx | None:
        cid = self.state.current_id
        return self.state.contexts[cid] if cid is not None else None

    def depth(self) -> int:
        d, ctx = 0, self.current
        while ctx is not None:
            d += 1
            ctx = self.contexts[ctx.parent_id] if ctx.parent_id is not None else None
        return d

    def lookup(self, key: str, context_id: str | None = None) -> Any:
        """Own data first; then, while the context looked at is not SANDBOXED, its parent's."""
        cid = self.state.current_id if context_id is None else context_id
        ctx = self.contexts.get(cid) if cid is not None else None
        while ctx is not None:
            if key in ctx.data:
                return ctx.data[key]
            if ctx.isolation == "sandboxed" or ctx.parent_id is None:
                return MISSING
            ctx = self.contexts[ctx.parent_id]
        return MISSING

    def get(self, key: Any, default: Any = None, context_id: str | None = None) -> Any:
        _check_key(key)
        value = self.lookup(key, context_id)
        return default if value is MISSING else copy.deepcopy(value)

    def known_at(self, offset: int) -> bool:
        """Whether the model knows the state at ``offset`` (not inside a cascade of closes)."""
        i = bisect.bisect_right(self.own_offsets, offset)
        return i > 0 and self.history[self.own_offsets[i - 1]] is not None

    def state_at(self, offset: int) -> State:
        """The state after this run's last event at or before ``offset``."""
        i = bisect.bisect_right(self.own_offsets, offset)
        assert i > 0
        state = self.history[self.own_offsets[i - 1]]
        assert state is not None, f"the model does not know the state inside a cascade (offset {offset})"
        return copy.deepcopy(state)

    def all_keys(self) -> set[str]:
        return {k for c in self.contexts.values() for k in c.data}

    # -- appending ------------------------------------------------------------------------------

    def _emit(
        self,
        kind: str,
        context: str | None,
        cause: int | None = None,
        check_cause: bool = False,
        *,
        cascade: dict[str, str] | None = None,
    ) -> int:
        self.ledger.head += 1
        self.seq += 1
        self.offset = self.ledger.head
        self.events.append(Event(self.offset, self.seq, kind, context, cause, check_cause, cascade))
        self.history[self.offset] = copy.deepcopy(self.state) if cascade is None else None
        self.own_offsets.append(self.offset)
        return self.offset

    def _cause_of(self, ctx: Ctx) -> tuple[int | None, bool]:
        """The expected cause of an operation acting inside ``ctx``: its step's ``entered`` offset.

        Only predicted inside a step (the root has no step); elsewhere it is not checked.
        """
        if ctx.parent_id is None:
            return None, False
        return ctx.created_offset, True

    def _ensure_root(self) -> Ctx:
        if self.state.root_id is None:
            self.state = State({ROOT: Ctx(ROOT, None, ROOT)}, ROOT, ROOT)
            self.known_ids.add(ROOT)
            # created_offset is the offset of the initialized event, known once emitted
            self.state.contexts[ROOT].created_offset = self.ledger.head + 1
            self._emit("initialized", ROOT)
        current = self.current
        assert current is not None
        return current

    def _fresh(self, cid: Any) -> str:
        assert type(cid) is str and cid, f"context id {cid!r} is not a non-empty str"
        assert cid not in self.known_ids, f"context id {cid!r} was used before in this run"
        return cid

    def _require(self, cid: Any, what: str = "context_id") -> Ctx:
        _check_name(cid, what)
        ctx = self.contexts.get(cid)
        if ctx is None:
            raise UnknownContextError(f"no context {cid!r}")
        return ctx

    # -- operations -----------------------------------------------------------------------------

    def initialize(self, name: Any = ROOT) -> str:
        _check_id(name, "name")
        if self.state.root_id is not None:
            raise ContextStateError("the run already has a root")
        self.state = State({name: Ctx(name, None, name, created_offset=self.ledger.head + 1)}, name, name)
        self.known_ids.add(name)
        self._emit("initialized", name)
        return name

    def set(self, key: Any, value: Any) -> None:
        _check_key(key)
        check_value(value, str(key))
        ctx = self._ensure_root()
        ctx.data[key] = copy.deepcopy(value)
        self._emit("set", ctx.id, *self._cause_of(ctx))

    def delete(self, key: Any) -> None:
        _check_key(key)
        ctx = self.current
        if ctx is None or key not in ctx.data:
            raise UnknownKeyError(key)
        del ctx.data[key]
        self._emit("deleted", ctx.id, *self._cause_of(ctx))

    def enter_step(self, name: Any, isolation: Any, cid: Any, *, parallel: bool = False) -> str:
        _check_id(name, "name")
        level = _isolation(isolation)
        parent = self._ensure_root()
        cid = self._fresh(cid)
        self.contexts[cid] = Ctx(
            cid, parent.id, name, level.value, created_offset=self.ledger.head + 1, is_parallel=parallel
        )
        parent.children.append(cid)
        self.known_ids.add(cid)
        if not parallel:
            self.state.current_id = cid
        self._emit("entered", cid, *self._cause_of(parent))
        return cid

    def create_parallel_context(self, name: Any, cid: Any) -> str:
        return self.enter_step(name, IsolationLevel.ISOLATED, cid, parallel=True)

    def _close(self, ctx: Ctx, policy: MergePolicy | None, status: str = "exited") -> None:
        """Close ``ctx``: its active descendants first, then merge (if asked), then itself.

        Closing cascades (depth first, in child order, without switching) so that no active
        context is ever left under a closed one: an active context's ancestors are all active.
        """
        if ctx.parent_id is None:
            raise ContextStateError("cannot exit the root")
        parent = self.contexts[ctx.parent_id]
        if parent.status != "active":
            raise ContextStateError("the parent is no longer active; it cannot become current")
        self._close_descendants(ctx, status)
        if policy is not None:
            parent.data = merge_into(parent.data, ctx.data, policy)
            self._emit("merged", parent.id)
        ctx.status = status
        self.state.current_id = parent.id
        self._emit(status, ctx.id)

    def _close_descendants(self, ctx: Ctx, status: str) -> None:
        """Close the active descendants of ``ctx``: one event each, in an order the design leaves
        open (the log check only asks that each closes before its ancestors). A current context
        among them hands current up, so after them current is ``ctx`` if it was below it.

        The states between these events depend on that order: the model does not predict them.
        """
        below: dict[str, str] = {}
        stack = [ctx]
        while stack:
            for child_id in stack.pop().children:
                child = self.contexts[child_id]
                if child.status == "active":
                    below[child.id] = child.parent_id  # type: ignore[assignment]
                    stack.append(child)
        if not below:
            return
        for cid in below:
            self.contexts[cid].status = status
        if self.state.current_id in below:
            self.state.current_id = ctx.id
        for _ in below:
            self._emit(status, None, cascade=below)

    def exit_step(self, merge: Any = None) -> Ctx:
        policy = None if merge is None else _policy(merge)
        ctx = self.current
        if ctx is None:
            raise NotInitializedError("no context to exit")
        self._close(ctx, policy)
        return copy.deepcopy(ctx)

    def fail_step(self, cid: str) -> None:
        """What ``with mgr.step(...)`` records when its body raises (cid must be active)."""
        self._close(self.contexts[cid], None, "failed")

    def switch_to(self, cid: Any) -> None:
        ctx = self._require(cid)
        if ctx.status != "active":
            raise ContextStateError(f"{cid!r} is {ctx.status}")
        self.state.current_id = ctx.id
        self._emit("switched", ctx.id)

    def merge_child_to_parent(self, cid: Any, policy: Any = MergePolicy.KEEP_EXISTING) -> None:
        level = _policy(policy)
        child = self._require(cid, "child_id")
        if child.parent_id is None:
            raise ContextStateError("the root has no parent")
        parent = self.contexts[child.parent_id]
        if parent.status != "active":
            raise ContextStateError(f"the parent {parent.id!r} is {parent.status}; its data is final")
        parent.data = merge_into(parent.data, child.data, level)
        self._emit("merged", parent.id)

    def begin_isolated(self, name: Any, cid: Any) -> str:
        return self.enter_step(name, IsolationLevel.ISOLATED, cid)

    def end_isolated(self, cid: Any, policy: Any = MergePolicy.KEEP_EXISTING) -> None:
        level = _policy(policy)
        ctx = self._require(cid, "child_id")
        if ctx.status != "active":
            raise ContextStateError(f"{cid!r} is {ctx.status}")
        self._close(ctx, level)

    def checkpoint(self, name: Any) -> int:
        _check_name(name, "name")
        if name.startswith(AUTO_PREFIX) and name[len(AUTO_PREFIX) :].isdigit():
            raise CtxlogError("names auto-<offset> belong to automatic checkpoints")
        if name in self.checkpoints:
            raise DuplicateCheckpointError(name)
        ctx = self._ensure_root()
        offset = self.ledger.head + 1
        self.checkpoints[name] = offset
        self._emit("checkpoint", ctx.id)
        return offset

    def auto_checkpoint(self) -> int:
        """An automatic checkpoint, named after its own offset."""
        ctx = self._ensure_root()
        offset = self.ledger.head + 1
        self.checkpoints[f"{AUTO_PREFIX}{offset}"] = offset
        self._emit("checkpoint", ctx.id)
        return offset

    def restore(self, target: Any) -> None:
        if isinstance(target, bool) or not isinstance(target, (str, int)):
            raise InvalidArgumentError(f"not a checkpoint name or offset: {target!r}")
        if isinstance(target, str) and target in self.checkpoints:
            offset = self.checkpoints[target]
        elif isinstance(target, str) and not (target.strip().isascii() and target.strip().isdigit()):
            raise UnknownCheckpointError(target)
        else:  # an offset, also when spelled as digits (as ``replay(until=...)`` reads it)
            target = int(target)
            if not self.own_offsets or not self.own_offsets[0] <= target <= self.ledger.head:
                raise UnknownCheckpointError(target)
            offset = target
        self.state = self.state_at(offset)
        self._emit("restored", None)

    def deserialize(self, state: State) -> None:
        """The loaded contexts enter this run with the ``loaded`` event: their creation offset is its."""
        self.state = copy.deepcopy(state)
        for ctx in self.state.contexts.values():
            ctx.created_offset = self.ledger.head + 1
        self.known_ids.update(state.contexts)
        self._emit("loaded", None)


# -- strategies shared by the stateful and the property tests ------------------------------------

scalars = (
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False, allow_infinity=False) | st.text(max_size=6)
)
json_values = st.recursive(
    scalars,
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=3), inner, max_size=4),
    max_leaves=10,
)
# Small values that collide often (same keys, None, lists and maps on both sides of a merge).
colliding_values = st.recursive(
    st.sampled_from([None, 0, 1, 0.0, -0.0, 1.0, False, True, "", "s"]),
    lambda inner: st.lists(inner, max_size=2) | st.dictionaries(st.sampled_from(["x", "y"]), inner, max_size=2),
    max_leaves=4,
)
# For both sides of a merge: None, non-empty lists and maps, scalars, each a quarter of the time.
merge_values = st.one_of(
    st.none(),
    st.lists(colliding_values, min_size=1, max_size=2),
    st.dictionaries(st.sampled_from(["x", "y"]), colliding_values, min_size=1, max_size=2),
    colliding_values,
)
values = colliding_values | json_values
keys = st.sampled_from(["a", "b", "c", ""]) | st.text(max_size=3)
step_names = st.sampled_from(["s", "t", "root", "s-2", "parallel", "t-3"]) | st.text(min_size=1, max_size=4)
checkpoint_names = st.sampled_from(["cp", "one", "1", "2", "7", "a\x00b", " 3"]) | st.text(
    min_size=1, max_size=4
).filter(lambda n: not n.startswith(AUTO_PREFIX))
isolations = st.sampled_from(list(IsolationLevel))
policies = st.sampled_from(list(MergePolicy))
optional_policies = st.none() | policies

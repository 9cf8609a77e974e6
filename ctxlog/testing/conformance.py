"""The storage conformance suite: what every backend must do, written once, shipped with ctxlog.

A backend's test module subclasses :class:`StoreConformance`, implements ``make_store`` (and the
two raw-write hooks the append-only checks need) and inherits every test unchanged, as the SQLite
and PostgreSQL stores do. It needs pytest (``ctxlog[test]``).
"""

from __future__ import annotations

import abc
from collections.abc import Iterator

import pytest

from ..errors import ConcurrencyError, CtxlogError
from ..ledger.chain import GENESIS, Chain
from ..ledger.codec import canonical, encode_event
from ..ledger.events import CheckpointTaken, Record, ValueSet
from ..ledger.facade import Ledger
from ..ledger.store import Snapshot, Store
from ..ledger.verify import verify_records

__all__ = ["META", "StoreConformance", "make_records"]

META = {"format": "ctxlog", "schema_version": "1", "ledger_id": "test", "hash_algorithm": "sha256"}


def make_records(specs: list[tuple[str, str]], start: int = 1, previous: str = GENESIS) -> list[Record]:
    """Chained rows for ``(run, kind)`` pairs: kind is "set" or "checkpoint"."""
    chain, seqs, rows = Chain(), {}, []
    for i, (run, kind) in enumerate(specs, start=start):
        seqs[run] = seqs.get(run, 0) + 1
        event = ValueSet(key="k", value=i) if kind == "set" else CheckpointTaken(name=f"cp{i}")
        payload = encode_event(event)
        digest = chain.link(previous, canonical(i, run, seqs[run], 1000 + i, kind, "root", None, payload))
        rows.append(Record(i, run, seqs[run], 1000 + i, kind, "root", None, payload, digest))
        previous = digest
    return rows


class StoreConformance(abc.ABC):
    """Every test a storage backend must pass."""

    @abc.abstractmethod
    def make_store(self) -> Store:
        """A new, empty store."""

    @abc.abstractmethod
    def raw_update(self, store: Store, offset: int) -> None:
        """Try to change the row at ``offset`` behind the ledger's back (must be refused)."""

    @abc.abstractmethod
    def raw_delete(self, store: Store, offset: int) -> None:
        """Try to delete the row at ``offset`` behind the ledger's back (must be refused)."""

    @pytest.fixture
    def store(self) -> Iterator[Store]:
        store = self.make_store()
        yield store
        store.close()

    @pytest.fixture
    def ready(self, store: Store) -> Store:
        store.create_schema(dict(META))
        return store

    def _append(self, store: Store, records: list[Record]) -> None:
        store.begin()
        store.insert(records)
        store.commit()

    def test_new_store_has_no_meta(self, store: Store) -> None:
        assert store.get_meta() == {}

    def test_create_schema_stores_meta(self, ready: Store) -> None:
        assert ready.get_meta() == META

    def test_create_schema_twice_keeps_the_first_meta(self, ready: Store) -> None:
        ready.create_schema({**META, "ledger_id": "other"})
        assert ready.get_meta() == META

    def test_empty_log_has_no_head(self, ready: Store) -> None:
        assert ready.head() is None
        assert ready.last_seq("r") == 0
        assert list(ready.scan()) == []

    def test_committed_rows_come_back_in_order(self, ready: Store) -> None:
        rows = make_records([("a", "set"), ("b", "set"), ("a", "checkpoint")])
        self._append(ready, rows)
        assert list(ready.scan()) == rows
        assert ready.head() == (3, rows[-1].hash)

    def test_rollback_discards_rows(self, ready: Store) -> None:
        ready.begin()
        ready.insert(make_records([("a", "set")]))
        ready.rollback()
        assert ready.head() is None

    def test_rollback_to_savepoint_keeps_earlier_rows(self, ready: Store) -> None:
        rows = make_records([("a", "set"), ("a", "set")])
        ready.begin()
        ready.insert(rows[:1])
        ready.savepoint("sp")
        ready.insert(rows[1:])
        ready.rollback_to("sp")
        ready.commit()
        assert list(ready.scan()) == rows[:1]

    def test_released_savepoint_keeps_its_rows(self, ready: Store) -> None:
        rows = make_records([("a", "set"), ("a", "set")])
        ready.begin()
        ready.savepoint("sp")
        ready.insert(rows)
        ready.release("sp")
        ready.commit()
        assert ready.head() == (2, rows[1].hash)

    def test_last_seq_is_per_run(self, ready: Store) -> None:
        self._append(ready, make_records([("a", "set"), ("b", "set"), ("a", "set")]))
        assert (ready.last_seq("a"), ready.last_seq("b"), ready.last_seq("c")) == (2, 1, 0)

    def test_scan_takes_an_offset_range(self, ready: Store) -> None:
        rows = make_records([("a", "set")] * 5)
        self._append(ready, rows)
        assert [r.offset for r in ready.scan(after=1, until=3)] == [2, 3]

    def test_scan_run_filters_by_run_seq_and_offset(self, ready: Store) -> None:
        self._append(ready, make_records([("a", "set"), ("b", "set"), ("a", "set"), ("a", "set")]))
        assert [r.offset for r in ready.scan_run("a")] == [1, 3, 4]
        assert [r.offset for r in ready.scan_run("a", after_seq=1, until=3)] == [3]

    def test_run_names_are_sorted_and_distinct(self, ready: Store) -> None:
        self._append(ready, make_records([("b", "set"), ("a", "set"), ("b", "set"), ("c", "set")]))
        assert ready.run_names() == ["a", "b", "c"]

    def test_own_commits_are_not_changes_elsewhere(self, ready: Store) -> None:
        ready.begin()
        ready.changed_elsewhere()
        ready.insert(make_records([("a", "set")]))
        ready.commit()
        ready.begin()
        assert ready.changed_elsewhere() is False
        ready.rollback()

    def test_kind_counts_most_frequent_first(self, ready: Store) -> None:
        self._append(ready, make_records([("a", "set"), ("a", "checkpoint"), ("b", "set")]))
        assert list(ready.kind_counts().items()) == [("set", 2), ("checkpoint", 1)]

    def test_snapshot_count(self, ready: Store) -> None:
        ready.begin()
        ready.put_snapshot(Snapshot("a", 1, 1, "h", b"s"))
        ready.commit()
        assert ready.snapshot_count() == 1

    def test_scan_run_after_an_offset(self, ready: Store) -> None:
        self._append(ready, make_records([("a", "set"), ("b", "set"), ("a", "set"), ("a", "set")]))
        assert [r.offset for r in ready.scan_run("a", after=1)] == [3, 4]
        assert [r.offset for r in ready.scan_run("a", after=2**70)] == []

    def test_checkpoint_offset_by_name(self, ready: Store) -> None:
        self._append(ready, make_records([("a", "set"), ("a", "checkpoint"), ("b", "checkpoint")]))
        assert ready.checkpoint_offset("a", "cp2") == 2
        assert ready.checkpoint_offset("a", "cp3") is None
        assert ready.checkpoint_offset("b", "cp3") == 3

    def test_record_at(self, ready: Store) -> None:
        rows = make_records([("a", "set"), ("a", "set")])
        self._append(ready, rows)
        assert ready.record_at(2) == rows[1]
        assert ready.record_at(3) is None

    def test_runs_count_events_and_checkpoints(self, ready: Store) -> None:
        self._append(ready, make_records([("a", "set"), ("b", "set"), ("a", "checkpoint")]))
        info = {r.run: r for r in ready.runs()}
        assert [r.run for r in ready.runs()] == ["a", "b"]
        assert (info["a"].events, info["a"].checkpoints, info["a"].first_offset, info["a"].last_offset) == (2, 1, 1, 3)
        assert (info["b"].events, info["b"].checkpoints) == (1, 0)

    def test_checkpoint_rows_are_those_of_the_run(self, ready: Store) -> None:
        self._append(ready, make_records([("a", "checkpoint"), ("b", "checkpoint"), ("a", "set"), ("a", "checkpoint")]))
        assert [r.offset for r in ready.checkpoint_rows("a")] == [1, 4]

    def test_duplicate_offset_is_refused(self, ready: Store) -> None:
        rows = make_records([("a", "set")])
        self._append(ready, rows)
        ready.begin()
        with pytest.raises(CtxlogError):  # at once, or when the rows reach the engine
            ready.insert(make_records([("b", "set")]))
            ready.commit()
        ready.rollback()
        assert list(ready.scan()) == rows

    def test_duplicate_run_seq_is_refused(self, ready: Store) -> None:
        rows = make_records([("a", "set")])
        self._append(ready, rows)
        clash = make_records([("a", "set")], start=2, previous=rows[0].hash)
        ready.begin()
        with pytest.raises(CtxlogError):
            ready.insert(clash)
            ready.commit()
        ready.rollback()
        assert ready.head() == (1, rows[0].hash)

    def test_update_is_refused(self, ready: Store) -> None:
        rows = make_records([("a", "set")])
        self._append(ready, rows)
        with pytest.raises(Exception, match="append-only"):
            self.raw_update(ready, 1)
        assert ready.record_at(1) == rows[0]

    def test_delete_is_refused(self, ready: Store) -> None:
        rows = make_records([("a", "set")])
        self._append(ready, rows)
        with pytest.raises(Exception, match="append-only"):
            self.raw_delete(ready, 1)
        assert ready.record_at(1) == rows[0]

    def test_snapshots_newest_first_up_to_offset(self, ready: Store) -> None:
        for seq, offset in ((1, 2), (2, 5), (3, 9)):
            ready.begin()
            ready.put_snapshot(Snapshot("a", seq, offset, "h", b"state%d" % seq))
            ready.commit()
        assert [s.offset for s in ready.snapshot_before("a", 6)] == [5, 2]
        assert [s.offset for s in ready.snapshot_before("a", None)] == [9, 5, 2]
        assert list(ready.snapshot_before("b", None)) == []

    def test_snapshot_at_same_position_is_replaced(self, ready: Store) -> None:
        for state in (b"old", b"new"):
            ready.begin()
            ready.put_snapshot(Snapshot("a", 1, 1, "h", state))
            ready.commit()
        assert [s.state for s in ready.snapshot_before("a", None)] == [b"new"]

    # -- the ledger over this store -------------------------------------------------------------

    def test_ledger_appends_dense_offsets_and_a_verifying_chain(self, store: Store) -> None:
        ledger = Ledger(store)
        for i, run in enumerate(["a", "b", "a", "a", "b"]):
            with ledger.transaction():
                ledger.append(run, store.last_seq(run), ValueSet(key="k", value=i), "root", None)
        rows = list(store.scan())
        assert [r.offset for r in rows] == [1, 2, 3, 4, 5]
        assert [r.seq for r in rows if r.run == "a"] == [1, 2, 3]
        assert verify_records(rows, Chain(), genesis=ledger.genesis).ok

    def test_ledger_refuses_a_stale_writer(self, store: Store) -> None:
        ledger = Ledger(store)
        with ledger.transaction():
            ledger.append("a", 0, ValueSet(key="k", value=1), "root", None)
        with pytest.raises(ConcurrencyError), ledger.transaction():
            ledger.append("a", 0, ValueSet(key="k", value=2), "root", None)
        assert store.head() is not None and store.head()[0] == 1

    def test_ledger_rolls_back_a_failed_transaction(self, store: Store) -> None:
        ledger = Ledger(store)
        with pytest.raises(RuntimeError), ledger.transaction():
            ledger.append("a", 0, ValueSet(key="k", value=1), "root", None)
            raise RuntimeError("boom")
        assert store.head() is None

    def test_ledger_nested_transaction_rolls_back_alone(self, store: Store) -> None:
        ledger = Ledger(store)
        with ledger.transaction():
            ledger.append("a", 0, ValueSet(key="k", value=1), "root", None)
            with pytest.raises(RuntimeError), ledger.transaction():
                ledger.append("a", 1, ValueSet(key="k", value=2), "root", None)
                raise RuntimeError("inner")
            ledger.append("a", 1, ValueSet(key="k", value=3), "root", None)
        rows = list(store.scan())
        assert [r.seq for r in rows] == [1, 2]
        assert verify_records(rows, Chain(), genesis=ledger.genesis).ok

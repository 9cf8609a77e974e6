"""The conformance suite for stores that several connections and processes share, shipped with ctxlog.

A file or a server ledger must also hold up when other writers, killed writers and attackers
reach it. A backend subclasses :class:`SharedStoreConformance`, says how to name a new ledger
(``new_location``) and how an attacker writes past the append-only guard (``tamper``), and
inherits every test unchanged.
"""

from __future__ import annotations

import abc
import json
import random
import threading

import pytest

from ..audit import replay, runs, verify
from ..errors import ConcurrencyError, NotALedgerError, ReadOnlyError, RunOwnedError, SchemaVersionError
from ..ledger.facade import Ledger
from ..ledger.store import Store
from ..ledger.stores import open_store
from ..manager import ContextManager, fork
from .conformance import META, StoreConformance, make_records
from .writer import kill_after_acknowledged, start_writer

__all__ = ["SharedStoreConformance", "stored_values"]

WRITER_OPS = 60


def stored_values(location: str, run: str) -> list[int]:
    """The ``i`` of every ``set`` the writer process stored in ``run``, in order."""
    with Ledger.open(location, readonly=True, create=False) as ledger:
        return [json.loads(r.payload)["value"]["i"] for r in ledger.records(run) if r.kind == "set"]


class SharedStoreConformance(StoreConformance):
    """Everything in :class:`StoreConformance`, plus what sharing a ledger must not break."""

    location: str

    @abc.abstractmethod
    def new_location(self) -> str:
        """Where a new, empty ledger can be created (a path or a URL other processes can open)."""

    @abc.abstractmethod
    def tamper(self, location: str, sql: str, params: tuple = ()) -> None:
        """Run ``sql`` (``?`` placeholders) on the ledger as an attacker who bypasses the triggers."""

    @pytest.fixture(autouse=True)
    def _location(self, request: pytest.FixtureRequest) -> None:
        self.request = request
        self.location = self.new_location()

    def make_store(self) -> Store:
        return open_store(self.location)

    def _filled(self, events: int = 8) -> str:
        with ContextManager(self.location, run="r") as mgr:
            for i in range(events - 1):
                mgr.set(f"k{i % 3}", {"i": i})
        return self.location

    # -- several connections --------------------------------------------------------------------

    def test_another_connections_commit_is_a_change_elsewhere(self, ready: Store) -> None:
        theirs = open_store(self.location)
        try:
            ready.begin()
            ready.changed_elsewhere()
            ready.commit()
            theirs.begin()
            theirs.insert(make_records([("a", "set")]))
            theirs.commit()
            ready.begin()
            assert ready.changed_elsewhere() is True
            assert ready.head() == (1, make_records([("a", "set")])[0].hash)
            ready.rollback()
        finally:
            theirs.close()

    def test_readonly_store_refuses_to_begin(self, ready: Store) -> None:
        reader = open_store(self.location, readonly=True)
        try:
            with pytest.raises(ReadOnlyError):
                reader.begin()
            assert reader.get_meta() == META
        finally:
            reader.close()

    def test_a_reader_sees_committed_rows_only(self, ready: Store) -> None:
        reader = open_store(self.location, readonly=True)
        try:
            ready.begin()
            ready.insert(make_records([("a", "set")]))
            assert reader.head() is None
            ready.commit()
            assert reader.head() is not None and reader.head()[0] == 1
        finally:
            reader.close()

    def test_stale_manager_gets_a_concurrency_error_and_recovers(self) -> None:
        with (
            ContextManager(self.location, run="r") as first,
            ContextManager(self.location, run="r", takeover=True) as second,
        ):
            first.set("a", 1)
            with pytest.raises(ConcurrencyError, match="reload"):
                second.set("b", 2)
            second.reload()
            second.set("b", 2)
            assert (second.get("a"), second.get("b")) == (1, 2)
        assert verify(self.location).ok
        assert replay(self.location, run="r").get("b") == 2

    def test_a_run_has_one_writer_until_it_closes(self) -> None:
        with ContextManager(self.location, run="owned") as first:
            first.set("a", 1)
            with pytest.raises(RunOwnedError, match="is being written by another manager"):
                ContextManager(self.location, run="owned")
        with ContextManager(self.location, run="owned", exists=True) as again:
            assert again.get("a") == 1

    def test_a_fork_starts_where_its_source_stood_and_verifies(self) -> None:
        with ContextManager(self.location, run="source") as mgr:
            mgr.set("x", 1)
            mgr.checkpoint("one")
            mgr.set("x", 2)
            mgr.checkpoint("two")
            mgr.set("x", 3)
        info = fork(self.location, run="source", at="two", new_run="copy")
        assert (info.source_run, info.checkpoints) == ("source", {"one": 3, "two": 5})
        with ContextManager(self.location, run="copy", exists=True) as copy:
            assert copy.get("x") == 2
            copy.restore("one")
            assert copy.get("x") == 1
        assert replay(self.location, run="copy", until="one").get("x") == 1
        assert {i.run: i.source for i in runs(self.location)}["copy"] == "source"
        assert verify(self.location).ok

    def test_threads_creating_the_ledger_at_once_make_one(self) -> None:
        ids: list[str] = []
        errors: list[BaseException] = []

        def opener() -> None:
            try:
                with Ledger.open(self.location) as ledger:
                    ids.append(ledger.ledger_id)
            except BaseException as exc:  # pragma: no cover - reported below
                errors.append(exc)

        threads = [threading.Thread(target=opener) for _ in range(8)]
        for t in threads:
            t.start()
        for t in threads:
            t.join()
        assert errors == [] and len(set(ids)) == 1

    def test_four_processes_two_on_one_run(self) -> None:
        ContextManager(self.location, run="setup").close()
        writers = [
            start_writer(self.location, "alpha", WRITER_OPS),
            start_writer(self.location, "beta", WRITER_OPS),
            start_writer(self.location, "shared", WRITER_OPS, "--retry"),
            start_writer(self.location, "shared", WRITER_OPS, "--retry"),
        ]
        for writer in writers:
            out, err = writer.communicate(timeout=240)
            assert writer.returncode == 0, err
            assert out.count("committed") == WRITER_OPS
        result = verify(self.location)
        assert result.ok, result.summary()
        counts = {info.run: info.events for info in runs(self.location)}
        assert counts == {"alpha": WRITER_OPS + 1, "beta": WRITER_OPS + 1, "shared": 2 * WRITER_OPS + 1}
        assert result.events == sum(counts.values())

    def test_a_reader_never_sees_a_gap_while_writers_append(self) -> None:
        """Offsets appear in order: a reader that resumes after the last offset it saw misses nothing."""
        ContextManager(self.location, run="setup").close()
        writers = [start_writer(self.location, f"w{i}", WRITER_OPS) for i in range(3)]
        seen: list[int] = []
        with Ledger.open(self.location, readonly=True) as reader:
            while True:
                running = any(w.poll() is None for w in writers)
                seen += [r.offset for r in reader.records(after=seen[-1] if seen else 0)]
                if not running:
                    break
            for writer in writers:
                _, err = writer.communicate(timeout=240)
                assert writer.returncode == 0, err
            seen += [r.offset for r in reader.records(after=seen[-1])]
        assert seen == list(range(1, 1 + 3 * (WRITER_OPS + 1)))

    def test_sigkill_loses_nothing_acknowledged_and_resumes(self) -> None:
        rng = random.Random(8)
        for round_ in range(3):
            run = f"crash-{round_}"
            last = kill_after_acknowledged(self.location, run, rng)
            assert verify(self.location).ok
            values = stored_values(self.location, run)
            assert values[: last + 1] == list(range(last + 1)) and values == list(range(len(values)))
        with ContextManager(self.location, run="crash-2") as mgr:
            seq = mgr.tree.seq
            mgr.set("after", "restart")
            assert mgr.tree.seq == seq + 1
        assert verify(self.location).ok

    # -- attackers and other data ---------------------------------------------------------------

    def test_edited_payload_is_found_at_its_offset(self) -> None:
        self._filled()
        self.tamper(
            self.location, 'UPDATE events SET payload = replace(payload, \'"i":3\', \'"i":4\') WHERE "offset" = ?', (5,)
        )
        result = verify(self.location)
        assert (result.ok, result.bad_offset) == (False, 5)

    def test_deleted_row_is_found_at_its_offset(self) -> None:
        self._filled()
        self.tamper(self.location, 'DELETE FROM events WHERE "offset" = ?', (4,))
        result = verify(self.location)
        assert (result.ok, result.bad_offset) == (False, 4)

    def test_cut_tail_is_found_against_the_exported_head(self) -> None:
        self._filled()
        with Ledger.open(self.location, readonly=True) as ledger:
            head = ledger.head()
        self.tamper(self.location, 'DELETE FROM events WHERE "offset" > ?', (6,))
        assert verify(self.location).ok
        assert not verify(self.location, head=head).ok

    def test_newer_schema_version_is_refused(self) -> None:
        self._filled(2)
        self.tamper(self.location, "UPDATE meta SET value = '99' WHERE key = 'schema_version'")
        with pytest.raises(SchemaVersionError, match="99"):
            Ledger.open(self.location)

    def test_other_tables_are_not_a_ledger(self, store: Store) -> None:
        self.tamper(self.location, "CREATE TABLE users (id INTEGER)")
        with pytest.raises(NotALedgerError, match="not a ctxlog ledger"):
            Ledger.open(self.location)
        assert store.get_meta() == {}

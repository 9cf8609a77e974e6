"""The PostgreSQL backend: the shared conformance suite against a throwaway server, then its specifics."""

from __future__ import annotations

import uuid
from pathlib import Path

import psycopg
import pytest

from ctxlog import ContextManager
from ctxlog.errors import CtxlogError, InvalidArgumentError, NotALedgerError, ReadOnlyError, StorageError
from ctxlog.ledger import redacted
from ctxlog.ledger.facade import Ledger
from ctxlog.ledger.postgres import PostgresStore
from ctxlog.ledger.store import Store
from ctxlog.ledger.stores import open_store
from ctxlog.testing.conformance import META, make_records
from ctxlog.testing.shared import SharedStoreConformance

from .. import attack


class TestPostgresStore(SharedStoreConformance):
    def new_location(self) -> str:
        self.url: str = self.request.getfixturevalue("pg_url")
        return self.url

    def tamper(self, location: str, sql: str, params: tuple = ()) -> None:
        attack.tamper(location, sql, params)

    def raw_update(self, store: Store, offset: int) -> None:
        with psycopg.connect(self.url, autocommit=True) as conn:
            conn.execute('UPDATE events SET kind = %s WHERE "offset" = %s', ("x", offset))

    def raw_delete(self, store: Store, offset: int) -> None:
        with psycopg.connect(self.url, autocommit=True) as conn:
            conn.execute('DELETE FROM events WHERE "offset" = %s', (offset,))


def test_truncate_is_refused(pg_url: str) -> None:
    store = open_store(pg_url)
    try:
        store.create_schema(dict(META))
        store.begin()
        store.insert(make_records([("a", "set")]))
        store.commit()
        with psycopg.connect(pg_url, autocommit=True) as conn, pytest.raises(psycopg.Error, match="append-only"):
            conn.execute("TRUNCATE events")
        assert store.head() is not None
    finally:
        store.close()


def test_url_opens_a_postgres_store(pg_url: str) -> None:
    store = open_store(pg_url)
    assert isinstance(store, PostgresStore)
    store.close()


def test_password_is_kept_out_of_messages() -> None:
    assert redacted("postgresql://ann:s3cret@db.example/ctx") == "postgresql://ann:***@db.example/ctx"
    assert redacted("postgresql://ann@db.example/ctx") == "postgresql://ann@db.example/ctx"
    assert redacted("postgresql://db/x?user=ann&password=s3cret&sslmode=require") == (
        "postgresql://db/x?user=ann&password=***&sslmode=require"
    )


@pytest.mark.parametrize(
    "url",
    [
        "postgresql://ann:s3cret@127.0.0.1:1/x?connect_timeout=2",
        "postgresql://127.0.0.1:1/x?user=ann&password=s3cret&connect_timeout=2",
        "POSTGRESQL://ann:s3cret@127.0.0.1:1/x?connect_timeout=2",
        "postgresql://ann:s3cr%zzet@127.0.0.1:1/x",
        "mysql://ann:s3cret@127.0.0.1/x",
        "postgresql://ann:s3cr?et@127.0.0.1:1/x",
        "postgresql://ann:s3cr#et@127.0.0.1:1/x",
        "postgresql://ann:s3cr@et@127.0.0.1:1/x",
        "postgresql://ann:s3cr/et@127.0.0.1:1/x",
        "postgresql://127.0.0.1:1/x?user=ann&pass%77ord=s3cret&connect_timeout=2",
        "host=127.0.0.1 port=1 user=ann password=s3cret connect_timeout=2",
        "postgresql:ann:s3cret@127.0.0.1",
    ],
)
def test_no_error_message_shows_the_password(url: str) -> None:
    with pytest.raises(CtxlogError) as caught:
        Ledger.open(url)
    message = str(caught.value)
    assert "s3cr" not in message and "\n" not in message and "***" in message


def test_unreachable_server_is_a_storage_error_naming_the_url() -> None:
    with pytest.raises(StorageError, match=r"postgresql://ann:\*\*\*@127.0.0.1:1/x.*cannot reach"):
        Ledger.open("postgresql://ann:pw@127.0.0.1:1/x?connect_timeout=2")


def test_missing_database_is_not_a_ledger(pg_cluster: object) -> None:
    with pytest.raises(NotALedgerError, match="does not exist"):
        Ledger.open(pg_cluster.url("absent_db"))  # type: ignore[attr-defined]


def test_missing_schema_is_not_a_ledger(pg_cluster: object) -> None:
    with pytest.raises(NotALedgerError, match="create it first"):
        Ledger.open(pg_cluster.url("postgres", "absent_schema"))  # type: ignore[attr-defined]


def test_readonly_open_of_an_empty_schema_is_not_a_ledger(pg_url: str) -> None:
    with pytest.raises(NotALedgerError, match="not a ctxlog ledger"):
        Ledger.open(pg_url, readonly=True, create=False)


def test_other_url_schemes_are_refused() -> None:
    with pytest.raises(InvalidArgumentError, match="mysql"):
        open_store("mysql://localhost/x")


def test_manager_on_postgres_replays_to_the_live_tree(pg_url: str) -> None:
    from ctxlog import replay

    with ContextManager(pg_url, run="r") as mgr:
        mgr.set("a", 1)
        with mgr.step("s"):
            mgr.set("b", [1, 2])
            mgr.checkpoint("cp")
        live = mgr.tree
    assert replay(pg_url, run="r") == live
    assert replay(pg_url, run="r", until="cp").get("b", "s") == [1, 2]


def _with_role(url: str, role: str) -> str:
    return url.replace("postgresql://ctxlog@", f"postgresql://{role}@")


def test_documented_grants_are_enough_to_write_and_to_audit(pg_url: str) -> None:
    from ctxlog import replay
    from ctxlog.audit import verify

    with ContextManager(pg_url, run="r") as mgr:
        mgr.set("a", 1)
    schema = pg_url.rsplit("%3D", 1)[-1]
    with psycopg.connect(pg_url, autocommit=True) as conn:
        for role in ("writer_" + schema, "auditor_" + schema):
            conn.execute(f"CREATE ROLE {role} LOGIN; GRANT USAGE ON SCHEMA {schema} TO {role}")
        conn.execute(f"GRANT SELECT ON meta, events, snapshots TO auditor_{schema}")
        conn.execute(f"GRANT SELECT ON meta TO writer_{schema}")
        conn.execute(f"GRANT SELECT, INSERT ON events TO writer_{schema}")
        conn.execute(f"GRANT SELECT, INSERT, UPDATE ON snapshots TO writer_{schema}")
    writer, auditor = _with_role(pg_url, "writer_" + schema), _with_role(pg_url, "auditor_" + schema)
    with ContextManager(writer, run="r") as mgr:
        mgr.set("b", 2)
        mgr.checkpoint("cp")
    assert verify(auditor).ok and replay(auditor, run="r").get("b") == 2
    with pytest.raises(ReadOnlyError), ContextManager(auditor, run="r") as mgr:
        mgr.set("c", 3)
    assert verify(pg_url).events == 4


def _terminate(store: Store) -> None:
    """End the store's server session from outside, as a server restart or an administrator would."""
    pid = store._db.raw.info.backend_pid  # type: ignore[attr-defined]
    with psycopg.connect(store._db.url, autocommit=True) as admin:  # type: ignore[attr-defined]
        admin.execute("SELECT pg_terminate_backend(%s, 10000)", (pid,))


def test_a_lost_connection_between_operations_is_reopened(pg_url: str) -> None:
    from ctxlog import replay
    from ctxlog.audit import verify

    with ContextManager(pg_url, run="r") as mgr:
        mgr.set("a", 1)
        _terminate(mgr._session.ledger._store)
        mgr.set("b", 2)
        _terminate(mgr._session.ledger._store)
        assert mgr.checkpoint("cp").offset == 4
        live = mgr.tree
    assert verify(pg_url).ok and replay(pg_url, run="r") == live


def test_a_connection_lost_inside_a_transaction_fails_it_and_the_manager_goes_on(pg_url: str) -> None:
    from ctxlog import replay
    from ctxlog.audit import verify

    with ContextManager(pg_url, run="r") as mgr:
        mgr.set("a", 1)
        with pytest.raises(StorageError), mgr.transaction():
            mgr.set("b", 2)
            _terminate(mgr._session.ledger._store)
            mgr.set("c", 3)
            mgr.get("b")
            mgr.enter_step("s")
            mgr.checkpoint("cp")
        assert mgr.get("b") is None
        mgr.set("d", 4)
        live = mgr.tree
    assert verify(pg_url).ok and replay(pg_url, run="r") == live
    assert replay(pg_url, run="r").get("d") == 4


def test_maintenance_on_the_log_does_not_hold_up_writers(pg_url: str) -> None:
    """ANALYZE (like VACUUM and index builds) takes a lock that an EXCLUSIVE table lock waits for;
    ctxlog's advisory write lock does not."""
    import threading

    with ContextManager(pg_url, run="r") as mgr, psycopg.connect(pg_url) as maintenance:
        mgr.set("a", 1)
        maintenance.execute("ANALYZE events")  # its lock is held until this transaction ends
        writer = threading.Thread(target=mgr.set, args=("b", 2))
        writer.start()
        writer.join(timeout=10)
        assert not writer.is_alive()
        maintenance.rollback()
        assert mgr.get("b") == 2


def test_a_database_not_in_utf8_is_refused_with_the_reason(pg_cluster: object) -> None:
    name = "latin1_" + uuid.uuid4().hex[:8]
    with psycopg.connect(pg_cluster.url(), autocommit=True) as admin:  # type: ignore[attr-defined]
        admin.execute(f"CREATE DATABASE {name} ENCODING 'LATIN1' LC_COLLATE 'C' LC_CTYPE 'C' TEMPLATE template0")
    with pytest.raises(NotALedgerError, match="LATIN1.*UTF8"):
        ContextManager(pg_cluster.url(name), run="r")  # type: ignore[attr-defined]


def test_text_no_encoding_can_carry_is_an_argument_error(pg_url: str) -> None:
    from ctxlog import replay

    with ContextManager(pg_url, run="r") as mgr:
        mgr.set("a", 1)
    with pytest.raises(CtxlogError):
        replay(pg_url, run="r", until="\udcff")
    with pytest.raises(CtxlogError):
        replay(pg_url, run="\udcff")
    with pytest.raises(InvalidArgumentError, match="surrogate"):
        Ledger.open("postgresql://ann@127.0.0.1:1/\udcff")


def test_a_large_transaction_goes_in_by_copy_and_verifies(pg_url: str) -> None:
    from ctxlog import replay
    from ctxlog.audit import verify

    with ContextManager(pg_url, run="r") as mgr:
        with mgr.transaction():
            for i in range(3000):
                mgr.set(f"k{i % 10}", i)
        live = mgr.tree
    assert verify(pg_url).events == 3001 and replay(pg_url, run="r") == live


def test_an_inner_transaction_rolls_back_rows_already_copied(pg_url: str) -> None:
    from ctxlog import replay
    from ctxlog.audit import verify

    with ContextManager(pg_url, run="r") as mgr:
        with mgr.transaction():
            mgr.set("before", 1)
            with pytest.raises(RuntimeError), mgr.transaction():
                for i in range(2500):  # past the ledger's 1,024-row flush: COPY inside the savepoint
                    mgr.set("inner", i)
                raise RuntimeError("undo the inner block")
            mgr.set("after", 2)
        live = mgr.tree
    assert live.get("inner") is None and (live.get("before"), live.get("after")) == (1, 2)
    assert verify(pg_url).events == 3 and replay(pg_url, run="r") == live


def test_a_libpq_without_pipeline_mode_is_refused_saying_what_to_install(
    pg_url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(psycopg.Pipeline, "is_supported", classmethod(lambda cls: False))
    with pytest.raises(InvalidArgumentError, match=r"libpq 14.*ctxlog\[postgres\]"):
        open_store(pg_url)


def test_a_transaction_the_server_aborted_is_not_reported_committed(pg_url: str) -> None:
    store = open_store(pg_url)
    try:
        store.create_schema(dict(META))
        store.begin()
        store.insert(make_records([("a", "set")]))
        store._db.send_queued()  # type: ignore[attr-defined]
        with pytest.raises(psycopg.Error):
            store._db.raw.execute("SELECT 1 / 0")  # type: ignore[attr-defined]
        with pytest.raises(StorageError, match="rolled it back"):
            store.commit()
        store.rollback()
        assert store.head() is None
    finally:
        store.close()


def test_writers_read_the_head_after_the_lock_whatever_the_default_isolation(pg_url: str) -> None:
    import threading

    from ctxlog.audit import verify

    strict = pg_url + "%20-cdefault_transaction_isolation%3Dserializable"
    ContextManager(strict, run="setup").close()
    errors: list[BaseException] = []

    def write(run: str) -> None:
        try:
            with ContextManager(strict, run=run) as mgr:
                for i in range(60):
                    mgr.set("k", i)
        except BaseException as exc:  # pragma: no cover - reported below
            errors.append(exc)

    threads = [threading.Thread(target=write, args=(f"w{n}",)) for n in range(3)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert errors == []
    assert verify(pg_url).events == 3 * 61


def test_a_connection_string_is_a_server_ledger_not_a_file(
    pg_cluster: object, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from ctxlog import replay

    url = pg_cluster.new_schema()  # type: ignore[attr-defined]
    schema = url.rsplit("%3D", 1)[-1]
    conninfo = (
        f"host=127.0.0.1 port={pg_cluster.port} user=ctxlog password=hunter2 "  # type: ignore[attr-defined]
        f"dbname=postgres options='-csearch_path={schema}'"
    )
    monkeypatch.chdir(tmp_path)
    with ContextManager(conninfo, run="r") as mgr:
        mgr.set("a", 1)
        assert "hunter2" not in mgr._session.ledger._store.location
    assert replay(url, run="r").get("a") == 1
    assert list(tmp_path.iterdir()) == []


def test_drop_schema_removes_the_ledger(pg_cluster: object) -> None:
    url = pg_cluster.new_schema()  # type: ignore[attr-defined]
    ContextManager(url, run="r").close()
    pg_cluster.drop_schema(url)  # type: ignore[attr-defined]
    with pytest.raises(NotALedgerError):
        Ledger.open(url)


def test_a_writer_kept_waiting_for_the_lock_gives_up_and_appends_nothing(
    pg_url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    from ctxlog.audit import verify

    monkeypatch.setattr("ctxlog.ledger.postgres.errors.LOCK_TIMEOUT", "300ms")
    with ContextManager(pg_url, run="r") as mgr:
        mgr.set("a", 1)
        holder = open_store(pg_url)
        try:
            holder.begin()  # takes the write lock and keeps it
            with pytest.raises(StorageError, match="waited 300ms for a lock"):
                mgr.set("b", 2)
            holder.rollback()
        finally:
            holder.close()
        assert mgr.get("b") is None
        mgr.set("c", 3)
    assert verify(pg_url).events == 3


@pytest.mark.parametrize(
    "error, expected, words",
    [
        (psycopg.errors.QueryCanceled("canceling statement due to statement timeout"), StorageError, "cancelled"),
        (psycopg.errors.ProgramLimitExceeded("index row requires 9024 bytes"), InvalidArgumentError, "too large"),
        (psycopg.errors.DiskFull("could not extend file"), StorageError, "PostgreSQL failed"),
        (psycopg.OperationalError("server closed the connection unexpectedly"), StorageError, "cannot reach"),
    ],
)
def test_server_errors_become_ctxlog_errors_that_say_what_happened(
    error: Exception, expected: type, words: str
) -> None:
    from ctxlog.ledger.postgres.errors import translated

    with pytest.raises(expected, match=words) as caught, translated("postgresql://ann:s3cret@db/x"):
        raise error
    assert "s3cret" not in str(caught.value) and "\n" not in str(caught.value)

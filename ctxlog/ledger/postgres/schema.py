"""The PostgreSQL schema of a ledger and the statements the backend sends.

Columns match the SQLite schema one for one; text columns that are compared or sorted use the
"C" collation, so names order by code point on every server, as they do in SQLite.
"""

__all__ = [
    "CHECKPOINT_OFFSET",
    "COLUMNS",
    "EDGES",
    "HAS_RUN",
    "INSERT",
    "KIND_COUNTS",
    "LAST_SEQS",
    "LOCK_CLASS",
    "OBJECTS",
    "PUT_SNAPSHOT",
    "RUNS",
    "SCHEMAS",
    "SELECT",
    "SIZE",
    "SNAPSHOTS_AFTER",
    "SNAPSHOTS_BEFORE",
    "WRITE_LOCK",
    "Statements",
]

COLUMNS = '"offset", run, seq, ts, kind, context, cause, payload, hash'
INSERT = f"INSERT INTO events ({COLUMNS}) VALUES (%s, %s, %s, %s, %s, %s, %s, %s, %s)"
LOCK_CLASS = 1668577388
"""First key of ctxlog's advisory lock ("ctxl"); the second is the schema's name, hashed."""
WRITE_LOCK = f"SELECT pg_advisory_xact_lock({LOCK_CLASS}, hashtext(current_schema()))"
"""Taken by every write transaction before it reads the head, released by its COMMIT: appends go
one at a time in offset order. An advisory lock, not a table lock, so VACUUM, ANALYZE and index
builds never wait for writers, nor writers for them."""
LAST_SEQS = 'SELECT r, (SELECT max(seq) FROM events WHERE run = r) FROM unnest(CAST(%s AS text[]) COLLATE "C") AS r'
"""Each listed run's last seq, by one probe of the (run, seq) index, not a scan."""

_COMMON = """
CREATE TABLE meta (key text COLLATE "C" PRIMARY KEY, value text NOT NULL);
CREATE TABLE events (
    "offset" bigint  PRIMARY KEY{offset_check},
    run      text    COLLATE "C" NOT NULL,
    seq      bigint  NOT NULL{seq_check},
    ts       bigint  NOT NULL,
    kind     text    COLLATE "C" NOT NULL,
    context  text    COLLATE "C" NOT NULL,
    cause    bigint,
    payload  text    NOT NULL,
    hash     {hash_type}    NOT NULL,
    UNIQUE (run, seq)
);
CREATE INDEX events_checkpoints ON events (run) WHERE kind = 'checkpoint';
CREATE TABLE snapshots (
    run      text   COLLATE "C" NOT NULL,
    seq      bigint NOT NULL,
    "offset" bigint NOT NULL,
    hash     text   NOT NULL,
    state    bytea  NOT NULL,
    PRIMARY KEY (run, seq)
);
CREATE FUNCTION ctxlog_refuse_change() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN RAISE EXCEPTION 'ctxlog events are append-only: % refused', TG_OP; END $$;
CREATE TRIGGER events_no_change BEFORE UPDATE OR DELETE ON events
    FOR EACH ROW EXECUTE FUNCTION ctxlog_refuse_change();
CREATE TRIGGER events_no_truncate BEFORE TRUNCATE ON events
    FOR EACH STATEMENT EXECUTE FUNCTION ctxlog_refuse_change();
CREATE FUNCTION ctxlog_checkpoint_name(payload text) RETURNS text LANGUAGE plpgsql IMMUTABLE AS $$
BEGIN RETURN payload::json ->> 'name'; EXCEPTION WHEN others THEN RETURN NULL; END $$;
"""

SCHEMAS = {
    1: _COMMON.format(offset_check="", seq_check="", hash_type="text"),
    2: _COMMON.format(offset_check=' CHECK ("offset" >= 1)', seq_check=" CHECK (seq >= 1)", hash_type="bytea"),
}
"""The statements that create a ledger of each schema version (version 2 stores the hash as 32
bytes and refuses offsets and seqs below 1)."""

SELECT = {1: COLUMNS, 2: COLUMNS.replace("hash", "encode(hash, 'hex')")}
"""The columns of a row as reads select them, per schema version (the hash as hex)."""


class Statements:
    """The reads of one schema version, with its columns filled in."""

    def __init__(self, version: int) -> None:
        c = SELECT[version]
        self.version = version
        self.TAIL = f'SELECT {c} FROM events ORDER BY "offset" DESC LIMIT 2'
        self.SCAN = f'SELECT {c} FROM events WHERE "offset" <= %s AND "offset" > %s ORDER BY "offset"'
        self.SCAN_ALL = f'SELECT {c} FROM events WHERE "offset" > %s ORDER BY "offset"'
        self.SCAN_RUN = f'SELECT {c} FROM events WHERE run = %s AND "offset" > %s AND seq > %s ORDER BY seq'
        self.RECORD_AT = f'SELECT {c} FROM events WHERE "offset" = %s'
        self.CHECKPOINT_ROWS = (
            f'SELECT {c} FROM events WHERE run = %s AND kind = \'checkpoint\' AND "offset" > %s ORDER BY "offset"'
        )


RUNS = (
    'SELECT run, count(*), min("offset"), max("offset"), min(ts), max(ts), '
    "count(*) FILTER (WHERE kind = 'checkpoint') FROM events GROUP BY run ORDER BY min(\"offset\")"
)
HAS_RUN = "SELECT 1 FROM events WHERE run = %s LIMIT 1"
EDGES = 'SELECT (SELECT min("offset") FROM events), (SELECT max("offset") FROM events)'
CHECKPOINT_OFFSET = (
    "SELECT \"offset\" FROM events WHERE run = %s AND kind = 'checkpoint' "
    'AND ctxlog_checkpoint_name(payload) = %s ORDER BY "offset" LIMIT 1'
)
PUT_SNAPSHOT = (
    'INSERT INTO snapshots (run, seq, "offset", hash, state) VALUES (%s, %s, %s, %s, %s) '
    'ON CONFLICT (run, seq) DO UPDATE SET "offset" = excluded."offset", hash = excluded.hash, state = excluded.state'
)
SNAPSHOTS_AFTER = (
    'SELECT run, seq, "offset", hash, state FROM snapshots WHERE run = %s AND "offset" <= %s AND seq > %s ORDER BY seq'
)
SNAPSHOTS_BEFORE = (
    'SELECT run, seq, "offset", hash, state FROM snapshots WHERE run = %s AND "offset" <= %s AND seq < %s ORDER BY seq'
)
KIND_COUNTS = "SELECT kind, count(*) AS n FROM events GROUP BY kind ORDER BY n DESC, kind"
SIZE = (
    "SELECT sum(pg_total_relation_size(c.oid)) FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace "
    "WHERE n.nspname = current_schema() AND c.relname IN ('meta', 'events', 'snapshots')"
)
OBJECTS = (  # what a new ledger could clash with in its schema
    "SELECT relname FROM pg_class WHERE relnamespace = "
    "(SELECT oid FROM pg_namespace WHERE nspname = current_schema()) AND relkind IN ('r','p','v','m','f','S')"
)

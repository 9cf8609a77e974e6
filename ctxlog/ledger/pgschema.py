"""The PostgreSQL schema of a ledger and the statements the backend sends most.

Columns match the SQLite schema one for one; text columns that are compared or sorted use the
"C" collation, so names order by code point on every server, as they do in SQLite.
"""

COLUMNS = '"offset", run, seq, ts, kind, context, cause, payload, hash'
INSERT = f"INSERT INTO events ({COLUMNS}) VALUES (%s, %s, %s, %s, %s, %s, %s, %s, %s)"
HEAD = 'SELECT "offset", hash FROM events ORDER BY "offset" DESC LIMIT 1'
LOCK_CLASS = 1668577388
"""First key of ctxlog's advisory lock ("ctxl"); the second is the schema's name, hashed."""
WRITE_LOCK = f"SELECT pg_advisory_xact_lock({LOCK_CLASS}, hashtext(current_schema()))"
"""Taken by every write transaction before it reads the head, released by its COMMIT: appends go
one at a time in offset order. An advisory lock, not a table lock, so VACUUM, ANALYZE and index
builds never wait for writers, nor writers for them."""
LAST_SEQS = 'SELECT r, (SELECT max(seq) FROM events WHERE run = r) FROM unnest(CAST(%s AS text[]) COLLATE "C") AS r'
"""Each listed run's last seq, by one probe of the (run, seq) index, not a scan."""

SCHEMA = """
CREATE TABLE meta (key text COLLATE "C" PRIMARY KEY, value text NOT NULL);
CREATE TABLE events (
    "offset" bigint  PRIMARY KEY,
    run      text    COLLATE "C" NOT NULL,
    seq      bigint  NOT NULL,
    ts       bigint  NOT NULL,
    kind     text    COLLATE "C" NOT NULL,
    context  text    COLLATE "C" NOT NULL,
    cause    bigint,
    payload  text    NOT NULL,
    hash     text    NOT NULL,
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

"""The SQLite schema of a ledger: the tables, the index of checkpoints and the append-only triggers."""

__all__ = ["COLUMNS", "INSERT", "SCHEMA"]

SCHEMA = """
CREATE TABLE IF NOT EXISTS meta (key TEXT PRIMARY KEY, value TEXT NOT NULL) WITHOUT ROWID;
CREATE TABLE IF NOT EXISTS events (
    "offset" INTEGER PRIMARY KEY,
    run      TEXT    NOT NULL,
    seq      INTEGER NOT NULL,
    ts       INTEGER NOT NULL,
    kind     TEXT    NOT NULL,
    context  TEXT    NOT NULL,
    cause    INTEGER,
    payload  TEXT    NOT NULL,
    hash     TEXT    NOT NULL,
    UNIQUE (run, seq)
);
CREATE INDEX IF NOT EXISTS events_checkpoints ON events (run) WHERE kind = 'checkpoint';
CREATE TABLE IF NOT EXISTS snapshots (
    run      TEXT    NOT NULL,
    seq      INTEGER NOT NULL,
    "offset" INTEGER NOT NULL,
    hash     TEXT    NOT NULL,
    state    BLOB    NOT NULL,
    PRIMARY KEY (run, seq)
) WITHOUT ROWID;
CREATE TRIGGER IF NOT EXISTS events_no_update BEFORE UPDATE ON events
BEGIN SELECT RAISE(ABORT, 'ctxlog events are append-only: UPDATE refused'); END;
CREATE TRIGGER IF NOT EXISTS events_no_delete BEFORE DELETE ON events
BEGIN SELECT RAISE(ABORT, 'ctxlog events are append-only: DELETE refused'); END;
"""

COLUMNS = '"offset", run, seq, ts, kind, context, cause, payload, hash'
INSERT = f"INSERT INTO events ({COLUMNS}) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)"

"""The SQLite schema of a ledger, per schema version, and the columns as every read selects them.

Version 2 (written now) stores the hash as 32 bytes and refuses offsets and seqs below 1;
version 1 stored it as hex text. Reads cast every column but the payload to its type in SQL, so a
cell an attacker rewrote as another type comes back as a value of the right type (which then no
longer matches the chain), never as a Python object of a surprising type; a payload rewritten as
a BLOB comes back as bytes, which the chain check and every reader refuse at its offset.
"""

__all__ = [
    "CHECKPOINT_OFFSET",
    "COLUMNS",
    "INSERT",
    "KIND_COUNTS",
    "MISSTORED",
    "PUT_SNAPSHOT",
    "RUNS",
    "SCHEMAS",
    "SELECT",
    "SNAPSHOTS",
]

_TRIGGERS = """
CREATE TRIGGER IF NOT EXISTS events_no_update BEFORE UPDATE ON events
BEGIN SELECT RAISE(ABORT, 'ctxlog events are append-only: UPDATE refused'); END;
CREATE TRIGGER IF NOT EXISTS events_no_delete BEFORE DELETE ON events
BEGIN SELECT RAISE(ABORT, 'ctxlog events are append-only: DELETE refused'); END;
"""

_SNAPSHOTS = """
CREATE TABLE IF NOT EXISTS snapshots (
    run      TEXT    NOT NULL,
    seq      INTEGER NOT NULL,
    "offset" INTEGER NOT NULL,
    hash     TEXT    NOT NULL,
    state    BLOB    NOT NULL,
    PRIMARY KEY (run, seq)
) WITHOUT ROWID;
"""

SCHEMAS = {
    1: """
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
CREATE INDEX IF NOT EXISTS events_checkpoints ON events (run) WHERE kind = 'checkpoint';"""
    + _SNAPSHOTS
    + _TRIGGERS,
    2: """
CREATE TABLE IF NOT EXISTS meta (key TEXT PRIMARY KEY, value TEXT NOT NULL) WITHOUT ROWID;
CREATE TABLE IF NOT EXISTS events (
    "offset" INTEGER PRIMARY KEY CHECK ("offset" >= 1),
    run      TEXT    NOT NULL,
    seq      INTEGER NOT NULL CHECK (seq >= 1),
    ts       INTEGER NOT NULL,
    kind     TEXT    NOT NULL,
    context  TEXT    NOT NULL,
    cause    INTEGER,
    payload  TEXT    NOT NULL,
    hash     BLOB    NOT NULL,
    UNIQUE (run, seq)
);
CREATE INDEX IF NOT EXISTS events_checkpoints ON events (run) WHERE kind = 'checkpoint';"""
    + _SNAPSHOTS
    + _TRIGGERS,
}
"""The statements that create a ledger of each schema version."""

COLUMNS = '"offset", run, seq, ts, kind, context, cause, payload, hash'
INSERT = f"INSERT INTO events ({COLUMNS}) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)"

_TYPED = (
    'CAST("offset" AS INTEGER), CAST(run AS TEXT), CAST(seq AS INTEGER), CAST(ts AS INTEGER), CAST(kind AS TEXT), '
    "CAST(context AS TEXT), CAST(cause AS INTEGER), payload, "
)
SELECT = {1: _TYPED + "CAST(hash AS TEXT)", 2: _TYPED + "lower(hex(hash))"}
"""The columns of a row as reads select them, per schema version: cast to their types (the
payload as stored), the hash as lower-case hex."""

RUNS = (
    'SELECT CAST(run AS TEXT), count(*), min("offset"), max("offset"), min(CAST(ts AS INTEGER)), '
    "max(CAST(ts AS INTEGER)), sum(CAST(kind AS TEXT) = 'checkpoint') FROM events GROUP BY CAST(run AS TEXT) "
    'ORDER BY min("offset")'
)
CHECKPOINT_OFFSET = (
    "SELECT \"offset\" FROM events WHERE run = ? AND kind = 'checkpoint' "
    "AND json_valid(payload) AND json_extract(payload, '$.name') = ? ORDER BY \"offset\" LIMIT 1"
)
PUT_SNAPSHOT = 'INSERT OR REPLACE INTO snapshots (run, seq, "offset", hash, state) VALUES (?, ?, ?, ?, ?)'
SNAPSHOTS = (
    'SELECT run, CAST(seq AS INTEGER), CAST("offset" AS INTEGER), CAST(hash AS TEXT), state FROM snapshots '
    "WHERE run = ? AND \"offset\" <= ? AND typeof(state) = 'blob' ORDER BY seq"
)
"""The snapshots of a run up to an offset, oldest first (append `` DESC`` for newest first)."""
KIND_COUNTS = "SELECT CAST(kind AS TEXT) AS kind, count(*) AS n FROM events GROUP BY 1 ORDER BY n DESC, kind"
_MISSTORED = (
    "SELECT \"offset\" FROM events WHERE typeof(run) != 'text' OR typeof(seq) != 'integer' "
    "OR typeof(ts) != 'integer' OR typeof(kind) != 'text' OR typeof(context) != 'text' "
    "OR typeof(cause) NOT IN ('integer', 'null') OR typeof(payload) != 'text' OR typeof(hash) != '{}' "
    'ORDER BY "offset" LIMIT 1'
)
MISSTORED = {1: _MISSTORED.format("text"), 2: _MISSTORED.format("blob")}
"""The first row with a cell stored as another type than its column's, per schema version."""

"""What verify checks in PostgreSQL's catalog: that the ledger's schema is the one ctxlog created.

A table owner can replace ``events`` with a view, drop or disable a trigger, replace the function
readers resolve checkpoint names with, add a row-level security policy that hides rows from an
auditor, or change a column's type; each would let readers see something other than the rows the
chain covers. The catalog of the ledger's schema is compared, object by object, with the schema
of its version: anything missing, added or different is named.
"""

from __future__ import annotations

from typing import Any

__all__ = ["catalog_problems", "expected_catalog"]

_RELATIONS = {
    ("events", "r"), ("meta", "r"), ("snapshots", "r"), ("events_checkpoints", "i"), ("events_pkey", "i"),
    ("events_run_seq_key", "i"), ("meta_pkey", "i"), ("snapshots_pkey", "i"),
}  # fmt: skip

_INDEXES = {
    ("events_checkpoints", "CREATE INDEX events_checkpoints ON {s}.events USING btree (run) "
     "WHERE (kind = 'checkpoint'::text)"),
    ("events_pkey", 'CREATE UNIQUE INDEX events_pkey ON {s}.events USING btree ("offset")'),
    ("events_run_seq_key", "CREATE UNIQUE INDEX events_run_seq_key ON {s}.events USING btree (run, seq)"),
    ("meta_pkey", "CREATE UNIQUE INDEX meta_pkey ON {s}.meta USING btree (key)"),
    ("snapshots_pkey", "CREATE UNIQUE INDEX snapshots_pkey ON {s}.snapshots USING btree (run, seq)"),
}  # fmt: skip

_TRIGGERS = {
    ("events_no_change", "O", "CREATE TRIGGER events_no_change BEFORE DELETE OR UPDATE ON {s}.events "
     "FOR EACH ROW EXECUTE FUNCTION ctxlog_refuse_change()"),
    ("events_no_truncate", "O", "CREATE TRIGGER events_no_truncate BEFORE TRUNCATE ON {s}.events "
     "FOR EACH STATEMENT EXECUTE FUNCTION ctxlog_refuse_change()"),
}  # fmt: skip

_FUNCTIONS = {
    ("ctxlog_checkpoint_name", "CREATE OR REPLACE FUNCTION {s}.ctxlog_checkpoint_name(payload text)\n RETURNS text\n"
     " LANGUAGE plpgsql\n IMMUTABLE\nAS $function$\nBEGIN RETURN payload::json ->> 'name'; EXCEPTION WHEN others "
     "THEN RETURN NULL; END $function$\n"),
    ("ctxlog_refuse_change", "CREATE OR REPLACE FUNCTION {s}.ctxlog_refuse_change()\n RETURNS trigger\n"
     " LANGUAGE plpgsql\nAS $function$\nBEGIN RAISE EXCEPTION 'ctxlog events are append-only: % refused', TG_OP; "
     "END $function$\n"),
}  # fmt: skip

_CONSTRAINTS = {
    1: {("events_pkey", 'PRIMARY KEY ("offset")'), ("events_run_seq_key", "UNIQUE (run, seq)")},
    2: {
        ("events_pkey", 'PRIMARY KEY ("offset")'), ("events_run_seq_key", "UNIQUE (run, seq)"),
        ("events_offset_check", 'CHECK (("offset" >= 1))'), ("events_seq_check", "CHECK ((seq >= 1))"),
    },
}  # fmt: skip

_OTHER_COLUMNS = {
    ("meta", 1, "key", "text", True, '"C"'), ("meta", 2, "value", "text", True, '"default"'),
    ("snapshots", 1, "run", "text", True, '"C"'), ("snapshots", 2, "seq", "bigint", True, "-"),
    ("snapshots", 3, "offset", "bigint", True, "-"), ("snapshots", 4, "hash", "text", True, '"default"'),
    ("snapshots", 5, "state", "bytea", True, "-"),
}  # fmt: skip

_COLUMNS = [
    ("offset", "bigint", True, "-"), ("run", "text", True, '"C"'), ("seq", "bigint", True, "-"),
    ("ts", "bigint", True, "-"), ("kind", "text", True, '"C"'), ("context", "text", True, '"C"'),
    ("cause", "bigint", False, "-"), ("payload", "text", True, '"default"'), ("hash", "{hash}", True, "-"),
]  # fmt: skip

_CATALOG = {
    "relation": (
        "SELECT relname, relkind::text, relrowsecurity OR relforcerowsecurity FROM pg_class "
        "WHERE relnamespace = current_schema()::regnamespace"
    ),
    "index": (
        "SELECT c.relname, pg_get_indexdef(i.indexrelid) FROM pg_index i JOIN pg_class c ON c.oid = i.indexrelid "
        "WHERE c.relnamespace = current_schema()::regnamespace"
    ),
    "trigger": (
        "SELECT t.tgname, t.tgenabled::text, pg_get_triggerdef(t.oid) FROM pg_trigger t JOIN pg_class c "
        "ON c.oid = t.tgrelid WHERE c.relnamespace = current_schema()::regnamespace AND NOT t.tgisinternal"
    ),
    "function": (
        "SELECT proname, pg_get_functiondef(oid) FROM pg_proc WHERE pronamespace = current_schema()::regnamespace"
    ),
    "constraint": (
        "SELECT conname, pg_get_constraintdef(oid) FROM pg_constraint WHERE conrelid = "
        "(SELECT oid FROM pg_class WHERE relname = 'events' AND relnamespace = current_schema()::regnamespace)"
    ),
    "column": (
        "SELECT c.relname, a.attnum, a.attname, format_type(a.atttypid, a.atttypmod), a.attnotnull, "
        "a.attcollation::regcollation::text FROM pg_attribute a JOIN pg_class c ON c.oid = a.attrelid "
        "WHERE c.relnamespace = current_schema()::regnamespace AND c.relkind IN ('r', 'p', 'v', 'm', 'f') "
        "AND a.attnum > 0 AND NOT a.attisdropped"
    ),
    "rule": (
        "SELECT r.rulename FROM pg_rewrite r JOIN pg_class c ON c.oid = r.ev_class "
        "WHERE c.relnamespace = current_schema()::regnamespace"
    ),
    "policy": (
        "SELECT polname FROM pg_policy p JOIN pg_class c ON c.oid = p.polrelid "
        "WHERE c.relnamespace = current_schema()::regnamespace"
    ),
}


def expected_catalog(schema: str, version: int) -> dict[str, set[tuple]]:
    """The catalog rows of a ledger of ``version`` created in ``schema`` (its name as SQL quotes it)."""

    def fill(rows: set[tuple]) -> set[tuple]:
        return {tuple(cell.replace("{s}", schema) if isinstance(cell, str) else cell for cell in r) for r in rows}

    hash_type, hash_collation = ("bytea", "-") if version >= 2 else ("text", '"default"')
    columns = [
        (n, t.replace("{hash}", hash_type), nn, hash_collation if n == "hash" else c) for n, t, nn, c in _COLUMNS
    ]
    return {
        "relation": {(name, kind, False) for name, kind in _RELATIONS},
        "index": fill(_INDEXES),
        "trigger": fill(_TRIGGERS),
        "function": fill(_FUNCTIONS),
        "constraint": set(_CONSTRAINTS[version]),
        "column": {("events", i, *c) for i, c in enumerate(columns, start=1)} | _OTHER_COLUMNS,
        "policy": set(),
        "rule": set(),
    }


def catalog_problems(db: Any, version: int) -> list[str]:
    """Every difference between the catalog of the ledger's schema and ``expected_catalog``, one
    line each; ``db`` is the store's connection."""
    (schema,) = db.one("SELECT quote_ident(current_schema())")
    expected = expected_catalog(schema, version)
    problems: list[str] = []
    for kind, sql in _CATALOG.items():
        rows = db.all(sql)
        present = set(map(tuple, rows))
        for row in sorted(expected[kind] - present, key=str):
            problems.append(f"the catalog lacks the {kind} {row[0]!r} ctxlog created ({_shown(row, schema)})")
        for row in sorted(present - expected[kind], key=str):
            problems.append(f"the catalog holds a {kind} {row[0]!r} ctxlog did not create ({_shown(row, schema)})")
    return problems


def _shown(row: tuple, schema: str) -> str:
    """The catalog row, its schema's name left out (it is the ledger's)."""
    text = " ".join(" ".join(str(cell) for cell in row[1:]).split()).replace(f"{schema}.", "")
    return text if len(text) <= 160 else text[:159] + "…"

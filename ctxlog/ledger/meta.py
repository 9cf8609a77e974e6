"""The meta table: what a new ledger starts with, and what an opened one must say to be read.

Every key of it is in the chain's genesis (schema 2), so these checks only decide whether this
ctxlog can read the ledger at all; whether the meta was edited, verify finds at offset 1.
"""

from __future__ import annotations

import time
import uuid

from ..errors import IntegrityError, KeyMismatchError, NotALedgerError, SchemaVersionError
from .chain import ALGORITHMS, Chain
from .store import SCHEMA_VERSION, SCHEMA_VERSIONS

__all__ = ["FORMAT", "check_meta", "new_meta"]

FORMAT = "ctxlog"
"""What the ``format`` key of every ledger's meta table says."""


def _short(value: object, limit: int = 60) -> str:
    """``repr(value)``, shortened to ``limit`` characters for a message."""
    text = repr(value)
    return text if len(text) <= limit else text[: limit - 1] + "…"


def new_meta(chain: Chain) -> dict[str, str]:
    """The meta table of a new ledger under ``chain``: a fresh id, this ctxlog's format and version."""
    ledger_id = uuid.uuid4().hex
    meta = {
        "format": FORMAT,
        "schema_version": str(SCHEMA_VERSION),
        "ledger_id": ledger_id,
        "hash_algorithm": chain.algorithm,
        "created_ns": str(time.time_ns()),
    }
    if chain.algorithm == "hmac-sha256":
        meta["key_check"] = chain.key_check(ledger_id)
    return meta


def check_meta(meta: dict[str, str], chain: Chain, key: bytes | None, where: str) -> int:
    """The schema version, once the meta table names a format, version and algorithm this
    ctxlog knows and the key fits the ledger."""
    if not all(type(k) is str and type(v) is str for k, v in meta.items()):
        raise IntegrityError(f"{where}: the meta table holds a cell that is not text; the ledger is damaged", 1)
    keyed = meta.get("hash_algorithm") == "hmac-sha256"
    if meta.get("format") != FORMAT:
        raise NotALedgerError(f"{where}: not a ctxlog ledger (meta.format is {_short(meta.get('format'))})")
    text = meta.get("schema_version", "")
    version = int(text) if text.isascii() and text.isdigit() and len(text) < 6 else None
    if version is not None and version > SCHEMA_VERSION:
        raise SchemaVersionError(
            f"{where}: schema version {version} is newer than this ctxlog's {SCHEMA_VERSION}; upgrade ctxlog to read it"
        )
    if version not in SCHEMA_VERSIONS:
        raise SchemaVersionError(f"{where}: schema version {_short(text)} is not one this ctxlog knows")
    if meta.get("hash_algorithm") not in ALGORITHMS:
        raise IntegrityError(
            f"{where}: the meta table names the hash algorithm {_short(meta.get('hash_algorithm'))}, which "
            f"ctxlog does not know ({', '.join(ALGORITHMS)}); the ledger was damaged or tampered with",
            1,
        )
    if not meta.get("ledger_id") or (keyed and not meta.get("key_check")):
        missing = "ledger_id" if not meta.get("ledger_id") else "key_check"
        raise IntegrityError(f"{where}: the meta table has no {missing}; the ledger was damaged or tampered with", 1)
    if not keyed and key is not None:
        raise IntegrityError(
            f"{where}: a key was given, but the ledger claims to be unkeyed: possible downgrade (the meta "
            "table says sha256, so anyone could have rewritten the chain); do not drop the key",
            1,
        )
    if keyed and key is not None and chain.key_check(meta["ledger_id"]) != meta.get("key_check"):
        raise KeyMismatchError(
            f"{where}: wrong key for this keyed ledger (or its meta table was altered: the key check "
            "commits to the ledger id)"
        )
    return version

"""The hash chain: each row's hash covers the previous hash and the row's canonical bytes.

Plain SHA-256 makes any edit that is not followed by rewriting every later hash detectable; with a
ledger key the link is HMAC-SHA256, so without the key no one can produce a chain that verifies.
From schema version 2 the chain starts at a genesis hash made from the ledger's meta (its id,
format, schema version, hash algorithm, key check …), so the chain commits to the ledger: edit
the meta, paste another ledger's events, or downgrade the algorithm, and row 1 no longer links.
"""

from __future__ import annotations

import hashlib
import hmac

import msgspec

from ..errors import InvalidArgumentError

__all__ = ["ALGORITHMS", "GENESIS", "MAX_KEY_BYTES", "MIN_KEY_BYTES", "Chain", "check_key"]

_sha256 = hashlib.sha256

GENESIS = "0" * 64
"""The "previous hash" of the first row of a schema-1 ledger (schema 2: :meth:`Chain.genesis`)."""

ALGORITHMS = ("sha256", "hmac-sha256")
"""The chain's hash algorithms, as the meta table names them."""

MIN_KEY_BYTES = 16
"""The shortest ledger key: 128 bits."""

MAX_KEY_BYTES = 1024
"""The longest ledger key (a longer one is refused, not read whole)."""


def check_key(key: bytes | str | None) -> bytes | None:
    """``key`` as bytes when it is a usable ledger key (None: no key), else InvalidArgumentError."""
    if key is None:
        return None
    if isinstance(key, str):
        key = key.encode()
    if not isinstance(key, (bytes, bytearray)):
        raise InvalidArgumentError(f"a ledger key is bytes or str, not {type(key).__name__}")
    if not MIN_KEY_BYTES <= len(key) <= MAX_KEY_BYTES:
        raise InvalidArgumentError(
            f"a ledger key is {MIN_KEY_BYTES} to {MAX_KEY_BYTES} bytes long; this one has {len(key)}"
        )
    return bytes(key)


class Chain:
    """Computes links for one ledger (keyed or not)."""

    __slots__ = ("_key", "algorithm")

    def __init__(self, key: bytes | None = None) -> None:
        self._key = key
        self.algorithm = "hmac-sha256" if key is not None else "sha256"

    def link(self, previous: str, row: bytes) -> str:
        """The hash of a row given its predecessor's hash (hex) and its canonical bytes."""
        return self.digest(bytes.fromhex(previous), row).hex()

    def digest(self, previous: bytes, row: bytes) -> bytes:
        """:meth:`link` on raw digests, for streams that carry the previous digest along."""
        if self._key is None:
            return _sha256(previous + row).digest()
        return hmac.digest(self._key, previous + row, "sha256")

    def snapshot_tag(self, row_hash: str, state: bytes) -> str:
        """What binds a cached projection state to the row it follows: a link of the row's hash
        and the state, so a snapshot edited in the file no longer matches (without the key of a
        keyed ledger, no one can make it match)."""
        return self.digest(bytes.fromhex(row_hash), b"ctxlog snapshot\n" + state).hex()

    def genesis(self, meta: dict[str, str]) -> str:
        """The hash row 1 links to in a schema-2 ledger: a link of the zero hash and the canonical
        bytes of the whole meta table (keys sorted), so every setting of the ledger is in the chain."""
        encoded = msgspec.json.encode(dict(sorted(meta.items())))
        return self.digest(bytes(32), b"ctxlog genesis\n" + encoded).hex()

    def key_check(self, ledger_id: str) -> str:
        """A tag stored in the meta table that tells a right key from a wrong one at open."""
        assert self._key is not None
        return hmac.new(self._key, b"ctxlog key check " + ledger_id.encode(), hashlib.sha256).hexdigest()

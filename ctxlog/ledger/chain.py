"""The hash chain: each row's hash covers the previous hash and the row's canonical bytes.

Plain SHA-256 makes any edit that is not followed by rewriting every later hash detectable; with a
ledger key the link is HMAC-SHA256, so without the key no one can produce a chain that verifies.
"""

from __future__ import annotations

import hashlib
import hmac

__all__ = ["GENESIS", "Chain"]

_sha256 = hashlib.sha256

GENESIS = "0" * 64
"""The "previous hash" of the first row of every ledger."""


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

    def key_check(self, ledger_id: str) -> str:
        """A tag stored in the meta table that tells a right key from a wrong one at open."""
        assert self._key is not None
        return hmac.new(self._key, b"ctxlog key check " + ledger_id.encode(), hashlib.sha256).hexdigest()

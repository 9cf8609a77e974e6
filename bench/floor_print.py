"""The floor of ``ctxlog log --json``: read rows with raw sqlite3 and print them as JSON lines.

    python floor_print.py LEDGER SQL        # ctxlog's own row scan (as it issued it), every field
    python floor_print.py --raw RAW.db      # the minimal raw table: offset, payload, hash

Run as its own process, like the command it is set against, and importing only what it needs
(sqlite3, msgspec): each line carries the fields ``ctxlog log --json`` prints, in its order
(``offset, run, seq, ts, time, kind, context, cause, payload, hash``; the payload as raw JSON, the
time as ISO-8601 UTC with microseconds), written in chunks of about 64 KiB. The benchmark checks
that its output is byte for byte the command's.
"""

from __future__ import annotations

import sqlite3
import sys
import time

import msgspec

CHUNK = 64 * 1024


class Line(msgspec.Struct):
    offset: int
    run: str
    seq: int
    ts: int
    time: str
    kind: str
    context: str
    cause: int | None
    payload: msgspec.Raw
    hash: str


class RawLine(msgspec.Struct):
    offset: int
    payload: msgspec.Raw
    hash: str


def iso(ts: int) -> str:
    seconds, nanos = divmod(ts, 1_000_000_000)
    return time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime(seconds)) + f".{nanos // 1000:06d}Z"


def lines(conn: sqlite3.Connection, sql: str, minimal: bool) -> object:
    encode, raw_json = msgspec.json.Encoder().encode, msgspec.Raw
    if minimal:
        for offset, payload, digest in conn.execute(sql):
            yield encode(RawLine(offset, raw_json(payload.encode()), digest))
        return
    for offset, run, seq, ts, kind, context, cause, payload, digest in conn.execute(sql):
        yield encode(Line(offset, run, seq, ts, iso(ts), kind, context, cause, raw_json(payload.encode()), digest))


def main(argv: list[str]) -> None:
    minimal = argv[0] == "--raw"
    path = argv[1] if minimal else argv[0]
    sql = 'SELECT "offset", payload, hash FROM raw ORDER BY "offset"' if minimal else argv[1]
    conn = sqlite3.connect(f"file:{path}?mode=ro", uri=True, isolation_level=None)
    out = sys.stdout.buffer
    chunk: list[bytes] = []
    size = 0
    for line in lines(conn, sql, minimal):
        chunk.append(line)
        size += len(line) + 1
        if size >= CHUNK:
            out.write(b"\n".join(chunk) + b"\n")
            chunk, size = [], 0
    if chunk:
        out.write(b"\n".join(chunk) + b"\n")
    out.flush()


if __name__ == "__main__":
    main(sys.argv[1:])

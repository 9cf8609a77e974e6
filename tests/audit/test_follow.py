"""audit.follow, follow_async and Follower: the records of a growing ledger, each once, in order."""

from __future__ import annotations

import asyncio
import itertools
import threading
from collections.abc import Callable, Iterator

import pytest

from ctxlog import ContextManager, InvalidArgumentError, NotALedgerError, UnknownRunError, audit
from ctxlog.audit import Follower, Record


def _collect(records: Iterator[Record], count: int, timeout: float = 60.0) -> list[Record]:
    """The first ``count`` records of ``records``, read in a thread (a hang fails instead of hanging)."""
    got: list[Record] = []
    reader = threading.Thread(target=lambda: got.extend(itertools.islice(records, count)), daemon=True)
    reader.start()
    reader.join(timeout)
    assert not reader.is_alive(), f"only {len(got)} of {count} records came"
    return got


def _writer(location: str, run: str, sets: int, start: threading.Event) -> Callable[[], None]:
    def write() -> None:
        start.wait()
        with ContextManager(location, run=run) as mgr:
            for i in range(sets):
                mgr.set("i", i)

    return write


def test_follow_yields_what_is_there_then_what_comes(demo_db: str) -> None:
    records = audit.follow(demo_db, run="demo", after=44, poll=0.01)
    try:
        assert [r.offset for r in _collect(records, 3)] == [45, 46, 47]
        with ContextManager(demo_db, run="demo") as mgr:
            mgr.set("late", 1)
            mgr.set("later", 2)
        late = _collect(records, 2)
    finally:
        records.close()  # type: ignore[attr-defined]
    assert [(r.offset, r.kind, r.context) for r in late] == [(48, "set", "plan"), (49, "set", "plan")]
    assert late[0].payload == '{"kind":"set","key":"late","value":1}'


@pytest.fixture(params=["sqlite", "postgresql"])
def where(request: pytest.FixtureRequest, ledger_path: str) -> str:
    if request.param == "sqlite":
        return ledger_path
    return request.getfixturevalue("pg_url")  # type: ignore[no-any-return]


def test_several_writers_every_record_once_in_offset_order(where: str) -> None:
    with ContextManager(where, run="w0") as mgr:
        mgr.set("i", -1)  # the ledger exists before the follower opens it
    start = threading.Event()
    writers = [threading.Thread(target=_writer(where, f"w{n}", 60, start)) for n in range(4)]
    records = audit.follow(where, poll=0.01)
    try:
        for w in writers:
            w.start()
        start.set()
        got = _collect(records, 2 + 60 + 3 * 61)
        for w in writers:
            w.join()
    finally:
        records.close()  # type: ignore[attr-defined]
    assert [r.offset for r in got] == list(range(1, len(got) + 1))
    seen = {(r.run, r.seq) for r in got}
    assert len(seen) == len(got)
    assert [r.seq for r in got if r.run == "w0"] == list(range(1, 63))
    for n in range(1, 4):
        assert [r.seq for r in got if r.run == f"w{n}"] == list(range(1, 62))


def test_a_run_is_followed_alone_by_seq(where: str) -> None:
    with ContextManager(where, run="a") as mgr:
        mgr.set("x", 0)
    with ContextManager(where, run="b") as mgr:
        mgr.set("y", 0)
    records = audit.follow(where, run="a", poll=0.01)
    try:
        first = _collect(records, 2)
        with ContextManager(where, run="b") as other, ContextManager(where, run="a") as mine:
            for i in range(30):
                other.set("y", i)
                mine.set("x", i)
        rest = _collect(records, 30)
    finally:
        records.close()  # type: ignore[attr-defined]
    assert {r.run for r in first + rest} == {"a"}
    assert [r.seq for r in first + rest] == list(range(1, 33))


def test_kinds_and_context_filter(demo_db: str) -> None:
    with Follower(demo_db, run="demo", kinds=["checkpoint"]) as follower:
        assert [r.offset for r in follower.poll()] == [9, 38, 47]
        assert follower.poll() == [] and follower.offset == 47
    with Follower(demo_db, run="demo", context="load") as follower:
        assert {r.context for r in follower.poll()} == {"load"}


def test_a_poll_hands_out_at_most_its_limit_and_the_rest_next(demo_db: str) -> None:
    with Follower(demo_db, run="demo", after=10) as follower:
        assert [r.offset for r in follower.poll(5)] == [11, 12, 13, 14, 15]
        assert follower.offset == 15
        assert [r.offset for r in follower.poll(100)] == list(range(16, 48))
        assert follower.head() == 47


def test_follow_async(demo_db: str) -> None:
    async def main() -> list[int]:
        stream = audit.follow_async(demo_db, run="demo", after=45, poll=0.01)
        got = [(await anext(stream)).offset, (await anext(stream)).offset]
        await asyncio.to_thread(_append, demo_db)
        got.append((await asyncio.wait_for(anext(stream), 30)).offset)
        await stream.aclose()  # type: ignore[attr-defined]
        return got

    assert asyncio.run(main()) == [46, 47, 48]


def _append(path: str) -> None:
    with ContextManager(path, run="demo") as mgr:
        mgr.set("more", True)


def test_bad_arguments_raise_at_the_call(demo_db: str, tmp_path: object) -> None:
    with pytest.raises(UnknownRunError, match="no run 'nope'"):
        audit.follow(demo_db, run="nope")
    with pytest.raises(InvalidArgumentError, match="after must be an offset"):
        audit.follow(demo_db, after=-1)
    with pytest.raises(InvalidArgumentError, match="unknown event kind"):
        audit.follow(demo_db, kinds=["bogus"])
    with pytest.raises(NotALedgerError):
        audit.follow(str(tmp_path) + "/missing.db")  # type: ignore[operator]

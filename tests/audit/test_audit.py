"""The library functions under the commands (ctxlog.audit, ctxlog.projections.diff), called directly."""

from __future__ import annotations

import io
import itertools
import json
import os
import sqlite3
from contextlib import closing
from pathlib import Path

import pytest

import ctxlog
from ctxlog import (
    ContextManager,
    IntegrityError,
    InvalidArgumentError,
    LedgerError,
    UnknownCheckpointError,
    UnknownContextError,
    UnknownKeyError,
    UnknownRunError,
    replay,
)
from ctxlog.audit import checkpoints, diff, export, get, graph, head, import_, log, runs, stats, tree, verify
from ctxlog.ledger import GENESIS
from ctxlog.projections import diff_trees


def test_events_is_lazy_and_closes_its_ledger(demo_db: str) -> None:
    stream = log(demo_db)
    assert [r.offset for r in itertools.islice(stream, 3)] == [1, 2, 3]
    stream.close()
    assert list(stream) == []


def test_events_closes_when_exhausted(demo_db: str) -> None:
    stream = log(demo_db, kinds=["checkpoint"])
    assert [r.offset for r in stream] == [9, 38, 47]
    assert next(stream, None) is None


def test_events_combines_filters(demo_db: str) -> None:
    with log(demo_db, since=10, until="validated", kinds=["set"], context="worker-1") as stream:
        assert [(r.offset, r.kind, r.context) for r in stream] == [(16, "set", "worker-1"), (17, "set", "worker-1")]


@pytest.mark.parametrize(
    ("kwargs", "error"),
    [
        ({"kinds": ["sets"]}, InvalidArgumentError),
        ({"since": -1}, InvalidArgumentError),
        ({"run": "nope"}, UnknownRunError),
        ({"until": "nope"}, UnknownCheckpointError),
        ({"context": "nope"}, UnknownContextError),
    ],
)
def test_events_checks_its_arguments_before_streaming(demo_db: str, kwargs: dict, error: type) -> None:
    with pytest.raises(error):
        log(demo_db, **kwargs)


def test_checkpoints_carry_offset_time_and_context(demo_db: str) -> None:
    infos = list(checkpoints(demo_db))
    assert [(c.name, c.offset, c.context, c.auto) for c in infos] == [
        ("loaded", 9, "plan", False),
        ("validated", 38, "plan", False),
        ("finished", 47, "plan", False),
    ]
    assert infos[0].ts < infos[1].ts < infos[2].ts


def test_tree_is_the_replay_at_the_head(demo_db: str) -> None:
    assert tree(demo_db) == replay(demo_db, until=head(demo_db)[0])
    assert tree(demo_db) != replay(demo_db, until="validated")


def test_get_value_tells_a_stored_none_from_a_missing_key(tmp_path: Path) -> None:
    path = str(tmp_path / "none.db")
    with ContextManager(path, run="r") as mgr:
        mgr.set("nothing", None)
        mgr.enter_step("child")
        mgr.set("nothing", 0)
    assert get(path, "nothing", context="root") is None
    assert get(path, "nothing") == 0
    with pytest.raises(UnknownKeyError):
        get(path, "absent")


def test_diff_trees_is_pure_and_exact(tmp_path: Path) -> None:
    path = str(tmp_path / "types.db")
    with ContextManager(path, run="r") as mgr:
        mgr.set("n", 1)
        mgr.set("flag", 1)
        mgr.set("map", {"a": 1, "b": 2})
        mgr.checkpoint("a")
        mgr.set("n", 1.0)
        mgr.set("flag", True)
        mgr.set("map", {"b": 2, "a": 1})
        mgr.checkpoint("b")
    old, new = replay(path, until="a"), replay(path, until="b")
    before = (old.to_dict(), new.to_dict())
    changes = diff_trees(old, new)
    assert [(k.key, k.old, k.new) for k in changes.contexts[0].keys] == [("n", 1, 1.0), ("flag", 1, True)]
    assert (old.to_dict(), new.to_dict()) == before


def test_diff_of_equal_trees_is_empty(demo_db: str) -> None:
    assert diff(demo_db, "finished", "47").empty


def test_head_of_an_empty_ledger_is_its_genesis(empty_db: str) -> None:
    offset, digest = head(empty_db)
    assert offset == 0 and digest == verify(empty_db).head_hash and digest != GENESIS


def test_graph_refuses_an_unknown_format(demo_db: str) -> None:
    with pytest.raises(InvalidArgumentError, match="mermaid, dot"):
        graph(demo_db, format="svg")


def test_stats_counts_snapshots_and_kinds(demo_db: str) -> None:
    result = stats(demo_db)
    with closing(sqlite3.connect(demo_db)) as conn:
        snapshots = conn.execute("SELECT count(*) FROM snapshots").fetchone()[0]
    assert (result.events, result.checkpoints, result.snapshots) == (47, 3, snapshots)
    assert sum(result.kinds.values()) == 47 and result.size_bytes == os.path.getsize(demo_db)


def _exported(path: str) -> bytes:
    out = io.BytesIO()
    export(path, out)
    return out.getvalue()


def test_import_copies_every_row(demo_db: str, tmp_path: Path) -> None:
    target = str(tmp_path / "copy.db")
    result = import_(target, io.BytesIO(_exported(demo_db)))
    assert result.ok and result.events == 47
    assert _exported(target).splitlines()[1:] == _exported(demo_db).splitlines()[1:]


def test_failed_import_leaves_an_existing_empty_ledger_empty(demo_db: str, empty_db: str) -> None:
    forged = _exported(demo_db).replace(b"orders-2026-11", b"orders-2026-12")
    before = head(empty_db)
    with pytest.raises(IntegrityError) as caught:
        import_(empty_db, io.BytesIO(forged))
    assert caught.value.offset == 3
    assert list(runs(empty_db)) == [] and head(empty_db) == before


def test_import_refuses_rows_beyond_the_header_count(demo_db: str, tmp_path: Path) -> None:
    lines = _exported(demo_db).splitlines(keepends=True)
    header = json.loads(lines[0])
    header.update(events=46, head=f"46:{json.loads(lines[46])['hash']}")
    with pytest.raises(IntegrityError, match="holds 47 rows but its header says 46"):
        import_(str(tmp_path / "x.db"), io.BytesIO(json.dumps(header).encode() + b"\n" + b"".join(lines[1:])))
    assert not (tmp_path / "x.db").exists()


def test_import_of_an_empty_source_is_not_an_export(tmp_path: Path) -> None:
    with pytest.raises(LedgerError, match="not a ctxlog export"):
        import_(str(tmp_path / "x.db"), io.BytesIO(b""))


def test_diff_against_another_run_matches_contexts_by_name_path(tmp_path: Path) -> None:
    path = str(tmp_path / "two.db")
    for run, value in (("a", 1), ("b", 2)):
        with ContextManager(path, run=run) as mgr:
            if run == "b":
                mgr.enter_step("warmup")  # one more context in b: ids and offsets differ, name paths meet
                mgr.exit_step()
            with mgr.step("plan"):
                with mgr.step("fetch"):
                    mgr.set("n", value)
    a_head = next(i.last_offset for i in ctxlog.audit.runs(path) if i.run == "a")
    changes = ctxlog.audit.diff(path, a_head, "", run="a", against="b")
    by_id = {c.id: c for c in changes.contexts}
    assert by_id["root/plan/fetch"].change == "data"
    assert [(k.key, k.old, k.new) for k in by_id["root/plan/fetch"].keys] == [("n", 1, 2)]
    assert by_id["root/warmup"].change == "added"

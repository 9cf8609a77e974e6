"""replay, tree, get, diff, graph: the tree at a point of the run, from the command line."""

from __future__ import annotations

import json
from pathlib import Path

from ctxlog import ContextManager, IsolationLevel, replay

from .conftest import Invoke, one_error_line


def test_replay_draws_the_tree_at_a_checkpoint(cli: Invoke, demo_db: str) -> None:
    result = cli("replay", demo_db, "--until", "loaded")
    assert result.exit_code == 0
    lines = result.stdout.splitlines()
    assert lines[0] == "run demo  offset 9  current plan"
    assert lines[1].startswith('* plan [inherit, active] {"config":')
    assert lines[2] == '    load [inherit, exited] {"records":12000,"source":{"table":"orders","partitions":24}}'
    assert len(lines) == 3


def test_replay_until_an_offset(cli: Invoke, demo_db: str) -> None:
    lines = cli("replay", demo_db, "--until", "5").stdout.splitlines()
    assert lines[0] == "run demo  offset 5  current load"
    assert lines[2] == '*   load [inherit, active] {"records":12000}'


def test_replay_marks_parallel_contexts(cli: Invoke, demo_db: str) -> None:
    out = cli("replay", demo_db, "--until", "validated").stdout
    assert "      worker-2 [isolated, exited, parallel] " in out


def test_replay_requires_until(cli: Invoke, demo_db: str) -> None:
    result = cli("replay", demo_db)
    assert result.exit_code == 2 and "--until" in result.stderr


def test_replay_json_has_the_design_shape(cli: Invoke, demo_db: str) -> None:
    data = json.loads(cli("replay", demo_db, "--until", "validated", "--json").stdout)
    assert {"run", "offset", "current_id", "root_id", "checkpoints", "contexts"} <= data.keys()
    assert data["checkpoints"] == {"loaded": 9, "validated": 38}
    worker = data["contexts"]["worker-1"]
    assert {"id", "parent_id", "name", "isolation", "status", "data", "children"} <= worker.keys()
    assert (worker["parent_id"], worker["isolation"], worker["status"]) == ("validate", "isolated", "exited")


def test_replay_json_equals_the_library_replay(cli: Invoke, demo_db: str) -> None:
    data = json.loads(cli("replay", demo_db, "--until", "38", "--json").stdout)
    assert data == json.loads(json.dumps(replay(demo_db, until=38).to_dict()))


def test_tree_shows_the_head(cli: Invoke, demo_db: str) -> None:
    lines = cli("tree", demo_db).stdout.splitlines()
    assert lines[0] == "run demo  offset 47  current plan"
    assert '    publish [inherit, failed] {"endpoint":"https://reports.example/orders"}' in lines


def test_tree_picks_a_run_with_run(cli: Invoke, two_runs_db: str) -> None:
    result = cli("tree", two_runs_db, "--run", "beta", "--json")
    assert json.loads(result.stdout)["contexts"]["root"]["data"] == {"x": 2}


def test_tree_prints_odd_ids_as_json_strings(cli: Invoke, tmp_path: Path) -> None:
    path = str(tmp_path / "odd.db")
    with ContextManager(path, run="r") as mgr:
        mgr.enter_step("two words\nand a newline")
    lines = cli("tree", path).stdout.splitlines()
    assert lines[-1] == '*   "two words\\nand a newline" [inherit, active] {}'


def test_get_prints_the_value_as_json(cli: Invoke, demo_db: str) -> None:
    result = cli("get", demo_db, "config")
    assert result.exit_code == 0
    assert json.loads(result.stdout) == {"env": "production", "batch_size": 500, "regions": ["eu", "us"]}


def test_get_resolves_from_a_context_through_its_parents(cli: Invoke, demo_db: str) -> None:
    assert cli("get", demo_db, "dataset", "--context", "worker-1").stdout == '"orders-2026-11"\n'


def test_get_until_a_checkpoint(cli: Invoke, demo_db: str) -> None:
    assert cli("get", demo_db, "status", "--until", "validated").stdout == '"passed with warnings"\n'


def test_get_in_a_sandboxed_context_does_not_see_the_parent(cli: Invoke, demo_db: str) -> None:
    result = cli("get", demo_db, "dataset", "--context", "report")
    assert result.exit_code == 1 and result.stdout == ""
    assert "'dataset'" in one_error_line(result) and "'report'" in result.stderr


def test_get_missing_key_exits_1(cli: Invoke, demo_db: str) -> None:
    result = cli("get", demo_db, "nothing")
    assert result.exit_code == 1
    assert "key 'nothing' does not resolve" in one_error_line(result)


def test_get_stored_null_prints_null_and_exits_0(cli: Invoke, tmp_path: Path) -> None:
    path = str(tmp_path / "null.db")
    with ContextManager(path, run="r") as mgr:
        mgr.set("maybe", None)
    result = cli("get", path, "maybe")
    assert (result.exit_code, result.stdout) == (0, "null\n")


def test_get_unknown_context_exits_4(cli: Invoke, demo_db: str) -> None:
    result = cli("get", demo_db, "dataset", "--context", "nowhere")
    assert result.exit_code == 4 and "'nowhere'" in one_error_line(result)


def test_diff_lists_added_contexts_and_keys(cli: Invoke, demo_db: str) -> None:
    result = cli("diff", demo_db, "validated", "finished")
    assert result.exit_code == 0
    assert result.stdout.splitlines() == [
        "run demo: validated (offset 38) -> finished (offset 47)",
        'plan: ~ status = "passed with warnings" -> "published: no (retry scheduled)"',
        'plan: + summary = "12000 records, 2 errors in 3 workers"',
        "report: added [sandboxed, exited] under plan",
        'report: + summary = "12000 records, 2 errors in 3 workers"',
        "publish: added [inherit, failed] under plan",
        'publish: + endpoint = "https://reports.example/orders"',
    ]


def test_diff_shows_status_changes_and_the_current_context(cli: Invoke, demo_db: str) -> None:
    lines = cli("diff", demo_db, "44", "45").stdout.splitlines()
    assert lines == ["run demo: offset 44 -> offset 45", "publish: active -> failed", "current: publish -> plan"]


def test_diff_shows_removed_keys_and_contexts(cli: Invoke, tmp_path: Path) -> None:
    path = str(tmp_path / "restore.db")
    with ContextManager(path, run="r") as mgr:
        mgr.set("keep", 1)
        mgr.checkpoint("a")
        mgr.set("gone", True)
        mgr.enter_step("later", IsolationLevel.SANDBOXED)
        mgr.checkpoint("b")
    lines = cli("diff", path, "b", "a").stdout.splitlines()
    assert lines[1:] == ["root: - gone (was true)", "later: removed [sandboxed, active]", "current: later -> root"]


def test_diff_of_a_point_with_itself_says_no_changes(cli: Invoke, demo_db: str) -> None:
    assert cli("diff", demo_db, "loaded", "9").stdout.splitlines()[1:] == ["no changes"]


def test_diff_json(cli: Invoke, demo_db: str) -> None:
    data = json.loads(cli("diff", demo_db, "loaded", "validated", "--json").stdout)
    assert (data["a_offset"], data["b_offset"]) == (9, 38)
    added = {c["id"] for c in data["contexts"] if c["change"] == "added"}
    assert added == {"validate", "worker-1", "worker-2", "worker-3"}


def test_diff_unknown_checkpoint_exits_4(cli: Invoke, demo_db: str) -> None:
    result = cli("diff", demo_db, "loaded", "deployed")
    assert result.exit_code == 4 and "no checkpoint 'deployed'" in one_error_line(result)


def test_graph_mermaid(cli: Invoke, demo_db: str) -> None:
    out = cli("graph", demo_db).stdout
    assert out.startswith("graph TD\n")
    assert '  n0["plan<br/>active, current"]' in out
    assert '  n3(["worker-1<br/>exited, parallel"])' in out
    assert "  n2 --> n3" in out and "  class n7 failed" in out


def test_graph_dot(cli: Invoke, demo_db: str) -> None:
    out = cli("graph", demo_db, "--format", "dot", "--until", "validated").stdout
    assert out.startswith("digraph ctxlog {\n") and out.endswith("}\n")
    assert '  n3 [label="worker-1\\nexited, parallel", style=dashed];' in out
    assert "  n2 -> n3;" in out and "publish" not in out


def test_graph_escapes_hostile_ids(cli: Invoke, tmp_path: Path) -> None:
    path = str(tmp_path / "hostile.db")
    hostile = 'a"b<br/>c]\\ #x\n'
    with ContextManager(path, run="r") as mgr:
        mgr.enter_step(hostile)
    mermaid = cli("graph", path).stdout
    node = next(line for line in mermaid.splitlines() if line.startswith("  n1["))
    assert node == '  n1["a#34;b#60;br/#62;c#93;#92; #35;x#10;<br/>active, current"]'
    dot = cli("graph", path, "--format", "dot").stdout
    assert '  n1 [label="a\\"b<br/>c]\\\\ #x\\\\x0a\\nactive, current", penwidth=2];' in dot


def test_graph_unknown_format_is_a_usage_error(cli: Invoke, demo_db: str) -> None:
    assert cli("graph", demo_db, "--format", "svg").exit_code == 2

"""A real LangGraph StateGraph on the saver, end to end, then the same ledger through ``ctxlog``.

The graph plans, fans out to three workers with ``Send`` (parallel tasks of one superstep), asks
for approval with ``interrupt`` and finishes. The test runs it to the interrupt, resumes it, reads
its history, travels back to the checkpoint after planning and answers differently on that branch,
forks it with ``update_state``, and then checks what ``ctxlog verify``, ``log``, ``replay --until``
and ``diff`` show of that history.
"""

from __future__ import annotations

import json
import operator
from pathlib import Path
from typing import Annotated, Any, TypedDict

import pytest
from click.testing import CliRunner
from langgraph.checkpoint.memory import InMemorySaver
from langgraph.graph import END, START, StateGraph
from langgraph.types import Command, Send, interrupt

from ctxlog import audit
from ctxlog.cli import main
from ctxlog.integrations.langgraph import CtxlogSaver


class State(TypedDict):
    messages: Annotated[list[str], operator.add]
    results: Annotated[list[str], operator.add]
    approved: bool


def plan(state: State) -> dict[str, Any]:
    return {"messages": ["planned 3 jobs"]}


def fan_out(state: State) -> list[Send]:
    return [Send("worker", {"job": i}) for i in range(3)]


def worker(job: dict[str, int]) -> dict[str, Any]:
    return {"results": [f"job {job['job']} done"]}


def review(state: State) -> dict[str, Any]:
    answer = interrupt({"question": "approve?", "results": sorted(state["results"])})
    return {"approved": answer == "yes", "messages": [f"review: {answer}"]}


def finish(state: State) -> dict[str, Any]:
    return {"messages": ["approved" if state["approved"] else "rejected"]}


def build(saver: CtxlogSaver) -> Any:
    builder = StateGraph(State)
    builder.add_node("plan", plan)
    builder.add_node("worker", worker)
    builder.add_node("review", review)
    builder.add_node("finish", finish)
    builder.add_edge(START, "plan")
    builder.add_conditional_edges("plan", fan_out, ["worker"])
    builder.add_edge("worker", "review")
    builder.add_edge("review", "finish")
    builder.add_edge("finish", END)
    return builder.compile(checkpointer=saver)


def cli(*args: str) -> str:
    result = CliRunner().invoke(main, list(args), catch_exceptions=False)
    assert result.exit_code == 0, result.output
    return result.output


def scenario(saver: Any) -> dict[str, Any]:
    """The whole scenario on ``saver``; what the checks below need of it."""
    thread = {"configurable": {"thread_id": "support-42"}}
    with saver:
        graph = build(saver)
        paused = graph.invoke({"messages": ["hello"], "results": [], "approved": False}, thread)
        waiting = graph.get_state(thread)
        done = graph.invoke(Command(resume="yes"), thread)
        history = list(graph.get_state_history(thread))
        before_review = next(s for s in history if s.next == ("review",))
        after_plan = next(s for s in history if "worker" in s.next)
        replayed = graph.invoke(None, after_plan.config)  # time travel: the workers run again
        rejected = graph.invoke(Command(resume="no"), thread)
        forked_config = graph.update_state(before_review.config, {"messages": ["operator note"]})
        forked = graph.get_state(forked_config)
        after = list(graph.get_state_history(thread))
    return locals()


@pytest.fixture
def run(tmp_path: Path) -> dict[str, Any]:
    path = str(tmp_path / "agent.db")
    return {**scenario(CtxlogSaver(path)), "path": path}


def _shown(history: list[Any]) -> list[tuple[Any, ...]]:
    return [(s.values, s.next, s.metadata["source"], s.metadata["step"], len(s.tasks)) for s in history]


def test_the_history_is_the_one_langgraphs_own_saver_keeps(run: dict[str, Any]) -> None:
    reference = scenario(InMemorySaver())
    assert _shown(run["history"]) == _shown(reference["history"])
    assert _shown(run["after"]) == _shown(reference["after"])
    assert run["rejected"] == reference["rejected"]
    replayed, expected = dict(run["replayed"]), dict(reference["replayed"])  # interrupt ids are random
    assert [i.value for i in replayed.pop("__interrupt__")] == [i.value for i in expected.pop("__interrupt__")]
    assert replayed == expected
    assert (run["forked"].values, run["forked"].next) == (reference["forked"].values, reference["forked"].next)


def test_the_graph_runs_on_the_saver(run: dict[str, Any]) -> None:
    assert "__interrupt__" in run["paused"] and run["waiting"].next == ("review",)
    assert run["waiting"].tasks[0].interrupts[0].value["results"] == ["job 0 done", "job 1 done", "job 2 done"]
    assert run["done"]["approved"] is True
    assert run["done"]["messages"] == ["hello", "planned 3 jobs", "review: yes", "approved"]
    assert sorted(run["done"]["results"]) == ["job 0 done", "job 1 done", "job 2 done"]


def test_history_time_travel_and_fork(run: dict[str, Any]) -> None:
    history, before = run["history"], run["before_review"]
    assert [s.metadata["step"] for s in history] == sorted((s.metadata["step"] for s in history), reverse=True)
    assert history[0].values["messages"][-1] == "approved" and history[-1].values == {"messages": [], "results": []}
    assert before.values["messages"] == ["hello", "planned 3 jobs"] and len(before.values["results"]) == 3
    # replayed from the checkpoint after planning, then answered differently: a new branch
    assert "__interrupt__" in run["replayed"]
    assert run["rejected"]["messages"] == ["hello", "planned 3 jobs", "review: no", "rejected"]
    # update_state forks from that checkpoint too, and records it as the parent
    fork = run["forked"]
    assert fork.metadata["source"] == "update"
    assert fork.parent_config["configurable"]["checkpoint_id"] == before.config["configurable"]["checkpoint_id"]
    assert fork.values["messages"] == ["hello", "planned 3 jobs", "operator note"]
    ids = {s.config["configurable"]["checkpoint_id"] for s in run["after"]}
    assert {s.config["configurable"]["checkpoint_id"] for s in history} < ids  # nothing lost


def test_ctxlog_shows_that_history(run: dict[str, Any]) -> None:
    path, thread = run["path"], "support-42"
    assert cli("verify", path).startswith("ok")
    before = run["before_review"].config["configurable"]["checkpoint_id"]
    final = run["history"][0].config["configurable"]["checkpoint_id"]
    kinds = [json.loads(line)["kind"] for line in cli("log", path, "--run", thread, "--json").splitlines()]
    assert kinds.count("checkpoint") == len(run["after"]) and "restored" in kinds  # time travel is a restore
    at_review = json.loads(cli("replay", path, "--run", thread, "--until", before, "--json"))
    root = at_review["contexts"][at_review["root_id"]]["data"]
    assert root["channel:messages"]["items"] == 2 and root["channel:messages[1]"] == "planned 3 jobs"
    assert root["checkpoint"]["id"] == before
    changed = cli("diff", path, before, final, "--run", thread)
    assert "channel:messages[3]" in changed and "channel:approved" in changed
    assert audit.verify(path).ok

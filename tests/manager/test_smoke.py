from ctxlog import ContextManager, replay


def test_set_then_replay_gives_the_value(ledger_path: str) -> None:
    with ContextManager(ledger_path, run="r") as mgr:
        mgr.set("answer", 42)
    assert replay(ledger_path).get("answer") == 42

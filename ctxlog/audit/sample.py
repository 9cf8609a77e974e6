"""A realistic sample run: a validation workflow with parallel workers, checkpoints and a failure."""

from __future__ import annotations

from ..errors import NotALedgerError
from ..manager import ContextManager
from ..projections import ContextTree, IsolationLevel, MergePolicy
from .records import runs

__all__ = ["demo"]

WORKERS = 3


def demo(path: str, *, run: str | None = None) -> ContextTree:
    """Append the sample run to the ledger at ``path`` (created when missing) and return its tree.

    The run is ``run``, else ``demo``, else the first free ``demo-N`` in that file.
    """
    if run is None:
        try:
            taken = {info.run for info in runs(path)}
        except NotALedgerError:
            taken = set()
        run = next(name for name in ("demo", *(f"demo-{n}" for n in range(2, 10**6))) if name not in taken)
    with ContextManager(path, run=run) as mgr:
        mgr.initialize("plan")
        mgr.set("config", {"env": "production", "batch_size": 500, "regions": ["eu", "us"]})
        mgr.set("dataset", "orders-2026-11")

        with mgr.step("load", merge=MergePolicy.OVERWRITE):
            mgr.set("records", 12_000)
            mgr.set("source", {"table": "orders", "partitions": 24})
        mgr.checkpoint("loaded")

        with mgr.step("validate", merge=MergePolicy.MERGE) as validate:
            mgr.set("rules", ["schema", "totals", "currency"])
            workers = [mgr.create_parallel_context(f"worker-{i}") for i in range(1, WORKERS + 1)]
            for i, worker in enumerate(workers, start=1):
                mgr.switch_to(worker)
                errors = [f"row {i * 1000 + 17}: negative total"] if i != 2 else []
                mgr.set("results", {worker: {"checked": 4_000, "errors": len(errors)}})
                mgr.set("errors", errors)
            mgr.switch_to(validate)
            mgr.set("errors", [])
            for worker in workers:
                mgr.merge_child_to_parent(worker, MergePolicy.MERGE)
                mgr.switch_to(worker)
                mgr.exit_step()
            mgr.set("status", "passed with warnings")
        mgr.checkpoint("validated")

        with mgr.step("report", isolation=IsolationLevel.SANDBOXED, merge=MergePolicy.KEEP_EXISTING):
            mgr.set("summary", "12000 records, 2 errors in 3 workers")
        try:
            with mgr.step("publish"):
                mgr.set("endpoint", "https://reports.example/orders")
                raise ConnectionError("endpoint unavailable")
        except ConnectionError:
            mgr.set("status", "published: no (retry scheduled)")
        mgr.checkpoint("finished")
        return mgr.tree

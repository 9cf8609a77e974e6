"""Shared fixtures: a fresh ledger path per test, and hypothesis profiles."""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path

import pytest
from hypothesis import HealthCheck, settings

settings.register_profile(
    "default", max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow]
)
settings.register_profile(
    "ci", max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow]
)
settings.load_profile(os.environ.get("HYPOTHESIS_PROFILE", "default"))


@pytest.fixture
def ledger_path(tmp_path: Path) -> str:
    """Path of a ledger file that does not exist yet."""
    return str(tmp_path / "ctx.db")


@pytest.fixture
def mgr(ledger_path: str) -> Iterator["object"]:
    from ctxlog import ContextManager

    with ContextManager(ledger_path, run="test") as manager:
        yield manager

"""The API reference (``make docs``): every public name, member and parameter is documented."""

from __future__ import annotations

import importlib.util
from pathlib import Path
from types import ModuleType

import pytest

API = Path(__file__).resolve().parents[1] / "docs" / "api.py"


def _builder() -> ModuleType:
    spec = importlib.util.spec_from_file_location("ctxlog_docs_api", API)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_every_public_name_is_documented() -> None:
    assert _builder().missing() == []


SAMPLE = '''"""A module of the check's own, with one fault of each kind."""

__all__ = ["LIMIT", "Thing", "documented", "silent", "vague"]

LIMIT = 3


def documented(path: str) -> None:
    """Read ``path``."""


def silent(path: str) -> None:
    pass


def vague(path: str, until: int) -> None:
    """Read the file at ``path``."""


class Thing:
    """A thing with a ``size``."""

    size: int
    colour: str

    def grow(self, by: int) -> None:
        """Grow."""
'''


@pytest.fixture
def sample(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> str:
    (tmp_path / "ctxlog_docs_sample.py").write_text(SAMPLE, encoding="utf-8")
    monkeypatch.syspath_prepend(str(tmp_path))
    return "ctxlog_docs_sample"


def test_each_kind_of_missing_documentation_is_found(sample: str) -> None:
    assert sorted(_builder().missing((sample,))) == [
        f"{sample}.LIMIT: neither a docstring nor named in the module docstring",
        f"{sample}.Thing.colour: neither a docstring nor named in the class docstring",
        f"{sample}.Thing.grow: parameter 'by' is not named in the docstring",
        f"{sample}.silent: no docstring",
        f"{sample}.vague: parameter 'until' is not named in the docstring",
    ]


def test_the_reference_is_written(tmp_path: Path) -> None:
    assert _builder().main([str(tmp_path)]) == 0
    page = (tmp_path / "ctxlog.html").read_text(encoding="utf-8")
    assert "ContextManager" in page and "Branch" in page
    assert (tmp_path / "ctxlog" / "audit.html").exists()

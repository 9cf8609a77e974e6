"""The documentation runs: every ```python block of README.md and docs/*.md is executed.

The blocks of one file run in order, in one namespace, inside a fresh temporary directory, so a
file's examples can build on each other and write ``ctx.db`` without colliding with other files.
Blocks fenced as anything else (```console, ```sql, a bare ```) are prose and are left alone.
A file is collected when it exists, so documents added later are tested without editing this one.
"""

from __future__ import annotations

import re
import sqlite3
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
ALL_DOCUMENTS = sorted(
    [p for p in [ROOT / "README.md"] if p.exists()] + sorted((ROOT / "docs").glob("*.md")),
    key=lambda p: p.relative_to(ROOT).as_posix(),
)

# An opening fence (``` or ~~~, possibly indented up to 3 spaces) with its info string; the block
# ends at a closing fence of the same character, at least as long, with nothing after it.
_FENCE = re.compile(r"^(?P<indent> {0,3})(?P<fence>`{3,}|~{3,})[ \t]*(?P<info>[^\n]*)$")


def python_blocks(text: str) -> list[tuple[int, str]]:
    """``(line number, source)`` of every fenced block whose info string's language is python."""
    blocks: list[tuple[int, str]] = []
    lines = text.splitlines()
    i = 0
    while i < len(lines):
        opening = _FENCE.match(lines[i])
        if opening is None:
            i += 1
            continue
        fence, indent = opening["fence"], len(opening["indent"])
        info = opening["info"].strip()
        language = info.split()[0].lower() if info else ""
        if language.startswith("{") and language.endswith("}"):  # ```{python}
            language = language[1:-1]
        body: list[str] = []
        j = i + 1
        while j < len(lines):
            closing = re.match(r"^ {0,3}(`{3,}|~{3,})[ \t]*$", lines[j])
            if closing and closing[1][0] == fence[0] and len(closing[1]) >= len(fence):
                break
            line = lines[j]
            body.append(line[min(indent, len(line) - len(line.lstrip(" "))) :])
            j += 1
        if language in ("python", "py", "python3"):
            blocks.append((i + 1, "\n".join(body) + "\n"))
        i = j + 1
    return blocks


def test_extraction_finds_only_python_blocks() -> None:
    text = "\n".join(
        [
            "Intro",
            "```python",
            "x = 1",
            "```",
            "```console",
            "$ ctxlog verify ctx.db",
            "```",
            "````python",
            "```",
            "nested fence text",
            "```",
            "y = 2",
            "````",
            "```",
            "bare",
            "```",
            "  ```py",
            "  z = 3",
            "  ```",
            "~~~python",
            "w = 4",
            "~~~",
        ]
    )
    blocks = python_blocks(text)
    assert [line for line, _ in blocks] == [2, 8, 17, 20]
    assert blocks[0][1] == "x = 1\n"
    assert blocks[1][1] == "```\nnested fence text\n```\ny = 2\n"
    assert blocks[2][1] == "z = 3\n"
    assert blocks[3][1] == "w = 4\n"


DOCUMENTS = [p for p in ALL_DOCUMENTS if python_blocks(p.read_text(encoding="utf-8"))]


def test_the_library_documents_have_examples() -> None:
    names = {p.relative_to(ROOT).as_posix() for p in DOCUMENTS}
    assert {"README.md", "docs/concepts.md", "docs/events.md", "docs/embedding.md"} <= names


@pytest.mark.parametrize("document", DOCUMENTS, ids=lambda p: p.relative_to(ROOT).as_posix())
def test_document_examples_run(
    document: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, request: pytest.FixtureRequest
) -> None:
    text = document.read_text(encoding="utf-8")
    blocks = python_blocks(text)
    monkeypatch.chdir(tmp_path)
    if "CTXLOG_URL" in text:  # the examples of a server ledger get one on the throwaway server
        monkeypatch.setenv("CTXLOG_URL", request.getfixturevalue("pg_cluster").new_schema())
    name = document.relative_to(ROOT).as_posix()
    namespace: dict[str, object] = {"__name__": f"docs_{document.stem}"}
    try:
        for line, source in blocks:
            # Pad with newlines so tracebacks point at the line of the Markdown file itself.
            code = compile("\n" * line + source, name, "exec")
            try:
                exec(code, namespace)
            except BaseException as exc:
                exc.add_note(f"in the ```python block at {name}:{line}")
                raise
    finally:
        _close_leftovers(namespace)


def _close_leftovers(namespace: dict[str, object]) -> None:
    """Close managers and connections an example left open (say, because it failed midway)."""
    from ctxlog import ContextManager

    for value in namespace.values():
        if isinstance(value, (ContextManager, sqlite3.Connection)):
            value.close()

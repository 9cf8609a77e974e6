"""Text renderings of trees for the terminal: stable, greppable, one context a line."""

from __future__ import annotations

import msgspec

from ..projections.tree import ContextTree

_encoder = msgspec.json.Encoder()


def tree_lines(tree: ContextTree) -> list[str]:
    """The tree drawn with indentation: id, isolation, status, own data; ``*`` marks current."""
    lines = [
        f"run {tree.run}  offset {tree.offset}  current {tree.current_id}",
    ]
    if tree.root_id is None:
        return lines + ["(no contexts)"]

    def walk(cid: str, depth: int) -> None:
        ctx = tree.contexts[cid]
        mark = "*" if cid == tree.current_id else " "
        flags = f"{ctx.isolation.value}, {ctx.status}" + (", parallel" if ctx.is_parallel else "")
        data = _encoder.encode(ctx.data).decode()
        lines.append(f"{mark} {'  ' * depth}{cid} [{flags}] {data}")
        for child in ctx.children:
            walk(child, depth + 1)

    walk(tree.root_id, 0)
    return lines

"""The context hierarchy as diagram source: Mermaid ``graph TD`` or Graphviz ``digraph``.

Node ids are ``n0, n1 …`` (always safe); labels carry the context ids, escaped for each language.
"""

from __future__ import annotations

from ..errors import InvalidArgumentError
from ..projections import ContextTree
from .trees import replay

__all__ = ["GRAPH_FORMATS", "graph"]

GRAPH_FORMATS = ("mermaid", "dot")
"""The diagram languages :func:`graph` writes."""


def graph(
    path: str,
    *,
    run: str | None = None,
    until: str | int | None = None,
    format: str = "mermaid",
    verify: bool = False,
    key: bytes | str | None = None,
) -> str:
    """The context hierarchy of ``run`` of the ledger at ``path`` at ``until``, as diagram source in
    ``format``: Mermaid ``graph TD`` or Graphviz ``digraph``, labelled with ids and statuses.
    ``verify`` and ``key`` are ``replay``'s."""
    if format not in GRAPH_FORMATS:
        raise InvalidArgumentError(f"graph format must be one of {', '.join(GRAPH_FORMATS)}, not {format!r}")
    at = replay(path, run=run, until=until, verify=verify, key=key)
    return _mermaid(at) if format == "mermaid" else _dot(at)


def _nodes(tree: ContextTree) -> list[tuple[str, str, str, list[str]]]:
    """``(node id, context id, flags, child node ids)`` depth-first; node ids ``n0, n1 …`` are always safe."""
    order: list[str] = []
    stack = [tree.root_id] if tree.root_id is not None else []
    while stack:
        cid = stack.pop()
        order.append(cid)
        stack.extend(reversed(tree.contexts[cid].children))
    ids = {cid: f"n{i}" for i, cid in enumerate(order)}
    nodes = []
    for cid in order:
        ctx = tree.contexts[cid]
        flags = [ctx.status] + ["parallel"] * ctx.is_parallel + ["current"] * (cid == tree.current_id)
        nodes.append((ids[cid], cid, ", ".join(flags), [ids[c] for c in ctx.children]))
    return nodes


_MERMAID_SAFE = frozenset("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789 -_.,:/()@+=")


def _mermaid_text(text: str) -> str:
    return "".join(ch if ch in _MERMAID_SAFE else f"#{ord(ch)};" for ch in text)


def _mermaid(tree: ContextTree) -> str:
    lines = ["graph TD", f"  %% run {_mermaid_text(tree.run)} at offset {tree.offset}"]
    styled: dict[str, list[str]] = {"failed": [], "parallel": [], "current": []}
    nodes = _nodes(tree)
    for node, cid, flags, _ in nodes:
        ctx = tree.contexts[cid]
        label = f'"{_mermaid_text(cid)}<br/>{_mermaid_text(flags)}"'
        lines.append(f"  {node}([{label}])" if ctx.is_parallel else f"  {node}[{label}]")
        for name in styled:
            if name in flags.split(", "):
                styled[name].append(node)
    for node, _, _, children in nodes:
        lines.extend(f"  {node} --> {child}" for child in children)
    lines += [
        "  classDef failed stroke:#c00,stroke-width:2px",
        "  classDef parallel stroke-dasharray:4 3",
        "  classDef current stroke-width:3px",
    ]
    lines.extend(f"  class {','.join(members)} {name}" for name, members in styled.items() if members)
    return "\n".join(lines) + "\n"


def _dot_text(text: str) -> str:
    escaped = text.replace("\\", "\\\\").replace('"', '\\"')
    return "".join(ch if ch.isprintable() else f"\\\\x{ord(ch):02x}" for ch in escaped)


def _dot(tree: ContextTree) -> str:
    lines = [
        "digraph ctxlog {",
        f'  label="run {_dot_text(tree.run)} at offset {tree.offset}";',
        "  node [shape=box];",
    ]
    nodes = _nodes(tree)
    for node, cid, flags, _ in nodes:
        ctx = tree.contexts[cid]
        attrs = [f'label="{_dot_text(cid)}\\n{flags}"']
        if ctx.is_parallel:
            attrs.append("style=dashed")
        if ctx.status == "failed":
            attrs.append("color=red")
        if cid == tree.current_id:
            attrs.append("penwidth=2")
        lines.append(f"  {node} [{', '.join(attrs)}];")
    for node, _, _, children in nodes:
        lines.extend(f"  {node} -> {child};" for child in children)
    return "\n".join(lines + ["}"]) + "\n"

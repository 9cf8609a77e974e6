"""Build the API reference of ctxlog's public names with pdoc, and fail on any that is undocumented.

Usage: python docs/api.py OUTPUT_DIR   (``make docs`` writes build/api/)

The public names are ``ctxlog.__all__`` and ``ctxlog.audit.__all__``. Each needs a docstring (a
constant may instead be named in its module's docstring); so does each public member of a public
class (a field or attribute may instead be named in its class's docstring), and every parameter
of a public function or method must be named in its docstring. Prints each miss on one line and
exits 1 when there is any, so CI fails on it.
"""

from __future__ import annotations

import importlib
import inspect
import re
import sys
from collections.abc import Iterator
from pathlib import Path

import pdoc
import pdoc.doc

MODULES = ("ctxlog", "ctxlog.audit")


def _public(name: str) -> bool:
    return not name.startswith("_")


def _mentions(docstring: str, name: str) -> bool:
    return re.search(rf"(``|`|\b){re.escape(name)}(``|`|\b)", docstring) is not None


def _parameters(function: pdoc.doc.Function) -> list[str]:
    try:
        parameters = function.signature.parameters.values()
    except (TypeError, ValueError):
        return []
    skip = (inspect.Parameter.VAR_POSITIONAL, inspect.Parameter.VAR_KEYWORD)
    return [p.name for p in parameters if p.name not in ("self", "cls") and p.kind not in skip]


def _check_function(qualname: str, function: pdoc.doc.Function) -> Iterator[str]:
    if not function.docstring.strip():
        yield f"{qualname}: no docstring"
        return
    for parameter in _parameters(function):
        if not _mentions(function.docstring, parameter):
            yield f"{qualname}: parameter {parameter!r} is not named in the docstring"


def _check_class(qualname: str, cls: pdoc.doc.Class) -> Iterator[str]:
    if not cls.docstring.strip():
        yield f"{qualname}: no docstring"
    for member in cls.own_members:
        if not _public(member.name) or member.name in ("__init__",):
            continue
        where = f"{qualname}.{member.name}"
        if isinstance(member, pdoc.doc.Function):
            yield from _check_function(where, member)
        elif not member.docstring.strip() and not _mentions(cls.docstring, member.name):
            yield f"{where}: neither a docstring nor named in the class docstring"
    init = cls.get("__init__")
    if isinstance(init, pdoc.doc.Function) and init.taken_from[0].startswith("ctxlog"):
        for parameter in _parameters(init):
            if not _mentions(cls.docstring + init.docstring, parameter):
                yield f"{qualname}(): parameter {parameter!r} is not named in the docstring"


def missing(modules: tuple[str, ...] = MODULES) -> list[str]:
    """Every public name (of the ``__all__`` of ``modules``), member or parameter without documentation."""
    found: list[str] = []
    for module_name in modules:
        module = pdoc.doc.Module(importlib.import_module(module_name))  # not from_name: it caches
        if not module.docstring.strip():
            found.append(f"{module_name}: no module docstring")
        for name in module.obj.__all__:
            member = module.get(name)
            qualname = f"{module_name}.{name}"
            if inspect.ismodule(getattr(module.obj, name, None)) or name == "__version__":
                continue
            if member is None:
                found.append(f"{qualname}: listed in __all__ but not found")
            elif isinstance(member, pdoc.doc.Class):
                found.extend(_check_class(qualname, member))
            elif isinstance(member, pdoc.doc.Function):
                found.extend(_check_function(qualname, member))
            elif not member.docstring.strip() and not _mentions(module.docstring, name):
                found.append(f"{qualname}: neither a docstring nor named in the module docstring")
    return found


def main(argv: list[str]) -> int:
    if len(argv) != 1:
        print("usage: python docs/api.py OUTPUT_DIR", file=sys.stderr)
        return 2
    problems = missing()
    for problem in problems:
        print(f"undocumented: {problem}", file=sys.stderr)
    pdoc.render.configure(docformat="markdown", footer_text="ctxlog API reference")
    pdoc.pdoc("ctxlog", output_directory=Path(argv[0]))  # ctxlog.audit is in ctxlog.__all__
    print(f"API reference of {', '.join(MODULES)} written to {argv[0]}/")
    return 1 if problems else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))

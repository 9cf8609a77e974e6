"""``python -m ctxlog.cli``: the ctxlog command without the installed script."""

from .app import main

main(prog_name="ctxlog")

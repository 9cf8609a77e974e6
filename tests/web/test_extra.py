"""Without the web extra: ctxlog and its CLI import, ``report`` works, ``serve`` says what to install."""

from __future__ import annotations

import subprocess
import sys

SCRIPT = """
import sys
for name in ("starlette", "uvicorn", "sse_starlette"):
    sys.modules[name] = None  # as if the web extra were not installed
import ctxlog, ctxlog.cli
from click.testing import CliRunner
from ctxlog import audit
audit.demo("ctx.db", run="demo")
result = CliRunner().invoke(ctxlog.cli.main, ["serve", "ctx.db", "--port", "0"])
print(result.exit_code)
print(result.stderr.strip())
print(CliRunner().invoke(ctxlog.cli.main, ["report", "ctx.db", "-o", "run.html"]).exit_code)
"""


def test_serve_without_the_extra_is_one_line_naming_it(tmp_path: object) -> None:
    done = subprocess.run([sys.executable, "-c", SCRIPT], cwd=tmp_path, capture_output=True, text=True, check=True)
    code, message, report_code = done.stdout.strip().splitlines()
    assert code == "1" and report_code == "0"
    assert message.startswith("Error: the viewer needs the web extra: pip install 'ctxlog[web]'")
    assert "Traceback" not in done.stderr

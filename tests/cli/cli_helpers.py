"""Shared helpers of the CLI tests (pytest puts this folder on sys.path for the tests in it)."""

from __future__ import annotations

import contextlib
import io
import subprocess
import sys

from workbench.cli import main


def run_process(*args: str) -> subprocess.CompletedProcess:
    """The real command in a fresh interpreter."""
    return subprocess.run([sys.executable, "-m", "workbench", *args], capture_output=True, text=True, timeout=300)


def run_in_process(*args: str) -> subprocess.CompletedProcess:
    """``workbench.cli.main`` in this process (a fresh interpreter per call would dominate the test time)."""
    out, err = io.StringIO(), io.StringIO()
    with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
        try:
            code = main(list(args))
        except SystemExit as exc:  # argparse errors
            code = exc.code
    return subprocess.CompletedProcess(["workbench", *args], code, out.getvalue(), err.getvalue())


def assert_user_error(result: subprocess.CompletedProcess, *fragments: str) -> None:
    """Exit status 2, exactly one line on stderr naming what is wrong, no traceback."""
    assert result.returncode == 2, result.stderr
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1, result.stderr
    assert lines[0].startswith("workbench: error: ") and "Traceback" not in result.stderr
    for fragment in fragments:
        assert fragment in lines[0], lines[0]

"""The processes of one tag's build, its build requirements' installs included: each runs in a
session of its own, so that at the build's deadline its whole process group goes, grandchildren
too (``subprocess.run(timeout=…)`` kills the child alone and leaves what it started running)."""

from __future__ import annotations

import contextlib
import os
import signal
import subprocess
import time
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import IO


def start(
    command: Sequence[str],
    environment: Mapping[str, str],
    output: int | IO[bytes],
    cwd: Path | None = None,
) -> subprocess.Popen[bytes]:
    """``command`` started in a session of its own, no input, its output and errors to
    ``output``."""
    return subprocess.Popen(
        command,
        cwd=cwd,
        env=dict(environment),
        stdin=subprocess.DEVNULL,
        stdout=output,
        stderr=subprocess.STDOUT,
        start_new_session=True,
    )


def wait(process: subprocess.Popen[bytes], deadline: float) -> int | None:
    """``process``'s exit status, or None when ``deadline`` (``time.monotonic()``) came first.
    Either way its process group is killed: nothing it started outlives it."""
    try:
        return process.wait(timeout=max(deadline - time.monotonic(), 0))
    except subprocess.TimeoutExpired:
        return None
    finally:
        with contextlib.suppress(ProcessLookupError, PermissionError):
            os.killpg(process.pid, signal.SIGKILL)
        process.wait()

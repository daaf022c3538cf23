"""The processes of one tag's build, its build requirements' installs included: each runs in a
session of its own, so that at the build's deadline its whole process group goes, grandchildren
too (``subprocess.run(timeout=…)`` kills the child alone and leaves what it started running)."""

from __future__ import annotations

import contextlib
import os
import signal
import subprocess
import threading
import time
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import IO

_lock = threading.Lock()
_running: set[int] = set()
"""The process groups started here and not yet reaped."""
_stopping = False


def start(
    command: Sequence[str],
    environment: Mapping[str, str],
    output: int | IO[bytes],
    cwd: Path | None = None,
) -> subprocess.Popen[bytes]:
    """``command`` started in a session of its own, no input, its output and errors to
    ``output``. Refused (InterruptedError) while the run is stopping."""
    with _lock:
        if _stopping:
            raise InterruptedError("the run is stopping: no new build step")
        process = subprocess.Popen(
            command,
            cwd=cwd,
            env=dict(environment),
            stdin=subprocess.DEVNULL,
            stdout=output,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
        _running.add(process.pid)
    return process


def wait(process: subprocess.Popen[bytes], deadline: float) -> int | None:
    """``process``'s exit status, or None when ``deadline`` (``time.monotonic()``) came first.
    Either way its process group is killed: nothing it started outlives it."""
    try:
        return process.wait(timeout=max(deadline - time.monotonic(), 0))
    except subprocess.TimeoutExpired:
        return None
    finally:
        with _lock:
            _kill(process.pid)
            # Unreaped until here, its number is not anyone else's yet.
            _running.discard(process.pid)
        process.wait()


def stop_all() -> None:
    """Kill every process group started here, at once rather than at its deadline, and start
    none until ``resume``: the run is stopping (an interrupt, a full disk) and waits for its
    workers, not for their builds."""
    global _stopping
    with _lock:
        _stopping = True
        for group in _running:
            _kill(group)


def resume() -> None:
    global _stopping
    with _lock:
        _stopping = False


def _kill(group: int) -> None:
    with contextlib.suppress(ProcessLookupError, PermissionError):
        os.killpg(group, signal.SIGKILL)

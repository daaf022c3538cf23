"""The processes sdistmaker starts: the commands that read repositories, and the steps of a
tag's build, its build requirements' installs included. Each runs in a session of its own, so
that at its deadline its whole process group goes, grandchildren too (``subprocess.run(timeout=…)``
kills the child alone and leaves what it started running)."""

from __future__ import annotations

import contextlib
import os
import signal
import subprocess
import threading
import time
from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import IO

_lock = threading.Lock()
_running: set[int] = set()
"""The process groups started here and not yet reaped."""
_stopping = False
_ended: Callable[[], None] | None = None
"""Told whenever a process started here ends (see ``telling``)."""


@contextlib.contextmanager
def telling(ended: Callable[[], None]) -> Iterator[None]:
    """Call ``ended`` whenever a process started here ends, meanwhile: what a run takes for a
    sign that it gets on (each process has a deadline)."""
    global _ended
    _ended = ended
    try:
        yield
    finally:
        _ended = None


def start(
    command: Sequence[str],
    environment: Mapping[str, str],
    output: int | IO[bytes],
    cwd: Path | None = None,
    errors: int | IO[bytes] = subprocess.STDOUT,
) -> subprocess.Popen[bytes]:
    """``command`` started in a session of its own, no input, its output to ``output`` and its
    errors to ``errors`` (by default with its output). Refused (InterruptedError) while the run
    is stopping."""
    with _lock:
        if _stopping:
            raise InterruptedError("the run is stopping: no new process")
        process = subprocess.Popen(
            command,
            cwd=cwd,
            env=dict(environment),
            stdin=subprocess.DEVNULL,
            stdout=output,
            stderr=errors,
            start_new_session=True,
        )
        _running.add(process.pid)
    return process


class TimedOut(Exception):
    """A command was killed, with all it started, at its deadline."""


@dataclass(frozen=True)
class Finished:
    code: int
    output: bytes
    """What it wrote to its output; empty where that went to a file."""
    errors: bytes


def run(
    command: Sequence[str],
    environment: Mapping[str, str],
    deadline: float,
    output: IO[bytes] | None = None,
) -> Finished:
    """Run ``command`` to its end, its output kept (or written to ``output``), its errors kept;
    raise TimedOut when ``deadline`` (``time.monotonic()``) comes first. A server that accepts
    a connection and never answers makes some clients wait for ever (svn over svn:// has no
    timeout, and was seen ignoring SIGTERM): only killing the process group bounds them."""
    process = start(command, environment, output or subprocess.PIPE, errors=subprocess.PIPE)
    written, errors = bytearray(), bytearray()
    streams = [(process.stdout, written), (process.stderr, errors)]
    readers = [
        (stream, threading.Thread(target=_collect, args=(stream, into), daemon=True))
        for stream, into in streams
        if stream is not None
    ]
    for _, reader in readers:
        reader.start()
    code = wait(process, deadline)
    # The command's end is what counts, not its pipes': a process that left its group (a
    # helper kept in the background) may hold them open, and keeps its reader.
    for stream, reader in readers:
        reader.join(timeout=5)
        if not reader.is_alive():
            stream.close()
    if code is None:
        raise TimedOut(" ".join(command))
    return Finished(code, bytes(written), bytes(errors))


def _collect(stream: IO[bytes], into: bytearray) -> None:
    with contextlib.suppress(OSError, ValueError):
        while chunk := os.read(stream.fileno(), 65536):
            into += chunk


def logged(
    command: Sequence[str],
    environment: Mapping[str, str],
    output: IO[bytes],
    deadline: float,
    cwd: Path | None = None,
) -> int | None:
    """Run one step (of a build, or of making its environment) by ``deadline``, its output and
    errors into ``output`` (a log, its heading written), up to LOG_LIMIT bytes of them. Its
    exit status, or None when its process group was killed at the deadline (the log says so)."""
    process = start(command, environment, subprocess.PIPE, cwd)
    assert process.stdout is not None
    copy = threading.Thread(target=_copy_capped, args=(process.stdout, output), daemon=True)
    copy.start()
    code = wait(process, deadline)
    # A process that left the group may hold the pipe open: the log is not waited for.
    copy.join(timeout=5)
    if code is None:
        output.write(b"=== killed after the build timeout\n")
    return code


LOG_LIMIT = 8 * 1024 * 1024
"""Bytes of one step's output kept in its log: the first and the last half. A step that
prints without end fills no disk."""


def _copy_capped(stream: IO[bytes], output: IO[bytes]) -> None:
    half = LOG_LIMIT // 2
    written = 0
    tail = bytearray()
    left_out = 0
    with contextlib.suppress(OSError, ValueError):  # the log closed under a stray process
        while chunk := os.read(stream.fileno(), 65536):
            head = chunk[: max(half - written, 0)]
            output.write(head)
            written += len(head)
            tail += chunk[len(head) :]
            if len(tail) > half:
                left_out += len(tail) - half
                del tail[: len(tail) - half]
        if left_out:
            output.write(f"\n=== {left_out} bytes of output left out here\n".encode())
        output.write(tail)
        output.flush()


def _tell() -> None:
    ended = _ended
    if ended is not None:
        ended()


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
        _tell()


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

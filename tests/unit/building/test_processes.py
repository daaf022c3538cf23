"""The processes sdistmaker starts: each a process group of its own, killed at its deadline."""

import io
import os
import subprocess
import sys
import threading
import time
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest

from helpers.system import all_gone, running, soon
from sdistmaker.building import processes

LEAVING_A_CHILD = """\
import subprocess, sys, time
child = [sys.executable, "-c", "import time; time.sleep(600)", sys.argv[1]]
if sys.argv[3] == "with its output":
    subprocess.Popen(child)
else:
    subprocess.Popen(child, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
print("started", flush=True)
time.sleep(float(sys.argv[2]))
"""


@pytest.fixture
def marker() -> Iterator[str]:
    """Marks the processes a test starts; whatever survives the test is killed after it."""
    mark = f"sdistmaker-test-{uuid.uuid4()}"
    yield mark
    for pid in running(mark):
        os.kill(pid, 9)


def leaving_a_child(marker: str, seconds: float, child: str = "with its output") -> list[str]:
    """A command that starts a child, in its process group, then runs for ``seconds``; the
    child writes where the command does, or (``child="alone"``) nowhere."""
    return [sys.executable, "-c", LEAVING_A_CHILD, marker, str(seconds), child]


def test_a_commands_output_errors_and_status_are_kept_apart() -> None:
    command = [sys.executable, "-c", "import sys; print('out'); sys.exit('err')"]
    finished = processes.run(command, dict(os.environ), soon())
    assert (finished.code, finished.output, finished.errors) == (1, b"out\n", b"err\n")


def test_at_its_deadline_a_command_is_killed_with_all_it_started(marker: str) -> None:
    began = time.monotonic()
    with pytest.raises(processes.TimedOut):
        processes.run(leaving_a_child(marker, 120), dict(os.environ), soon(2))
    assert time.monotonic() - began < 10
    assert all_gone(marker)


def test_nothing_a_command_started_outlives_it(marker: str) -> None:
    finished = processes.run(leaving_a_child(marker, 0, "alone"), dict(os.environ), soon())
    assert (finished.code, finished.output) == (0, b"started\n")
    assert all_gone(marker)


def test_a_command_that_ended_is_not_timed_out_by_a_child_holding_its_output(
    marker: str,
) -> None:
    began = time.monotonic()
    finished = processes.run(leaving_a_child(marker, 0), dict(os.environ), soon(5))
    assert (finished.code, finished.output) == (0, b"started\n")
    assert time.monotonic() - began < 4
    assert all_gone(marker)


def test_a_step_logs_its_output_and_errors_and_is_killed_at_its_deadline(marker: str) -> None:
    log = io.BytesIO()
    command = [sys.executable, "-c", "import sys; print('out', flush=True); sys.exit('err')"]
    assert processes.logged(command, dict(os.environ), log, soon()) == 1
    assert log.getvalue() == b"out\nerr\n"
    log = io.BytesIO()
    assert processes.logged(leaving_a_child(marker, 120), dict(os.environ), log, soon(2)) is None
    assert log.getvalue() == b"started\n=== killed after the build timeout\n"
    assert all_gone(marker)


def test_a_step_printing_without_end_keeps_the_head_and_tail_of_its_log(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setattr(processes, "LOG_LIMIT", 1000)
    printing = "import sys; sys.stdout.write('H' * 500 + 'x' * 100_000 + 'T' * 500)"
    log = io.BytesIO()
    assert processes.logged([sys.executable, "-c", printing], dict(os.environ), log, soon()) == 0
    assert log.getvalue() == (
        b"H" * 500 + b"\n=== 100000 bytes of output left out here\n" + b"T" * 500
    )


def test_stopping_kills_every_process_at_once_and_starts_none_until_resumed(
    marker: str, tmp_path: Path
) -> None:
    codes: list[int | None] = []
    command = leaving_a_child(marker, 120)
    step = threading.Thread(
        target=lambda: codes.append(
            processes.logged(command, dict(os.environ), io.BytesIO(), soon(120))
        )
    )
    step.start()
    while len(running(marker)) < 2:
        time.sleep(0.05)
    try:
        processes.stop_all()
        step.join(10)
        assert codes == [-9]
        assert all_gone(marker)
        with pytest.raises(InterruptedError):
            processes.start(["true"], dict(os.environ), subprocess.DEVNULL)
    finally:
        processes.resume()
    assert processes.run(["true"], dict(os.environ), soon()).code == 0


def test_a_run_is_told_whenever_a_process_ends() -> None:
    ended: list[bool] = []
    with processes.telling(lambda: ended.append(True)):
        processes.run(["true"], dict(os.environ), soon())
        processes.logged(["true"], dict(os.environ), io.BytesIO(), soon())
    processes.run(["true"], dict(os.environ), soon())
    assert ended == [True, True]

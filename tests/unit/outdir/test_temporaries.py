"""sdistmaker's temporaries, and the removal of exactly those a killed run left behind."""

import os
import signal
import subprocess
import sys
import tempfile
from collections.abc import Iterator
from pathlib import Path

import pytest

from sdistmaker.outdir import temporaries


def test_leftovers_are_the_temporaries_and_nothing_else(tmp_path: Path) -> None:
    _, left_file = temporaries.new_file(tmp_path, "state.json")
    left_folder = temporaries.new_folder(tmp_path, "0123abcd")
    (left_folder / "bin").mkdir()
    for kept in ("state.json", "0123abcd", ".sdistmaker-published.json", "tmp-x"):
        (tmp_path / kept).touch()
    temporaries.remove_leftovers(tmp_path)
    assert not os.path.lexists(left_file)
    assert not left_folder.exists()
    assert sorted(path.name for path in tmp_path.iterdir()) == [
        ".sdistmaker-published.json",
        "0123abcd",
        "state.json",
        "tmp-x",
    ]
    temporaries.remove_leftovers(tmp_path / "not-there")  # nothing to remove


HOLD = """\
import fcntl, os, sys, time
descriptor = os.open(sys.argv[1], os.O_RDONLY)
fcntl.flock(descriptor, fcntl.LOCK_EX)
print("held", flush=True)
time.sleep(120)
"""


@pytest.fixture
def others() -> Iterator[list[subprocess.Popen[str]]]:
    """Other processes, killed at the end."""
    started: list[subprocess.Popen[str]] = []
    yield started
    for process in started:
        process.kill()
        process.wait()


def hold(path: Path, others: list[subprocess.Popen[str]]) -> subprocess.Popen[str]:
    """Another process holding a lock on ``path``, as a process making something does."""
    process = subprocess.Popen(
        [sys.executable, "-c", HOLD, str(path)], stdout=subprocess.PIPE, text=True
    )
    others.append(process)
    assert process.stdout is not None and process.stdout.readline() == "held\n"
    return process


def test_in_a_shared_folder_a_temporary_goes_only_once_its_lock_is_free(
    tmp_path: Path, others: list[subprocess.Popen[str]]
) -> None:
    mirror = tmp_path / "mirror"
    being_made = temporaries.new_folder(tmp_path, mirror.name)
    lock = temporaries.lock_path(mirror)
    lock.touch()
    maker = hold(lock, others)
    temporaries.remove_leftovers(tmp_path, guarded=True)
    assert being_made.exists()
    maker.send_signal(signal.SIGKILL)
    maker.wait()
    temporaries.remove_leftovers(tmp_path, guarded=True)
    assert not being_made.exists()
    assert lock.exists()


@pytest.mark.parametrize("kind", ["folder", "file", "link"])
def test_putting_in_place_replaces_what_is_there_whole(tmp_path: Path, kind: str) -> None:
    target = tmp_path / "environment"
    if kind == "folder":
        target.mkdir()
        (target / "old").touch()
    elif kind == "file":
        target.write_text("what a damaged folder became")
    else:
        target.symlink_to(tmp_path)
    made = temporaries.new_folder(tmp_path, target.name)
    (made / "new").touch()
    temporaries.put_in_place(made, target)
    assert [path.name for path in tmp_path.iterdir()] == ["environment"]
    assert [path.name for path in target.iterdir()] == ["new"]


KEEP_A_BUILD_FOLDER = """\
import time
from sdistmaker.outdir.temporaries import BuildFolder
print(BuildFolder().path, flush=True)
time.sleep(120)
"""


def test_abandoned_build_folders_go_those_in_use_stay(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, others: list[subprocess.Popen[str]]
) -> None:
    monkeypatch.setattr(tempfile, "tempdir", str(tmp_path))
    folders = []
    for _ in range(2):
        process = subprocess.Popen(
            [sys.executable, "-c", KEEP_A_BUILD_FOLDER],
            stdout=subprocess.PIPE,
            text=True,
            env={**os.environ, "TMPDIR": str(tmp_path)},
        )
        others.append(process)
        assert process.stdout is not None
        folders.append(Path(process.stdout.readline().strip()))
    killed, running = others
    killed.kill()
    killed.wait()
    other = tmp_path / "sdistmaker-other"  # not a build folder
    other.mkdir()
    temporaries.remove_abandoned_build_folders()
    assert sorted(tmp_path.iterdir()) == sorted([folders[1], other])
    assert running.poll() is None


def test_meanwhile_temporaries_go_to_a_folder_only_this_user_may_enter(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(tempfile, "tempdir", str(tmp_path))
    with temporaries.own_temporary_folder():
        own = Path(tempfile.gettempdir())
        assert own.parent == tmp_path
        assert own.stat().st_mode & 0o777 == 0o700
        assert temporaries.shared_temporary_folder() == tmp_path
        (own / "hook-runner").mkdir()
    assert tempfile.gettempdir() == str(tmp_path)
    assert list(tmp_path.iterdir()) == []

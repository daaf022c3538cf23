import json
import os
import signal
import subprocess
import sys
import threading
import time
from pathlib import Path

import pytest

from sdistmaker.environments import Environments
from sdistmaker.errors import BuildError
from sdistmaker.store import Store
from servers import silent_index

SETUPTOOLS = {"setuptools>=61"}


def soon() -> float:
    """A deadline no environment made here comes near."""
    return time.monotonic() + 600


def made(log: Path) -> int:
    """How many environments were made, by the log of the commands that made them."""
    return sum(" venv " in line for line in log.read_text().splitlines())


def test_an_environment_is_made_once_and_reused(tmp_path: Path) -> None:
    environments = Environments(tmp_path / "envs")
    log = tmp_path / "log"
    first = environments.python(SETUPTOOLS, "", os.environ, log, deadline=soon())
    second = Environments(tmp_path / "envs").python(
        SETUPTOOLS, "", os.environ, log, deadline=soon()
    )  # a later run
    assert first == second
    assert first.exists()
    assert made(log) == 1
    # Byte-compiled: no backend call compiles setuptools again.
    assert list(first.parent.parent.glob("lib/python*/site-packages/setuptools/__pycache__/*.pyc"))


def test_other_requirements_or_constraints_get_their_own(tmp_path: Path) -> None:
    environments = Environments(tmp_path / "envs")
    log = tmp_path / "log"
    plain = environments.python(SETUPTOOLS, "", os.environ, log, deadline=soon())
    pinned = environments.python(
        {"setuptools"}, "setuptools<58\n", os.environ, log, deadline=soon()
    )
    assert plain != pinned
    assert made(log) == 2
    assert [p.name for p in pinned.parent.parent.glob("lib/python*/site-packages/setuptools-57*")]
    kept = [p for p in (tmp_path / "envs").iterdir() if not p.name.endswith(".lock")]
    assert len(kept) == 2


def test_an_old_environment_is_made_anew(tmp_path: Path) -> None:
    log = tmp_path / "log"
    Environments(tmp_path / "envs").python(SETUPTOOLS, "", os.environ, log, deadline=soon())
    Environments(tmp_path / "envs", max_age=0).python(
        SETUPTOOLS, "", os.environ, log, deadline=soon()
    )
    assert made(log) == 2
    leftovers = [p for p in (tmp_path / "envs").iterdir() if p.name.startswith(".")]
    assert leftovers == []


def test_an_environment_in_use_is_not_made_anew_during_the_run(tmp_path: Path) -> None:
    log = tmp_path / "log"
    environments = Environments(tmp_path / "envs", max_age=0)  # old as soon as it is made
    first = environments.python(SETUPTOOLS, "", os.environ, log, deadline=soon())
    assert environments.python(SETUPTOOLS, "", os.environ, log, deadline=soon()) == first
    assert made(log) == 1  # a build running in it keeps it


@pytest.mark.parametrize(
    ("requirement", "refused"),
    [
        ("acme @ git+https://git.example.com/acme.git", "is a direct reference"),
        ("--index-url=http://127.0.0.1:9/simple/", "is not a valid requirement"),
    ],
)
def test_what_the_index_does_not_name_is_refused_before_any_install(
    tmp_path: Path, requirement: str, refused: str
) -> None:
    log = tmp_path / "log"
    with pytest.raises(BuildError, match=f"build requirement '.*' {refused}"):
        Environments(tmp_path / "envs").python(
            {"setuptools", requirement}, "", os.environ, log, deadline=soon()
        )
    assert not log.exists()


RENEW = """\
import os, sys, time
from pathlib import Path
from sdistmaker.environments import Environments
from sdistmaker.errors import BuildError
renewal = Environments(Path(sys.argv[1]), max_age=0)
renewal.python((), "", os.environ, Path(sys.argv[2]), deadline=time.monotonic() + 600)
"""
BULK = 10_000
"""Files added to an environment, so that deleting it takes long enough to be killed midway."""


def test_a_renewal_killed_while_it_deletes_the_old_environment_leaves_a_whole_one(
    tmp_path: Path,
) -> None:
    store = Store(tmp_path / "out")
    log = tmp_path / "log"
    python = Environments(store.environments).python((), "", os.environ, log, deadline=soon())
    bulk = python.parent.parent / "bulk"
    bulk.mkdir()
    for number in range(BULK):
        (bulk / str(number)).touch()
    first_deleted = next(os.scandir(bulk)).name  # rmtree deletes in the order scandir lists
    renewal = subprocess.Popen(
        [sys.executable, "-c", RENEW, str(store.environments), str(log)], start_new_session=True
    )
    began = time.monotonic()
    while all((folder / first_deleted).exists() for folder in store.environments.glob("*/bulk")):
        assert renewal.poll() is None, "the renewal ended before it was killed"
        assert time.monotonic() - began < 60
    os.killpg(renewal.pid, signal.SIGKILL)
    renewal.wait()

    # Under its real name, the old environment whole or the new one: never a part.
    assert python.exists()
    assert (len(os.listdir(bulk)) if bulk.exists() else 0) in (0, BULK)
    store.remove_leftovers()  # as the next run does first: the old one, set aside, goes
    assert [path.name for path in store.environments.iterdir() if path.is_dir()] == [
        python.parent.parent.name
    ]


LOOK_FOR_UV_AT_ONCE = """\
import json, threading
from sdistmaker.environments import _uv
start = threading.Barrier(8)
found = set()
def look():
    start.wait()
    try:
        found.add(_uv())
    except Exception as error:
        found.add(repr(error))
workers = [threading.Thread(target=look) for _ in range(8)]
for worker in workers:
    worker.start()
for worker in workers:
    worker.join()
print(json.dumps(sorted(found, key=str)))
"""


def test_workers_making_environments_at_once_in_a_new_process_all_find_uv() -> None:
    # A fresh interpreter each time: what went wrong was the first use of sysconfig in a
    # process, by two threads at once (it failed in four processes out of five).
    for _ in range(3):
        run = subprocess.run(
            [sys.executable, "-c", LOOK_FOR_UV_AT_ONCE], capture_output=True, text=True, check=True
        )
        [found] = json.loads(run.stdout)
        assert found is None or Path(found).exists(), found


def test_a_build_waits_for_another_builds_install_no_longer_than_its_own_deadline(
    tmp_path: Path,
) -> None:
    environments = Environments(tmp_path / "envs")
    failures: dict[str, str] = {}
    with silent_index() as url:
        index = {**os.environ, "UV_INDEX_URL": url, "PIP_INDEX_URL": url}

        def make(build: str, seconds: float) -> None:
            """Make the environment as a build of ``seconds`` does, in the same run."""
            log = tmp_path / f"{build}.log"
            try:
                deadline = time.monotonic() + seconds
                environments.python({"acme-helper"}, "", index, log, deadline=deadline)
            except BuildError as error:
                failures[build] = str(error)

        (tmp_path / "first.log").touch()
        first = threading.Thread(target=make, args=("first", 4))
        first.start()
        # Until the first holds the environment's lock: it logs each install step it starts.
        while "pip install" not in (tmp_path / "first.log").read_text():
            assert first.is_alive(), failures
            time.sleep(0.05)
        began = time.monotonic()
        make("second", 1)
        waited = time.monotonic() - began
        first.join()
    assert failures == {
        "first": "build requirements ['acme-helper'] timed out while being installed, "
        "process tree killed",
        "second": "build requirements ['acme-helper'] timed out: another build was still "
        "installing them",
    }
    assert waited < 2

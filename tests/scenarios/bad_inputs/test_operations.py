"""A run among others and under an operator: a lock left by a killed run or held by another (that
gets on, or hangs), Ctrl-C and SIGTERM, uploads without credentials or to a server that never
answers."""

from __future__ import annotations

import os
import re
import signal
import time

from helpers.catalogue import (
    QUICK,
    SECRET,
    Arranged,
    Case,
    Catalogue,
    Expect,
    Stop,
    World,
    distributions,
    run_and_check,
)
from helpers.projects import setup_py_project
from helpers.system import HANGING_SETUP_PY, SLEEPER, all_gone, hold_lock, running

bad_input = Catalogue()


@bad_input
def lock_left_by_a_killed_run(world: World) -> Arranged:
    """The kernel frees a lock with its holder: the next run takes it and does the work."""
    world.publish()
    world.svn.tag("libs/alpha", "1.1", setup_py_project("alpha", "1.1"))
    holder = hold_lock(world.outdir, 60)
    os.kill(holder.pid, signal.SIGKILL)
    holder.wait()
    yield Expect(0)
    assert "alpha/alpha-1.1.tar.gz" in distributions(world.outdir)


@bad_input
def lock_held_by_a_run_that_hangs(world: World) -> Arranged:
    """Every step of a run has a deadline: a run holding the lock that has not got on for
    longer than its longest step is stuck. While it holds the lock the index stays as it is,
    so every run that finds it so says it, quiet or not, naming it."""
    world.publish()
    holder = hold_lock(world.outdir, 60)
    try:
        two_hours_ago = time.time() - 2 * 3600
        os.utime(world.outdir / ".sdistmaker" / "lock-holder.json", (two_hours_ago,) * 2)
        line = (
            rf"{re.escape(str(world.outdir))}: another sdistmaker run holds the lock "
            rf"\(pid {holder.pid}, since \S+Z: -c .*\) and has not got on for 2 h 0 min: "
            "it may hang"
        )
        yield Expect(1, [line])
    finally:
        holder.kill()
        holder.wait()


@bad_input
def lock_held_by_a_run_that_gets_on(world: World) -> Arranged:
    """Runs overlap freely: the run holding the lock does the work, the other leaves quietly."""
    world.publish()
    holder = hold_lock(world.outdir, 60)
    try:
        yield Expect(0)
    finally:
        holder.kill()
        holder.wait()


def stopped_by_a_signal(name: str, stop: signal.Signals, to_group: bool, said: str) -> None:
    """Enter a case in the catalogue: a run stopped by ``stop`` while a build hangs stops it
    (and all it started) at once, in one line, with the status a shell gives a program that
    signal ended; the next run goes on from there."""

    def case(world: World) -> Arranged:
        world.publish()
        world.git.commit(setup_py_project("beta", "1.1"))
        world.git.tag("1.1")
        world.svn.tag("libs/alpha", "1.1", {"setup.py": HANGING_SETUP_PY})
        line = f"{said}: what was published stays; the next run goes on"
        defaults = world.defaults(BUILD_TIMEOUT=300, JOBS=1)
        result = yield Expect(
            128 + stop,
            [re.escape(line)],
            defaults,
            stop=Stop(stop, lambda: bool(running(SLEEPER)), to_group),
        )
        assert result.seconds < 60, "the run waited for its builds"
        assert all_gone(SLEEPER), "a process the build started still runs"
        again = world.run(world.defaults(BUILD_TIMEOUT=2))
        assert "beta/beta-1.1.tar.gz" in distributions(world.outdir), again.output

    case.__name__ = name
    bad_input(case)


stopped_by_a_signal("run_stopped_by_ctrl_c", signal.SIGINT, True, "interrupted")
stopped_by_a_signal("run_stopped_by_sigterm", signal.SIGTERM, False, "terminated")


@bad_input
def upload_without_credentials(world: World) -> Arranged:
    """No TWINE_USERNAME, TWINE_PASSWORD or keyring: each file's upload fails in one line, and
    is tried again on the next run."""
    world.publish()
    repository = "http://127.0.0.1:9/"
    lines = [
        rf"failed uploading {name}: {re.escape(repository)}: \S+ not uploaded: Credential not .*"
        for name in ("beta/beta-1.0.tar.gz", "alpha/alpha-1.0.tar.gz")
    ]
    env = {"PYTHON_KEYRING_BACKEND": "keyring.backends.fail.Keyring"}
    yield Expect(1, lines, world.defaults(UPLOAD_TO=repository), env=env)


@bad_input
def upload_to_a_server_that_never_answers(world: World) -> Arranged:
    """twine waits for ever for an answer: the upload is given up after REPOSITORY_TIMEOUT, the
    repository is not asked again in this run, and the next run tries again."""
    port = world.request.getfixturevalue("hanging_port")
    world.publish()
    repository = f"http://127.0.0.1:{port}/"
    # One file's upload is given up (the first of the state's), not every file's.
    line = (
        rf"failed uploading (alpha|beta)/\1-1\.0\.tar\.gz: {re.escape(repository)}: "
        r"\1-1\.0\.tar\.gz not uploaded: timed out"
    )
    env = {"TWINE_USERNAME": "builder", "TWINE_PASSWORD": SECRET}
    defaults = world.defaults(UPLOAD_TO=repository, REPOSITORY_TIMEOUT=2)
    result = yield Expect(1, [line], defaults, env=env)
    assert result.seconds < QUICK


@bad_input.each()
def test_bad_input(case: Case, world: World) -> None:
    run_and_check(case, world)

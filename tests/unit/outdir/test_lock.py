"""One run at a time on an OUTDIR, and a word when the run holding it seems to hang."""

import os
import re
import threading
import time
from pathlib import Path

import pytest

from helpers.system import mount, unmount
from sdistmaker.outdir.lock import Busy, LockError, RunLock, Stalled
from sdistmaker.outdir.store import Store


def test_a_second_run_finds_outdir_busy(tmp_path: Path) -> None:
    store = Store(tmp_path)
    with (
        store.lock(),
        pytest.raises(Busy, match="another sdistmaker run holds the lock"),
        Store(tmp_path).lock(),
    ):
        pass


def test_wait_takes_the_lock_once_the_other_run_ends(tmp_path: Path) -> None:
    store = Store(tmp_path)
    holding = threading.Event()
    release = threading.Event()

    def other_run() -> None:
        with Store(tmp_path).lock():
            holding.set()
            release.wait(5)

    thread = threading.Thread(target=other_run)
    thread.start()
    holding.wait(5)
    threading.Timer(0.3, release.set).start()
    with store.lock(wait=10):
        pass
    thread.join()


def holder_quiet_for(lock: RunLock, seconds: float) -> None:
    """The holder's file as a run leaves it that has not got on for ``seconds``."""
    then = time.time() - seconds
    os.utime(lock.holder, (then, then))


def test_a_run_finding_the_holder_quiet_longer_than_it_may_says_it_may_hang(
    tmp_path: Path,
) -> None:
    private = tmp_path / ".sdistmaker"
    private.mkdir()
    holding = RunLock(tmp_path, private)
    with holding.hold(stalled_after=3600):
        holder_quiet_for(holding, 3599)
        with pytest.raises(Busy), RunLock(tmp_path, private).hold():
            pass
        holder_quiet_for(holding, 2 * 3600 + 60)
        with pytest.raises(Stalled) as raised, RunLock(tmp_path, private).hold():
            pass
    said = re.escape(f"{tmp_path}: another sdistmaker run holds the lock (pid {os.getpid()}, ")
    since = r"since \d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ: .+\)"
    stuck = re.escape(" and has not got on for 2 h 1 min: it may hang")
    assert re.fullmatch(said + since + stuck, str(raised.value)), str(raised.value)


def test_a_holder_that_says_nothing_of_itself_is_busy_not_stalled(tmp_path: Path) -> None:
    """A run that has taken the lock but not yet written who it is, or an older version's."""
    private = tmp_path / ".sdistmaker"
    private.mkdir()
    holding = RunLock(tmp_path, private)
    with holding.hold():
        holding.holder.write_text("{}")
        holder_quiet_for(holding, 10 * 3600)
        with pytest.raises(Busy), RunLock(tmp_path, private).hold():
            pass


def test_getting_on_touches_the_holders_file_at_most_every_few_seconds(tmp_path: Path) -> None:
    lock = RunLock(tmp_path, tmp_path)
    lock.holder.write_text("{}")
    holder_quiet_for(lock, 3600)
    lock.getting_on()
    assert time.time() - lock.holder.stat().st_mtime < 60
    holder_quiet_for(lock, 3600)
    lock.getting_on()  # just now: not again
    assert time.time() - lock.holder.stat().st_mtime > 3500


def test_an_outdir_on_a_read_only_file_system_cannot_be_locked(tmp_path: Path) -> None:
    private = tmp_path / ".sdistmaker"
    private.mkdir()
    mount("-t", "tmpfs", "-o", "ro,size=1m", "tmpfs", str(private))
    try:
        with pytest.raises(LockError) as raised, RunLock(tmp_path, private).hold():
            pass
    finally:
        unmount(private)
    assert str(raised.value) == f"{tmp_path}: cannot lock OUTDIR: Read-only file system"

"""sdistmaker's temporaries, and the removal of those a killed run left behind.

A run killed midway (a cron timeout, the OOM killer, a reboot) runs no ``finally``: whatever it
was writing under a temporary name stays. So every such name starts with a prefix of its own,
and a later run removes exactly those, and nothing else:

- In OUTDIR, ``PREFIX`` starts the name of a file being written or published, of an environment
  or a git mirror being made and of an old environment or a damaged mirror being deleted; a dot
  first, so that the web server configurations never serve one. Runs make them only in a few
  folders of their own and only while they hold OUTDIR's lock: the next holder knows that all it
  finds there is dead. (``make_sdist``, which holds no lock, publishes through one in the
  project's folder: runs leave those alone.)
- In TMPDIR, ``BUILD_PREFIX`` starts the name of a build's folder. Other processes use them too
  (runs for another OUTDIR, ``make_sdist``), so each is held while in use (a lock on the folder,
  which the kernel drops when its process dies) and only those nobody holds go.
"""

from __future__ import annotations

import contextlib
import fcntl
import logging
import os
import shutil
import tempfile
from collections.abc import Iterator
from pathlib import Path
from types import TracebackType

logger = logging.getLogger(__name__)

PREFIX = ".sdistmaker-tmp-"
BUILD_PREFIX = "sdistmaker-build-"


def new_file(folder: Path, purpose: str) -> tuple[int, str]:
    """A new empty file in ``folder``, open: its descriptor and path. ``purpose`` (the name of
    what it becomes) is part of its name, for people who come across one."""
    return tempfile.mkstemp(prefix=f"{PREFIX}{purpose}-", dir=folder)


def new_folder(folder: Path, purpose: str) -> Path:
    """A new empty folder in ``folder``, named like ``new_file``'s files."""
    return Path(tempfile.mkdtemp(prefix=f"{PREFIX}{purpose}-", dir=folder))


def put_in_place(made: Path, target: Path) -> None:
    """Move ``made`` (a temporary in ``target``'s folder) to ``target`` in renames, so that a
    kill at any moment leaves under the real name a whole folder or none, never a half-deleted
    one: what is there is moved aside first, into a temporary (the next run removes it when
    this one cannot)."""
    old = None
    if os.path.lexists(target):
        old = new_folder(target.parent, target.name)
        if target.is_dir() and not target.is_symlink():
            os.rename(target, old)  # onto the empty folder just made there
        else:  # what a damaged folder may have become
            os.rename(target, old / target.name)
    os.rename(made, target)
    if old is not None:
        shutil.rmtree(old, ignore_errors=True)


def remove_leftovers(folder: Path, guarded: bool = False) -> None:
    """Remove every temporary in ``folder``. Only for a process that knows that nobody else
    writes there now: what it finds was left by a process that is gone. In a ``guarded``
    folder, which other processes may share, a temporary made for ``X`` is written only while
    its writer holds the lock ``X.lock`` beside it (``lock_path``): one is removed only when
    that lock can be taken."""
    try:
        with os.scandir(folder) as entries:
            found = [entry for entry in entries if entry.name.startswith(PREFIX)]
    except FileNotFoundError:
        return
    for entry in found:
        path = Path(entry.path)
        purpose = entry.name[len(PREFIX) :].rsplit("-", 1)[0]
        with _unless_in_use(lock_path(folder / purpose) if guarded else None) as free:
            if free:
                _remove(path, entry.is_dir(follow_symlinks=False))


def lock_path(made: Path) -> Path:
    """The lock held while ``made`` (a git mirror, a build environment) is being made."""
    return made.with_name(made.name + ".lock")


@contextlib.contextmanager
def _unless_in_use(lock: Path | None) -> Iterator[bool]:
    """Hold ``lock`` if nobody else does: whether it could be taken (True for no lock)."""
    if lock is None:
        yield True
        return
    try:
        descriptor = os.open(lock, os.O_RDONLY)
    except FileNotFoundError:
        yield True
        return
    try:
        yield _take(descriptor)
    finally:
        os.close(descriptor)


def _remove(path: Path, is_folder: bool) -> None:
    if is_folder:
        shutil.rmtree(path, ignore_errors=True)
    else:
        path.unlink(missing_ok=True)
    logger.debug("removed %s, left by a killed run", path)


_shared: Path | None = None
"""The temporary folder every process shares, while this one has one of its own (see
``own_temporary_folder``)."""


def shared_temporary_folder() -> Path:
    """TMPDIR, which other processes use too: where build folders are."""
    return _shared or Path(tempfile.gettempdir())


@contextlib.contextmanager
def own_temporary_folder() -> Iterator[None]:
    """Meanwhile, what libraries make in the temporary folder goes to a folder of this process
    that only its user may enter. PyPA build's hook runner makes a folder there for each
    backend call and hands it to the build user (nobody, when sdistmaker runs as root): in the
    shared folder, any other process of that user could write into it while the backend runs."""
    global _shared
    _shared = shared_temporary_folder()
    # A build folder (0700, held while in use): one a killed process left goes with the others.
    own = BuildFolder()
    tempfile.tempdir = str(own.path)
    try:
        yield
    finally:
        tempfile.tempdir, _shared = str(_shared), None
        own.remove()


class BuildFolder:
    """A folder of its own in TMPDIR for one build, held while this process uses it."""

    def __init__(self) -> None:
        parent = shared_temporary_folder()
        while True:
            self.path = Path(tempfile.mkdtemp(prefix=BUILD_PREFIX, dir=parent))
            descriptor = os.open(self.path, os.O_RDONLY | os.O_DIRECTORY)
            if _take(descriptor) and _still_named(self.path, descriptor):
                self._hold: int | None = descriptor
                return
            # A process clearing TMPDIR came between the folder's making and its locking, and
            # took it for abandoned: it is gone, or going.
            os.close(descriptor)

    def remove(self) -> None:
        """Remove the folder, then let go of it; again, nothing."""
        if self._hold is None:
            return
        shutil.rmtree(self.path, ignore_errors=True)
        os.close(self._hold)
        self._hold = None

    def __enter__(self) -> Path:
        return self.path

    def __exit__(
        self,
        kind: type[BaseException] | None,
        error: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        self.remove()


def remove_abandoned_build_folders() -> None:
    """Remove the build folders in TMPDIR that no process holds: those of killed processes.

    The lock is on the folder itself, so a folder is abandoned exactly when nobody holds it:
    one whose removal was cut short, or whose process died before it locked it, goes next time.
    """
    user = os.getuid()
    with os.scandir(shared_temporary_folder()) as entries:
        found = [
            Path(entry.path)
            for entry in entries
            if entry.name.startswith(BUILD_PREFIX)
            and entry.is_dir(follow_symlinks=False)
            and entry.stat(follow_symlinks=False).st_uid == user
        ]
    for folder in found:
        try:
            descriptor = os.open(folder, os.O_RDONLY | os.O_DIRECTORY | os.O_NOFOLLOW)
        except OSError:  # gone meanwhile
            continue
        try:
            if _take(descriptor):
                shutil.rmtree(folder, ignore_errors=True)
                logger.debug("removed %s, left by a killed process", folder)
        finally:
            os.close(descriptor)


def _take(descriptor: int) -> bool:
    """Lock the file or folder open at ``descriptor`` (exclusive, dropped by the kernel when
    this process dies); False when another process holds it."""
    try:
        fcntl.flock(descriptor, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except BlockingIOError:
        return False
    return True


def _still_named(path: Path, descriptor: int) -> bool:
    """Whether ``path`` still names the file open at ``descriptor``."""
    with contextlib.suppress(FileNotFoundError):
        return os.path.samestat(os.stat(path), os.fstat(descriptor))
    return False

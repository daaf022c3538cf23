"""sdistmaker's temporaries, and the removal of those a killed run left behind.

A run killed midway (a cron timeout, the OOM killer, a reboot) runs no ``finally``: whatever it
was writing under a temporary name stays. So every such name starts with a prefix of its own,
and a later run removes exactly those, and nothing else:

- In OUTDIR, ``PREFIX`` starts the name of a file being written or published and of an
  environment or a git mirror being made; a dot first, so that the web server configurations
  never serve one. Runs make them only in a few folders of their own and only while they hold
  OUTDIR's lock: the next holder knows that all it finds there is dead. (``make_sdist``, which
  holds no lock, publishes through one in the project's folder: runs leave those alone.)
"""

from __future__ import annotations

import logging
import os
import shutil
import tempfile
from pathlib import Path

logger = logging.getLogger(__name__)

PREFIX = ".sdistmaker-tmp-"


def new_file(folder: Path, purpose: str) -> tuple[int, str]:
    """A new empty file in ``folder``, open: its descriptor and path. ``purpose`` (the name of
    what it becomes) is part of its name, for people who come across one."""
    return tempfile.mkstemp(prefix=f"{PREFIX}{purpose}-", dir=folder)


def new_folder(folder: Path, purpose: str) -> Path:
    """A new empty folder in ``folder``, named like ``new_file``'s files."""
    return Path(tempfile.mkdtemp(prefix=f"{PREFIX}{purpose}-", dir=folder))


def remove_leftovers(folder: Path) -> None:
    """Remove every temporary in ``folder``. Only for a process that knows that nobody else
    writes there now: what it finds was left by a process that is gone."""
    try:
        with os.scandir(folder) as entries:
            found = [entry for entry in entries if entry.name.startswith(PREFIX)]
    except FileNotFoundError:
        return
    for entry in found:
        _remove(Path(entry.path), entry.is_dir(follow_symlinks=False))


def _remove(path: Path, is_folder: bool) -> None:
    if is_folder:
        shutil.rmtree(path, ignore_errors=True)
    else:
        path.unlink(missing_ok=True)
    logger.debug("removed %s, left by a killed run", path)

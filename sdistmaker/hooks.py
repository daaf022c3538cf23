"""Commit hooks: once a version-control system (sdistmaker.vcs) has told that a commit touched a
release tag, leave the work to a background run, so that the client never waits for a build."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

from sdistmaker.outdir.store import make_served_folder

HOOK_LOG = "hook.log"


def start_background_run(defaults: Path, private: Path) -> None:
    """Start ``sdists_from_tags`` detached from the hook: own session, no inherited streams
    (a child holding the hook's output open makes the svn client wait), output to a log."""
    make_served_folder(private.parent)  # OUTDIR, when no run has made it yet
    private.mkdir(exist_ok=True)
    environment = dict(os.environ)
    # Hooks run with an empty environment; builds need a home (caches) and a path.
    environment.setdefault("HOME", os.path.expanduser("~"))
    environment.setdefault("PATH", "/usr/local/bin:/usr/bin:/bin")
    command = [sys.executable, "-m", "sdistmaker", "-q", "--wait", "3600"]
    command += ["--defaults-file", str(defaults.resolve())]
    with open(private / HOOK_LOG, "ab") as log:
        subprocess.Popen(
            command,
            stdin=subprocess.DEVNULL,
            stdout=log,
            stderr=log,
            start_new_session=True,
            close_fds=True,
            cwd="/",
            env=environment,
        )

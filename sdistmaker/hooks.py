"""Commit hooks: tell quickly whether a commit or a push touched a release tag and, if so, leave
the work to a background run, so that the svn or git client never waits for a build."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from collections.abc import Iterable
from pathlib import Path

from sdistmaker.errors import VcsError
from sdistmaker.store import make_served_folder

HOOK_LOG = "hook.log"


def svn_commit_touches_tags(repository: str, revision: str) -> bool:
    """Whether the commit added, changed or deleted anything in a ``tags`` folder, or copied a
    folder that may hold some (a project or a whole group moved or branched)."""
    svnlook = shutil.which("svnlook") or "/usr/bin/svnlook"
    result = subprocess.run(
        [svnlook, "changed", "--copy-info", "-r", revision, repository],
        capture_output=True,
        text=True,
        env={**os.environ, "LC_ALL": "C.UTF-8"},
    )
    if result.returncode:
        raise VcsError(f"{repository}: {result.stderr.strip() or 'svnlook failed'}")
    for line in result.stdout.splitlines():
        if line.startswith(" "):  # "    (from path:rREV)" below a copy
            continue
        action, path = line[:4], line[4:]
        segments = path.rstrip("/").split("/")
        if "tags" in segments:
            return True
        if "+" in action and path.endswith("/"):
            return True
    return False


def git_push_touches_tags(lines: Iterable[str]) -> bool:
    """Whether a push, as post-receive reads it (``old new ref`` lines), moved a tag."""
    return any(
        len(fields) == 3 and fields[2].startswith("refs/tags/")
        for fields in (line.split() for line in lines)
    )


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

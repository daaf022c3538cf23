"""Guarantees under stress: killed runs, runs at the same time, secrets in URLs."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path

from conftest import (
    GitRepository,
    SvnRepository,
    hatchling_project,
    hold_lock,
    setup_py_project,
    write_defaults,
)

MakeGit = Callable[[str], GitRepository]
COMMAND = str(Path(sys.executable).parent / "sdists_from_tags")


def test_a_lock_left_by_a_killed_run_does_not_stop_the_next(
    svn_repository: SvnRepository, tmp_path: Path
) -> None:
    svn_repository.add_project("p", setup_py_project("p", "1.0"))
    svn_repository.tag("p", "1.0")
    defaults = write_defaults(tmp_path, BASE=svn_repository.url, OUTDIR="out")
    holder = hold_lock(tmp_path / "out", 60)
    os.kill(holder.pid, signal.SIGKILL)
    holder.wait()
    result = subprocess.run([COMMAND, "-d", str(defaults)], capture_output=True, text=True)
    assert result.returncode == 0, result.stderr
    assert result.stderr.splitlines()[-1] == "built 1, up to date 0, failed 0 (new 0)"


def test_runs_at_the_same_time_build_each_tag_once_and_lose_none(
    svn_repository: SvnRepository, make_git: MakeGit, tmp_path: Path
) -> None:
    for version in ("1.0", "1.1", "1.2"):
        if version == "1.0":
            svn_repository.add_project("p", setup_py_project("p", version))
            svn_repository.tag("p", version)
        else:
            svn_repository.tag("p", version, setup_py_project("p", version))
    repo = make_git("g")
    repo.commit(hatchling_project("g", "2.0"))
    repo.tag("2.0")
    defaults = write_defaults(
        tmp_path, BASE=svn_repository.url, GIT_REPOSITORIES=[repo.url], OUTDIR="out"
    )
    runs = [
        subprocess.Popen(
            [COMMAND, "--wait", "120", "-d", str(defaults)], stderr=subprocess.PIPE, text=True
        )
        for _ in range(3)
    ]
    outputs = [run.communicate()[1] for run in runs]
    assert [run.returncode for run in runs] == [0, 0, 0], outputs
    built = sorted(
        line
        for output in outputs
        for line in output.splitlines()
        if line.startswith("built ") and "->" in line
    )
    assert len(built) == 4  # each tag built by exactly one of the runs
    assert [o.splitlines()[-1] for o in outputs].count(
        "built 4, up to date 0, failed 0 (new 0)"
    ) == 1
    state = json.loads((tmp_path / "out" / ".sdistmaker" / "state.json").read_text())
    assert sorted(r["status"] for r in state["tags"].values()) == ["built"] * 4
    assert sorted(p.name for p in (tmp_path / "out").glob("*/*.tar.gz")) == [
        "g-2.0.tar.gz",
        "p-1.0.tar.gz",
        "p-1.1.tar.gz",
        "p-1.2.tar.gz",
    ]


def test_a_password_in_a_repository_url_shows_nowhere(tmp_path: Path) -> None:
    secret = "s3cret-t0ken"
    defaults = write_defaults(
        tmp_path,
        OUTDIR="out",
        GIT_REPOSITORIES=[f"https://builder:{secret}@127.0.0.1:9/acme/private.git"],
    )
    result = subprocess.run([COMMAND, "-v", "-d", str(defaults)], capture_output=True, text=True)
    assert result.returncode == 1
    assert "https://builder@127.0.0.1:9/acme/private.git" in result.stderr
    assert secret not in result.stdout + result.stderr
    written = [p for p in (tmp_path / "out").rglob("*") if p.is_file()]
    assert written  # state, pages
    assert not [p for p in written if secret.encode() in p.read_bytes()]

"""The svn command as sdistmaker runs it: never interactively, by a deadline, in UTF-8, its
errors one line naming the URL without its password."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from helpers.repositories import SvnRepository
from helpers.system import soon
from sdistmaker.errors import VcsError
from sdistmaker.vcs.svn_command import Info, info, list_folder, svn


def test_a_listing_gives_names_kinds_and_last_changed_revisions(
    svn_repository: SvnRepository,
) -> None:
    svn_repository.mkdir("p/trunk")
    svn_repository.commit_files("p/trunk", {"setup.py": "", "src/p.py": ""})
    svn_repository.mkdir("q")
    listed = list_folder(f"{svn_repository.url}/p/trunk")
    assert [(e.name, e.kind, e.revision) for e in listed] == [
        ("setup.py", "file", "2"),
        ("src", "dir", "2"),
    ]
    top = list_folder(svn_repository.url)
    assert [(e.name, e.kind, e.revision) for e in top] == [("p", "dir", "2"), ("q", "dir", "3")]
    # When each last change was made: revision 3 after revision 2, both moments ago.
    made = [e.changed_at or 0.0 for e in top]
    assert made[0] <= made[1] <= time.time() < made[0] + 60


def test_info_gives_kind_last_change_and_repository_root(svn_repository: SvnRepository) -> None:
    svn_repository.mkdir("p/trunk", "q")
    svn_repository.mkdir("q/later")
    found = info(f"{svn_repository.url}/p/trunk/", soon())
    assert found == Info("dir", "1", svn_repository.url, found.changed_at)
    assert found.changed_at is not None and abs(found.changed_at - time.time()) < 60
    assert info(f"{svn_repository.url}/q", soon()).last_changed == "2"


def test_names_beyond_ascii_are_read_whatever_the_locale(
    svn_repository: SvnRepository, monkeypatch: pytest.MonkeyPatch
) -> None:
    # cron and commit hooks start sdistmaker in the C locale, where svn takes only ASCII.
    svn_repository.mkdir("pröject/trunk")
    monkeypatch.setenv("LC_ALL", "C")
    [project] = list_folder(svn_repository.url)
    assert project.name == "pröject"
    assert [entry.name for entry in list_folder(f"{svn_repository.url}/pröject")] == ["trunk"]


def test_an_error_is_svns_last_line_after_the_url(svn_repository: SvnRepository) -> None:
    # svn says first which path it did not find, then (the last line) that it listed nothing.
    url = f"{svn_repository.url}/nothing"
    with pytest.raises(VcsError) as error:
        list_folder(url)
    assert str(error.value) == (
        f"{url}: svn: E200009: Could not list all targets because some targets don't exist"
    )


def test_an_error_shows_no_password() -> None:
    url = "http://builder:s3cret@127.0.0.1:9/repos"  # nothing listens on the discard port
    with pytest.raises(VcsError) as error:
        list_folder(url)
    assert str(error.value).startswith("http://127.0.0.1:9/repos: svn: E")
    assert "s3cret" not in str(error.value)


@pytest.fixture
def silent_server() -> Iterator[str]:
    """An svn:// address whose server takes connections and never says a word."""
    with socket.create_server(("127.0.0.1", 0)) as server:
        yield f"svn://127.0.0.1:{server.getsockname()[1]}/repos"


def test_svn_is_stopped_at_its_deadline(silent_server: str) -> None:
    started = time.monotonic()
    with pytest.raises(VcsError) as error:
        list_folder(silent_server, timeout=1)
    assert str(error.value) == f"{silent_server}: svn list timed out"
    assert time.monotonic() - started < 30


def test_a_missing_svn_command_is_said_so(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.setenv("PATH", str(tmp_path))
    with pytest.raises(VcsError) as error:
        svn(
            "list",
            "https://svn.example.com/repos",
            url="https://u:pw@svn.example.com/repos",
            deadline=soon(),
        )
    assert str(error.value) == "https://svn.example.com/repos: the svn command is not installed"


SSH_STAND_IN = """#!/bin/sh
# Stands in for ssh: notes how svn started it, then fails as an unreachable host does.
echo "$@" > "$(dirname "$0")/arguments"
exit 255
"""


BATCH = (
    "-o BatchMode=yes -o ConnectTimeout=60 -o ServerAliveInterval=15 -o ServerAliveCountMax=4 "
    "svn.example.invalid svnserve -t"
)


@pytest.mark.parametrize(
    ("svn_ssh", "arguments"),
    [
        ("", f"-q -o ControlMaster=no {BATCH}"),
        ("{bin}/ssh -i /srv/key", f"-i /srv/key {BATCH}"),
    ],
    ids=["svn's own ssh command", "the user's SVN_SSH"],
)
def test_svn_over_ssh_never_lets_ssh_ask(tmp_path: Path, svn_ssh: str, arguments: str) -> None:
    """ssh asks for passwords and host keys on the terminal, past svn's --non-interactive, and
    waits for ever on a server that stopped answering."""
    tools = tmp_path / "bin"
    tools.mkdir()
    (tools / "ssh").write_text(SSH_STAND_IN)
    (tools / "ssh").chmod(0o755)
    environment = {**os.environ, "PATH": f"{tools}{os.pathsep}{os.environ['PATH']}"}
    environment.pop("SVN_SSH", None)
    if svn_ssh:
        environment["SVN_SSH"] = svn_ssh.format(bin=tools)
    url = "svn+ssh://svn.example.invalid/repos/p/tags/1.0"
    command: list[str | Path] = [Path(sys.executable).parent / "make_sdist", url, tmp_path / "out"]
    result = subprocess.run(command, capture_output=True, text=True, env=environment, timeout=60)
    assert result.returncode == 1
    assert result.stderr.startswith(f"{url}: svn: E")
    assert (tools / "arguments").read_text() == arguments + "\n"

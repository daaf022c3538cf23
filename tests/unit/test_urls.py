"""Repository URLs as sdistmaker shows them, hands them to git, and finds them on disk."""

from __future__ import annotations

from pathlib import Path

import pytest

from helpers.repositories import GitRepository, SvnRepository
from helpers.system import run
from sdistmaker import vcs
from sdistmaker.urls import Credentials, local_folder, public_url, redact, without_credentials


@pytest.mark.parametrize(
    ("url", "shown"),
    [
        ("https://builder:s3cret@svn.example.com/repos", "https://svn.example.com/repos"),
        ("https://ghp_T0ken@github.com/acme/p.git", "https://github.com/acme/p.git"),
        # The user information ends at the last "@" before the path, as urlsplit reads it.
        ("https://me:p@ss@git.example.com/p.git", "https://git.example.com/p.git"),
        ("ssh://git:nothing@git.example.com/p.git", "ssh://git@git.example.com/p.git"),
        ("svn+ssh://builder@svn.example.com/repos", "svn+ssh://builder@svn.example.com/repos"),
        (
            "https://gitlab.example.com/p.git?ref=main&private_token=abc&X-Amz-Signature=d",
            "https://gitlab.example.com/p.git?ref=main",
        ),
        ("https://svn.example.com/repos?auth=x", "https://svn.example.com/repos"),
        ("file:///srv/svn/repos", "file:///srv/svn/repos"),
    ],
)
def test_public_url_keeps_what_is_no_secret(url: str, shown: str) -> None:
    assert public_url(url) == shown


def test_redact_shows_every_url_of_a_message_in_its_public_form() -> None:
    message = (
        "fatal: unable to access 'https://builder:s3cret@git.example.com/p.git/': 403 "
        'while "https://mirror.example.com/p.git?private_token=abc" answered'
    )
    assert redact(message) == (
        "fatal: unable to access 'https://git.example.com/p.git/': 403 "
        'while "https://mirror.example.com/p.git" answered'
    )


def test_without_credentials_hands_back_the_url_and_what_it_held() -> None:
    url, credentials = without_credentials("https://build%40acme:p%3Ass@git.example.com:8443/p.git")
    assert url == "https://git.example.com:8443/p.git"
    assert credentials == Credentials("https://git.example.com:8443", "build@acme", "p:ss")
    assert "p:ss" not in repr(credentials)
    # A token as the user name has no password.
    assert without_credentials("https://ghp_T0ken@github.com/acme/p.git")[1] == Credentials(
        "https://github.com", "ghp_T0ken", ""
    )


@pytest.mark.parametrize(
    "url",
    ["https://git.example.com/p.git", "ssh://git@git.example.com/p.git", "/srv/git/p.git"],
)
def test_without_credentials_leaves_alone_what_holds_none(url: str) -> None:
    assert without_credentials(url) == (url, None)


MARKS = tuple(mark for system in vcs.systems() for mark in system.marks)
"""What the registered systems know their repositories' folders by."""


def test_local_folder_finds_the_repository_a_url_names(
    svn_repository: SvnRepository, tmp_path: Path
) -> None:
    # svn's file:// URLs go on inside the repository.
    assert local_folder(f"{svn_repository.url}/libs/p/trunk", MARKS) == svn_repository.root
    work = GitRepository(tmp_path / "my work")
    assert local_folder(str(work.root / "sub"), MARKS) == work.root
    assert local_folder(work.root.as_uri(), MARKS) == work.root  # "my%20work"
    run("git", "clone", "-q", "--bare", work.root, tmp_path / "bare.git")
    assert local_folder(str(tmp_path / "bare.git"), MARKS) == tmp_path / "bare.git"


@pytest.mark.parametrize(
    "url",
    [
        "https://svn.example.com/repos",
        "git@git.example.com:{work}",
        "svn://svn.example.com{work}",
        "{tmp}/nothing/here",
        "{tmp}",
    ],
)
def test_local_folder_is_none_for_a_remote_url_or_no_repository(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, url: str
) -> None:
    # Read as a path, a remote URL would lead from here to this work tree.
    work = GitRepository(tmp_path / "work").root
    monkeypatch.chdir(work)
    assert local_folder(url.format(tmp=tmp_path, work=work), MARKS) is None

"""UPLOAD_TO and the Repository API, against a real pypiserver with authentication."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from helpers.projects import hatchling_project, write_defaults
from helpers.projects import sdist as make_sdist
from helpers.repositories import GitRepository
from helpers.servers import PackageServer, pypiserver
from sdistmaker import Repository
from sdistmaker.cli import sdists_from_tags
from sdistmaker.upload import UploadError

MakeGit = Callable[[str], GitRepository]


@pytest.fixture
def server(tmp_path: Path) -> Iterator[PackageServer]:
    with pypiserver(tmp_path / "pypiserver") as running:
        yield running


@pytest.fixture
def built(make_git: MakeGit, tmp_path: Path) -> Path:
    """A defaults file whose run builds acme-up 1.0, sdist and wheel."""
    repo = make_git("acme-up")
    repo.commit(hatchling_project("acme-up", "1.0"))
    repo.tag("1.0")
    return write_defaults(tmp_path, GIT_REPOSITORIES=[repo.url], OUTDIR="out", WHEELS=True)


def uploads_received(server: PackageServer) -> int:
    return sum(1 for p in server.packages.iterdir())


def test_new_files_are_uploaded_once(
    built: Path,
    server: PackageServer,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    built.write_text(built.read_text() + f"UPLOAD_TO = {server.url!r}\n")
    monkeypatch.setenv("TWINE_USERNAME", server.username)
    monkeypatch.setenv("TWINE_PASSWORD", server.password)
    assert sdists_from_tags(["-d", str(built)]) == 0
    err = capsys.readouterr().err
    assert f"uploaded acme-up/acme_up-1.0.tar.gz to {server.url}" in err
    assert sorted(p.name for p in server.packages.iterdir()) == [
        "acme_up-1.0-py2.py3-none-any.whl",
        "acme_up-1.0.tar.gz",
    ]
    assert server.password not in err
    state = (built.parent / "out" / ".sdistmaker" / "state.json").read_text()
    assert server.password not in state

    before = {p: p.stat().st_mtime_ns for p in server.packages.iterdir()}
    assert sdists_from_tags(["-d", str(built)]) == 0
    assert "uploaded" not in capsys.readouterr().err
    assert {p: p.stat().st_mtime_ns for p in server.packages.iterdir()} == before


def test_a_wrong_password_is_one_line_exit_1_and_retried_next_run(
    built: Path,
    server: PackageServer,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    built.write_text(built.read_text() + f"UPLOAD_TO = [{server.url!r}]\n")
    monkeypatch.setenv("TWINE_USERNAME", server.username)
    monkeypatch.setenv("TWINE_PASSWORD", "wrong-guess")
    assert sdists_from_tags(["-q", "-d", str(built)]) == 1
    lines = capsys.readouterr().err.splitlines()
    assert lines[0] == (
        f"failed uploading acme-up/acme_up-1.0.tar.gz: {server.url}: "
        "acme_up-1.0.tar.gz refused: 403 Forbidden"
    )
    assert len(lines) == 2
    assert "wrong-guess" not in "".join(lines)
    assert list(server.packages.iterdir()) == []

    monkeypatch.setenv("TWINE_PASSWORD", server.password)
    assert sdists_from_tags(["-q", "-d", str(built)]) == 0
    assert len(list(server.packages.iterdir())) == 2


def test_a_server_that_is_down_is_named(tmp_path: Path) -> None:
    sdist = make_sdist(tmp_path, "Metadata-Version: 2.2\nName: p\nVersion: 1.0\n")
    repository = Repository("http://127.0.0.1:9/", username="u", password="pw")
    with pytest.raises(
        UploadError, match=r"^http://127\.0\.0\.1:9/: p-1\.0\.tar\.gz not uploaded: "
    ):
        repository.upload(sdist)


def test_the_library_api_uploads_and_accepts_what_the_server_has(
    built: Path, server: PackageServer
) -> None:
    assert sdists_from_tags(["-q", "-d", str(built)]) == 0
    sdist = built.parent / "out" / "acme-up" / "acme_up-1.0.tar.gz"
    repository = Repository(server.url, username=server.username, password=server.password)
    repository.upload(sdist)
    repository.upload(sdist)  # the server has it already: not an error
    assert [p.name for p in server.packages.iterdir()] == ["acme_up-1.0.tar.gz"]
    assert "s3cret" not in repr(repository)

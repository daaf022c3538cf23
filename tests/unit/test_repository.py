"""Other repositories (sdistmaker/repository.py): UPLOAD_TO and the Repository API, reading and
uploading, against a real pypiserver with authentication and indexes served on 127.0.0.1."""

from __future__ import annotations

import dataclasses
import functools
import hashlib
import http.server
import re
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from helpers.projects import hatchling_project, write_defaults
from helpers.projects import sdist as make_sdist
from helpers.repositories import GitRepository
from helpers.servers import (
    PackageServer,
    basic_credentials,
    http_server,
    make_wheel,
    pypiserver,
    upstream_index,
)
from sdistmaker import Repository
from sdistmaker.cli import sdists_from_tags
from sdistmaker.repository import Distribution, DownloadError, UploadError

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


# Reading a repository: what it offers, and its files, checked.


@pytest.fixture
def upstream(tmp_path: Path) -> Iterator[str]:
    """An index of three releases of acme-http, standing in for PyPI."""
    folder = tmp_path / "wheels"
    folder.mkdir()
    wheels = [make_wheel(folder, "acme-http", version) for version in ("1.0", "2.0", "2.1b1")]
    with upstream_index({"acme-http": wheels}) as index:
        yield index


def test_distributions_are_what_the_requirement_allows_oldest_first(
    upstream: str, tmp_path: Path
) -> None:
    repository = Repository("https://upload.example/", index=upstream + "/")
    found = repository.distributions("acme_http>=2")
    assert [(d.name, d.version, d.filename) for d in found] == [
        ("acme-http", "2.0", "acme_http-2.0-py3-none-any.whl"),
        ("acme-http", "2.1b1", "acme_http-2.1b1-py3-none-any.whl"),
    ]
    assert repository.distributions("nothing-here") == []
    path = repository.download(found[0], tmp_path)
    assert path == tmp_path / "acme_http-2.0-py3-none-any.whl"
    assert hashlib.sha256(path.read_bytes()).hexdigest() == found[0].sha256


def test_a_file_of_another_hash_than_the_index_gives_is_not_kept(
    upstream: str, tmp_path: Path
) -> None:
    repository = Repository("https://upload.example/", index=upstream + "/")
    [offered] = repository.distributions("acme-http==1.0")
    forged = dataclasses.replace(offered, sha256="0" * 64)
    with pytest.raises(DownloadError, match=r": sha256 [0-9a-f]{64}, not 0{64} as the index says"):
        repository.download(forged, tmp_path)
    assert list(tmp_path.iterdir()) == [tmp_path / "wheels"]


def test_the_index_sdistmaker_writes_is_read_as_any_other(built: Path, tmp_path: Path) -> None:
    assert sdists_from_tags(["-q", "-d", str(built)]) == 0
    outdir = built.parent / "out"
    handler = functools.partial(http.server.SimpleHTTPRequestHandler, directory=str(outdir))
    with http_server(handler) as address:
        repository = Repository("https://upload.example/", index=f"http://{address}/")
        found = repository.distributions("acme-up")
        assert sorted(d.filename for d in found) == [
            "acme_up-1.0-py2.py3-none-any.whl",
            "acme_up-1.0.tar.gz",
        ]
        (tmp_path / "down").mkdir()
        path = repository.download(found[0], tmp_path / "down")
    assert path.read_bytes() == (outdir / "acme-up" / path.name).read_bytes()
    # On disk, as pip and uv read an index there: each project's index.html.
    on_disk = Repository(outdir.as_uri(), index=outdir.as_uri())
    assert sorted(d.filename for d in on_disk.distributions("acme_up")) == sorted(
        d.filename for d in found
    )
    assert on_disk.distributions("nothing-here") == []


def test_a_repository_that_wants_a_password_to_be_read(built: Path, tmp_path: Path) -> None:
    """A real pypiserver asking for a password to read its index and files, as a company's
    repository may."""
    with pypiserver(tmp_path / "private", reading_too=True) as server:
        assert sdists_from_tags(["-q", "-d", str(built)]) == 0
        sdist = built.parent / "out" / "acme-up" / "acme_up-1.0.tar.gz"
        uploader = Repository(server.url, username=server.username, password=server.password)
        uploader.upload(sdist)
        with pytest.raises(DownloadError, match=rf"^{re.escape(server.url)}simple/: .*401"):
            Repository(server.url).distributions("acme-up")
        [offered] = uploader.distributions("acme-up")
        (tmp_path / "down").mkdir()
        assert uploader.download(offered, tmp_path / "down").read_bytes() == sdist.read_bytes()
        with pytest.raises(DownloadError) as error:
            Repository(server.url, username="uploader", password="wrong-guess").download(
                offered, tmp_path / "down"
            )
        assert "wrong-guess" not in str(error.value)


def test_credentials_go_to_the_index_host_alone(tmp_path: Path) -> None:
    """A file the index links on another host (PyPI's are on files.pythonhosted.org) is
    fetched without the index's password."""
    body = b"a wheel"
    seen: list[str | None] = []

    class Files(http.server.BaseHTTPRequestHandler):
        def do_GET(self) -> None:
            seen.append(self.headers.get("Authorization"))
            self.send_response(200)
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, format: str, *args: object) -> None:
            pass

    digest = hashlib.sha256(body).hexdigest()
    with http_server(Files) as files, http_server(Files) as index:
        repository = Repository(f"http://{index}/", username="ci", password="s3cret")
        elsewhere = Distribution("p", "1.0", "p-1.0.tar.gz", f"http://{files}/p-1.0.tar.gz", digest)
        repository.download(elsewhere, tmp_path)
        here = dataclasses.replace(elsewhere, url=f"http://{index}/p-1.0.tar.gz")
        (tmp_path / "p-1.0.tar.gz").unlink()
        repository.download(here, tmp_path)
        token = Repository(f"http://{index}/", username="t0ken")  # https://t0ken@host/
        (tmp_path / "p-1.0.tar.gz").unlink()
        token.download(here, tmp_path)
    assert seen[0] is None
    assert seen[1] == basic_credentials("ci", "s3cret")
    assert seen[2] == basic_credentials("t0ken", "")

"""PUBLISH_TO: the index copied to object storage after each run. moto's server (helpers/s3.py)
stands in for S3 and the stores that speak its protocol; a recording proxy in front of it counts
what each run asks of the store, and plays a network gone down."""

from __future__ import annotations

import json
import logging
import os
import shutil
import signal
import subprocess
import sys
from collections.abc import Callable, Iterator
from pathlib import Path
from urllib.parse import unquote

import pytest

from helpers.index_checks import assert_links_resolve
from helpers.projects import hatchling_project, write_defaults
from helpers.repositories import GitRepository
from helpers.s3 import (
    BUCKET,
    SECRET,
    Recording,
    download,
    objects,
    readable_by_anyone,
    s3_store,
)
from helpers.servers import fetch, make_wheel, nginx, nginx_from_readme, upstream_index
from helpers.system import fresh_venv, installed
from sdistmaker.cli import sdists_from_tags

PREFIX = "pypi"


@pytest.fixture
def store() -> Iterator[tuple[str, Recording]]:
    with s3_store() as endpoint_and_recording:
        yield endpoint_and_recording


@pytest.fixture
def world(tmp_path: Path, store: tuple[str, Recording]) -> tuple[Path, GitRepository]:
    """Two projects built from git tags, the defaults publishing to the store; returns the
    defaults file and one project's repository, to tag again."""
    endpoint, _ = store
    repositories = []
    for name in ("acme-lib", "acme-app"):
        repository = GitRepository(tmp_path / "git" / name)
        repository.commit(hatchling_project(name, "1.0"))
        repository.tag("1.0")
        repositories.append(repository)
    defaults = write_defaults(
        tmp_path,
        GIT_REPOSITORIES=[r.url for r in repositories],
        OUTDIR="out",
        WHEELS=True,
        PUBLISH_TO=[{"url": f"s3://{BUCKET}/{PREFIX}", "endpoint": endpoint}],
    )
    return defaults, repositories[0]


def run(defaults: Path, *options: str) -> int:
    return sdists_from_tags([*options, "-d", str(defaults)])


def served(outdir: Path) -> set[str]:
    """What OUTDIR serves, as keys below the prefix: all but sdistmaker's folder and dot files."""
    return {
        f"{PREFIX}/{path.relative_to(outdir).as_posix()}"
        for path in outdir.rglob("*")
        if path.is_file() and not any(p.startswith(".") for p in path.relative_to(outdir).parts)
    }


def test_the_index_is_copied_whole_with_its_types_and_cache_headers(
    world: tuple[Path, GitRepository], store: tuple[str, Recording], tmp_path: Path
) -> None:
    defaults, _ = world
    endpoint, recording = store
    assert run(defaults, "-q") == 0
    held = objects(endpoint)
    assert set(held) == served(tmp_path / "out")
    assert {key: value["type"] for key, value in held.items() if key.count("/") == 1} == {
        "pypi/index.html": "text/html; charset=utf-8",
        "pypi/index.json": "application/vnd.pypi.simple.v1+json",
    }
    for key, headers in held.items():
        content_type, cache = expected_headers(key)
        assert (headers["type"], cache in headers["cache"]) == (content_type, True), key
    assert held[f"{PREFIX}/acme-lib/acme_lib-1.0.tar.gz"]["cache"] == (
        "public, max-age=31536000, immutable"
    )

    # Nothing new: the store is neither listed nor read, and nothing is copied.
    recording.seen.clear()
    assert run(defaults, "-q") == 0
    assert recording.seen == []


def expected_headers(key: str) -> tuple[str, str]:
    """The content type of the object at ``key``, and what its cache header holds."""
    name = key.rsplit("/", 1)[-1]
    for suffix, content_type in (
        (".tar.gz", "application/gzip"),
        (".whl", "application/zip"),
        (".metadata", "text/plain; charset=utf-8"),
    ):
        if name.endswith(suffix):
            return content_type, "immutable"  # a published file never changes
    if name.endswith(".html"):
        return "text/html; charset=utf-8", "max-age=60"
    if name.endswith(".atom"):
        return "application/atom+xml; charset=utf-8", "max-age=60"
    if name == "index.json":
        return "application/vnd.pypi.simple.v1+json", "max-age=60"
    assert name.startswith("pypi") and name.endswith(".json"), key  # PyPI's JSON API
    return "application/json", "max-age=60"


def test_a_new_release_copies_its_project_and_the_root_pages_alone(
    world: tuple[Path, GitRepository], store: tuple[str, Recording]
) -> None:
    defaults, lib = world
    _, recording = store
    assert run(defaults, "-q") == 0
    recording.seen.clear()
    lib.commit(hatchling_project("acme-lib", "1.1"))
    lib.tag("1.1")
    assert run(defaults, "-q") == 0
    copied = [unquote(key).removeprefix(f"/{BUCKET}/{PREFIX}/") for key in recording.puts()]
    # 1.0's document changes when its last_serial (the newest file's second) moves: unless both
    # releases were published within one second.
    copied = [key for key in copied if key != "acme-lib/pypi-1.0.json"]
    assert copied == [
        # Files first, then the project's pages, then the root pages and the pages for people.
        "acme-lib/acme_lib-1.1-py2.py3-none-any.whl",
        "acme-lib/acme_lib-1.1-py2.py3-none-any.whl.metadata",
        "acme-lib/acme_lib-1.1.tar.gz",
        "acme-lib/acme_lib-1.1.tar.gz.metadata",
        "acme-lib/index.html",
        "acme-lib/index.json",
        "acme-lib/pypi-1.1.json",
        "acme-lib/pypi.json",
        "+/acme-lib.atom",
        "+/acme-lib.html",
        "+/index.atom",
        "+/index.html",  # the project's row: its latest release
    ]  # the root pages list the same projects: not copied again
    assert [line for line in recording.seen if not line.startswith("PUT ")] == []


def test_a_publish_cut_short_leaves_no_page_linking_to_what_is_missing(
    world: tuple[Path, GitRepository],
    store: tuple[str, Recording],
    tmp_path: Path,
    caplog: pytest.LogCaptureFixture,
) -> None:
    defaults, _ = world
    endpoint, recording = store
    # 24 objects: cut among the files, then among the projects' pages, then among the
    # pages for people, each run going on from where the last stopped.
    for refuse_after in (3, 6, 9):
        recording.seen.clear()
        recording.refuse_after = refuse_after
        caplog.clear()
        assert run(defaults, "-q") == 1  # one line, naming the store and what it refused
        [line] = [r.getMessage() for r in caplog.records if r.levelno >= logging.ERROR]
        assert line.startswith(f"failed publishing to s3://{BUCKET}/{PREFIX}: cannot publish ")
        held = tmp_path / f"held-{refuse_after}"
        recording.refuse_after = None
        download(endpoint, f"{PREFIX}/", held)
        assert_pages_link_only_to_what_is_held(held)
    recording.refuse_after = None
    assert run(defaults, "-q") == 0  # the next run completes it
    assert set(objects(endpoint)) == served(tmp_path / "out")


def test_a_run_killed_while_publishing_leaves_no_page_linking_to_what_is_missing(
    world: tuple[Path, GitRepository], store: tuple[str, Recording], tmp_path: Path
) -> None:
    """Killed (SIGKILL, as by the OOM killer) right after a copy, at each stage in turn."""
    defaults, _ = world
    endpoint, recording = store
    command = [str(Path(sys.executable).parent / "sdists_from_tags"), "-q", "-d", str(defaults)]
    for cut in (2, 6, 14):
        recording.seen.clear()
        run_ = subprocess.Popen(command, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        recording.after_put = killing(run_, cut)
        assert run_.wait(300) == -signal.SIGKILL
        recording.after_put = None
        held = tmp_path / f"held-{cut}"
        download(endpoint, f"{PREFIX}/", held)
        assert_pages_link_only_to_what_is_held(held)
    assert subprocess.run(command).returncode == 0  # the next run completes it
    assert set(objects(endpoint)) == served(tmp_path / "out")


def killing(process: subprocess.Popen[bytes], cut: int) -> Callable[[int], None]:
    """What kills ``process`` once the store was asked for ``cut`` PUTs."""

    def after_put(count: int) -> None:
        if count == cut:
            os.kill(process.pid, signal.SIGKILL)

    return after_put


def assert_pages_link_only_to_what_is_held(held: Path) -> None:
    """Every page the store holds links to pages and files it holds."""
    if (held / "index.html").exists():
        assert_links_resolve(held, files=True)
    for page in held.glob("*/index.json"):
        for file in json.loads(page.read_text())["files"]:
            assert (page.parent / unquote(file["url"])).is_file(), (page, file["url"])
    for document in held.glob("*/pypi*.json"):
        for file in json.loads(document.read_text())["urls"]:
            assert (document.parent / file["filename"]).is_file(), (document, file)


def test_credentials_show_nowhere(
    world: tuple[Path, GitRepository],
    store: tuple[str, Recording],
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
    caplog: pytest.LogCaptureFixture,
) -> None:
    defaults, _ = world
    _, recording = store
    recording.refuse_after = 2
    assert run(defaults, "-v") == 1
    recording.refuse_after = None
    assert run(defaults, "-v") == 0
    said = capsys.readouterr()
    shown = said.out + said.err + caplog.text
    assert "publishing to s3://" in shown
    assert SECRET not in shown
    for path in (tmp_path / "out").rglob("*"):
        if path.is_file():
            assert SECRET.encode() not in path.read_bytes(), path


@pytest.fixture
def upstream(tmp_path: Path) -> Iterator[str]:
    """The stand-in for PyPI the fallback sends installers to."""
    (tmp_path / "wheels").mkdir()
    offered = {"upstream-only": [make_wheel(tmp_path / "wheels", "upstream-only", "1.0")]}
    with upstream_index(offered) as url:
        yield url


@pytest.fixture
def front(
    world: tuple[Path, GitRepository], store: tuple[str, Recording], upstream: str, tmp_path: Path
) -> Iterator[int]:
    """The index published to the bucket, and nginx in front of it as README.rst shows it;
    yields nginx's port. OUTDIR is gone: what nginx serves comes from the bucket alone."""
    defaults, _ = world
    endpoint, _ = store
    defaults.write_text(defaults.read_text() + "PRIVATE_NAMES = ['acme-*']\n")
    assert run(defaults, "-q") == 0
    rules = tmp_path / "private-names.nginx.conf"
    shutil.copy(tmp_path / "out" / ".sdistmaker" / "private-names.nginx.conf", rules)
    rules.chmod(0o644)
    # OUTDIR goes (to where only a comparison with a disk's nginx reads it).
    shutil.move(tmp_path / "out", tmp_path / "served" / "pypi")
    readable_by_anyone(endpoint)
    values = {
        "/var/cache/nginx/sdistmaker": str(tmp_path / "cache"),
        "https://s3.example.com/acme-pypi/simple": f"{endpoint}/{BUCKET}/{PREFIX}",
        "https://pypi.org/simple": upstream,
        "/etc/nginx/private-names.nginx.conf": str(rules),
    }
    with nginx_from_readme("as a caching proxy in front of it::", values) as port:
        yield port


def test_nginx_in_front_of_the_bucket_answers_as_from_a_disk(front: int, upstream: str) -> None:
    json_type = "application/vnd.pypi.simple.v1+json"
    page = fetch(front, "/simple/acme-lib/")
    assert (page.status, page.header("Content-Type")) == (200, "text/html; charset=utf-8")
    assert b"acme_lib-1.0.tar.gz#sha256=" in page.body
    data = fetch(front, "/simple/acme-lib/", Accept=json_type)
    assert data.header("Content-Type") == json_type
    assert json.loads(data.body)["name"] == "acme-lib"
    assert fetch(front, "/simple/Acme_Lib").header("Location").endswith("/simple/acme-lib/")
    assert fetch(front, "/simple/").status == 200
    assert fetch(front, "/simple/+/").status == 200
    assert fetch(front, "/simple/+/acme-lib.html").status == 200
    assert fetch(front, "/pypi/Acme.Lib/json").status == 301
    assert json.loads(fetch(front, "/pypi/acme-lib/json").body)["info"]["name"] == "acme-lib"
    file = fetch(front, "/simple/acme-lib/acme_lib-1.0.tar.gz")
    assert (file.status, file.header("Content-Type")) == (200, "application/gzip")
    assert "immutable" in file.header("Cache-Control")
    # Not here: upstream, but for a private name; internals and strays: never.
    elsewhere = fetch(front, "/simple/upstream-only/")
    assert (elsewhere.status, elsewhere.header("Location")) == (
        302,
        f"{upstream}/upstream-only/",
    )
    assert elsewhere.header("Cache-Control") == "no-store"
    assert fetch(front, "/simple/acme-missing/").status == 404
    assert fetch(front, "/simple/.sdistmaker/state.json").status == 403
    assert fetch(front, "/simple/acme-lib/notes.txt").status == 404
    assert fetch(front, "/pypi/upstream-only/json").status == 404


BUCKET_URLS = [
    "/simple",
    "/simple/",
    "/simple/?format=application/vnd.pypi.simple.v1%2Bjson",
    "/simple/index.json",
    "/simple/+",
    "/simple/+/",
    "/simple/+/acme-lib.html",
    "/simple/+/acme-lib.atom",
    "/simple/+/index.atom",
    "/simple/+/missing.html",
    "/simple/acme-lib",
    "/simple/Acme_Lib/?format=text/html",
    "/simple/acme-lib/",
    "/simple/acme-lib/?format=application/vnd.pypi.simple.v1%2Bjson",
    "/simple/acme-lib/index.html",
    "/simple/acme-lib/acme_lib-1.0.tar.gz",
    "/simple/acme-lib/acme_lib-1.0-py2.py3-none-any.whl.metadata",
    "/simple/acme-lib/acme_lib-9.0.tar.gz",
    "/simple/acme-lib/notes.txt",
    "/simple/acme-lib/sub/x.tar.gz",
    "/simple/acme-missing/",
    "/simple/upstream-only/",
    "/simple/-bad-/",
    "/simple/.sdistmaker/state.json",
    "/simple/acme-lib/.x.tar.gz",
    "/pypi/acme-lib/json",
    "/pypi/ACME_lib/1.0/json",
    "/pypi/acme-lib/1.0/json",
    "/pypi/acme-lib/9.9/json",
    "/pypi/upstream-only/json",
    "/pypi/-bad-/json",
]


def test_nginx_in_front_of_the_bucket_answers_every_url_as_a_disk_s_does(
    front: int, upstream: str, tmp_path: Path
) -> None:
    """Status, redirect, type and body: the same as nginx serving OUTDIR from its disk."""

    def seen(port: int, path: str) -> tuple[object, ...]:
        answer = fetch(port, path)
        location = answer.header("Location").replace(f"http://127.0.0.1:{port}", "")
        if answer.status != 200:  # (the servers' own error pages differ in their charset)
            return (answer.status, location)
        return (answer.status, location, answer.header("Content-Type"), answer.body)

    with nginx(tmp_path / "served" / "pypi", upstream) as disk:
        differ = [(p, seen(front, p), seen(disk, p)) for p in BUCKET_URLS]
    assert [d for d in differ if d[1] != d[2]] == []


def test_pip_and_uv_install_through_nginx_in_front_of_the_bucket(
    front: int, tmp_path: Path
) -> None:
    index = f"http://127.0.0.1:{front}/simple/"
    python = fresh_venv(tmp_path / "venv")
    pip = [sys.executable, "-m", "pip", "--isolated", "--python", str(python), "install", "-q"]
    pip += ["--no-cache-dir", "--index-url", index]
    subprocess.run([*pip, "acme-lib", "upstream-only"], check=True, capture_output=True)
    assert (installed(python)["acme-lib"], installed(python)["upstream-only"]) == ("1.0", "1.0")
    python = fresh_venv(tmp_path / "uv-venv")
    uv = [str(Path(sys.executable).parent / "uv"), "pip", "install", "--python", str(python)]
    uv += ["--no-cache", "--no-config", "--default-index", index]
    subprocess.run([*uv, "acme-app"], check=True, capture_output=True)
    assert installed(python)["acme-app"] == "1.0"
    failed = subprocess.run([*pip, "acme-missing"], capture_output=True, text=True)
    assert failed.returncode != 0  # a private name is never taken from upstream


def test_while_the_bucket_does_not_answer_nothing_goes_upstream(
    front: int, store: tuple[str, Recording]
) -> None:
    _, recording = store
    recording.refuse_after = 0
    answer = fetch(front, "/simple/upstream-only/")
    assert (answer.status, answer.header("Location")) == (503, "")
    assert answer.header("Cache-Control") == "no-store"

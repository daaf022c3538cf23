"""Who may read it: Apache and nginx started from README.rst's "Who may read it" snippets, with
a password file, in front of a real OUTDIR; a local stand-in for PyPI (on another port, which
installers treat as another host) records the requests the fallback sends it."""

from __future__ import annotations

import base64
import os
import shutil
import subprocess
import sys
from collections.abc import Callable, Iterator
from contextlib import AbstractContextManager
from pathlib import Path

import pytest

from helpers.projects import hatchling_project, write_defaults
from helpers.repositories import GitRepository
from helpers.servers import (
    APACHE_MODULES,
    apache,
    fetch,
    fill_in,
    free_port,
    make_wheel,
    nginx,
    readme_example,
    served_folder,
    upstream_index,
)
from helpers.system import ROOT, installed, require
from sdistmaker.cli import sdists_from_tags

SERVERS: dict[str, Callable[..., AbstractContextManager[int]]] = {"apache": apache, "nginx": nginx}
JSON = "application/vnd.pypi.simple.v1+json"
READER, PASSWORD = "alice", "correct-horse-battery"

# Every kind of URL the configurations answer, with what they answer to a reader (the same as
# without a password file): pages, JSON by Accept and by query, files and their metadata, the
# pages for people, redirects to normalised names, private names, the fallback, internals.
URLS = [
    ("/simple", {}),
    ("/simple/", {}),
    ("/simple/", {"Accept": JSON}),
    ("/simple/?format=application/vnd.pypi.simple.v1%2Bjson", {}),
    ("/simple/index.json", {}),
    ("/simple/acme-lib/", {}),
    ("/simple/acme-lib/", {"Accept": JSON}),
    ("/simple/acme-lib/?format=application/vnd.pypi.simple.v1%2Bjson", {}),
    ("/simple/acme-lib/index.html", {}),
    ("/simple/acme-lib", {}),
    ("/simple/Acme_Lib/", {}),
    ("/simple/acme-lib/acme_lib-1.0.tar.gz", {}),
    ("/simple/acme-lib/acme_lib-1.0-py3-none-any.whl", {}),
    ("/simple/acme-lib/acme_lib-1.0-py3-none-any.whl.metadata", {}),
    ("/simple/acme-lib/acme_lib-9.0.tar.gz", {}),
    ("/simple/+", {}),
    ("/simple/+/", {}),
    ("/simple/+/acme-lib.html", {}),
    ("/simple/acme-private/", {}),
    ("/simple/Acme.Private", {}),
    ("/simple/upstream-only/", {}),
    ("/simple/Upstream_Only", {}),
    ("/simple/-bad-/", {}),
    ("/simple/.sdistmaker/state.json", {}),
    ("/simple/acme-lib/.x.tar.gz", {}),
    ("/simple/acme-lib/deeper/file", {}),
]


@pytest.fixture(scope="module")
def outdir(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Path]:
    work = tmp_path_factory.mktemp("repositories")
    lib = GitRepository(work / "acme-lib")
    lib.commit(hatchling_project("acme-lib", "1.0"))
    lib.tag("1.0")
    served = served_folder()
    defaults = write_defaults(
        work,
        GIT_REPOSITORIES=[lib.url],
        OUTDIR=str(served / "pypi"),
        WHEELS=True,
        PRIVATE_NAMES=["acme-*"],
    )
    assert sdists_from_tags(["-q", "-d", str(defaults)]) == 0
    yield served / "pypi"
    shutil.rmtree(served)


@pytest.fixture(scope="module")
def readers(outdir: Path) -> Path:
    """The password file, as ``htpasswd -B`` writes it, where the servers' user reads it."""
    require("htpasswd")
    path = outdir.parent / "pypi.htpasswd"
    subprocess.run(["htpasswd", "-cbB", path, READER, PASSWORD], check=True, capture_output=True)
    path.chmod(0o644)
    return path


@pytest.fixture(scope="module")
def upstream_seen() -> list[dict[str, str]]:
    return []


@pytest.fixture(scope="module")
def upstream(
    tmp_path_factory: pytest.TempPathFactory, upstream_seen: list[dict[str, str]]
) -> Iterator[str]:
    wheels = tmp_path_factory.mktemp("upstream-wheels")
    # zc.buildout's recipe, as PyPI has it: buildout fetches it through the fallback.
    recipe = tmp_path_factory.mktemp("recipe")
    download = [sys.executable, "-m", "pip", "download", "-q", "--no-deps", "-d", str(recipe)]
    subprocess.run([*download, "--only-binary", ":all:", "zc.recipe.egg"], check=True)
    offered = {
        "upstream-only": [make_wheel(wheels, "upstream-only", "1.0")],
        "zc-recipe-egg": list(recipe.glob("*.whl")),
    }
    with upstream_index(offered, seen=upstream_seen) as url:
        yield url


@pytest.fixture(scope="module", params=sorted(SERVERS))
def servers(
    request: pytest.FixtureRequest, outdir: Path, upstream: str, readers: Path
) -> Iterator[tuple[int, int]]:
    """The server for readers only, and the same server open to all."""
    start = SERVERS[request.param]
    with start(outdir, upstream, readers=readers) as closed, start(outdir, upstream) as open_:
        yield closed, open_


def basic(user: str, password: str) -> dict[str, str]:
    token = base64.b64encode(f"{user}:{password}".encode()).decode()
    return {"Authorization": f"Basic {token}"}


def seen(port: int, path: str, headers: dict[str, str]) -> tuple[object, ...]:
    answer = fetch(port, path, **headers)
    location = answer.header("Location").replace(f"http://127.0.0.1:{port}", "")
    return (answer.status, location, answer.header("Content-Type"), answer.body)


@pytest.mark.parametrize(("path", "headers"), URLS, ids=[f"{p} {h}" for p, h in URLS])
def test_every_url_wants_a_reader_and_answers_a_reader_as_an_open_index_does(
    servers: tuple[int, int], path: str, headers: dict[str, str]
) -> None:
    closed, open_ = servers
    for stranger in ({}, basic(READER, "wrong"), basic("mallory", PASSWORD)):
        answer = fetch(closed, path, **headers, **stranger)
        assert answer.status == 401, (stranger, answer.status, answer.header("Location"))
        assert answer.header("WWW-Authenticate").startswith("Basic realm=")
        assert answer.header("Location") == ""
    reader = {**headers, **basic(READER, PASSWORD)}
    assert seen(closed, path, reader)[:3] == seen(open_, path, headers)[:3]
    assert seen(closed, path, reader)[0] != 401


def test_pip_installs_with_the_credentials_in_the_index_url_and_upstream_gets_none(
    servers: tuple[int, int], tmp_path: Path, upstream_seen: list[dict[str, str]]
) -> None:
    closed, _ = servers
    python = fresh_venv(tmp_path / "venv")
    index = f"http://{READER}:{PASSWORD}@127.0.0.1:{closed}/simple/"
    del upstream_seen[:]
    command = [sys.executable, "-m", "pip", "--isolated", "--python", str(python), "install"]
    command += ["--no-cache-dir"]
    result = subprocess.run(
        [*command, "--index-url", index, "acme-lib", "upstream-only"],
        capture_output=True,
        text=True,
    )
    assert result.returncode == 0, result.stderr
    assert (installed(python)["acme-lib"], installed(python)["upstream-only"]) == ("1.0", "1.0")
    assert upstream_seen, "the fallback was not taken"
    assert [h for h in upstream_seen if "Authorization" in h] == []
    assert PASSWORD not in result.stdout + result.stderr


def test_uv_installs_with_credentials_from_netrc_and_upstream_gets_none(
    servers: tuple[int, int], tmp_path: Path, upstream_seen: list[dict[str, str]]
) -> None:
    closed, _ = servers
    python = fresh_venv(tmp_path / "venv")
    netrc = tmp_path / "netrc"
    netrc.write_text(f"machine 127.0.0.1 login {READER} password {PASSWORD}\n")
    uv = shutil.which("uv") or str(Path(sys.executable).parent / "uv")
    del upstream_seen[:]
    command = [uv, "pip", "install", "--python", str(python), "--no-cache"]
    result = subprocess.run(
        [
            *command,
            "--index-url",
            f"http://127.0.0.1:{closed}/simple/",
            "acme-lib",
            "upstream-only",
        ],
        capture_output=True,
        text=True,
        env={**os.environ, "NETRC": str(netrc), "UV_NO_PROGRESS": "1"},
    )
    assert result.returncode == 0, result.stderr
    assert (installed(python)["acme-lib"], installed(python)["upstream-only"]) == ("1.0", "1.0")
    assert upstream_seen, "the fallback was not taken"
    assert [h for h in upstream_seen if "Authorization" in h] == []


def test_an_installer_without_credentials_is_refused(
    servers: tuple[int, int], tmp_path: Path
) -> None:
    closed, _ = servers
    python = fresh_venv(tmp_path / "venv")
    command = [sys.executable, "-m", "pip", "--isolated", "--python", str(python), "install"]
    command += ["--no-cache-dir"]
    result = subprocess.run(
        [*command, "--no-input", "--index-url", f"http://127.0.0.1:{closed}/simple/", "acme-lib"],
        capture_output=True,
        text=True,
    )
    # The index's 401 is, to pip, an index with no such project (said with -v).
    assert result.returncode != 0
    assert "No matching distribution found for acme-lib" in result.stderr


def fresh_venv(folder: Path) -> Path:
    subprocess.run([sys.executable, "-m", "venv", "--without-pip", folder], check=True)
    return folder / "bin" / "python"


@pytest.fixture(scope="module")
def buildout(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A venv with zc.buildout, from PyPI like any user's."""
    venv = tmp_path_factory.mktemp("buildout") / "venv"
    subprocess.run([sys.executable, "-m", "venv", venv], check=True)
    subprocess.run([venv / "bin/python", "-m", "pip", "install", "-q", "zc.buildout"], check=True)
    return venv / "bin" / "buildout"


def test_buildout_installs_with_the_credentials_in_its_index_url_and_sends_them_upstream(
    servers: tuple[int, int],
    buildout: Path,
    tmp_path: Path,
    upstream_seen: list[dict[str, str]],
) -> None:
    closed, _ = servers
    (tmp_path / "buildout.cfg").write_text(
        "[buildout]\n"
        "parts = lib\n"
        f"index = http://{READER}:{PASSWORD}@127.0.0.1:{closed}/simple/\n"
        "newest = false\n"
        "[lib]\n"
        "recipe = zc.recipe.egg\n"
        "eggs = acme-lib\n"
    )
    del upstream_seen[:]
    result = subprocess.run(
        [buildout, "-c", tmp_path / "buildout.cfg"], cwd=tmp_path, capture_output=True, text=True
    )
    assert result.returncode == 0, result.stdout + result.stderr
    eggs = sorted(p.name.split("-py")[0] for p in (tmp_path / "eggs").rglob("*.egg"))
    assert eggs[0] == "acme_lib-1.0"
    assert [egg.split("-")[0] for egg in eggs[1:]] == ["zc.recipe.egg"]
    # setuptools' package index, which buildout reads indexes with, keeps the header on a
    # redirect (Python's urllib does): README.rst says so, and what to do.
    assert [h for h in upstream_seen if "Authorization" in h]


def test_apache_takes_the_ldap_example(outdir: Path, tmp_path: Path) -> None:
    """The company variant as README.rst shows it, checked by Apache itself (``-t``): no
    directory answers here to try it against."""
    require("apache2")
    modules = ["mpm_event", "authz_core", "alias", "dir", "mime", "rewrite", "headers", "lua"]
    modules += ["auth_basic", "authn_core", "authz_user", "ldap", "authnz_ldap"]
    loads = "".join(f"LoadModule {m}_module {APACHE_MODULES}/mod_{m}.so\n" for m in modules)
    (tmp_path / "ldap-password").write_text("bind-secret\n")
    example = fill_in(
        readme_example("authnz_ldap``)::"),
        {
            "/path/to/sdistmaker": str(ROOT),
            "/etc/apache2/ldap-password": str(tmp_path / "ldap-password"),
        },
    )
    (tmp_path / "httpd.conf").write_text(
        f"ServerRoot {tmp_path}\nListen 127.0.0.1:{free_port()}\n{loads}ServerName 127.0.0.1\n"
        f"PidFile {tmp_path}/httpd.pid\nDefaultRuntimeDir {tmp_path}\n"
        f"ErrorLog {tmp_path}/error.log\nDefine SDISTMAKER_ROOT {outdir}\n{example}"
    )
    checked = subprocess.run(
        ["apache2", "-t", "-f", str(tmp_path / "httpd.conf")], capture_output=True, text=True
    )
    assert checked.returncode == 0, checked.stderr

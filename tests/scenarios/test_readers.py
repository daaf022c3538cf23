"""Who may read it: Apache and nginx started from README.rst's "Who may read it" snippets, with
a password file, in front of a real OUTDIR; a local stand-in for PyPI (on another port, which
installers treat as another host) records the requests the fallback sends it."""

from __future__ import annotations

import base64
import os
import shutil
import subprocess
import sys
import urllib.parse
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
from helpers.system import ROOT, fresh_venv, installed, require
from helpers.tls import company_authority
from sdistmaker.cli import sdists_from_tags

SERVERS: dict[str, Callable[..., AbstractContextManager[int]]] = {"apache": apache, "nginx": nginx}
JSON = "application/vnd.pypi.simple.v1+json"
READER, PASSWORD = "alice", "correct-horse-battery"
"""A reader of the whole index but what ACCESS keeps for others."""

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
    ("/simple/acme-lib/acme_lib-1.0-py2.py3-none-any.whl", {}),
    ("/simple/acme-lib/acme_lib-1.0-py2.py3-none-any.whl.metadata", {}),
    ("/simple/acme-lib/acme_lib-9.0.tar.gz", {}),
    ("/simple/+", {}),
    ("/simple/+/", {}),
    ("/simple/+/acme-lib.html", {}),
    ("/simple/+/acme-lib.atom", {}),
    ("/simple/+/index.atom", {}),
    ("/simple/acme-private/", {}),
    ("/simple/Acme.Private", {}),
    ("/simple/upstream-only/", {}),
    ("/simple/Upstream_Only", {}),
    ("/simple/-bad-/", {}),
    ("/simple/.sdistmaker/state.json", {}),
    ("/simple/acme-lib/.x.tar.gz", {}),
    ("/simple/acme-lib/deeper/file", {}),
    ("/pypi/acme-lib/json", {}),
    ("/pypi/Acme_Lib/json", {}),
    ("/pypi/acme-lib/1.0/json", {}),
    ("/pypi/upstream-only/json", {}),
    ("/pypi/-bad-/json", {}),
]


# Team B's project, for team-b (a group: bob) and carol (a user) alone.
ACCESS = {"team-b": ["acme-b-*"], "carol": ["acme-b-*"]}
USERS = {"alice": "team-a", "bob": "team-b", "carol": ""}


@pytest.fixture(scope="module")
def outdir(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Path]:
    work = tmp_path_factory.mktemp("repositories")
    urls = []
    for name in ("acme-lib", "acme-b-tools"):
        repository = GitRepository(work / name)
        repository.commit(hatchling_project(name, "1.0"))
        repository.tag("1.0")
        urls.append(repository.url)
    served = served_folder()
    defaults = write_defaults(
        work,
        GIT_REPOSITORIES=urls,
        OUTDIR=str(served / "pypi"),
        WHEELS=True,
        PRIVATE_NAMES=["acme-*"],
        ACCESS=ACCESS,
    )
    assert sdists_from_tags(["-q", "-d", str(defaults)]) == 0
    yield served / "pypi"
    shutil.rmtree(served)


@pytest.fixture(scope="module")
def readers(outdir: Path) -> Path:
    """The password file, as ``htpasswd -B`` writes it, and the group file beside it, where
    the servers' user reads them."""
    require("htpasswd")
    path = outdir.parent / "pypi.htpasswd"
    for number, user in enumerate(USERS):
        create = ["-c"] if number == 0 else []
        subprocess.run(["htpasswd", *create, "-bB", path, user, PASSWORD], check=True)
    path.chmod(0o644)
    groups = "".join(f"{group}: {user}\n" for user, group in USERS.items() if group)
    (outdir.parent / "pypi.groups").write_text(groups)
    (outdir.parent / "pypi.groups").chmod(0o644)
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
    with upstream_index(offered, seen=upstream_seen, absolute_links=True) as url:
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


def fetched_upstream(upstream: str, answer: tuple[object, ...]) -> tuple[object, ...]:
    """What a reader gets for ``answer``: a redirect upstream is upstream's page, fetched for
    it (a redirect would let a client send the credentials along); any other, itself."""
    status, location = answer[:2]
    if status != 302 or not str(location).startswith(upstream):
        return answer
    address = urllib.parse.urlsplit(str(location))
    return seen(address.port or 80, address.path, {})


@pytest.mark.parametrize(("path", "headers"), URLS, ids=[f"{p} {h}" for p, h in URLS])
def test_every_url_wants_a_reader_and_answers_a_reader_as_an_open_index_does(
    servers: tuple[int, int], upstream: str, path: str, headers: dict[str, str]
) -> None:
    closed, open_ = servers
    for stranger in ({}, basic(READER, "wrong"), basic("mallory", PASSWORD)):
        answer = fetch(closed, path, **headers, **stranger)
        assert answer.status == 401, (stranger, answer.status, answer.header("Location"))
        assert answer.header("WWW-Authenticate").startswith("Basic realm=")
        assert answer.header("Location") == ""
    reader = seen(closed, path, {**headers, **basic(READER, PASSWORD)})
    expected = fetched_upstream(upstream, seen(open_, path, headers))
    assert reader[:3] == expected[:3]
    assert reader[0] != 401
    if expected[0] == 200 and path.startswith("/simple/upstream"):
        assert reader[3] == expected[3]


def test_a_request_with_credentials_is_never_sent_upstream(
    servers: tuple[int, int], upstream_seen: list[dict[str, str]]
) -> None:
    """Not even by an open index: upstream's page is fetched for it, without them."""
    for port in servers:
        del upstream_seen[:]
        answer = fetch(port, "/simple/upstream-only/", **basic(READER, PASSWORD), Cookie="x=1")
        assert (answer.status, answer.header("Cache-Control")) == (200, "no-store")
        assert b"upstream_only-1.0-py3-none-any.whl" in answer.body
        assert [sorted(h) for h in upstream_seen if "Authorization" in h or "Cookie" in h] == []
        assert upstream_seen


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


@pytest.mark.parametrize("way", ["netrc", "named index"])
def test_uv_installs_with_credentials_and_upstream_gets_none(
    servers: tuple[int, int], tmp_path: Path, upstream_seen: list[dict[str, str]], way: str
) -> None:
    closed, _ = servers
    python = fresh_venv(tmp_path / "venv")
    index = f"http://127.0.0.1:{closed}/simple/"
    environment = {**os.environ, "UV_NO_PROGRESS": "1"}
    if way == "netrc":
        netrc = tmp_path / "netrc"
        netrc.write_text(f"machine 127.0.0.1 login {READER} password {PASSWORD}\n")
        environment["NETRC"] = str(netrc)
    else:  # an index named in the configuration, its credentials in variables of its name
        index = f"company={index}"
        environment.update(UV_INDEX_COMPANY_USERNAME=READER, UV_INDEX_COMPANY_PASSWORD=PASSWORD)
    uv = shutil.which("uv") or str(Path(sys.executable).parent / "uv")
    del upstream_seen[:]
    command = [uv, "pip", "install", "--python", str(python), "--no-cache", "--no-config"]
    result = subprocess.run(
        [*command, "--default-index", index, "acme-lib", "upstream-only"],
        capture_output=True,
        text=True,
        env=environment,
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


def test_buildout_installs_with_the_credentials_in_its_index_url_and_upstream_gets_none(
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
    # setuptools' package index, which buildout reads indexes with, would send the credentials
    # along on a redirect (Python's urllib keeps every header): the fallback is none for it.
    assert upstream_seen, "the fallback was not taken"
    assert [h for h in upstream_seen if "Authorization" in h] == []


@pytest.mark.parametrize("server", sorted(SERVERS))
def test_upstream_pages_fetched_for_readers_come_from_an_upstream_the_system_trusts(
    server: str, outdir: Path, readers: Path, tmp_path: Path
) -> None:
    """The server checks upstream's certificate, as an installer following a redirect would:
    one signed by an authority of the system's store is taken (a company's, made here, in the
    server's view of that store alone), any other refused."""
    authority = company_authority(tmp_path / "authority")
    (tmp_path / "wheels").mkdir()
    offered = {"upstream-only": [make_wheel(tmp_path / "wheels", "upstream-only", "1.0")]}
    start = SERVERS[server]
    reader = basic(READER, PASSWORD)
    with upstream_index(offered, tls=authority.server_context(), absolute_links=True) as url:
        with start(outdir, url, readers=readers) as port:
            untrusted = fetch(port, "/simple/upstream-only/", **reader)
        with start(
            outdir, url, readers=readers, under=authority.trusted_by_the_system(tmp_path)
        ) as port:
            trusted = fetch(port, "/simple/upstream-only/", **reader)
    # Apache says 500 (its handshake failed), nginx 502: never upstream's page.
    assert untrusted.status in (500, 502)
    assert b"upstream_only" not in untrusted.body
    assert trusted.status == 200
    assert f'href="{url}/upstream-only/upstream_only-1.0-py3-none-any.whl'.encode() in trusted.body


@pytest.mark.parametrize("proxy", [["proxy", "proxy_http", "ssl"], []], ids=["proxy", "none"])
def test_apache_takes_the_ldap_example(outdir: Path, tmp_path: Path, proxy: list[str]) -> None:
    """The company variant as README.rst shows it, checked by Apache itself (``-t``): no
    directory answers here to try it against. Without mod_proxy_http, which readers' fallback
    needs, Apache does not start, and says why."""
    require("apache2")
    modules = ["mpm_event", "authz_core", "alias", "dir", "mime", "rewrite", "headers", "lua"]
    modules += ["auth_basic", "authn_core", "authz_user", "ldap", "authnz_ldap", *proxy]
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
    if proxy:
        assert checked.returncode == 0, checked.stderr
    else:
        assert checked.returncode != 0
        assert "the fallback needs mod_proxy_http (a2enmod proxy_http ssl)" in checked.stderr


# Every URL of a project, to compare with the same URL of a private project that is not here.
PROJECT_URLS = [
    ("/simple/{}/", {}),
    ("/simple/{}/", {"Accept": JSON}),
    ("/simple/{}/?format=application/vnd.pypi.simple.v1%2Bjson", {}),
    ("/simple/{}/index.html", {}),
    ("/simple/{}/index.json", {}),
    ("/simple/{}", {}),
    ("/simple/{}/{}-1.0.tar.gz", {}),
    ("/simple/{}/{}-1.0-py2.py3-none-any.whl", {}),
    ("/simple/{}/{}-1.0-py2.py3-none-any.whl.metadata", {}),
    ("/simple/+/{}.html", {}),
    ("/simple/+/{}.atom", {}),
    ("/pypi/{}/json", {}),
    ("/pypi/{}/1.0/json", {}),
]


def project_url(shape: str, name: str) -> str:
    return shape.format(name, name.replace("-", "_"))


def answer(port: int, path: str, headers: dict[str, str]) -> tuple[object, ...]:
    """All a client sees of an answer, the project's name taken out."""
    got = fetch(port, path, **headers)
    kept = ("Content-Type", "Cache-Control", "Vary", "Location", "Content-Length")
    shown = {name: got.header(name).replace(f":{port}", "") for name in kept}
    return (got.status, shown, got.body)


@pytest.mark.parametrize(
    ("shape", "headers"), PROJECT_URLS, ids=[f"{s} {h}" for s, h in PROJECT_URLS]
)
def test_a_project_access_keeps_from_a_reader_is_to_it_a_private_project_not_here(
    servers: tuple[int, int], shape: str, headers: dict[str, str]
) -> None:
    closed, _ = servers
    alice = {**headers, **basic("alice", PASSWORD)}
    kept = answer(closed, project_url(shape, "acme-b-tools"), alice)
    absent = answer(closed, project_url(shape, "acme-b-toolx"), alice)
    assert kept[0] in (301, 404)
    names = ("acme-b-tools", "acme_b_tools")
    assert repr(kept) == repr(absent).replace("acme-b-toolx", names[0]).replace(
        "acme_b_toolx", names[1]
    )
    # A member of team-b, and a user ACCESS names, read it (a redirect to the normalised URL is
    # the same for all).
    for reader in ("bob", "carol"):
        path = project_url(shape, "acme-b-tools")
        status = answer(closed, path, headers | basic(reader, PASSWORD))[0]
        assert status == (301 if kept[0] == 301 else 200), (reader, status)


def test_the_root_pages_list_only_what_every_reader_may_read(servers: tuple[int, int]) -> None:
    closed, _ = servers
    for reader in USERS:
        shared = ["/simple/", "/simple/+/", "/simple/+/index.atom"]
        for path, headers in [*[(p, {}) for p in shared], ("/simple/", {"Accept": JSON})]:
            page = fetch(closed, path, **headers, **basic(reader, PASSWORD))
            assert page.status == 200
            assert b"acme-lib" in page.body
            assert b"acme-b-tools" not in page.body, (reader, path)


@pytest.mark.parametrize(("reader", "allowed"), [("bob", True), ("alice", False)])
def test_pip_installs_a_project_access_keeps_for_its_readers_alone(
    servers: tuple[int, int], tmp_path: Path, reader: str, allowed: bool
) -> None:
    closed, _ = servers
    python = fresh_venv(tmp_path / "venv")
    index = f"http://{reader}:{PASSWORD}@127.0.0.1:{closed}/simple/"
    command = [sys.executable, "-m", "pip", "--isolated", "--python", str(python), "install"]
    result = subprocess.run(
        [*command, "--no-cache-dir", "--index-url", index, "acme-b-tools"],
        capture_output=True,
        text=True,
    )
    assert (result.returncode == 0) is allowed, result.stderr
    assert ("acme-b-tools" in installed(python)) is allowed


def test_without_authentication_what_access_keeps_is_hidden_from_everyone(
    servers: tuple[int, int],
) -> None:
    """A server open to all cannot tell who asks: a user name sent along is only the client's
    word, and gets nothing ACCESS keeps."""
    _, open_ = servers
    for headers in ({}, basic("bob", "any"), basic("carol", PASSWORD)):
        for shape in ("/simple/{}/", "/simple/{}/{}-1.0.tar.gz", "/simple/+/{}.html"):
            status = fetch(open_, project_url(shape, "acme-b-tools"), **headers).status
            assert status == 404, (headers, shape, status)
    assert fetch(open_, "/simple/acme-lib/").status == 200

"""Repositories that cannot be read (unreachable, no repository, asking for a password, on a
server that never answers, over a transport that reads none, a file given as BASE) and what a tag
brings in from elsewhere (svn externals, git submodules). A repository that cannot be read is
one line naming it, status 1, reported once; what the others release is built."""

from __future__ import annotations

import http.server
import re
import subprocess
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest

from helpers.catalogue import (
    QUICK,
    SECRET,
    Arranged,
    Case,
    Catalogue,
    Expect,
    World,
    distributions,
    run_and_check,
)
from helpers.projects import setup_py_project
from helpers.repositories import GitRepository, SvnRepository
from helpers.servers import free_port, http_server, wait_for
from helpers.system import require, running

bad_input = Catalogue()


# Authentication: svnserve and an HTTP server that ask for a password.


@pytest.fixture
def svnserve(tmp_path: Path) -> Iterator[str]:
    """svnserve on 127.0.0.1 that lets no one in without a password; yields the repository URL."""
    require("svnserve")
    served = tmp_path / "served"
    served.mkdir()
    repository = SvnRepository(served / "repo")
    repository.add_project("p", setup_py_project("p", "1.0"))
    repository.tag("p", "1.0")
    # A realm of its own: credentials svn may have cached for another test never match.
    (repository.root / "conf" / "svnserve.conf").write_text(
        "[general]\nanon-access = none\nauth-access = write\npassword-db = passwd\n"
        f"realm = sdistmaker-{uuid.uuid4()}\n"
    )
    (repository.root / "conf" / "passwd").write_text(f"[users]\nbuilder = {SECRET}\n")
    port = free_port()
    command = ["svnserve", "-d", "--foreground", "-r", str(served)]
    command += ["--listen-host", "127.0.0.1", "--listen-port", str(port)]
    server = subprocess.Popen(command, stdin=subprocess.DEVNULL, start_new_session=True)
    try:
        wait_for(port, server)
        yield f"svn://127.0.0.1:{port}/repo"
    finally:
        server.terminate()
        server.wait(10)


class _AsksForPassword(http.server.BaseHTTPRequestHandler):
    """Answers every request as a git host does a private repository to a stranger."""

    def do_GET(self) -> None:
        self.send_response(401)
        self.send_header("WWW-Authenticate", 'Basic realm="x"')
        self.send_header("Content-Length", "0")
        self.end_headers()

    do_POST = do_GET

    def log_message(self, format: str, *args: object) -> None:
        pass


@pytest.fixture
def password_server() -> Iterator[str]:
    """An HTTP server on 127.0.0.1 answering 401 to everything; yields its host:port."""
    with http_server(_AsksForPassword) as address:
        yield address


@bad_input
def base_unreachable(world: World) -> Arranged:
    world.publish()
    world.git.commit(setup_py_project("beta", "1.1"))
    world.git.tag("1.1")
    base = f"svn://127.0.0.1:{free_port()}/repository"
    yield Expect(
        1, [rf"failed reading: {re.escape(base)}: svn: E\d+: .*"], world.defaults(BASE=base)
    )
    assert "beta/beta-1.1.tar.gz" in distributions(world.outdir)
    # Reported once: while it stays so, cron gets nothing to mail.
    assert world.run(world.defaults(BASE=base)).code == 0


@bad_input
def base_not_a_repository(world: World) -> Arranged:
    world.publish()
    plain = world.root / "plain-folder"
    plain.mkdir()
    base = plain.as_uri()
    defaults = world.defaults(BASE=base)
    yield Expect(1, [rf"failed reading: {re.escape(base)}: svn: E\d+: .*"], defaults)
    # Counted once, as the repository's: a file:// URL is no published file's problem.
    again = world.run(defaults, quiet=False)
    assert (again.code, again.lines[-1]) == (0, "built 0, up to date 1, failed 1 (new 0)")


@bad_input
def base_on_server_dead(world: World) -> Arranged:
    """BASE_ON_SERVER is the same repository, read faster on the server; when it does not
    answer, BASE is read instead, without a word on a quiet run."""
    world.publish()
    world.svn.tag("libs/alpha", "1.1", setup_py_project("alpha", "1.1"))
    dead = f"svn://127.0.0.1:{free_port()}/repository"
    yield Expect(0, [], world.defaults(BASE_ON_SERVER=dead))
    assert "alpha/alpha-1.1.tar.gz" in distributions(world.outdir)


@bad_input
def git_repository_that_does_not_exist(world: World) -> Arranged:
    world.publish()
    missing = str(world.root / "git" / "missing.git")
    defaults = world.defaults(GIT_REPOSITORIES=[world.git.url, missing])
    yield Expect(1, [rf"failed reading: {re.escape(missing)}: fatal: .*"], defaults)


@bad_input
def svn_base_asking_for_a_password(world: World) -> Arranged:
    url = world.request.getfixturevalue("svnserve")
    world.publish()
    result = yield Expect(
        1, [rf"failed reading: {re.escape(url)}: svn: E\d+: .*"], world.defaults(BASE=url)
    )
    assert result.seconds < QUICK


@bad_input
def git_repository_asking_for_a_password(world: World) -> Arranged:
    url = f"http://{world.request.getfixturevalue('password_server')}/acme/private.git"
    world.publish()
    defaults = world.defaults(GIT_REPOSITORIES=[world.git.url, url])
    # Says why, not only where: git's own last line.
    line = rf"failed reading: {re.escape(url)}: fatal: Authentication failed .*"
    result = yield Expect(1, [line], defaults)
    assert result.seconds < QUICK


@bad_input
def git_repository_refusing_the_password_in_its_url(world: World) -> Arranged:
    address = world.request.getfixturevalue("password_server")
    world.publish()
    url = f"http://builder:{SECRET}@{address}/acme/private.git"
    public = f"http://{address}/acme/private.git"
    defaults = world.defaults(GIT_REPOSITORIES=[world.git.url, url])
    yield Expect(
        1, [rf"failed reading: {re.escape(public)}: fatal: Authentication failed .*"], defaults
    )
    state = (world.outdir / ".sdistmaker" / "state.json").read_text()
    assert public in state
    written = [p for p in world.outdir.rglob("*") if p.is_file()]
    assert not [p for p in written if SECRET.encode() in p.read_bytes()]


@bad_input
def base_on_a_server_that_never_answers(world: World) -> Arranged:
    port = world.request.getfixturevalue("hanging_port")
    world.publish()
    world.git.commit(setup_py_project("beta", "1.1"))
    world.git.tag("1.1")
    base = f"svn://127.0.0.1:{port}/repository"
    defaults = world.defaults(BASE=base, REPOSITORY_TIMEOUT=2)
    result = yield Expect(1, [rf"failed reading: {re.escape(base)}: svn info timed out"], defaults)
    assert "beta/beta-1.1.tar.gz" in distributions(world.outdir)
    assert result.seconds < QUICK
    assert not running(f"127.0.0.1:{port}"), "svn still runs"


@bad_input
def git_repository_on_a_server_that_never_answers(world: World) -> Arranged:
    """Over http, as over svn://: git waits for ever for an answer that never comes."""
    address = world.request.getfixturevalue("hanging_port")
    world.publish()
    world.svn.tag("libs/alpha", "1.1", setup_py_project("alpha", "1.1"))
    url = f"http://127.0.0.1:{address}/acme/hangs.git"
    defaults = world.defaults(GIT_REPOSITORIES=[url, world.git.url], REPOSITORY_TIMEOUT=2)
    result = yield Expect(1, [rf"failed reading: {re.escape(url)}: git fetch timed out"], defaults)
    assert "alpha/alpha-1.1.tar.gz" in distributions(world.outdir)
    assert result.seconds < QUICK
    assert not running(url), "git still runs"


@bad_input
def git_urls_naming_transports_that_read_no_repository(world: World) -> Arranged:
    """``fd::17`` waits on a file descriptor for ever; ``ext::`` runs a command: git reads
    repositories over file, git, http(s) and ssh only."""
    world.publish()
    marker = world.root / "ext-ran"
    urls = ["fd::17", f"ext::sh -c touch% {marker}"]
    lines = [
        r"failed reading: fd::17: fatal: transport 'fd' not allowed",
        rf"failed reading: {re.escape(urls[1])}: fatal: transport 'ext' not allowed",
    ]
    result = yield Expect(1, lines, world.defaults(GIT_REPOSITORIES=[world.git.url, *urls]))
    assert result.seconds < QUICK
    assert not marker.exists()


@bad_input
def git_repository_whose_ssh_connection_is_refused(world: World) -> Arranged:
    """git's own line ("Could not read from remote repository") says where, ssh's line before
    it says why: both are told."""
    require("ssh")
    world.publish()
    port = free_port()
    url = f"ssh://git@127.0.0.1:{port}/acme/web.git"
    line = (
        f"failed reading: {url}: ssh: connect to host 127.0.0.1 port {port}: Connection refused "
        "fatal: Could not read from remote repository."
    )
    yield Expect(1, [re.escape(line)], world.defaults(GIT_REPOSITORIES=[world.git.url, url]))


@bad_input
def base_naming_a_file(world: World) -> Arranged:
    """svn lists a file as a folder holding itself: the crawl found nothing, and said nothing."""
    world.publish()
    base = f"{world.svn.url}/libs/alpha/trunk/setup.py"
    line = f"failed reading: {base}: not a folder but a file: no projects below it"
    yield Expect(1, [re.escape(line)], world.defaults(BASE=base))


@bad_input
def svn_externals_bringing_in_another_repository(world: World) -> Arranged:
    """An export would bring in what sdistmaker can read in another repository, which the
    tag's committer may not: refused, whether the tag's own externals name it or those of a
    folder of its repository that the tag's externals bring in."""
    world.publish()
    vault = SvnRepository(world.root / "vault")
    vault.add_project("keys", {"key.txt": SECRET})
    elsewhere = f"{vault.url}/keys/trunk"
    world.svn.add_project("libs/shared", {"shared.txt": "shared\n"})
    world.svn.set_externals("libs/shared/trunk", f"{elsewhere} keys")
    world.svn.set_externals("libs/alpha/trunk", f"-r 1 {elsewhere}@1 keys")
    world.svn.tag("libs/alpha", "1.1", setup_py_project("alpha", "1.1"))
    world.svn.set_externals("libs/alpha/trunk", "^/libs/shared/trunk shared")
    world.svn.tag("libs/alpha", "1.2", setup_py_project("alpha", "1.2"))
    # A repository beside this one, relative to its root; svn's old format (path first).
    world.svn.set_externals("libs/alpha/trunk", "^/../vault/keys/trunk keys")
    world.svn.tag("libs/alpha", "1.3", setup_py_project("alpha", "1.3"))
    world.svn.set_externals("libs/alpha/trunk", f"keys -r1 {elsewhere}")
    world.svn.tag("libs/alpha", "1.4", setup_py_project("alpha", "1.4"))
    lines = []
    for tag, holder in [
        ("1.1", world.svn_tag_url("alpha", "1.1")),
        ("1.2", f"{world.svn.url}/libs/shared/trunk"),
        ("1.3", world.svn_tag_url("alpha", "1.3")),
        ("1.4", world.svn_tag_url("alpha", "1.4")),
    ]:
        url = world.svn_tag_url("alpha", tag)
        reason = (
            f"export failed: {url}: svn:externals on {holder} bring in {elsewhere} from another "
            "repository: refused (SVN_EXTERNALS_FROM names those that may)"
        )
        lines.append(world.fails("alpha", tag, url, re.escape(reason)))
    yield Expect(1, lines)
    assert not [p for p in world.scratch.rglob("key.txt")]


@bad_input
def svn_external_on_a_server_that_never_answers(world: World) -> Arranged:
    """An external that is allowed, on a server that hangs: the export counts against the
    build's time."""
    port = world.request.getfixturevalue("hanging_port")
    world.publish()
    server = f"svn://127.0.0.1:{port}"
    world.svn.set_externals("libs/alpha/trunk", f"{server}/repository/lib lib")
    world.svn.tag("libs/alpha", "1.1", setup_py_project("alpha", "1.1"))
    url = world.svn_tag_url("alpha", "1.1")
    reason = rf"export failed: {re.escape(url)}: svn \w+ timed out"
    defaults = world.defaults(BUILD_TIMEOUT=3, SVN_EXTERNALS_FROM=[server])
    result = yield Expect(1, [world.fails("alpha", "1.1", url, reason)], defaults)
    assert result.seconds < QUICK
    assert not running(f"127.0.0.1:{port}"), "svn still runs"


@bad_input
def git_tag_holding_a_submodule(world: World) -> Arranged:
    """An export holds no submodule: the sdist would lack its files, for good."""
    world.publish()
    vendored = GitRepository(world.root / "git" / "vendored")
    vendored.commit({"lib.c": "int lib;\n"})
    world.git.git(
        "-c", "protocol.file.allow=always", "submodule", "add", "-q", vendored.url, "vendor/lib"
    )
    world.git.commit(setup_py_project("beta", "1.1"))
    world.git.tag("1.1")
    url = f"git+{world.git.url}@1.1"
    reason = (
        f"export failed: {world.git.url}: tag 1.1 holds git submodules, which an export does not "
        "include: vendor/lib"
    )
    yield Expect(1, [world.fails("beta", "1.1", url, re.escape(reason))])
    assert distributions(world.outdir) == ["alpha/alpha-1.0.tar.gz", "beta/beta-1.0.tar.gz"]


@bad_input.each()
def test_bad_input(case: Case, world: World) -> None:
    run_and_check(case, world)

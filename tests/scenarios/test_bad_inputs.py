"""The catalogue of bad inputs: each entry one test, run end to end by one harness.

Every case arranges one bad input (in the defaults file, a tag, the machine) next to an OUTDIR
that already publishes releases, then runs ``sdists_from_tags -q`` as cron does: stdin at
/dev/null, no terminal, a session of its own. For every case the harness checks the same rules:

- the exit status the case names (2: the defaults file or command line must be fixed; 1: the run
  could not do all its work, something failed for the first time; 0: nothing new went wrong);
- the output: exactly the lines the case names (a bad input gets one line naming its culprit:
  file:line for the defaults file, the tag and its URL for a build, the path or URL otherwise),
  no traceback, no prompt, no hang, no password;
- nothing published lost or changed: every file OUTDIR served before is there, byte for byte;
  every page parses and lists only complete files with the hashes it gives;
- no build folder left in the temporary folder.

Then each case checks what is its own (what was built, what was not, what the next run does).
"""

from __future__ import annotations

import contextlib
import http.server
import io
import json
import os
import re
import shutil
import signal
import socket
import subprocess
import sys
import tarfile
import tempfile
import threading
import time
import uuid
from collections.abc import Callable, Generator, Iterator
from dataclasses import dataclass, field
from pathlib import Path

import pytest

from helpers.index_checks import assert_consistent
from helpers.projects import (
    crafted_project,
    pyproject_setuptools_project,
    setup_py_project,
    write_defaults,
    write_tree,
)
from helpers.repositories import GitRepository, SvnRepository
from helpers.servers import (
    free_port,
    http_server,
    make_wheel,
    silent_index,
    tarpit,
    upstream_index,
    wait_for,
)
from helpers.system import (
    HANGING_SETUP_PY,
    SLEEPER,
    all_gone,
    hold_lock,
    mount,
    require,
    require_root,
    running,
    small_disk,
    tools_but_bubblewrap,
    unhidden_folder,
    unmount,
)
from sdistmaker.building.sandbox import REFUSED_AS_ROOT
from sdistmaker.dists.names import is_distribution

COMMAND = str(Path(sys.executable).parent / "sdists_from_tags")
SECRET = "s3cret-pa55word"
# A refused login takes well under a second; a run waiting for a password never ends.
QUICK = 10.0
PROMPTS = ("Username:", "Username for", "Password for", "Authentication realm", "password:")


@dataclass
class Result:
    code: int
    output: str
    seconds: float

    @property
    def lines(self) -> list[str]:
        return self.output.splitlines()


@dataclass(frozen=True)
class Stop:
    """A signal sent to the run once ``when`` holds: to its process group, as a terminal sends
    Ctrl-C, or to sdistmaker alone, as systemd and ``timeout`` send SIGTERM."""

    signal: signal.Signals
    when: Callable[[], bool]
    to_group: bool = False


@dataclass
class Expect:
    """What a run on a bad input must do."""

    code: int
    lines: list[str] = field(default_factory=list)
    """Regular expressions, one per line of output, each matching its whole line."""
    defaults: Path | None = None
    """The defaults file to run with, when not the world's usual one."""
    env: dict[str, str] = field(default_factory=dict)
    """Variables the run gets besides the test's own."""
    quiet: bool = True
    """False: run without -q, as a person does, to see what a run says besides failures."""
    umask: int = -1
    """The umask the run starts with; -1: the test's own."""
    index_intact: bool = True
    """False where the case itself damaged sdistmaker's records or put foreign files in OUTDIR,
    so that the index cannot be checked as a whole."""
    stop: Stop | None = None
    """A signal the run gets midway."""


class World:
    """An svn repository (BASE) with project alpha and a git repository with project beta,
    both released as 1.0, and the defaults file and OUTDIR that publish them."""

    def __init__(self, root: Path, request: pytest.FixtureRequest, environments: Path) -> None:
        self.root = root
        self.request = request
        self.environments = environments
        """Build environments every case's OUTDIR shares, as an admin may link them: made once,
        the cases' runs spend their time on what each is about."""
        self.svn = SvnRepository(root / "svn")
        self.svn.add_project("libs/alpha", setup_py_project("alpha", "1.0"))
        self.svn.tag("libs/alpha", "1.0")
        self.git = GitRepository(root / "git" / "beta")
        self.git.commit(setup_py_project("beta", "1.0"))
        self.git.tag("1.0")
        self.outdir = root / "out"
        self.scratch = root / "tmp"
        """The runs' TMPDIR, to see that builds leave nothing there."""
        self.scratch.mkdir()

    def defaults(self, **changes: object) -> Path:
        settings: dict[str, object] = {
            "BASE": self.svn.url,
            "GIT_REPOSITORIES": [self.git.url],
            "OUTDIR": str(self.outdir),
        }
        return write_defaults(self.root, **{**settings, **changes})

    def defaults_text(self, text: str) -> Path:
        """A defaults file written by hand: ``text``, after a first line setting OUTDIR."""
        path = self.root / "mine.py"
        path.write_text("OUTDIR = 'out'\n" + text)
        return path

    def run(  # noqa: PLR0913 (what a case may ask of the run)
        self,
        defaults: Path | None = None,
        env: dict[str, str] | None = None,
        quiet: bool = True,
        stop: Stop | None = None,
        umask: int = -1,
        options: tuple[str, ...] = (),
    ) -> Result:
        started = time.monotonic()
        with subprocess.Popen(
            [COMMAND, *(["-q"] if quiet else []), *options, "-d", str(defaults or self.defaults())],
            stdin=subprocess.DEVNULL,
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            text=True,
            env={**os.environ, "TMPDIR": str(self.scratch), **(env or {})},
            start_new_session=True,
            umask=umask,
        ) as process:
            deadline = started + 120  # a hang fails the test instead of stopping the suite
            if stop is not None:
                while not stop.when():
                    assert process.poll() is None, "the run ended before it was to be stopped"
                    assert time.monotonic() < deadline, "the moment to stop the run never came"
                    time.sleep(0.05)
                (os.killpg if stop.to_group else os.kill)(process.pid, stop.signal)
            try:
                output, _ = process.communicate(timeout=max(deadline - time.monotonic(), 1))
            finally:
                with contextlib.suppress(ProcessLookupError):
                    os.killpg(process.pid, signal.SIGKILL)
        return Result(process.returncode, output, time.monotonic() - started)

    def publish(self) -> None:
        """Publish what the repositories release now, checking that it goes well."""
        if not self.outdir.exists():
            (self.outdir / ".sdistmaker").mkdir(parents=True)
            (self.outdir / ".sdistmaker" / "environments").symlink_to(self.environments)
        result = self.run()
        assert (result.code, result.output) == (0, ""), result.output
        assert distributions(self.outdir), "nothing published"

    def published(self) -> dict[str, bytes]:
        """The files published in OUTDIR, which may never change (pages may), with their content."""
        return {
            name: content
            for name, content in published_files(self.outdir).items()
            if is_distribution(Path(name).name) or name.endswith(".metadata")
        }

    def log(self, project: str, tag: str) -> Path:
        return self.outdir / ".sdistmaker" / "logs" / project / f"{tag}.log"

    def svn_tag_url(self, project: str, tag: str) -> str:
        return f"{self.svn.url}/libs/{project}/tags/{tag}"

    def fails(self, project: str, tag: str, url: str, reason: str) -> str:
        """The line a tag that failed to build is reported with."""
        log = re.escape(str(self.log(project, tag)))
        return rf"failed {re.escape(f'{project} {tag} ({url})')}: {reason} \(log: {log}\)"


def published_files(outdir: Path) -> dict[str, bytes]:
    """Every file a web server serves from OUTDIR (none of sdistmaker's own), with its content."""
    if not outdir.is_dir():
        return {}
    return {
        str(p.relative_to(outdir)): p.read_bytes()
        for p in sorted(outdir.rglob("*"))
        if p.is_file() and not any(part.startswith(".") for part in p.relative_to(outdir).parts)
    }


def distributions(outdir: Path) -> list[str]:
    return sorted(name for name in published_files(outdir) if is_distribution(Path(name).name))


Arranged = Generator[Expect, Result, None]
Case = Callable[[World], Arranged]
CATALOGUE: list[Case] = []


def bad_input(case: Case) -> Case:
    """Enter ``case`` in the catalogue: a generator that arranges the bad input and yields what
    the run must do, is sent the run's result to check what is its own, and cleans up after."""
    CATALOGUE.append(case)
    return case


@pytest.fixture(scope="session")
def environments(tmp_path_factory: pytest.TempPathFactory) -> Path:
    folder = tmp_path_factory.mktemp("environments")
    folder.chmod(0o755)  # builds may run as nobody
    return folder


@pytest.fixture
def world(tmp_path: Path, request: pytest.FixtureRequest, environments: Path) -> World:
    return World(tmp_path, request, environments)


@pytest.mark.parametrize("case", CATALOGUE, ids=[case.__name__ for case in CATALOGUE])
def test_bad_input(case: Case, world: World) -> None:
    arrange = case(world)
    try:
        expect = next(arrange)
        before = world.published()
        result = world.run(expect.defaults, expect.env, expect.quiet, expect.stop, expect.umask)

        assert "Traceback" not in result.output, result.output
        assert result.code == expect.code, result.output
        assert len(result.lines) == len(expect.lines), result.output
        for line, pattern in zip(result.lines, expect.lines, strict=True):
            assert re.fullmatch(pattern, line), f"{line!r} does not match {pattern!r}"
        assert not [prompt for prompt in PROMPTS if prompt in result.output]
        assert SECRET not in result.output

        after = world.published()
        changed = [name for name in before if after.get(name) != before[name]]
        assert not changed, f"published files lost or changed: {changed}"
        if expect.index_intact:
            assert_consistent(world.outdir)
        assert list(world.scratch.iterdir()) == []

        with contextlib.suppress(StopIteration):
            arrange.send(result)
            raise AssertionError(f"{case.__name__} yields more than once")
    finally:
        arrange.close()


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


# OUTDIR on a disk that is full, or mounted read-only. The tests run as root in CI and mount.


@contextlib.contextmanager
def read_only(folder: Path) -> Iterator[None]:
    """``folder`` read-only for everyone, root too (who ignores permission bits)."""
    mount("--bind", str(folder), str(folder))
    try:
        mount("-o", "remount,ro,bind", str(folder))
        yield
    finally:
        unmount(folder)


def fill(path: Path) -> None:
    """Write ``path`` until its file system has not one block left."""
    with open(path, "wb", buffering=0) as file, contextlib.suppress(OSError):
        while True:
            file.write(bytes(1 << 20))


# The defaults file. Nothing runs: status 2, the file and line to fix.


def defaults_file_error(name: str, text: str, message: str) -> None:
    """Enter a case in the catalogue: a defaults file (OUTDIR, then ``text``) that stops the run
    with status 2 and one line, the file's path then ``message`` (a regular expression)."""

    def case(world: World) -> Arranged:
        world.publish()
        defaults = world.defaults_text(text)
        yield Expect(2, [re.escape(str(defaults)) + message], defaults)

    case.__name__ = name
    bad_input(case)


defaults_file_error(
    "defaults_file_with_a_syntax_error", "BASE = 'x'\nJOBS = (2,\n", ":3: syntax error: .*"
)
defaults_file_error(
    "defaults_file_with_a_misspelt_setting",
    "BLACKLST = ['.attic']\n",
    r":2: unknown setting BLACKLST; did you mean BLACKLIST\?",
)
defaults_file_error(
    "defaults_file_with_an_unknown_setting",
    "\nSVN_PASSWORD = 'x'\n",
    ":3: unknown setting SVN_PASSWORD",
)
defaults_file_error(
    "defaults_file_raising_with_control_characters",
    "raise RuntimeError('\\x1b[2Jone\\rtwo\\nthree')\n",
    ":2: RuntimeError: one\ufffdtwo\ufffdthree",
)
defaults_file_error(
    "defaults_file_with_a_setting_of_the_wrong_type",
    "JOBS = 'four'\n",
    ":2: JOBS must be a whole number from 1 up, not 'four'",
)
defaults_file_error(
    "defaults_file_raising_when_run",
    "import os\nBASE = os.environ['NO_SUCH_VARIABLE']\n",
    ":3: KeyError: 'NO_SUCH_VARIABLE'",
)
defaults_file_error(
    "defaults_file_ending_the_program", "import sys\nsys.exit(5)\n", ":3: SystemExit: 5"
)
defaults_file_error(
    "defaults_file_with_a_private_name_the_web_servers_would_misread",
    "PRIVATE_NAMES = ['acme-*', 'acme\"x']\n",
    r":2: PRIVATE_NAMES holds 'acme\"x': project names and globs take letters, digits, -_. "
    r"and the wildcards \* and \?",
)
defaults_file_error(
    "defaults_file_with_the_root_folder_as_outdir",
    "OUTDIR = '/'\n",
    ":2: OUTDIR is the root folder: name a folder of its own",
)


defaults_file_error(
    "defaults_file_with_a_git_subdirectory_out_of_the_repository",
    "GIT_REPOSITORIES = [{'url': '/srv/git/mono.git', 'subdirectory': 'web/../..'}]\n",
    r":2: GIT_REPOSITORIES 'subdirectory' must be a folder inside the repository, not "
    r"'web/\.\./\.\.'",
)


@bad_input
def defaults_file_missing(world: World) -> Arranged:
    world.publish()
    missing = world.root / "mine.py"
    line = f"{missing}: cannot read the defaults file: [Errno 2] No such file or directory: "
    yield Expect(2, [re.escape(line) + ".*"], missing)


@bad_input
def outdir_that_cannot_be_made(world: World) -> Arranged:
    world.publish()
    (world.root / "taken").write_text("a file where OUTDIR's parent folder should be\n")
    outdir = world.root / "taken" / "out"
    defaults = world.defaults(OUTDIR="taken/out")
    yield Expect(1, [re.escape(f"{outdir}: cannot create OUTDIR: Not a directory")], defaults)


@bad_input
def outdir_inside_a_repository_read_for_tags(world: World) -> Arranged:
    world.publish()
    inside = world.svn.root / "out"
    defaults = world.defaults(OUTDIR=str(inside))
    line = f"{defaults}:3: OUTDIR {inside} lies inside {world.svn.root}, a repository of BASE"
    yield Expect(2, [re.escape(line)], defaults)
    assert not inside.exists()


@bad_input
def outdir_holding_a_repository_read_for_tags(world: World) -> Arranged:
    world.publish()
    served = world.outdir / "beta-sources"
    shutil.copytree(world.git.root, served)
    defaults = world.defaults(GIT_REPOSITORIES=[str(served)])
    line = (
        f"{defaults}:3: OUTDIR {world.outdir} holds {served}, a repository of GIT_REPOSITORIES: "
        "it would be served"
    )
    yield Expect(2, [re.escape(line)], defaults, index_intact=False)


# Repositories that cannot be read: reported once, status 1; what others release is built.


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


# Tags that do not build: the tag and its URL named, its log named, status 1; reported once.


# Servers that accept a connection and never answer: each command reading a repository is killed
# at REPOSITORY_TIMEOUT, the repository reported, the others read.


@pytest.fixture
def hanging_port() -> Iterator[int]:
    with tarpit() as port:
        yield port


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
def upload_without_credentials(world: World) -> Arranged:
    """No TWINE_USERNAME, TWINE_PASSWORD or keyring: each file's upload fails in one line, and
    is tried again on the next run."""
    world.publish()
    repository = "http://127.0.0.1:9/"
    lines = [
        rf"failed uploading {name}: {re.escape(repository)}: \S+ not uploaded: Credential not .*"
        for name in ("beta/beta-1.0.tar.gz", "alpha/alpha-1.0.tar.gz")
    ]
    env = {"PYTHON_KEYRING_BACKEND": "keyring.backends.fail.Keyring"}
    yield Expect(1, lines, world.defaults(UPLOAD_TO=repository), env=env)


@bad_input
def upload_to_a_server_that_never_answers(world: World) -> Arranged:
    """twine waits for ever for an answer: the upload is given up after REPOSITORY_TIMEOUT, the
    repository is not asked again in this run, and the next run tries again."""
    port = world.request.getfixturevalue("hanging_port")
    world.publish()
    repository = f"http://127.0.0.1:{port}/"
    # One file's upload is given up (the first of the state's), not every file's.
    line = (
        rf"failed uploading (alpha|beta)/\1-1\.0\.tar\.gz: {re.escape(repository)}: "
        r"\1-1\.0\.tar\.gz not uploaded: timed out"
    )
    env = {"TWINE_USERNAME": "builder", "TWINE_PASSWORD": SECRET}
    defaults = world.defaults(UPLOAD_TO=repository, REPOSITORY_TIMEOUT=2)
    result = yield Expect(1, [line], defaults, env=env)
    assert result.seconds < QUICK


@bad_input
def tag_without_setup_py_or_pyproject_toml(world: World) -> Arranged:
    world.publish()
    world.svn.add_project("libs/notes", {"README.txt": "no Python project here\n"})
    world.svn.tag("libs/notes", "1.0")
    url = world.svn_tag_url("notes", "1.0")
    reason = "neither pyproject.toml nor setup.py in the tag"
    yield Expect(1, [world.fails("notes", "1.0", url, reason)])
    assert world.run().code == 0  # reported once


@bad_input
def tag_whose_setup_py_raises(world: World) -> Arranged:
    world.publish()
    world.svn.tag("libs/alpha", "1.1", {"setup.py": "raise RuntimeError('broken release')\n"})
    url = world.svn_tag_url("alpha", "1.1")
    reason = r"build, setuptools<58: RuntimeError: broken release"
    yield Expect(1, [world.fails("alpha", "1.1", url, reason)])


@bad_input
def build_output_carrying_terminal_control_sequences(world: World) -> Arranged:
    """What a build prints may clear a terminal, set its title or colour it: the line reporting
    the failure shows its text without them."""
    world.publish()
    message = r"\x1b]0;owned\x07\x1b[2J\x1b[31mbroken\x1b[0m release\x08\x7f"
    world.svn.tag("libs/alpha", "1.1", {"setup.py": f"raise RuntimeError('{message}')\n"})
    url = world.svn_tag_url("alpha", "1.1")
    reason = "build, setuptools<58: RuntimeError: broken release\ufffd\ufffd"
    yield Expect(1, [world.fails("alpha", "1.1", url, reason)])


@bad_input
def tag_whose_build_hangs_past_build_timeout(world: World) -> Arranged:
    world.publish()
    world.svn.tag("libs/alpha", "1.1", {"setup.py": HANGING_SETUP_PY})
    url = world.svn_tag_url("alpha", "1.1")
    reason = r"build timed out \(build\), process tree killed"
    yield Expect(1, [world.fails("alpha", "1.1", url, reason)], world.defaults(BUILD_TIMEOUT=2))
    assert all_gone(SLEEPER), "a process the build started still runs"


def stopped_by_a_signal(name: str, stop: signal.Signals, to_group: bool, said: str) -> None:
    """Enter a case in the catalogue: a run stopped by ``stop`` while a build hangs stops it
    (and all it started) at once, in one line, with the status a shell gives a program that
    signal ended; the next run goes on from there."""

    def case(world: World) -> Arranged:
        world.publish()
        world.git.commit(setup_py_project("beta", "1.1"))
        world.git.tag("1.1")
        world.svn.tag("libs/alpha", "1.1", {"setup.py": HANGING_SETUP_PY})
        line = f"{said}: what was published stays; the next run goes on"
        defaults = world.defaults(BUILD_TIMEOUT=300, JOBS=1)
        result = yield Expect(
            128 + stop,
            [re.escape(line)],
            defaults,
            stop=Stop(stop, lambda: bool(running(SLEEPER)), to_group),
        )
        assert result.seconds < 60, "the run waited for its builds"
        assert all_gone(SLEEPER), "a process the build started still runs"
        again = world.run(world.defaults(BUILD_TIMEOUT=2))
        assert "beta/beta-1.1.tar.gz" in distributions(world.outdir), again.output

    case.__name__ = name
    bad_input(case)


stopped_by_a_signal("run_stopped_by_ctrl_c", signal.SIGINT, True, "interrupted")
stopped_by_a_signal("run_stopped_by_sigterm", signal.SIGTERM, False, "terminated")


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


@bad_input
def tag_whose_version_is_not_the_built_one(world: World) -> Arranged:
    world.publish()
    world.svn.tag("libs/alpha", "1.0.1")  # trunk still says 1.0
    url = world.svn_tag_url("alpha", "1.0.1")
    reason = r"built version 1.0 but the tag is version 1.0.1 \(alpha-1.0.tar.gz\)"
    yield Expect(1, [world.fails("alpha", "1.0.1", url, reason)])
    assert not [name for name in distributions(world.outdir) if "1.0.1" in name]


@bad_input
def release_tagged_again_under_another_name(world: World) -> Arranged:
    """``v1.0``, ``1.0.0`` and ``1.0.0.0`` are release 1.0 as ``1.0`` is: a release is
    published once, else which file ``==1.0`` installs would depend on the order installers
    list them. Each later tag is refused once, as a moved tag is."""
    world.publish()
    world.svn.tag("libs/alpha", "v1.0")
    world.svn.tag("libs/alpha", "1.0.0", setup_py_project("alpha", "1.0.0"))
    world.svn.tag("libs/alpha", "1.0.0.0", setup_py_project("alpha", "1.0.0.0"))
    published = world.outdir / "alpha" / "alpha-1.0.tar.gz"
    reasons = {
        "1.0.0": "alpha 1.0.0 is published already, as alpha/alpha-1.0.tar.gz",
        "1.0.0.0": "alpha 1.0.0.0 is published already, as alpha/alpha-1.0.tar.gz",
        "v1.0": f"{published} is already published; it is kept as it is",
    }
    lines = [
        world.fails("alpha", tag, world.svn_tag_url("alpha", tag), re.escape(reason))
        for tag, reason in reasons.items()
    ]
    yield Expect(1, lines)
    assert distributions(world.outdir) == ["alpha/alpha-1.0.tar.gz", "beta/beta-1.0.tar.gz"]
    assert world.run().code == 0  # said once


@bad_input
def distribution_renamed_between_tags(world: World) -> Arranged:
    """Allowed (projects do get renamed): each name is published under its own folder, with its
    own pages, and a run says so (not a failure: a quiet run says nothing)."""
    world.publish()
    world.git.commit(setup_py_project("beta.renamed", "2.0"))
    world.git.tag("2.0")
    tag = re.escape(f"beta 2.0 (git+{world.git.url}@2.0)")
    lines = [
        rf"renamed {tag}: publishes beta-renamed, earlier tags beta; each keeps its own pages",
        r"built beta 2\.0 -> beta-renamed/beta_renamed-2\.0\.tar\.gz",
        r"built 1, up to date 2, failed 0 \(new 0\)",
    ]
    yield Expect(0, lines, quiet=False)
    assert distributions(world.outdir) == [
        "alpha/alpha-1.0.tar.gz",
        "beta-renamed/beta_renamed-2.0.tar.gz",
        "beta/beta-1.0.tar.gz",
    ]
    root = json.loads((world.outdir / "index.json").read_text())
    assert [p["name"] for p in root["projects"]] == ["alpha", "beta", "beta-renamed"]


def front_page_lists(outdir: Path) -> list[str]:
    """The projects the front page for people links to."""
    page = (outdir / "+" / "index.html").read_text()
    return sorted(set(re.findall(r'href="([^"/]+)\.html"', page)))


@bad_input
def project_folder_named_as_no_distribution_can_be(world: World) -> Arranged:
    """A project folder named ``+`` (where the pages for people are): before its first tag it
    gets no page of its own there; once it publishes (under its distribution's name), the
    front page for people stays."""
    world.svn.add_project("libs/+", setup_py_project("plus", "1.0"))
    world.publish()
    assert front_page_lists(world.outdir) == ["alpha", "beta"]
    world.svn.tag("libs/+", "1.0")
    yield Expect(0)
    assert front_page_lists(world.outdir) == ["alpha", "beta", "plus"]
    assert "plus/plus-1.0.tar.gz" in distributions(world.outdir)


@bad_input
def yanked_naming_no_project_that_can_be(world: World) -> Arranged:
    """YANKED names projects as people write them: ``+`` is none, and its folder is not one."""
    world.publish()
    yield Expect(0, defaults=world.defaults(YANKED={"+": {"1.0": "no such project"}}))
    assert front_page_lists(world.outdir) == ["alpha", "beta"]


ESCAPE = f"/tmp/sdistmaker-escape-{uuid.uuid4()}"
"""Where a hostile distribution name would have its project folder, were names paths."""
NAMING_BACKEND = f"""\
import io, os, tarfile

def get_requires_for_build_sdist(config_settings=None):
    return []

def build_sdist(sdist_directory, config_settings=None):
    data = b"Metadata-Version: 2.1\\nName: {ESCAPE}\\nVersion: 1.1\\n"
    path = os.path.join(sdist_directory, "alpha-1.1.tar.gz")
    with tarfile.open(path, "w:gz") as archive:
        member = tarfile.TarInfo("alpha-1.1/PKG-INFO")
        member.size = len(data)
        archive.addfile(member, io.BytesIO(data))
    return "alpha-1.1.tar.gz"
"""


@bad_input
def sdist_naming_a_distribution_that_is_a_path(world: World) -> Arranged:
    """A distribution name becomes a folder in OUTDIR: only a valid one is taken."""
    world.publish()
    pyproject = '[build-system]\nrequires = []\nbuild-backend = "naming"\nbackend-path = ["."]\n'
    world.svn.tag("libs/alpha", "1.1", {"pyproject.toml": pyproject, "naming.py": NAMING_BACKEND})
    url = world.svn_tag_url("alpha", "1.1")
    reason = re.escape(f"alpha-1.1.tar.gz: {ESCAPE!r} is no valid distribution name")
    yield Expect(1, [world.fails("alpha", "1.1", url, reason)])
    assert not Path(ESCAPE).exists()


def answering_backend(swap: str) -> dict[str, str]:
    """A tag whose backend, as its hook runner exits, replaces the answer it wrote for
    sdistmaker (``output`` in ``swap``, a statement)."""
    backend = f"""\
import atexit, os, sys

def get_requires_for_build_sdist(config_settings=None):
    output = os.path.join(sys.argv[-1], "output.json")
    atexit.register(lambda: (os.remove(output), {swap}))
    return []
"""
    pyproject = '[build-system]\nrequires = []\nbuild-backend = "answering"\nbackend-path = ["."]\n'
    return {"pyproject.toml": pyproject, "answering.py": backend}


@bad_input
def build_leaving_a_pipe_or_a_link_for_sdistmaker_to_read(world: World) -> Arranged:
    """PyPA build's hook runner reads the backend's answer from a folder the build writes to: a
    pipe there would hold the run for ever, a link would have it read a file of the server's
    (here one whose content would be taken for build requirements, and named in the line)."""
    world.publish()
    secret = world.root / "secret.json"
    secret.write_text(json.dumps({"return_val": [SECRET]}))
    world.svn.tag("libs/alpha", "1.1", answering_backend("os.mkfifo(output)"))
    world.svn.tag("libs/alpha", "1.2", answering_backend(f"os.symlink({str(secret)!r}, output)"))
    reason = "the build left output.json, no plain file, to be read"
    lines = [
        world.fails("alpha", tag, world.svn_tag_url("alpha", tag), re.escape(reason))
        for tag in ("1.1", "1.2")
    ]
    result = yield Expect(1, lines)
    assert result.seconds < 60


REPLACING_ITS_OUTPUT_FOLDER = """\
import os, shutil
dist = os.path.join(os.path.dirname(os.getcwd()), "dist")
shutil.rmtree(dist, ignore_errors=True)
os.symlink("/etc", dist)
raise RuntimeError("gone")
"""


@bad_input
def build_replacing_its_output_folder_with_a_link(world: World) -> Arranged:
    """Its next route gets an output folder of its own again: the tag fails as any failing
    build does, instead of stopping every run."""
    world.publish()
    world.svn.tag("libs/alpha", "1.1", {"setup.py": REPLACING_ITS_OUTPUT_FOLDER})
    url = world.svn_tag_url("alpha", "1.1")
    yield Expect(1, [world.fails("alpha", "1.1", url, r"build, setuptools<58: RuntimeError: gone")])
    assert world.run().code == 0  # reported once
    assert not Path("/etc/alpha-1.1.tar.gz").exists()


# Tags whose backend writes a crafted sdist or wheel (a build may write any file): each is read
# within limits (what it decompresses, its metadata's size) and refused in one line, never
# published; the sdists of the last case are good, only their wheels are refused.


def crafted_tags(
    world: World, tags: dict[str, tuple[dict[str, str], str]], **settings: object
) -> Expect:
    """Publish, then tag alpha ``tag`` for each ``tag: (files, reason)`` in ``tags``: what the
    next run must say of each (``reason``, a regular expression)."""
    world.publish()
    lines = []
    for tag, (files, reason) in tags.items():
        world.svn.tag("libs/alpha", tag, files)
        lines.append(world.fails("alpha", tag, world.svn_tag_url("alpha", tag), reason))
    return Expect(1, lines, world.defaults(**settings))


@bad_input
def sdists_whose_pkg_info_is_no_plain_file(world: World) -> Arranged:
    """A folder, a link to the server's secrets, a file cut short (its header claims 100 kB,
    it holds 2 kB): each refused as it is; no link followed."""
    folder = 'member(TOP + "/PKG-INFO", kind=tarfile.DIRTYPE)'
    link = 'member(TOP + "/PKG-INFO", kind=tarfile.SYMTYPE, linkname="/etc/shadow")'
    cut_short = 'member(TOP + "/PKG-INFO", PKG_INFO.ljust(2048), size=100_000)'
    not_a_file = r"alpha-1\.{0}\.tar\.gz: 'alpha-1\.{0}/PKG-INFO' is not a regular file"
    yield crafted_tags(
        world,
        {
            "1.1": (crafted_project(f"sdist(directory, {folder})"), not_a_file.format(1)),
            "1.2": (crafted_project(f"sdist(directory, {link})"), not_a_file.format(2)),
            "1.3": (
                crafted_project(f"sdist(directory, {cut_short})"),
                r"alpha-1\.3\.tar\.gz: unreadable: unexpected end of data",
            ),
        },
    )
    assert distributions(world.outdir) == ["alpha/alpha-1.0.tar.gz", "beta/beta-1.0.tar.gz"]


@bad_input
def sdists_whose_file_name_is_not_plain(world: World) -> Arranged:
    """A name that is not UTF-8 could be on no page, and one that names another release would
    be misread by installers: neither is published."""
    good = 'sdist(directory, member(TOP + "/PKG-INFO", PKG_INFO), name={})'
    yield crafted_tags(
        world,
        {
            "1.1": (
                crafted_project(
                    good.format('os.fsdecode(b"\\xff\\xfe" + TOP.encode() + b".tar.gz")')
                ),
                r"'\\udcff\\udcfealpha-1\.1\.tar\.gz': no distribution file name: "
                r"ASCII letters, digits and \._\+!- only",
            ),
            "1.2": (
                crafted_project(good.format('"beta-" + VERSION + ".tar.gz"')),
                r"beta-1\.2\.tar\.gz: its name does not say alpha 1\.2, as its metadata does",
            ),
        },
    )
    assert distributions(world.outdir) == ["alpha/alpha-1.0.tar.gz", "beta/beta-1.0.tar.gz"]


@bad_input
def sdist_whose_pkg_info_is_larger_than_any_metadata(world: World) -> Arranged:
    """Refused as its header gives its size, unread: neither sdistmaker's memory nor the
    .metadata file beside the sdist grows with it."""
    large = 'sdist(directory, member(TOP + "/PKG-INFO", PKG_INFO + bytes(4 << 20)))'
    reason = r"alpha-1\.1\.tar\.gz: 'alpha-1\.1/PKG-INFO' is larger than 4 MiB"
    yield crafted_tags(world, {"1.1": (crafted_project(large), reason)})
    assert not list(world.outdir.glob("alpha/*1.1*"))


@bad_input
def sdist_that_is_a_compression_bomb(world: World) -> Arranged:
    """1 MB that unpacks to more than a gigabyte of zeros, its PKG-INFO last: refused before
    the zeros are unpacked, neither read to its end nor unpacked for a wheel (WHEELS = True)."""
    bomb = (
        "write(directory, TOP + '.tar.gz', gzip.compress(member(TOP + '/zeros', size=17 << 26)),"
        " zeros(17 << 26), gzip.compress(member(TOP + '/PKG-INFO', PKG_INFO) + bytes(1024)))"
    )
    reason = r"alpha-1\.1\.tar\.gz: unpacks to more than 1 GiB"
    result = yield crafted_tags(world, {"1.1": (crafted_project(bomb), reason)}, WHEELS=True)
    assert result.seconds < QUICK


@bad_input
def sdists_whose_metadata_is_ambiguous(world: World) -> Arranged:
    """Tools differ in which PKG-INFO or which Version they read: the version checked must be
    the version published."""
    other = 'PKG_INFO.replace(VERSION.encode(), b"2.0") + b"Requires-Dist: evil\\n"'
    two_files = (
        f'sdist(directory, member("PKG-INFO", PKG_INFO), member(TOP + "/PKG-INFO", {other}))'
    )
    two_versions = 'sdist(directory, member(TOP + "/PKG-INFO", PKG_INFO + b"Version: 2.0\\n"))'
    yield crafted_tags(
        world,
        {
            "1.1": (
                crafted_project(two_files),
                r"alpha-1\.1\.tar\.gz: holds more than one entry at the top: "
                r"\['PKG-INFO', 'alpha-1\.1'\]",
            ),
            "1.2": (
                crafted_project(two_versions),
                r"alpha-1\.2\.tar\.gz: PKG-INFO gives version more than once",
            ),
        },
    )
    assert distributions(world.outdir) == ["alpha/alpha-1.0.tar.gz", "beta/beta-1.0.tar.gz"]


@bad_input
def wheel_build_replacing_its_checked_sdist(world: World) -> Arranged:
    """WHEELS = True: the wheel's backend, the tag's code again, tries to put a link to the
    defaults file (its passwords) where the checked sdist waits to be published: it cannot
    reach it, and what is published is what was checked."""
    world.publish()
    defaults = world.defaults(WHEELS=True)
    wheel = (
        f"[tamper(directory, {str(defaults)!r}), "
        'wheel(directory, {TOP + ".dist-info/METADATA": PKG_INFO})][-1]'
    )
    world.svn.tag("libs/alpha", "1.1", crafted_project(wheel=wheel))
    yield Expect(0, [], defaults)
    published = world.outdir / "alpha" / "alpha-1.1.tar.gz"
    assert not published.is_symlink()
    with tarfile.open(published) as sdist:
        pkg_info = sdist.extractfile("alpha-1.1/PKG-INFO")
        assert pkg_info is not None and b"Version: 1.1\n" in pkg_info.read()
    assert (world.outdir / "alpha" / "alpha-1.1-py3-none-any.whl").exists()


@bad_input
def wheels_checked_as_their_sdists_are(world: World) -> Arranged:
    """WHEELS = True: a wheel whose METADATA is too large, whose name is not UTF-8 or that is
    another project's is not published; its sdist is."""
    large = 'wheel(directory, {TOP + ".dist-info/METADATA": PKG_INFO + bytes(4 << 20)})'
    misnamed = (
        'wheel(directory, {TOP + ".dist-info/METADATA": PKG_INFO}, '
        'name=os.fsdecode(b"\\xff" + TOP.encode() + b"-py3-none-any.whl"))'
    )
    other = (
        'wheel(directory, {"beta-1.3.dist-info/METADATA": PKG_INFO.replace(b"alpha", b"beta")}, '
        'name="beta-1.3-py3-none-any.whl")'
    )
    yield crafted_tags(
        world,
        {
            "1.1": (
                crafted_project(wheel=large),
                r"wheel: alpha-1\.1-py3-none-any\.whl: 'alpha-1\.1\.dist-info/METADATA' is "
                r"larger than 4 MiB",
            ),
            "1.2": (
                crafted_project(wheel=misnamed),
                r"wheel: '\\udcffalpha-1\.2-py3-none-any\.whl': no distribution file name: .*",
            ),
            "1.3": (
                crafted_project(wheel=other),
                r"wheel: beta-1\.3-py3-none-any\.whl is beta 1\.3, not alpha 1\.3",
            ),
        },
        WHEELS=True,
    )
    assert distributions(world.outdir) == [
        "alpha/alpha-1.0.tar.gz",
        "alpha/alpha-1.1.tar.gz",
        "alpha/alpha-1.2.tar.gz",
        "alpha/alpha-1.3.tar.gz",
        "beta/beta-1.0.tar.gz",
    ]


@bad_input
def two_projects_publishing_one_distribution(world: World) -> Arranged:
    world.publish()
    world.svn.add_project("libs/fork", setup_py_project("Beta", "3.0"))
    world.svn.tag("libs/fork", "3.0")
    url = world.svn_tag_url("fork", "3.0")
    owner = re.escape(f"git:{world.git.url}#")
    reason = rf"distribution beta is already published from {owner}, not from svn:.*/libs/fork"
    yield Expect(1, [world.fails("fork", "3.0", url, reason)])
    assert distributions(world.outdir) == ["alpha/alpha-1.0.tar.gz", "beta/beta-1.0.tar.gz"]


@bad_input
def release_re_tagged_with_other_content(world: World) -> Arranged:
    world.publish()
    world.git.commit({"CHANGES.txt": "changed after the release\n"})
    world.git.tag("1.0", force=True)
    url = re.escape(f"beta 1.0 (git+{world.git.url}@1.0)")
    line = (
        rf"failed {url}: re-tagged \(was \w+, now \w+\); the published beta/beta-1.0.tar.gz is kept"
    )
    yield Expect(1, [line])
    assert world.run().code == 0  # reported once


# Tag names that could trick a path or a shell.


@bad_input
def tag_names_with_dots_climbing_out(world: World) -> Arranged:
    """svn and git refuse a ".." path element; what they let through holds no version, so it is
    no release: skipped, as every such tag is, and no path is made of it."""
    world.publish()
    for name in ("..1.1", "1.1..", "..."):
        world.svn.tag("libs/alpha", name)
    world.svn.add_project("libs/...", setup_py_project("dots", "1.0"))
    world.svn.tag("libs/...", "1.0")
    yield Expect(0)
    assert distributions(world.outdir) == [
        "alpha/alpha-1.0.tar.gz",
        "beta/beta-1.0.tar.gz",
        "dots/dots-1.0.tar.gz",
    ]
    assert sorted(p.name for p in world.root.iterdir()) == [
        "defaults.py",
        "git",
        "out",
        "svn",
        "svn-checkouts",
        "tmp",
    ]


@bad_input
def tag_names_with_spaces(world: World) -> Arranged:
    world.publish()
    world.svn.add_project("libs/my project", setup_py_project("spaced", "1.0"))
    world.svn.tag("libs/my project", "release 1.0")
    yield Expect(0)
    assert "spaced/spaced-1.0.tar.gz" in distributions(world.outdir)


@bad_input
def tag_names_and_projects_in_unicode(world: World) -> Arranged:
    world.publish()
    world.svn.add_project("libs/ünïcødé", setup_py_project("unicode-project", "1.0"))
    world.svn.tag("libs/ünïcødé", "wersja-1.0")
    world.svn.tag("libs/ünïcødé", "версия-1.1", setup_py_project("unicode-project", "1.1"))
    world.git.commit(setup_py_project("beta", "1.1"))
    world.git.tag("выпуск-1.1")
    yield Expect(0)
    assert distributions(world.outdir) == [
        "alpha/alpha-1.0.tar.gz",
        "beta/beta-1.0.tar.gz",
        "beta/beta-1.1.tar.gz",
        "unicode-project/unicode_project-1.0.tar.gz",
        "unicode-project/unicode_project-1.1.tar.gz",
    ]


# Names that would run a command if any of them reached a shell. Those that hold no version are
# skipped, as every such tag is; the last of each list holds one (1.4) and is built.
# $CANARY is set for the run: a command run in a build folder, deleted after, still shows.
SVN_TAGS = [
    "1.0;touch PWNED",
    "$(touch PWNED)",
    "`touch PWNED`",
    "1.1|touch PWNED",
    "1.2&&touch PWNED",
    '1.0\'"; touch "$CANARY"',
    "$(touch $CANARY)-1.4",
]
# Git allows no spaces in tag names; ${IFS} is a shell's space.
GIT_TAGS = [
    "1.0;touch${IFS}PWNED",
    "$(touch${IFS}PWNED)",
    "`touch${IFS}$CANARY`",
    "1.1|touch${IFS}PWNED",
    "1.2&&touch${IFS}PWNED",
    '1.0\'";touch${IFS}"$CANARY"',
    "$(touch${IFS}$CANARY)-1.4",
]


@bad_input
def tag_names_with_shell_metacharacters(world: World) -> Arranged:
    world.publish()
    for name in SVN_TAGS[:-1]:
        world.svn.tag("libs/alpha", name)
    world.svn.tag("libs/alpha", SVN_TAGS[-1], setup_py_project("alpha", "1.4"))
    for name in GIT_TAGS[:-1]:
        world.git.tag(name)
    world.git.commit(setup_py_project("beta", "1.4"))
    world.git.tag(GIT_TAGS[-1])
    canary = world.root / "PWNED"
    yield Expect(0, env={"CANARY": str(canary)})
    assert list(world.root.rglob("PWNED")) == []
    assert not (Path("/") / "PWNED").exists()  # the runs' working folder
    assert not (Path(tempfile.gettempdir()) / "PWNED").exists()
    assert distributions(world.outdir) == [
        "alpha/alpha-1.0.tar.gz",
        "alpha/alpha-1.4.tar.gz",
        "beta/beta-1.0.tar.gz",
        "beta/beta-1.4.tar.gz",
    ]
    state = json.loads((world.outdir / ".sdistmaker" / "state.json").read_text())
    recorded = sorted(record["name"] for record in state["tags"].values())
    assert recorded == sorted(["1.0", "1.0", SVN_TAGS[-1], GIT_TAGS[-1]])


@bad_input
def tags_holding_links_out_of_their_tree(world: World) -> Arranged:
    """A backend follows links: the server's files would be published in an sdist."""
    world.publish()
    world.svn.commit_files("libs/alpha/trunk", setup_py_project("alpha", "1.1"))
    world.svn.commit_link("libs/alpha/trunk", "passwords.txt", "/etc/passwd")
    world.svn.tag("libs/alpha", "1.1")
    world.git.commit(setup_py_project("beta", "1.1"))
    (world.git.root / "outside.txt").symlink_to("../../out/.sdistmaker/state.json")
    world.git.commit({})
    world.git.tag("1.1")
    svn_url = world.svn_tag_url("alpha", "1.1")
    git_url = f"git+{world.git.url}@1.1"
    svn_reason = "export failed: link passwords.txt points out of the tag, to /etc/passwd"
    git_reason = "export failed: link outside.txt points out of the tag, to ../../out/.*"
    yield Expect(
        1,
        [
            world.fails("alpha", "1.1", svn_url, re.escape(svn_reason)),
            world.fails("beta", "1.1", git_url, git_reason),
        ],
    )
    assert distributions(world.outdir) == ["alpha/alpha-1.0.tar.gz", "beta/beta-1.0.tar.gz"]


HOSTILE = '<script>alert("x")</script><img src=x onerror=alert(1)>'


@bad_input
def metadata_carrying_html_and_javascript(world: World) -> Arranged:
    """Shown as text on every page, never as markup, and never as a link to javascript:."""
    world.publish()
    setup = (
        "from setuptools import setup\n"
        f"setup(name='beta', version='1.1', description={HOSTILE!r}, author={HOSTILE!r},\n"
        f"      long_description={HOSTILE!r}, url='javascript:alert(1)')\n"
    )
    world.git.commit({"setup.py": setup})
    world.git.tag("1.1")
    yield Expect(0)
    assert "beta/beta-1.1.tar.gz" in distributions(world.outdir)
    pages = [p for p in world.outdir.rglob("*.html") if ".sdistmaker" not in p.parts]
    shown = [p for p in pages if "alert(1)" in p.read_text()]
    assert shown  # the summary is on the pages for people
    for html in pages:
        text = html.read_text()
        assert "<script>alert" not in text and "<img" not in text, html
        assert 'href="javascript:' not in text, html


LOUD = """\
import sys
from setuptools import setup
for _ in range(40):  # 20 MB, in 40 lines
    sys.stdout.write("x" * (512 * 1024) + "\\n")
sys.stdout.flush()
setup(name="alpha", version="1.1")
"""


@bad_input
def build_printing_without_end(world: World) -> Arranged:
    """Its log keeps the first and last 4 MB of each step: the disk does not fill up."""
    world.publish()
    world.svn.tag("libs/alpha", "1.1", {"setup.py": LOUD})
    yield Expect(0)
    assert "alpha/alpha-1.1.tar.gz" in distributions(world.outdir)
    log = world.log("alpha", "1.1")
    assert log.stat().st_size < 3 * 8 * 1024 * 1024
    assert "bytes of output left out here" in log.read_text()


ESCAPING = """\
import os
from pathlib import Path
from setuptools import setup
for target in [os.environ["OUTDIR"] + "/alpha/alpha-9.9.tar.gz", os.environ["HOME"] + "/.bashrc-x",
               "/tmp/escaped"]:
    Path(target).write_text("written by a build")
setup(name="alpha", version="1.1")
"""


@bad_input
def build_writing_outside_its_folder(world: World) -> Arranged:
    """Refused by the sandbox (bubblewrap: everything but the build's folders is read-only,
    the temporary folders, where OUTDIR is here, not even there)."""
    require("bwrap")
    world.publish()
    world.svn.tag("libs/alpha", "1.1", {"setup.py": ESCAPING})
    url = world.svn_tag_url("alpha", "1.1")
    reason = r"build, setuptools<58: .*(Read-only file system|No such file or directory).*"
    defaults = world.defaults(BUILD_ENVIRONMENT={"OUTDIR": str(world.outdir)})
    yield Expect(1, [world.fails("alpha", "1.1", url, reason)], defaults)
    assert not (world.outdir / "alpha" / "alpha-9.9.tar.gz").exists()
    assert not (Path.home() / ".bashrc-x").exists()
    assert not Path("/tmp/escaped").exists()


SNOOPING = """\
import os, pathlib
texts = []
for environ in pathlib.Path("/proc").glob("[0-9]*/environ"):
    try:
        texts += environ.read_bytes().decode(errors="replace").split("\\0")
    except OSError:
        pass
for path in [os.path.expanduser("~/.pypirc"), {defaults!r}]:
    try:
        texts += open(path).read().splitlines()
    except OSError:
        pass
found = sorted({{text for text in texts if "password" in text.lower()}})
from setuptools import setup
setup(name="alpha", version="1.1", description=" | ".join(found))
"""


@bad_input
def build_reading_secrets(world: World) -> Arranged:
    """A tag looks for secrets where a server keeps them and publishes what it finds in its
    metadata: sdistmaker's environment (through /proc), the home folder, the defaults file.
    It finds none of them (bubblewrap: a process namespace of its own, home and defaults
    file hidden)."""
    require("bwrap")
    world.publish()
    defaults = world.defaults()
    with open(defaults, "a") as file:
        file.write(f"# the deploy password is {SECRET}\n")
    home = world.root / "home"
    home.mkdir()
    (home / ".pypirc").write_text(f"[pypi]\npassword = {SECRET}\n")
    world.svn.tag("libs/alpha", "1.1", {"setup.py": SNOOPING.format(defaults=str(defaults))})
    cache = {"UV_CACHE_DIR": str(Path.home() / ".cache" / "uv")}  # the one filled before
    yield Expect(0, [], defaults, {"TWINE_PASSWORD": SECRET, "HOME": str(home), **cache})
    assert "alpha/alpha-1.1.tar.gz" in distributions(world.outdir)
    written = [p for p in world.outdir.rglob("*") if p.is_file()]
    assert not [p for p in written if SECRET.encode() in p.read_bytes()]


HUNTING = """\
import os, subprocess, sys
from setuptools import setup

records = os.path.join({outdir!r}, ".sdistmaker")


def nonempty(found):
    if not found:
        raise OSError("nothing there")
    return found


def logs():
    folder = os.path.join(records, "logs")
    paths = [os.path.join(f, name) for f, _, names in os.walk(folder) for name in names]
    return "".join(open(path).read() for path in nonempty(paths))


def mirrors():
    git = os.path.join(records, "git")
    command = ["git", "--git-dir", "{{}}", "log", "--all", "-p"]
    return "".join(
        subprocess.run([part.format(os.path.join(git, name)) for part in command],
                       check=True, capture_output=True, text=True).stdout
        for name in nonempty(os.listdir(git))
    )


def other_environments():
    own = os.path.basename(sys.prefix)
    kept = os.listdir(os.path.join(records, "environments"))
    return nonempty([name for name in kept if name != own and not name.endswith(".lock")])


looks = {{
    "the state": lambda: open(os.path.join(records, "state.json")).read(),
    "other tags' logs": logs,
    "the git mirrors": mirrors,
    "other build environments": other_environments,
    "a repository on this machine": lambda: open({plans!r}).read(),
}}
found, unseen = [], []
for what, look in looks.items():
    try:
        found.append(what + ": " + str(look()))
    except Exception:
        unseen.append(what)
print("UNSEEN", sorted(unseen))
setup(name="alpha", version="1.1", description=" | ".join(found).replace("\\n", " "))
"""


@bad_input
def build_reading_what_sdistmaker_keeps_and_other_repositories(world: World) -> Arranged:
    """OUTDIR where servers keep it (/srv/pypi, not in a temporary folder, which builds never
    see) holds the state, every tag's log, the git mirrors of every repository with all their
    branches and other tags' build environments; another repository, with unreleased plans,
    lies on this machine's disk. A tag looks for all of it and publishes what it finds: it
    finds none of it, nor anything of its own environment but itself."""
    require("bwrap")
    with unhidden_folder() as outside:
        outside.chmod(0o755)  # as /srv is: only what sdistmaker hides is hidden
        world.outdir = outside / "out"
        gamma = GitRepository(outside / "gamma")
        files = pyproject_setuptools_project("gamma", "1.0")  # an environment of its own
        files["setup.py"] = f"print('internal: {SECRET}')\nfrom setuptools import setup\nsetup()\n"
        gamma.commit(files)
        gamma.tag("1.0")
        gamma.git("checkout", "-q", "-b", "unreleased")
        gamma.commit({"plans.txt": f"unreleased plans: {SECRET}\n"})
        defaults = world.defaults(GIT_REPOSITORIES=[world.git.url, gamma.url])
        published = world.run(defaults)
        assert (published.code, published.output) == (0, ""), published.output
        plans = gamma.root / "plans.txt"
        world.svn.tag(
            "libs/alpha",
            "1.1",
            {"setup.py": HUNTING.format(outdir=str(world.outdir), plans=str(plans))},
        )
        yield Expect(0, [], defaults)
        assert "alpha/alpha-1.1.tar.gz" in distributions(world.outdir)
        log = world.log("alpha", "1.1").read_text()
        unseen = [
            "a repository on this machine",
            "other build environments",
            "other tags' logs",
            "the git mirrors",
            "the state",
        ]
        assert f"UNSEEN {unseen}" in log
        written = [world.log("alpha", "1.1"), *(world.outdir / "alpha").iterdir()]
        assert not [path for path in written if SECRET.encode() in path.read_bytes()]


SEEKING = """\
import os, pathlib
texts = list(os.environ.values())
for environ in pathlib.Path("/proc").glob("[0-9]*/environ"):
    try:
        texts += environ.read_bytes().decode(errors="replace").split("\\0")
    except OSError:
        pass
found = sorted({{text.replace("\\n", " ") for text in texts if {marker!r} in text}})
from setuptools import setup
setup(name="alpha", version="1.1", description=" | ".join(found))
"""


@bad_input
def build_seeking_secrets_under_any_name(world: World) -> Arranged:
    """Secrets a service keeps in its environment under names no list of secret-looking names
    foresees: a signing key, a CI job's token, a webhook whose URL is its secret, an ssh key, a
    database's password under its tool's own name. A tag looks for them in its environment and
    sdistmaker's (/proc) and publishes what it finds: it finds none."""
    require("bwrap")
    world.publish()
    secrets = {
        "RELEASE_SIGNING_KEY": f"-----BEGIN PGP PRIVATE KEY BLOCK----- {SECRET}",
        "CI_JOB_TOKEN": SECRET,
        "DEPLOY_NOTIFICATIONS": f"https://hooks.slack.com/services/T000/B000/{SECRET}",
        "DEPLOY_SSH_KEY": f"-----BEGIN OPENSSH PRIVATE KEY-----\n{SECRET}\n-----END",
        "MYSQL_PWD": SECRET,
        "PGPASSWORD": SECRET,
        "LDAP_BIND_PW": SECRET,
    }
    world.svn.tag("libs/alpha", "1.1", {"setup.py": SEEKING.format(marker=SECRET)})
    yield Expect(0, [], env=secrets)
    assert "alpha/alpha-1.1.tar.gz" in distributions(world.outdir)
    written = [p for p in world.outdir.rglob("*") if p.is_file()]
    assert not [p for p in written if SECRET.encode() in p.read_bytes()]


ONLY_FOR_ROOT = """\
import os
from setuptools import setup
found, unread = [], []
for path in ["/etc/shadow", {key!r}]:
    try:
        found.append(open(path).read().replace("\\n", " "))
    except OSError:
        unread.append(path)
print("UNREAD", unread)
setup(name="alpha", version="1.1", description=" | ".join(found))
"""


@bad_input
def build_reading_files_only_root_may_read(world: World) -> Arranged:
    """sdistmaker runs as root (as in many a container): the tag's code runs as nobody, who
    reads neither /etc/shadow nor another service's key, kept by its permissions alone. The
    tag builds all the same, its wheel too."""
    require("bwrap")
    with unhidden_folder() as outside:
        outside.chmod(0o755)
        key = outside / "service.key"
        key.write_text(f"-----BEGIN PRIVATE KEY----- {SECRET}\n")
        key.chmod(0o600)
        world.publish()
        world.svn.tag("libs/alpha", "1.1", {"setup.py": ONLY_FOR_ROOT.format(key=str(key))})
        yield Expect(0, [], world.defaults(WHEELS=True))
    built = distributions(world.outdir)
    assert {"alpha/alpha-1.1-py3-none-any.whl", "alpha/alpha-1.1.tar.gz"} <= set(built)
    assert f"UNREAD ['/etc/shadow', '{key}']" in world.log("alpha", "1.1").read_text()
    # What it published and printed: the sdist and wheel with their metadata, its log.
    written = [world.log("alpha", "1.1"), *(world.outdir / "alpha").glob("alpha-1.1*")]
    assert not [
        p for p in written if SECRET.encode() in p.read_bytes() or b"root:" in p.read_bytes()
    ]


@bad_input
def building_as_root_where_no_sandbox_can_be_made(world: World) -> Arranged:
    """Root without bubblewrap (or setpriv): no tag's code runs, as root or as anyone. The run
    says so once, in one line (status 1), builds nothing and records no tag as failed; once a
    sandbox can be made, the next run builds what was waiting."""
    require_root()
    world.publish()
    ran = world.root / "ran"
    marking = f"try:\n    open({str(ran)!r}, 'a').close()\nexcept OSError:\n    pass\n"
    setup_py = marking + setup_py_project("alpha", "1.1")["setup.py"]
    world.svn.tag("libs/alpha", "1.1", {"setup.py": setup_py})
    without = {"PATH": tools_but_bubblewrap(world.root / "bin")}
    yield Expect(1, ["failed building: " + re.escape(REFUSED_AS_ROOT)], env=without)
    assert not ran.exists()
    assert "alpha/alpha-1.1.tar.gz" not in distributions(world.outdir)
    again = world.run(env=without)
    assert (again.code, again.output) == (0, "")  # said once
    require("bwrap")
    sandboxed = world.run()
    assert (sandboxed.code, sandboxed.output) == (0, "")
    assert "alpha/alpha-1.1.tar.gz" in distributions(world.outdir)
    assert not ran.exists()  # the sandbox: its folder is the only one it writes to


# Build requirements: installed before the build, outside the sandbox, within its deadline; so
# only from the index, only as wheels, and running nothing of theirs. What the index offers goes
# in a folder of links: an administrator's BUILD_ENVIRONMENT names it as it names an index.


def project_requiring(name: str, version: str, requirement: str) -> dict[str, str]:
    """A setuptools project whose build needs ``requirement`` too."""
    files = pyproject_setuptools_project(name, version)
    needs = f'"setuptools>=61", {json.dumps(requirement)}'
    files["pyproject.toml"] = files["pyproject.toml"].replace('"setuptools>=61"', needs)
    return files


@bad_input
def build_requirements_install_hanging_past_build_timeout(world: World) -> Arranged:
    """An index that never answers: the install is part of the build, killed at BUILD_TIMEOUT
    and recorded as the tag's failure, so the next run neither waits nor says it again."""
    world.publish()
    world.svn.tag("libs/alpha", "1.1", project_requiring("alpha", "1.1", "acme-build-helper"))
    with silent_index() as index:
        defaults = world.defaults(
            BUILD_TIMEOUT=2, BUILD_ENVIRONMENT={"UV_INDEX_URL": index, "PIP_INDEX_URL": index}
        )
        reason = (
            r"build requirements \['acme-build-helper', 'setuptools>=61'\] timed out while being "
            r"installed, process tree killed"
        )
        url = world.svn_tag_url("alpha", "1.1")
        result = yield Expect(1, [world.fails("alpha", "1.1", url, reason)], defaults)
    assert result.seconds < QUICK
    again = world.run(defaults)
    assert (again.code, again.output) == (0, "")
    assert again.seconds < QUICK


def escaping_setup_py(name: str, canary: Path) -> str:
    """A setup.py that writes ``canary`` when anything runs it."""
    return (
        "from pathlib import Path\nfrom setuptools import setup\n"
        f"Path({str(canary)!r}).write_text('run outside the sandbox')\n"
        f"setup(name={name!r}, version='1.0')\n"
    )


@bad_input
def build_requirements_that_would_run_code_when_installed(world: World) -> Arranged:
    """An sdist (only) on the index, a direct reference to a folder: installing either runs its
    setup.py, so neither is installed. A wheel on the index is, and its ``.pth`` file (code each
    start of the environment's Python runs) runs only in the sandbox, with the build."""
    require("bwrap")
    world.publish()
    canaries = {kind: world.root / f"ESCAPED-{kind}" for kind in ("sdist", "direct", "pth")}
    links = world.root / "links"
    links.mkdir()
    unpacked = world.root / "unpacked" / "sdistmaker_test_escape_sdist-1.0"
    write_tree(
        unpacked,
        {
            "setup.py": escaping_setup_py("sdistmaker-test-escape-sdist", canaries["sdist"]),
            "PKG-INFO": "Metadata-Version: 1.0\nName: sdistmaker-test-escape-sdist\nVersion: 1.0\n",
        },
    )
    with tarfile.open(links / f"{unpacked.name}.tar.gz", "w:gz") as archive:
        archive.add(unpacked, unpacked.name)
    pth = f"import pathlib; pathlib.Path({str(canaries['pth'])!r}).write_text('run')\n"
    make_wheel(links, "sdistmaker-test-escape-pth", "1.0", extra_files={"escape.pth": pth})
    direct = world.root / "direct"
    write_tree(direct, {"setup.py": escaping_setup_py("escape-direct", canaries["direct"])})
    reference = f"escape-direct @ {direct.as_uri()}"

    world.svn.tag(
        "libs/alpha", "1.1", project_requiring("alpha", "1.1", "sdistmaker-test-escape-sdist")
    )
    world.svn.add_project(
        "libs/gamma", project_requiring("gamma", "1.0", "sdistmaker-test-escape-pth")
    )
    world.svn.tag("libs/gamma", "1.0")
    world.git.commit(project_requiring("beta", "1.1", reference))
    world.git.tag("1.1")
    not_a_wheel = r"could not install the build requirements \[.*'sdistmaker-test-escape-sdist'.*\]"
    direct_reference = (
        re.escape(f"build requirement {reference!r} is a direct reference (URL or path): ")
        + "build requirements are installed only from the index, as wheels"
    )
    index = {"UV_FIND_LINKS": str(links), "PIP_FIND_LINKS": str(links)}
    yield Expect(
        1,
        [
            world.fails("alpha", "1.1", world.svn_tag_url("alpha", "1.1"), not_a_wheel + ".*"),
            world.fails("beta", "1.1", f"git+{world.git.url}@1.1", direct_reference),
        ],
        world.defaults(BUILD_ENVIRONMENT=index),
    )
    assert [kind for kind, canary in canaries.items() if canary.exists()] == []
    assert "gamma/gamma-1.0.tar.gz" in distributions(world.outdir)


PLUGIN = "acme-build-plugin"
USING_PLUGIN = """\
import acme_build_plugin
print("built with the plugin", acme_build_plugin.VERSION)
from setuptools import setup
setup()
"""


@bad_input
def build_requirement_of_a_private_name_from_a_public_index(world: World) -> Arranged:
    """An in-house build plugin, provided as README advises: a wheel in a folder of find-links.
    Someone published a higher version of its name on an index the builds use, and a public
    package needing it. A tag requiring it, and one requiring that package: neither is built
    with it (each fails in one line, naming where it would have come from, and no environment
    holding it is kept). Once the plugin is published here (a project built with WHEELS), they
    are built with it, from here."""
    world.publish()
    links = world.root / "links"
    links.mkdir()
    make_wheel(links, PLUGIN, "1.0")
    public = world.root / "public"
    public.mkdir()
    wheels = {
        PLUGIN: [make_wheel(public, PLUGIN, "9.0")],
        "sdistmaker-test-wrapper": [
            make_wheel(public, "sdistmaker-test-wrapper", "1.0", requires=(PLUGIN,))
        ],
    }
    alpha = project_requiring("alpha", "1.1", PLUGIN)
    world.svn.tag("libs/alpha", "1.1", {**alpha, "setup.py": USING_PLUGIN})
    world.git.commit(
        {**project_requiring("beta", "1.1", "sdistmaker-test-wrapper"), "setup.py": USING_PLUGIN}
    )
    world.git.tag("1.1")
    with upstream_index(wheels) as index:
        places = {"FIND_LINKS": str(links), "EXTRA_INDEX_URL": index}
        environment = {f"{tool}_{name}": v for name, v in places.items() for tool in ("UV", "PIP")}
        defaults = world.defaults(
            PRIVATE_NAMES=["acme-*"], WHEELS=True, BUILD_ENVIRONMENT=environment
        )
        refused = re.escape(
            f"build requirement {PLUGIN} 9.0 is a private name (PRIVATE_NAMES, or a project of "
            f"this index) but would come from {index}/{PLUGIN}/"
            "acme_build_plugin-9.0-py3-none-any.whl: only OUTDIR and the find-links may provide it"
        )
        alpha_url = world.svn_tag_url("alpha", "1.1")
        yield Expect(
            1,
            [
                world.fails("alpha", "1.1", alpha_url, refused),
                world.fails("beta", "1.1", f"git+{world.git.url}@1.1", refused),
            ],
            defaults,
        )
        environments = world.outdir / ".sdistmaker" / "environments"
        assert not list(environments.glob("*/lib/python*/site-packages/acme_build_plugin*"))
        plugin = {
            "setup.py": "from setuptools import setup\n"
            f"setup(name={PLUGIN!r}, version='1.0', packages=['acme_build_plugin'])\n",
            "acme_build_plugin/__init__.py": "VERSION = 'built here'\n",
        }
        world.svn.add_project(f"libs/{PLUGIN}", plugin)
        world.svn.tag(f"libs/{PLUGIN}", "1.0")
        assert world.run(defaults).code == 0
        assert f"{PLUGIN}/acme_build_plugin-1.0-py3-none-any.whl" in distributions(world.outdir)
        retried = world.run(defaults, options=("--retry-failed",))
    assert (retried.code, retried.output) == (0, "")
    for project in ("alpha", "beta"):
        assert "built with the plugin built here" in world.log(project, "1.1").read_text()


WAITING = """\
import os, socket
with socket.create_connection(("127.0.0.1", int(os.environ["MEETING"])), timeout=60) as s:
    s.sendall(b"here")
    assert s.recv(2) == b"go"
from setuptools import setup
setup(name="alpha", version="1.1")
"""


@bad_input
def tag_deleted_between_crawl_and_export(world: World) -> Arranged:
    """A tag the crawl saw is built as it was then (svn: its revision; git: its commit, in the
    mirror), though deleted meanwhile; the published files stay after it is gone."""
    world.publish()
    world.svn.tag("libs/alpha", "1.1", {"setup.py": WAITING})
    world.svn.tag("libs/alpha", "1.2", setup_py_project("alpha", "1.2"))
    world.git.commit(setup_py_project("beta", "1.2"))
    world.git.tag("1.2")
    deleted = threading.Event()

    def delete_tags_when_called() -> None:
        # Builds go one at a time (JOBS = 1) in crawl order: alpha 1.1 waits here while the
        # tags after it, already crawled, are deleted.
        with contextlib.suppress(OSError):
            while True:
                connection, _ = server.accept()
                with connection:
                    connection.recv(4)
                    if not deleted.is_set():
                        world.svn.delete("libs/alpha/tags/1.2")
                        world.git.git("tag", "-d", "1.2")
                        deleted.set()
                    connection.sendall(b"go")

    server = socket.create_server(("127.0.0.1", 0))
    thread = threading.Thread(target=delete_tags_when_called, daemon=True)
    thread.start()
    meeting = {"MEETING": str(server.getsockname()[1])}
    try:
        yield Expect(0, [], world.defaults(JOBS=1, BUILD_ENVIRONMENT=meeting))
    finally:
        server.close()
    assert deleted.is_set()
    expected = [
        "alpha/alpha-1.0.tar.gz",
        "alpha/alpha-1.1.tar.gz",
        "alpha/alpha-1.2.tar.gz",
        "beta/beta-1.0.tar.gz",
        "beta/beta-1.2.tar.gz",
    ]
    assert distributions(world.outdir) == expected
    assert world.run().code == 0
    assert distributions(world.outdir) == expected


# The machine: its disk, its locks, what sdistmaker keeps.


@bad_input
def disk_full_while_writing(world: World) -> Arranged:
    """Stops the run in one line naming the path; not the tag's failure: once there is room
    again, the next run publishes it."""
    world.outdir.mkdir()
    # Room for the build environment (kept in OUTDIR) and a few pages.
    with small_disk(world.outdir, "48m"):
        world.publish()
        world.svn.tag("libs/alpha", "1.1", setup_py_project("alpha", "1.1"))
        filler = world.outdir / ".sdistmaker" / "filler"
        fill(filler)
        assert shutil.disk_usage(world.outdir).free == 0
        yield Expect(
            1, [rf"{re.escape(str(world.outdir))}(/.*)?: cannot write: No space left on device"]
        )
        filler.unlink()
        assert world.run().code == 0
        assert "alpha/alpha-1.1.tar.gz" in distributions(world.outdir)


@bad_input
def outdir_on_a_read_only_mount(world: World) -> Arranged:
    """Status 1, as for any run that could not do its work (2 is for a wrong defaults file, and
    this one is right): the disk must be fixed, and the next run then does the work."""
    world.publish()
    world.svn.tag("libs/alpha", "1.1", setup_py_project("alpha", "1.1"))
    with read_only(world.outdir):
        yield Expect(1, [re.escape(f"{world.outdir}: cannot lock OUTDIR: Read-only file system")])
    assert world.run().code == 0
    assert "alpha/alpha-1.1.tar.gz" in distributions(world.outdir)


@bad_input
def new_outdir_on_a_read_only_mount(world: World) -> Arranged:
    world.publish()
    fresh = world.root / "fresh"
    fresh.mkdir()
    with read_only(fresh):
        line = f"{fresh}: cannot create OUTDIR: Read-only file system"
        yield Expect(1, [re.escape(line)], world.defaults(OUTDIR="fresh"))


@bad_input
def run_under_a_umask_that_hides_everything(world: World) -> Arranged:
    """umask 077 (a hardened account's cron): every folder a run makes to be served (OUTDIR, a
    project's, a placeholder's, the pages for people's) is readable and searchable by other
    users all the same, as the files are: a web server runs as a user of its own. Only
    sdistmaker's own folder stays as the umask makes it."""
    world.svn.mkdir("libs/gamma/trunk")  # crawled, nothing tagged: a placeholder
    yield Expect(0, umask=0o077)
    served = [world.outdir, *(world.outdir / name for name in ("alpha", "beta", "gamma", "+"))]
    assert [oct(folder.stat().st_mode & 0o777) for folder in served] == ["0o755"] * 5
    files = [path for path in world.outdir.rglob("*") if ".sdistmaker" not in path.parts]
    assert {oct(path.stat().st_mode & 0o777) for path in files if path.is_file()} == {"0o644"}
    assert (world.outdir / ".sdistmaker").stat().st_mode & 0o777 == 0o700


@bad_input
def outdir_hidden_from_other_users(world: World) -> Arranged:
    """OUTDIR's parent lets no other user through (0700): a web server, running as a user of its
    own, sees none of it. A run says so as loud as a new failure the first time, quiet or not
    (cron mails it), then only as a warning while it stays so; nothing failed: status 0. Said
    again once it happens again."""
    world.publish()
    world.root.chmod(0o700)
    line = f"{world.outdir} is hidden from other users (a web server): {world.root} lacks o+x"
    yield Expect(0, [re.escape(line)])
    assert (world.run().code, world.run().output) == (0, "")
    assert world.run(quiet=False).lines[0] == line
    world.root.chmod(0o755)
    world.outdir.chmod(0o711)
    listed = f"{world.outdir} is hidden from other users (a web server): it lacks o+r"
    assert world.run().lines == [listed]
    world.outdir.chmod(0o755)
    assert world.run().output == ""
    world.root.chmod(0o700)
    assert world.run().lines == [line]
    world.root.chmod(0o755)


@bad_input
def lock_left_by_a_killed_run(world: World) -> Arranged:
    """The kernel frees a lock with its holder: the next run takes it and does the work."""
    world.publish()
    world.svn.tag("libs/alpha", "1.1", setup_py_project("alpha", "1.1"))
    holder = hold_lock(world.outdir, 60)
    os.kill(holder.pid, signal.SIGKILL)
    holder.wait()
    yield Expect(0)
    assert "alpha/alpha-1.1.tar.gz" in distributions(world.outdir)


@bad_input
def lock_held_by_a_run_that_hangs(world: World) -> Arranged:
    """Every step of a run has a deadline: a run holding the lock that has not got on for
    longer than its longest step is stuck. While it holds the lock the index stays as it is,
    so every run that finds it so says it, quiet or not, naming it."""
    world.publish()
    holder = hold_lock(world.outdir, 60)
    try:
        two_hours_ago = time.time() - 2 * 3600
        os.utime(world.outdir / ".sdistmaker" / "lock-holder.json", (two_hours_ago,) * 2)
        line = (
            rf"{re.escape(str(world.outdir))}: another sdistmaker run holds the lock "
            rf"\(pid {holder.pid}, since \S+Z: -c .*\) and has not got on for 2 h 0 min: "
            "it may hang"
        )
        yield Expect(1, [line])
    finally:
        holder.kill()
        holder.wait()


@bad_input
def lock_held_by_a_run_that_gets_on(world: World) -> Arranged:
    """Runs overlap freely: the run holding the lock does the work, the other leaves quietly."""
    world.publish()
    holder = hold_lock(world.outdir, 60)
    try:
        yield Expect(0)
    finally:
        holder.kill()
        holder.wait()


@bad_input
def state_file_damaged(world: World) -> Arranged:
    """What was built is no longer known for sure: the run stops before it builds anything
    twice or publishes over a file, and says which file to look at."""
    world.publish()
    state = world.outdir / ".sdistmaker" / "state.json"
    state.write_text(state.read_text()[:100])
    yield Expect(1, [rf"{re.escape(str(state))}: unreadable state: .*"], index_intact=False)


@bad_input
def state_file_of_the_wrong_shape(world: World) -> Arranged:
    """Valid JSON that is not what runs write (here a tag's record is a number) is as damaged
    as half a file: the run stops the same way, saying what is wrong, and leaves it as it is."""
    world.publish()
    world.svn.tag("libs/alpha", "1.1", setup_py_project("alpha", "1.1"))
    state = world.outdir / ".sdistmaker" / "state.json"
    data = json.loads(state.read_text())
    key = f"svn:{world.svn_tag_url('alpha', '1.0')}"
    data["tags"][key] = 5
    state.write_text(json.dumps(data))
    damaged = state.read_bytes()
    line = f"{state}: unreadable state: tags[{json.dumps(key)}] must be an object, not 5"
    yield Expect(1, [re.escape(line)], index_intact=False)
    assert state.read_bytes() == damaged
    assert "alpha/alpha-1.1.tar.gz" not in distributions(world.outdir)


@bad_input
def state_file_lost_while_another_repository_builds_a_published_name(world: World) -> Arranged:
    """Without its state, a run knows nothing it built: it builds every tag again (each
    published file is kept, and recorded anew). A repository crawled before beta's, building
    beta too, does not get the name: beta's folder says who publishes it."""
    world.publish()
    (world.outdir / ".sdistmaker" / "state.json").unlink()
    world.svn.add_project("libs/intruder", setup_py_project("beta", "9.9"))
    world.svn.tag("libs/intruder", "9.9")
    url = world.svn_tag_url("intruder", "9.9")
    reason = (
        f"distribution beta is already published from git:{world.git.url}#, "
        f"not from svn:{world.svn.url}/libs/intruder"
    )
    yield Expect(1, [world.fails("intruder", "9.9", url, re.escape(reason))])
    assert distributions(world.outdir) == ["alpha/alpha-1.0.tar.gz", "beta/beta-1.0.tar.gz"]
    world.git.commit(setup_py_project("beta", "1.1"))
    world.git.tag("1.1")
    assert world.run().code == 0
    assert "beta/beta-1.1.tar.gz" in distributions(world.outdir)


@bad_input
def folders_from_before_records_then_the_state_lost(world: World) -> Arranged:
    """An OUTDIR from a version of sdistmaker that kept no record in its folders gets them from
    its state, once, before the state can be lost; a folder whose files no record and no
    state speak for is given to no repository."""
    world.publish()
    for record in world.outdir.glob("*/.sdistmaker-published.json"):
        record.unlink()
    state = world.outdir / ".sdistmaker" / "state.json"
    data = json.loads(state.read_text())
    del data["folders_recorded"]
    state.write_text(json.dumps(data))
    assert world.run().code == 0
    state.unlink()
    (world.outdir / "gamma").mkdir()
    with tarfile.open(world.outdir / "gamma" / "gamma-1.0.tar.gz", "w:gz") as by_hand:
        metadata = b"Metadata-Version: 2.1\nName: gamma\nVersion: 1.0\n"
        member = tarfile.TarInfo("gamma-1.0/PKG-INFO")
        member.size = len(metadata)
        by_hand.addfile(member, io.BytesIO(metadata))
    world.svn.add_project("libs/intruder", setup_py_project("beta", "9.9"))
    world.svn.tag("libs/intruder", "9.9")
    world.svn.add_project("libs/gamma", setup_py_project("gamma", "2.0"))
    world.svn.tag("libs/gamma", "2.0")
    lines = []
    for project, tag, reason in [
        (
            "gamma",
            "2.0",
            f"distribution gamma is published already, but neither the state nor "
            f"{world.outdir}/gamma/.sdistmaker-published.json says from which project: "
            f"not from svn:{world.svn.url}/libs/gamma",
        ),
        (
            "intruder",
            "9.9",
            f"distribution beta is already published from git:{world.git.url}#, "
            f"not from svn:{world.svn.url}/libs/intruder",
        ),
    ]:
        url = world.svn_tag_url(project, tag)
        lines.append(world.fails(project, tag, url, re.escape(reason)))
    yield Expect(1, lines)
    assert "beta/beta-9.9.tar.gz" not in distributions(world.outdir)
    assert "gamma/gamma-2.0.tar.gz" not in distributions(world.outdir)


def upload_times(outdir: Path) -> dict[str, str]:
    """Each file's upload time, as installers read it (PEP 700)."""
    times = {}
    for page in outdir.glob("*/index.json"):
        for file in json.loads(page.read_text())["files"]:
            times[file["filename"]] = file["upload-time"]
    return times


@bad_input
def outdir_restored_from_a_backup(world: World) -> Arranged:
    """A restore gives every file a new time (as ``cp -r`` does), and drops what the index
    remembers: the upload time installers see (uv's ``--exclude-newer``) stays the time each
    file was published."""
    world.publish()
    before = upload_times(world.outdir)
    assert len(before) == 2
    restored = time.time() + 7 * 24 * 3600
    for path in world.outdir.rglob("*"):
        os.utime(path, (restored, restored), follow_symlinks=False)
    shutil.rmtree(world.outdir / ".sdistmaker" / "index")
    yield Expect(0)
    assert upload_times(world.outdir) == before


MAKING_A_MIRROR = """\
import fcntl, os, sys, time
lock, temporary, seconds, report = sys.argv[1:]
with open(lock, "a") as held:
    fcntl.flock(held, fcntl.LOCK_EX)
    os.mkdir(temporary)
    print("making", flush=True)
    time.sleep(float(seconds))
    with open(report, "w") as written:
        written.write("intact" if os.path.isdir(temporary) else "removed")
    os.rmdir(temporary)
"""


@bad_input
def git_mirrors_shared_with_a_run_for_another_outdir(world: World) -> Arranged:
    """An admin links the folder of git mirrors of two OUTDIRs together: while the run for the
    other OUTDIR makes a mirror anew, this run neither removes what it is making nor fetches
    into that mirror; it waits, then reads it."""
    world.publish()
    mirrors = world.outdir / ".sdistmaker" / "git"
    shared = world.root / "shared-mirrors"
    mirrors.rename(shared)
    mirrors.symlink_to(shared)
    [mirror] = shared.glob("*.git")
    temporary = shared / f".sdistmaker-tmp-{mirror.name}-x1y2z3"
    report = world.root / "report"
    world.git.commit(setup_py_project("beta", "1.1"))
    world.git.tag("1.1")
    arguments = [str(shared / f"{mirror.name}.lock"), str(temporary), "3", str(report)]
    other = subprocess.Popen(
        [sys.executable, "-c", MAKING_A_MIRROR, *arguments], stdout=subprocess.PIPE, text=True
    )
    assert other.stdout is not None and other.stdout.readline() == "making\n"
    yield Expect(0)
    assert other.wait(10) == 0
    assert report.read_text() == "intact"
    assert "beta/beta-1.1.tar.gz" in distributions(world.outdir)


@bad_input
def git_mirror_damaged(world: World) -> Arranged:
    """A git mirror is sdistmaker's own copy: one that git no longer takes for a repository is
    made anew in the run, which builds what is new in it (a run as cron starts it says nothing
    of that: nothing is for anyone to do), and the runs after it go on as ever."""
    world.publish()
    [mirror] = (world.outdir / ".sdistmaker" / "git").glob("*.git")
    shutil.rmtree(mirror / "objects")
    world.git.commit(setup_py_project("beta", "1.1"))
    world.git.tag("1.1")
    yield Expect(0)
    assert "beta/beta-1.1.tar.gz" in distributions(world.outdir)
    kept = (world.outdir / ".sdistmaker" / "git").iterdir()
    assert [path for path in kept if path.suffix != ".lock"] == [mirror]
    world.git.commit(setup_py_project("beta", "1.2"))
    world.git.tag("1.2")
    after = world.run()
    assert (after.code, after.output) == (0, "")
    assert "beta/beta-1.2.tar.gz" in distributions(world.outdir)


def own_template(world: World, name: str, text: str) -> tuple[Path, Path]:
    """After the releases are published and alpha 1.1 is tagged, a template of one's own in
    TEMPLATES: its path, and the defaults file that names its folder."""
    world.publish()
    world.svn.tag("libs/alpha", "1.1", setup_py_project("alpha", "1.1"))
    template = world.root / "templates" / name
    template.parent.mkdir(parents=True)
    template.write_text(text)
    return template, world.defaults(TEMPLATES=str(world.root / "templates"))


@bad_input
def template_with_a_syntax_error(world: World) -> Arranged:
    """A template in TEMPLATES that does not compile is a wrong setting, found before anything
    is built (status 2, its file and line); once it is mended, the next run builds and renders."""
    root, defaults = own_template(world, "simple/root.html", "<!DOCTYPE html>\n{% for x in %}\n")
    syntax_error = f"{root}:2: syntax error: Expected an expression, got 'end of statement block'"
    yield Expect(2, [re.escape(syntax_error)], defaults)
    assert "alpha/alpha-1.1.tar.gz" not in distributions(world.outdir)
    root.unlink()
    assert world.run(defaults).code == 0
    assert "alpha/alpha-1.1.tar.gz" in distributions(world.outdir)
    assert "alpha-1.1.tar.gz" in (world.outdir / "alpha" / "index.html").read_text()


@bad_input
def template_failing_while_rendering(world: World) -> Arranged:
    """A template that fails only while rendering fails the run (status 1, its file and line);
    what the run built stays published and recorded, and the next run after the template is
    mended renders the pages this one could not."""
    row, defaults = own_template(
        world, "browse/row.html", "<tr>\n<td>{{ project.name }} {{ 1/0 }}</td></tr>\n"
    )
    yield Expect(1, [re.escape(f"{row}:2: ZeroDivisionError: division by zero")], defaults)
    assert "alpha/alpha-1.1.tar.gz" in distributions(world.outdir)
    state = json.loads((world.outdir / ".sdistmaker" / "state.json").read_text())
    assert state["tags"][f"svn:{world.svn_tag_url('alpha', '1.1')}"]["status"] == "built"
    assert "alpha-1.1.tar.gz" not in (world.outdir / "+" / "alpha.html").read_text()
    row.write_text("<tr><td>{{ project.name }}</td></tr>\n")
    mended = world.run(defaults)
    assert (mended.code, mended.output) == (0, "")
    assert "alpha-1.1.tar.gz" in (world.outdir / "alpha" / "index.html").read_text()
    assert "alpha-1.1.tar.gz" in (world.outdir / "+" / "alpha.html").read_text()

"""Bad inputs end to end: repositories that ask for a password, tag names made to trick a shell,
an OUTDIR on a full or read-only disk, a distribution renamed between tags.

The rule for each: one line naming the culprit, the documented exit status, no traceback, no
prompt, no hang, and nothing already published lost or changed. Every run is a real process,
with stdin at /dev/null and no terminal, as under cron.
"""

from __future__ import annotations

import contextlib
import http.server
import json
import os
import shutil
import subprocess
import sys
import tempfile
import time
import uuid
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

from conftest import (
    IN_CI,
    GitRepository,
    SvnRepository,
    require,
    setup_py_project,
    write_defaults,
)
from sdistmaker.distributions import is_distribution
from servers import free_port, http_server, wait_for

MakeGit = Callable[[str], GitRepository]
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


def run(defaults: Path, env: dict[str, str] | None = None, cwd: Path | None = None) -> Result:
    """One quiet run (-q: only what failed for the first time), as cron starts it: stdin at
    /dev/null and a session of its own, so there is no terminal to prompt on."""
    started = time.monotonic()
    finished = subprocess.run(
        [COMMAND, "-q", "-d", str(defaults)],
        stdin=subprocess.DEVNULL,
        capture_output=True,
        text=True,
        timeout=60,  # a hang fails the test instead of stopping the suite
        env=env,
        cwd=cwd,
        start_new_session=True,
    )
    output = finished.stdout + finished.stderr
    assert "Traceback" not in output, output
    return Result(finished.returncode, output, time.monotonic() - started)


def published(outdir: Path) -> list[str]:
    """The distribution files in OUTDIR (not its pages, nor sdistmaker's own folder)."""
    return sorted(
        str(p.relative_to(outdir))
        for p in outdir.rglob("*")
        if is_distribution(p.name) and ".sdistmaker" not in p.parts
    )


def public_tree(outdir: Path) -> dict[str, bytes]:
    """Every file a web server serves from OUTDIR, with its content."""
    return {
        str(p.relative_to(outdir)): p.read_bytes()
        for p in sorted(outdir.rglob("*"))
        if p.is_file() and ".sdistmaker" not in p.relative_to(outdir).parts
    }


def page(outdir: Path, project: str) -> dict[str, object]:
    data: dict[str, object] = json.loads((outdir / project / "index.json").read_text())
    return data


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


def test_an_svn_base_that_asks_for_a_password_fails_at_once_in_one_line_naming_it(
    svnserve: str, tmp_path: Path
) -> None:
    defaults = write_defaults(tmp_path, BASE=svnserve, OUTDIR="out")
    result = run(defaults)
    assert result.code == 1
    [line] = result.lines
    assert line.startswith(f"failed reading: {svnserve}: svn: E"), line
    assert result.seconds < QUICK
    assert not [prompt for prompt in PROMPTS if prompt in result.output]
    assert SECRET not in result.output
    # Reported once: the next run, still refused, leaves cron nothing to mail.
    assert run(defaults).code == 0


def test_a_git_repository_that_asks_for_a_password_fails_at_once_in_one_line_naming_it(
    password_server: str, tmp_path: Path
) -> None:
    url = f"http://{password_server}/acme/private.git"
    defaults = write_defaults(tmp_path, GIT_REPOSITORIES=[url], OUTDIR="out")
    result = run(defaults)
    assert result.code == 1
    [line] = result.lines
    # Says why, not only where: git's own last line, not an empty message.
    assert line.startswith(f"failed reading: {url}: fatal: Authentication failed"), line
    assert result.seconds < QUICK
    assert not [prompt for prompt in PROMPTS if prompt in result.output]


def test_a_refused_password_in_a_git_url_shows_neither_in_the_output_nor_in_outdir(
    password_server: str, tmp_path: Path
) -> None:
    url = f"http://builder:{SECRET}@{password_server}/acme/private.git"
    defaults = write_defaults(tmp_path, GIT_REPOSITORIES=[url], OUTDIR="out")
    result = run(defaults)
    assert result.code == 1
    [line] = result.lines
    public = f"http://builder@{password_server}/acme/private.git"
    assert line.startswith(f"failed reading: {public}: fatal: Authentication failed"), line
    assert SECRET not in result.output
    state = (tmp_path / "out" / ".sdistmaker" / "state.json").read_text()
    assert public in state
    written = [p for p in (tmp_path / "out").rglob("*") if p.is_file()]
    assert not [p for p in written if SECRET.encode() in p.read_bytes()]


# Tag names that would run a command if any of them reached a shell. Those that hold no
# version are skipped, as every such tag is; the last of each list holds one (1.4) and is built.
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


def test_tag_names_with_shell_metacharacters_run_nothing_and_the_release_tags_beside_them_build(
    svn_repository: SvnRepository, make_git: MakeGit, tmp_path: Path
) -> None:
    svn_repository.add_project("shell-svn", setup_py_project("shell-svn", "1.3"))
    svn_repository.tag("shell-svn", "1.3")
    for name in SVN_TAGS[:-1]:
        svn_repository.tag("shell-svn", name)
    svn_repository.tag("shell-svn", SVN_TAGS[-1], setup_py_project("shell-svn", "1.4"))
    repo = make_git("shell-git")
    repo.commit(setup_py_project("shell-git", "1.3"))
    repo.tag("1.3")
    for name in GIT_TAGS[:-1]:
        repo.tag(name)
    repo.commit(setup_py_project("shell-git", "1.4"))
    repo.tag(GIT_TAGS[-1])
    defaults = write_defaults(
        tmp_path, BASE=svn_repository.url, GIT_REPOSITORIES=[repo.url], OUTDIR="out"
    )
    (tmp_path / "cwd").mkdir()
    (tmp_path / "tmp").mkdir()
    canary = tmp_path / "PWNED"
    environment = {**os.environ, "TMPDIR": str(tmp_path / "tmp"), "CANARY": str(canary)}

    result = run(defaults, env=environment, cwd=tmp_path / "cwd")
    assert result.code == 0, result.output
    assert result.lines == []
    # tmp_path holds the run's working folder, OUTDIR and temporary folder.
    assert list(tmp_path.rglob("PWNED")) == []
    assert not (Path.cwd() / "PWNED").exists()
    assert not (Path(tempfile.gettempdir()) / "PWNED").exists()
    outdir = tmp_path / "out"
    assert published(outdir) == [
        "shell-git/shell_git-1.3.tar.gz",
        "shell-git/shell_git-1.4.tar.gz",
        "shell-svn/shell_svn-1.3.tar.gz",
        "shell-svn/shell_svn-1.4.tar.gz",
    ]
    state = json.loads((outdir / ".sdistmaker" / "state.json").read_text())
    recorded = sorted(record["name"] for record in state["tags"].values())
    assert recorded == sorted(["1.3", "1.3", SVN_TAGS[-1], GIT_TAGS[-1]])
    assert list((tmp_path / "tmp").iterdir()) == []


# OUTDIR on a disk that is full, or mounted read-only. The tests run as root in CI and mount.


def _mount(*arguments: str) -> None:
    """Mount, or skip where that is not allowed (not root, no CAP_SYS_ADMIN); in CI, fail."""
    require("mount")
    result = subprocess.run(["mount", *arguments], capture_output=True, text=True)
    if result.returncode:
        reason = f"cannot mount here ({result.stderr.strip()})"
        if IN_CI:
            pytest.fail(f"{reason}; CI must run these tests as root, allowed to mount")
        pytest.skip(reason)


def _unmount(folder: Path) -> None:
    subprocess.run(["umount", str(folder)], check=True, capture_output=True)


@contextlib.contextmanager
def small_disk(folder: Path, size: str) -> Iterator[None]:
    """A tmpfs of ``size`` on ``folder``: a disk that fills up in a moment."""
    _mount("-t", "tmpfs", "-o", f"size={size}", "tmpfs", str(folder))
    try:
        yield
    finally:
        _unmount(folder)


@contextlib.contextmanager
def read_only(folder: Path) -> Iterator[None]:
    """``folder`` read-only for everyone, root too (who ignores permission bits)."""
    _mount("--bind", str(folder), str(folder))
    try:
        _mount("-o", "remount,ro,bind", str(folder))
        yield
    finally:
        _unmount(folder)


def fill(path: Path) -> None:
    """Write ``path`` until its file system has not one block left."""
    with open(path, "wb", buffering=0) as file, contextlib.suppress(OSError):
        while True:
            file.write(bytes(1 << 20))


def test_a_full_disk_stops_the_run_in_one_line_keeps_what_is_published_and_is_caught_up_later(
    svn_repository: SvnRepository, tmp_path: Path
) -> None:
    svn_repository.add_project("p", setup_py_project("p", "1.0"))
    svn_repository.tag("p", "1.0")
    outdir = (tmp_path / "out").resolve()
    outdir.mkdir()
    (tmp_path / "tmp").mkdir()
    defaults = write_defaults(tmp_path, BASE=svn_repository.url, OUTDIR="out")
    # Room for the build environment (kept in OUTDIR) and a few pages.
    with small_disk(outdir, "48m"):
        assert run(defaults).code == 0
        before = public_tree(outdir)
        assert sorted(before) == [
            "+/index.html",
            "+/p.html",
            "index.html",
            "index.json",
            "p/index.html",
            "p/index.json",
            "p/p-1.0.tar.gz",
            "p/p-1.0.tar.gz.metadata",
        ]

        svn_repository.tag("p", "1.1", setup_py_project("p", "1.1"))
        fill(outdir / ".sdistmaker" / "filler")
        assert shutil.disk_usage(outdir).free == 0
        result = run(defaults, env={**os.environ, "TMPDIR": str(tmp_path / "tmp")})
        assert result.code == 1
        [line] = result.lines
        assert line.startswith(str(outdir)), line
        assert line.endswith(": No space left on device"), line
        # Nothing published changed, and no part of p-1.1 shows; no build folder is left.
        assert public_tree(outdir) == before
        assert list((tmp_path / "tmp").iterdir()) == []

        # Not recorded as the tag's failure: with room again, the next run publishes it.
        (outdir / ".sdistmaker" / "filler").unlink()
        result = run(defaults)
        assert result.code == 0, result.output
        assert published(outdir) == ["p/p-1.0.tar.gz", "p/p-1.1.tar.gz"]
        files = page(outdir, "p")["files"]
        assert isinstance(files, list)
        assert [f["filename"] for f in files] == ["p-1.0.tar.gz", "p-1.1.tar.gz"]
        assert (outdir / "p" / "p-1.0.tar.gz").read_bytes() == before["p/p-1.0.tar.gz"]


def test_a_read_only_outdir_stops_the_run_with_status_1_in_one_line_naming_it(
    svn_repository: SvnRepository, tmp_path: Path
) -> None:
    svn_repository.add_project("p", setup_py_project("p", "1.0"))
    svn_repository.tag("p", "1.0")
    outdir = (tmp_path / "out").resolve()
    defaults = write_defaults(tmp_path, BASE=svn_repository.url, OUTDIR="out")
    assert run(defaults).code == 0
    before = public_tree(outdir)
    svn_repository.tag("p", "1.1", setup_py_project("p", "1.1"))

    # Status 1, as for any run that could not do its work; 2 is for a wrong defaults file, and
    # this one is right: the disk must be fixed, and the next run then does the work.
    with read_only(outdir):
        result = run(defaults)
    assert result.code == 1
    assert result.lines == [f"{outdir}: cannot lock OUTDIR: Read-only file system"]
    assert public_tree(outdir) == before

    # A new OUTDIR on a read-only disk: not even sdistmaker's own folder can be made there.
    fresh = (tmp_path / "fresh").resolve()
    (fresh / "out").mkdir(parents=True)
    with read_only(fresh / "out"):
        result = run(write_defaults(fresh, BASE=svn_repository.url, OUTDIR="out"))
    assert result.code == 1
    assert result.lines == [f"{fresh / 'out'}: cannot create OUTDIR: Read-only file system"]

    assert run(defaults).code == 0
    assert published(outdir) == ["p/p-1.0.tar.gz", "p/p-1.1.tar.gz"]


def test_a_distribution_renamed_between_tags_is_published_under_each_name_with_its_own_pages(
    make_git: MakeGit, tmp_path: Path
) -> None:
    repo = make_git("acme")
    repo.commit(setup_py_project("acme.old", "1.0"))
    repo.tag("1.0")
    repo.commit(setup_py_project("acme-new", "2.0"))
    repo.tag("2.0")
    defaults = write_defaults(tmp_path, GIT_REPOSITORIES=[repo.url], OUTDIR="out")
    result = run(defaults)
    assert result.code == 0, result.output
    assert result.lines == []

    outdir = tmp_path / "out"
    assert published(outdir) == ["acme-new/acme_new-2.0.tar.gz", "acme-old/acme_old-1.0.tar.gz"]
    root = json.loads((outdir / "index.json").read_text())
    assert [p["name"] for p in root["projects"]] == ["acme-new", "acme-old"]
    for name, filename in [
        ("acme-new", "acme_new-2.0.tar.gz"),
        ("acme-old", "acme_old-1.0.tar.gz"),
    ]:
        project = page(outdir, name)
        assert project["name"] == name
        files = project["files"]
        assert isinstance(files, list)
        assert [f["filename"] for f in files] == [filename]
        assert filename in (outdir / name / "index.html").read_text()
        assert filename in (outdir / "+" / f"{name}.html").read_text()
    again = run(defaults)
    assert (again.code, again.output) == (0, "")

"""Builds run code from tags: they write only to their own build folder, and say so when they
cannot be confined."""

import contextlib
import os
import pwd
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
from collections.abc import Iterator
from pathlib import Path

import pytest

from helpers.projects import (
    hatchling_project,
    pyproject_setuptools_project,
    scm_project,
    setup_py_project,
    write_defaults,
    write_tree,
)
from helpers.repositories import SvnRepository
from helpers.system import (
    HANGING_SETUP_PY,
    SLEEPER,
    require,
    require_root,
    running,
    tools_but_bubblewrap,
    unhidden_folder,
)
from sdistmaker.building import sandbox
from sdistmaker.building.build import BuildSettings, build_sdist
from sdistmaker.cli import make_sdist, sdists_from_tags
from sdistmaker.dists.names import is_distribution
from sdistmaker.errors import BuildError


def build_tree(workdir: Path, files: dict[str, str]) -> Path:
    write_tree(workdir / "source", files)
    log = workdir / "build.log"
    settings = BuildSettings(timeout=120.0)
    build_sdist(
        workdir / "source", workdir / "dist", version="1.0", project="p", settings=settings, log=log
    )
    return log


def hostile(target: Path) -> dict[str, str]:
    """A project whose setup.py writes to ``target`` before building."""
    files = setup_py_project("p", "1.0")
    files["setup.py"] = f"open({str(target)!r}, 'w').write('owned')\n" + files["setup.py"]
    return files


def require_sandbox() -> None:
    require("bwrap")
    assert sandbox.bubblewrap() is not None, "bwrap is installed but cannot make a sandbox"


@pytest.fixture
def confined() -> None:
    require_sandbox()


@pytest.mark.usefixtures("confined")
def test_a_build_cannot_write_outside_its_folder(tmp_path: Path) -> None:
    outside = tmp_path / "outdir"
    outside.mkdir()
    for target in (outside / "p-9.9.tar.gz", Path.home() / "owned-by-a-tag", Path("/tmp/owned")):
        # Read-only, or not there at all: the temporary folders (here holding OUTDIR) are
        # hidden, their own empty copy read-only.
        with pytest.raises(BuildError, match=r"Read-only file system|No such file or directory"):
            build_tree(tmp_path / "work", hostile(target))
        assert not target.exists()


@pytest.mark.usefixtures("confined")
def test_a_build_may_write_in_its_own_folder(tmp_path: Path) -> None:
    log = build_tree(tmp_path, hostile(tmp_path / "source" / "generated.txt"))
    assert (tmp_path / "source" / "generated.txt").read_text() == "owned"
    assert "not sandboxed" not in log.read_text()


@contextlib.contextmanager
def bubblewrap_hidden(tools: Path) -> Iterator[None]:
    """No sandbox can be made meanwhile: PATH holds ``tools``, the tools builds use but bwrap."""
    with pytest.MonkeyPatch.context() as monkeypatch:
        monkeypatch.setenv("PATH", tools_but_bubblewrap(tools))
        sandbox.bubblewrap.cache_clear()
        try:
            yield
        finally:
            sandbox.bubblewrap.cache_clear()


@pytest.fixture
def as_a_user_of_its_own(monkeypatch: pytest.MonkeyPatch) -> None:
    """sdistmaker runs as a user of its own, as README advises, though the tests may run as
    root: builds run as that user."""
    monkeypatch.setattr(sandbox, "build_user", lambda: None)


@pytest.mark.usefixtures("as_a_user_of_its_own")
def test_without_bubblewrap_builds_say_they_are_not_sandboxed(tmp_path: Path) -> None:
    with bubblewrap_hidden(tmp_path / "bin"):
        log = build_tree(tmp_path / "work", setup_py_project("p", "1.0"))
    assert "(not sandboxed: bubblewrap is not available)" in log.read_text()


@pytest.mark.usefixtures("as_a_user_of_its_own")
def test_runs_without_a_sandbox_say_so_once_while_it_lasts_even_when_quiet(
    svn_repository: SvnRepository, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """Cron runs quiet: they must say it, but not every ten minutes. Nothing failed: status 0."""
    said = "builds are not sandboxed: bubblewrap (bwrap) is not available\n"
    defaults = write_defaults(tmp_path, BASE=svn_repository.url, OUTDIR="out")
    svn_repository.add_project("p", setup_py_project("p", "1.0"))

    def release_and_run(version: str, *options: str) -> str:
        svn_repository.tag("p", version, setup_py_project("p", version))
        assert sdists_from_tags([*options, "-d", str(defaults)]) == 0
        assert (tmp_path / "out" / "p" / f"p-{version}.tar.gz").exists()
        return capsys.readouterr().err

    with bubblewrap_hidden(tmp_path / "bin"):
        assert release_and_run("1.0", "-q") == said
        assert release_and_run("1.1", "-q") == ""
        assert said in release_and_run("1.2")  # a person at the terminal is told each time
    require_sandbox()
    assert release_and_run("1.3", "-q") == ""
    with bubblewrap_hidden(tmp_path / "bin"):
        assert release_and_run("1.4", "-q") == said  # without one again: said again


def test_as_root_no_tag_code_runs_without_a_sandbox(tmp_path: Path) -> None:
    """Root reads and writes every file: without a sandbox to give root up in, the build is
    refused in one line, and nothing of the tag's runs."""
    require_root()
    ran = tmp_path / "ran"
    with bubblewrap_hidden(tmp_path / "bin"), pytest.raises(BuildError) as error:
        build_tree(tmp_path / "work", hostile(ran))
    assert str(error.value) == sandbox.REFUSED_AS_ROOT
    assert not ran.exists()


READING_AS_ROOT = """\
import os
for path in ["/etc/shadow", {key!r}]:
    try:
        print("CONTENT OF", path, open(path).read())
    except OSError as error:
        print("cannot read", path, error.strerror)
print("running as", os.getuid(), os.getgid(), os.getgroups())
"""


@pytest.mark.usefixtures("confined")
def test_as_root_a_build_runs_as_nobody_and_reads_no_file_only_root_may(tmp_path: Path) -> None:
    with unhidden_folder() as folder:
        folder.chmod(0o755)  # the key is kept by its permissions alone
        key = folder / "service.key"
        key.write_text("-----BEGIN PRIVATE KEY----- s3cret\n")
        key.chmod(0o600)
        files = setup_py_project("p", "1.0")
        files["setup.py"] = READING_AS_ROOT.format(key=str(key)) + files["setup.py"]
        text = build_tree(tmp_path / "work", files).read_text()
    assert "CONTENT OF" not in text
    assert "cannot read /etc/shadow Permission denied" in text
    assert f"cannot read {key} Permission denied" in text
    nobody = pwd.getpwnam("nobody")
    assert f"running as {nobody.pw_uid} {nobody.pw_gid} []" in text


def test_as_root_no_folder_handed_to_nobody_lies_where_others_of_nobody_may_reach_it(
    svn_repository: SvnRepository, tmp_path: Path
) -> None:
    """PyPA build's hook runner makes a folder in the temporary folder for each backend call,
    which the build (nobody) must write to: in the shared temporary folder, any other process
    running as nobody could write into it meanwhile (another build requirement, another
    answer). Everything handed to nobody lies in a folder only sdistmaker's user may enter."""
    require_root()
    require_sandbox()
    svn_repository.add_project("p", {"setup.py": HANGING_SETUP_PY})
    svn_repository.tag("p", "1.0")
    defaults = write_defaults(tmp_path, BASE=svn_repository.url, OUTDIR="out", BUILD_TIMEOUT=60)
    shared = tmp_path / "tmp"
    shared.mkdir()
    command = [str(Path(sys.executable).parent / "sdists_from_tags"), "-q", "-d", str(defaults)]
    run = subprocess.Popen(
        command, env={**os.environ, "TMPDIR": str(shared)}, start_new_session=True
    )
    try:
        deadline = time.monotonic() + 60
        while not running(SLEEPER):
            assert run.poll() is None and time.monotonic() < deadline, "the build never started"
            time.sleep(0.1)
        nobody = pwd.getpwnam("nobody").pw_uid
        for entry in shared.iterdir():
            status = entry.lstat()
            assert status.st_uid != nobody, f"{entry} is nobody's, in the shared folder"
            assert status.st_mode & 0o077 == 0, f"{entry} may be entered by others"
    finally:
        os.killpg(run.pid, signal.SIGKILL)
        run.wait()


def test_as_root_every_kind_of_project_builds_as_nobody_with_wheels(
    svn_repository: SvnRepository, tmp_path: Path
) -> None:
    require_root()
    require_sandbox()
    plain = {
        "setup.py": "import os\nfrom setuptools import setup\n"
        "setup(name='plain', version='1.0', description=f'built by {os.getuid()}')\n"
    }
    projects = {
        "plain": plain,
        "pyproject": pyproject_setuptools_project("pyproject", "1.0"),
        "hatch": hatchling_project("hatch", "1.0"),
        "scm": scm_project("scm", ""),
    }
    for name, files in projects.items():
        svn_repository.add_project(name, files)
        svn_repository.tag(name, "1.0")
    defaults = write_defaults(tmp_path, BASE=svn_repository.url, OUTDIR="out", WHEELS=True)
    assert sdists_from_tags(["-q", "-d", str(defaults)]) == 0
    out = tmp_path / "out"
    for name in projects:
        built = sorted(path.name for path in (out / name).iterdir() if is_distribution(path.name))
        [wheel, sdist] = built
        assert (wheel.startswith(f"{name}-1.0-"), wheel.endswith(".whl")) == (True, True)
        assert sdist == f"{name}-1.0.tar.gz"
    assert f"built by {pwd.getpwnam('nobody').pw_uid}" in sdist_metadata(
        tmp_path / "out" / "plain" / "plain-1.0.tar.gz"
    )
    url = f"{svn_repository.url}/scm/tags/1.0"
    assert make_sdist([url, str(tmp_path / "dest")]) == 0
    assert (tmp_path / "dest" / "scm" / "scm-1.0.tar.gz").exists()


LOOKING_AROUND = """\
found = []
for path in [{state!r}, {repository!r}]:
    try:
        found.append(open(path).read().strip())
    except OSError:
        pass
from setuptools import setup
setup(name="alpha", version="1.1", description="found: " + " | ".join(found))
"""


@pytest.mark.usefixtures("confined")
def test_make_sdist_builds_see_neither_the_records_where_it_publishes_nor_the_repository() -> None:
    """The destination may be a run's OUTDIR, the tag's repository on this machine's disk:
    as in a run, builds see nothing of either."""
    with unhidden_folder() as folder:
        folder.chmod(0o755)  # as /srv is: only what sdistmaker hides is hidden
        state = folder / "pypi" / ".sdistmaker" / "state.json"
        write_tree(state.parent, {state.name: "a run's state\n"})
        repository = SvnRepository(folder / "svn")
        files = {
            "setup.py": LOOKING_AROUND.format(
                state=str(state), repository=str(repository.root / "format")
            )
        }
        repository.add_project("alpha", files)
        repository.tag("alpha", "1.1")
        assert make_sdist([f"{repository.url}/alpha/tags/1.1", str(folder / "pypi")]) == 0
        metadata = sdist_metadata(folder / "pypi" / "alpha" / "alpha-1.1.tar.gz")
    assert "Summary: found: \n" in metadata


def sdist_metadata(path: Path) -> str:
    with tarfile.open(path) as archive:
        member = archive.extractfile(f"{path.name.removesuffix('.tar.gz')}/PKG-INFO")
        assert member is not None
        return member.read().decode()


SNOOPING = """\
import os, pathlib
found = []
for environ in pathlib.Path("/proc").glob("[0-9]*/environ"):
    try:
        found.append(environ.read_bytes().decode(errors="replace"))
    except OSError:
        pass
for path in [os.path.expanduser("~/.pypirc"), {defaults!r}]:
    try:
        found.append(open(path).read())
    except OSError as error:
        print("cannot read", path, error)
print("processes seen:", len(list(pathlib.Path("/proc").glob("[0-9]*"))))
print("FOUND", " | ".join(found))
"""


@pytest.mark.usefixtures("confined")
def test_a_build_reads_no_secret_of_sdistmakers_environment_home_or_defaults_file(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    secret = "s3cret-upload-t0ken"
    monkeypatch.setenv("TWINE_PASSWORD", secret)
    home = tmp_path / "home"
    write_tree(home, {".pypirc": f"[pypi]\npassword = {secret}\n"})
    monkeypatch.setenv("HOME", str(home))
    defaults = tmp_path / "defaults.py"
    defaults.write_text(f"GIT_REPOSITORIES = ['https://builder:{secret}@git.example/x.git']\n")
    files = setup_py_project("p", "1.0")
    files["setup.py"] = SNOOPING.format(defaults=str(defaults)) + files["setup.py"]
    write_tree(tmp_path / "work" / "source", files)
    log = tmp_path / "work" / "build.log"
    settings = BuildSettings(timeout=120.0, hidden=(defaults,))
    source = tmp_path / "work" / "source"
    dist = tmp_path / "work" / "dist"
    build_sdist(source, dist, version="1.0", project="p", settings=settings, log=log)
    text = log.read_text()
    assert "FOUND" in text  # it looked
    assert secret not in text
    # Only its own processes: the build's, none of the machine's.
    seen = [int(n) for n in re.findall(r"processes seen: (\d+)", text)]
    assert seen and max(seen) < 10, seen


@pytest.mark.usefixtures("confined")
def test_a_defaults_file_named_relatively_is_hidden_all_the_same(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    defaults = tmp_path / "site" / "mine.py"
    write_tree(defaults.parent, {defaults.name: "# the deploy password is s3cret\n"})
    monkeypatch.chdir(tmp_path)
    files = setup_py_project("p", "1.0")
    files["setup.py"] = (
        f"try:\n    print(open({str(defaults)!r}).read())\n"
        "except OSError as error:\n    print(error)\n" + files["setup.py"]
    )
    write_tree(tmp_path / "work" / "source", files)
    log = tmp_path / "work" / "build.log"
    settings = BuildSettings(timeout=120.0, hidden=(Path("site/mine.py"),))
    source, dist = tmp_path / "work" / "source", tmp_path / "work" / "dist"
    build_sdist(source, dist, version="1.0", project="p", settings=settings, log=log)
    assert (dist / "p-1.0.tar.gz").exists()
    assert "s3cret" not in log.read_text()


@pytest.mark.usefixtures("confined")
@pytest.mark.parametrize(
    "place",
    ["/tmp", "/run"],
    ids=["an ssh agent in the temporary folder", "a service in the runtime folder"],
)
def test_a_build_reaches_no_socket_sdistmaker_can_reach(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, place: str
) -> None:
    """An ssh agent signs for whoever reaches its socket (a tag could log in to the
    repositories as sdistmaker); the system bus, a database letting users in as who they are,
    docker's socket listen below /run."""
    folder = Path(tempfile.mkdtemp(prefix="sdistmaker-test-", dir=place))
    listening_at = folder / "agent.1"
    reached: list[bool] = []
    with socket.socket(socket.AF_UNIX) as listening:
        listening.bind(str(listening_at))
        listening.listen()
        listening.settimeout(0.2)

        def accept() -> None:
            with contextlib.suppress(OSError):
                listening.accept()[0].close()
                reached.append(True)

        waiting = threading.Thread(target=accept)
        waiting.start()
        if place == "/tmp":
            monkeypatch.setenv("SSH_AUTH_SOCK", str(listening_at))
        else:  # hidden as the runtime folder's, not as the agent's
            monkeypatch.delenv("SSH_AUTH_SOCK", raising=False)
        files = setup_py_project("p", "1.0")
        files["setup.py"] = (
            "import socket\ntry:\n"
            f"    socket.socket(socket.AF_UNIX).connect({str(listening_at)!r})\n"
            "    print('REACHED THE SOCKET')\n"
            "except OSError as error:\n    print('no socket:', error)\n" + files["setup.py"]
        )
        try:
            log = build_tree(tmp_path / "work", files)
        finally:
            waiting.join()
            shutil.rmtree(folder)
    assert "no socket:" in log.read_text()
    assert "REACHED THE SOCKET" not in log.read_text()
    assert not reached


def test_the_ssh_agent_is_hidden_wherever_it_is(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("SSH_AUTH_SOCK", "/srv/agents/sdistmaker.sock")
    assert Path("/srv/agents/sdistmaker.sock") in sandbox._private()
    assert {Path("/tmp"), Path("/var/tmp"), Path("/run")} <= set(sandbox._private())

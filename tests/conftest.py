"""Real repositories and real projects for the tests: svn via svnadmin and file://, git via git."""

from __future__ import annotations

import contextlib
import io
import logging
import os
import shutil
import subprocess
import sys
import tarfile
import tempfile
import textwrap
import time
import uuid
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

IN_CI = os.environ.get("CI") == "true"
BIN = Path(sys.executable).parent
# What builds need from the network here, as an administrator puts it in BUILD_ENVIRONMENT:
# hooks run with an empty environment.
NETWORK = {
    name: os.environ[name]
    for name in (
        "SSL_CERT_FILE",
        "SSL_CERT_DIR",
        "PIP_CERT",
        "REQUESTS_CA_BUNDLE",
        "HTTPS_PROXY",
        "HTTP_PROXY",
        "NO_PROXY",
        "PIP_INDEX_URL",
        "UV_INDEX_URL",
        "PIP_FIND_LINKS",
    )
    if name in os.environ
}


def soon(seconds: float = 60) -> float:
    """A deadline, as sdistmaker's functions take them (``time.monotonic()``)."""
    return time.monotonic() + seconds


def require(command: str, path: Path | None = None) -> None:
    """Skip when a tool (a command, or the file at ``path``) is missing on a developer's
    machine; in CI that is a failure."""
    present = path.exists() if path is not None else shutil.which(command) is not None
    if not present:
        if IN_CI:
            pytest.fail(f"{command} is not installed; CI must install it")
        pytest.skip(f"{command} is not installed")


def mount(*arguments: str) -> None:
    """Mount, or skip where that is not allowed (not root, no CAP_SYS_ADMIN); in CI, fail."""
    require("mount")
    result = subprocess.run(["mount", *arguments], capture_output=True, text=True)
    if result.returncode:
        reason = f"cannot mount here ({result.stderr.strip()})"
        if IN_CI:
            pytest.fail(f"{reason}; CI must run these tests as root, allowed to mount")
        pytest.skip(reason)


def unmount(folder: Path) -> None:
    subprocess.run(["umount", str(folder)], check=True, capture_output=True)


@contextlib.contextmanager
def small_disk(folder: Path, size: str) -> Iterator[None]:
    """A tmpfs of ``size`` on ``folder``: a disk that fills up in a moment (or an empty one)."""
    mount("-t", "tmpfs", "-o", f"size={size}", "tmpfs", str(folder))
    try:
        yield
    finally:
        unmount(folder)


def require_root() -> None:
    """Skip what only a run as root shows where the tests run as another user; CI runs them as
    root, and fails."""
    if os.geteuid() != 0:
        if IN_CI:
            pytest.fail("CI must run the tests as root")
        pytest.skip("the tests do not run as root")


@contextlib.contextmanager
def unhidden_folder() -> Iterator[Path]:
    """A new folder only root may enter, where servers keep their data (/srv): outside the
    temporary and home folders, which builds never see, so that only what sdistmaker hides of
    it is hidden."""
    require_root()
    folder = Path(tempfile.mkdtemp(prefix="sdistmaker-test-", dir="/srv"))
    try:
        yield folder
    finally:
        shutil.rmtree(folder, ignore_errors=True)


def tools_but_bubblewrap(folder: Path) -> str:
    """A PATH of ``folder`` alone, holding the tools runs use but bwrap: no sandbox can be made."""
    folder.mkdir(exist_ok=True)
    for tool in ("uv", "git", "svn", "svnlook"):
        found = shutil.which(tool)
        if found and not (folder / tool).exists():
            (folder / tool).symlink_to(found)
    return str(folder)


def run(*args: str | Path, cwd: Path | None = None) -> str:
    result = subprocess.run(
        [str(a) for a in args],
        cwd=cwd,
        check=True,
        capture_output=True,
        text=True,
        env={**os.environ, "LC_ALL": "C.UTF-8"},
    )
    return result.stdout


# Tiny projects, one per kind of build sdistmaker meets. Each takes a name and a version.
def setup_py_project(name: str, version: str) -> dict[str, str]:
    return {
        "setup.py": f"from setuptools import setup\nsetup(name={name!r}, version={version!r})\n",
    }


def pyproject_setuptools_project(name: str, version: str) -> dict[str, str]:
    return {
        "pyproject.toml": textwrap.dedent(f"""\
            [build-system]
            requires = ["setuptools>=61"]
            build-backend = "setuptools.build_meta"
            [project]
            name = "{name}"
            version = "{version}"
            requires-python = ">=3.8"
            [tool.setuptools]
            py-modules = []
            """),
    }


def hatchling_project(name: str, version: str) -> dict[str, str]:
    package = name.replace("-", "_").replace(".", "_").lower()
    return {
        "pyproject.toml": textwrap.dedent(f"""\
            [build-system]
            requires = ["hatchling"]
            build-backend = "hatchling.build"
            [project]
            name = "{name}"
            version = "{version}"
            [tool.hatch.build.targets.sdist]
            include = ["{package}"]
            """),
        f"{package}/__init__.py": "",
    }


def scm_project(name: str, version: str) -> dict[str, str]:
    """Its version comes from the VCS; ``version`` is ignored, as in a real such project."""
    return {
        "pyproject.toml": textwrap.dedent(f"""\
            [build-system]
            requires = ["setuptools>=64", "setuptools-scm>=8"]
            build-backend = "setuptools.build_meta"
            [project]
            name = "{name}"
            dynamic = ["version"]
            [tool.setuptools]
            py-modules = []
            [tool.setuptools_scm]
            """),
    }


ProjectKind = Callable[[str, str], dict[str, str]]


def write_tree(root: Path, files: dict[str, str]) -> None:
    for relative, text in files.items():
        path = root / relative
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text)


class SvnRepository:
    """A real svn repository on disk, changed through ``file://`` URLs."""

    def __init__(self, root: Path) -> None:
        require("svnadmin")
        self.root = root
        run("svnadmin", "create", root)
        self.url = root.as_uri()
        self.checkouts = root.parent / f"{root.name}-checkouts"

    def mkdir(self, *paths: str) -> None:
        run("svn", "mkdir", "-q", "--parents", "-m", "mkdir", *(f"{self.url}/{p}" for p in paths))

    def add_project(self, path: str, files: dict[str, str], trunk: bool = True) -> None:
        """Import ``files`` as ``path/trunk`` (and create an empty ``path/tags``)."""
        tree = self.checkouts / "import" / path
        write_tree(tree, files)
        target = f"{self.url}/{path}/trunk" if trunk else f"{self.url}/{path}/files"
        run("svn", "import", "-q", "-m", "import", tree, target)
        shutil.rmtree(self.checkouts / "import")
        self.mkdir(f"{path}/tags")

    @contextlib.contextmanager
    def _working_copy(self, folder: str) -> Iterator[Path]:
        """A checkout of ``folder``: all that is added to it is committed."""
        checkout = self.checkouts / "wc"
        shutil.rmtree(checkout, ignore_errors=True)
        run("svn", "checkout", "-q", "--ignore-externals", f"{self.url}/{folder}", checkout)
        yield checkout
        run("svn", "add", "-q", "--force", checkout)
        run("svn", "commit", "-q", "-m", "change", checkout)
        shutil.rmtree(checkout)

    def commit_files(self, folder: str, files: dict[str, str]) -> None:
        with self._working_copy(folder) as checkout:
            write_tree(checkout, files)

    def set_externals(self, folder: str, definitions: str) -> None:
        """Give ``folder`` these svn:externals (one definition a line)."""
        value = self.checkouts / "externals.txt"
        value.parent.mkdir(parents=True, exist_ok=True)
        value.write_text(definitions)  # from a file: a value may start like an option ("-r 1")
        with self._working_copy(folder) as checkout:
            run("svn", "propset", "-q", "svn:externals", "-F", value, checkout)

    def commit_link(self, folder: str, name: str, target: str) -> None:
        """Commit a symbolic link (svn:special) ``name`` to ``target`` into ``folder``."""
        with self._working_copy(folder) as checkout:
            (checkout / name).symlink_to(target)

    def tag(self, project: str, name: str, files: dict[str, str] | None = None) -> None:
        """Copy trunk to ``tags/name``, after committing ``files`` to trunk when given."""
        if files:
            self.commit_files(f"{project}/trunk", files)
        run(
            "svn",
            "copy",
            "-q",
            "-m",
            "tag",
            f"{self.url}/{project}/trunk",
            f"{self.url}/{project}/tags/{name}",
        )

    def delete(self, path: str) -> None:
        run("svn", "delete", "-q", "-m", "delete", f"{self.url}/{path}")

    def youngest(self) -> int:
        return int(run("svnlook", "youngest", self.root))


class GitRepository:
    """A real git repository with a work tree."""

    def __init__(self, root: Path) -> None:
        self.root = root
        root.mkdir(parents=True)
        self.git("init", "-q", "-b", "main")

    def git(self, *args: str) -> str:
        return run(
            "git", "-c", "user.name=Test", "-c", "user.email=test@example.com", *args, cwd=self.root
        )

    def commit(self, files: dict[str, str], message: str = "change") -> str:
        write_tree(self.root, files)
        self.git("add", "-A")
        self.git("commit", "-q", "--allow-empty", "-m", message)
        return self.git("rev-parse", "HEAD").strip()

    def tag(self, name: str, annotated: bool = False, force: bool = False) -> None:
        options = (["-a", "-m", f"release {name}"] if annotated else []) + (["-f"] if force else [])
        self.git("tag", *options, name)

    @property
    def url(self) -> str:
        return str(self.root)

    def add_server(self, bare: Path) -> None:
        """A bare clone at ``bare``, as a git server holds the repository, to push to as
        ``server``."""
        run("git", "clone", "-q", "--bare", self.root, bare)
        self.git("remote", "add", "server", str(bare))


def install_hook(hooks: Path, name: str, defaults: Path, arguments: str) -> None:
    """The hook README.rst shows, in a real repository's ``hooks`` folder."""
    hook = hooks / name
    hook.write_text(
        "#!/bin/sh\n"
        "# Hooks run with an empty environment: absolute paths only.\n"
        f"exec {BIN / 'sdists_from_tags'} -q --defaults-file={defaults} {arguments}\n"
    )
    hook.chmod(0o755)


@pytest.hookimpl(tryfirst=True)
def pytest_configure(config: pytest.Config) -> None:
    """The tests' folders go below one that other users may search (pytest's own is private),
    as a served OUTDIR's do: the web servers' user reads them, and a run says when it could not.
    Before pytest makes its folders, from this setting."""
    if config.option.basetemp is None:
        config.option.basetemp = tempfile.mkdtemp(prefix="sdistmaker-tests-")
        config.stash[_MADE_BASETEMP] = Path(config.option.basetemp)


def pytest_unconfigure(config: pytest.Config) -> None:
    made = config.stash.get(_MADE_BASETEMP, None)
    if made is not None:
        shutil.rmtree(made, ignore_errors=True)


_MADE_BASETEMP = pytest.StashKey[Path]()


@pytest.fixture
def tmp_path(tmp_path: Path) -> Path:
    """pytest's, readable and searchable by other users (see pytest_configure)."""
    for folder in (tmp_path.parent, tmp_path):
        folder.chmod(0o755)
    return tmp_path


@pytest.fixture(autouse=True)
def fresh_logging() -> Iterator[None]:
    """Each command run configures sdistmaker's logger; no test sees another's settings."""
    yield
    logger = logging.getLogger("sdistmaker")
    logger.handlers.clear()
    logger.setLevel(logging.NOTSET)


@pytest.fixture
def svn_repository(tmp_path: Path) -> SvnRepository:
    return SvnRepository(tmp_path / "svn")


@pytest.fixture
def make_git(tmp_path: Path) -> Callable[[str], GitRepository]:
    return lambda name: GitRepository(tmp_path / "git" / name)


@pytest.fixture
def legacy_python() -> str:
    """A Python 2.7 interpreter, as LEGACY_PYTHON would name it."""
    candidates = [shutil.which("python2.7") or ""]
    candidates += [str(p) for p in Path.home().glob(".pyenv/versions/2.7*/bin/python")]
    for candidate in candidates:
        if (
            candidate
            and subprocess.run(
                [candidate, "-c", "import setuptools"], capture_output=True
            ).returncode
            == 0
        ):
            return candidate
    pytest.skip("no Python 2.7 with setuptools on this machine")


def sdist(folder: Path, pkg_info: str, name: str = "p-1.0.tar.gz") -> Path:
    path = folder / name
    data = pkg_info.encode()
    with tarfile.open(path, "w:gz") as archive:
        member = tarfile.TarInfo(f"{name.removesuffix('.tar.gz')}/PKG-INFO")
        member.size = len(data)
        archive.addfile(member, io.BytesIO(data))
    return path


CRAFTING = """\
\"\"\"What a build backend needs to write any sdist or wheel, as a tag's backend may.\"\"\"
import gzip, os, tarfile, zipfile, zlib

VERSION = os.environ["SETUPTOOLS_SCM_PRETEND_VERSION"]  # the tag's: sdistmaker tells each build
TOP = "alpha-" + VERSION
PKG_INFO = ("Metadata-Version: 2.2\\nName: alpha\\nVersion: " + VERSION + "\\n").encode()


def get_requires_for_build_sdist(config_settings=None):
    return []


get_requires_for_build_wheel = get_requires_for_build_sdist


def member(name, data=b"", kind=tarfile.REGTYPE, linkname="", size=None):
    \"\"\"A tar member, header and content; its header claims ``size`` bytes when given.\"\"\"
    info = tarfile.TarInfo(name)
    info.type, info.linkname = kind, linkname
    info.size = len(data) if size is None else size
    return info.tobuf(tarfile.PAX_FORMAT) + data + bytes(-len(data) % 512)


def write(directory, name, *parts):
    with open(os.path.join(directory, name), "wb") as file:
        file.writelines(parts)
    return name


def sdist(directory, *members, name=TOP + ".tar.gz"):
    return write(directory, name, gzip.compress(b"".join(members) + bytes(1024)))


def zeros(size):
    \"\"\"``size`` bytes of zeros (a multiple of 64 MiB), gzipped into a few kB: gzip members
    may follow one another, so one is repeated.\"\"\"
    compressor = zlib.compressobj(9, zlib.DEFLATED, 31)
    return (compressor.compress(bytes(64 << 20)) + compressor.flush()) * (size >> 26)


def good_sdist(directory):
    \"\"\"An sdist a wheel builds from.\"\"\"
    sources = ["pyproject.toml", "crafting.py", "backend.py"]
    files = [member(TOP + "/" + path, open(path, "rb").read()) for path in sources]
    return sdist(directory, member(TOP + "/PKG-INFO", PKG_INFO), *files)


def tamper(directory, replacement):
    \"\"\"Put a link to ``replacement`` where the checked sdist may be, above ``directory``.\"\"\"
    for up in ("..", os.path.join("..", "..")):
        checked = os.path.join(directory, up, "dist", TOP + ".tar.gz")
        try:
            os.remove(checked)
            os.symlink(replacement, checked)
        except OSError:
            pass


def wheel(directory, files, name="alpha-" + VERSION + "-py3-none-any.whl"):
    with zipfile.ZipFile(os.path.join(directory, name), "w", zipfile.ZIP_DEFLATED) as archive:
        for path, data in files.items():
            archive.writestr(path, data)
    return name
"""


def crafted_project(sdist: str = "good_sdist(directory)", wheel: str = "") -> dict[str, str]:
    """Project alpha (of the tag's version), whose backend writes what it is told, as a tag's
    backend may: its sdist is the file that the expression ``sdist`` writes into ``directory``
    (with the helpers of CRAFTING), its wheel the one ``wheel`` writes."""
    backend = (
        "from crafting import *\n\n"
        f"def build_sdist(directory, config_settings=None):\n    return {sdist}\n\n"
        "def build_wheel(directory, config_settings=None, metadata_directory=None):\n"
        f"    return {wheel or None}\n"
    )
    return {
        "pyproject.toml": (
            '[build-system]\nrequires = []\nbuild-backend = "backend"\nbackend-path = ["."]\n'
        ),
        "crafting.py": CRAFTING,
        "backend.py": backend,
    }


HOLD_LOCK = """\
import sys, time
from pathlib import Path
from sdistmaker.outdir.store import Store
with Store(Path(sys.argv[1])).lock():
    print("locked", flush=True)
    time.sleep(float(sys.argv[2]))
"""


def hold_lock(outdir: Path, seconds: float) -> subprocess.Popen[str]:
    """Another process holding OUTDIR's lock, as a run does, for ``seconds``; returns once held."""
    holder = subprocess.Popen(
        [sys.executable, "-c", HOLD_LOCK, str(outdir), str(seconds)],
        stdout=subprocess.PIPE,
        text=True,
    )
    assert holder.stdout is not None and holder.stdout.readline() == "locked\n"
    return holder


def write_defaults(folder: Path, **settings: object) -> Path:
    lines = [f"{name} = {value!r}" for name, value in settings.items()]
    path = folder / "defaults.py"
    path.write_text("\n".join(lines) + "\n")
    return path


SLEEPER = f"sleeper-{uuid.uuid4()}"
"""Marks the processes a hanging build starts, to look for them after."""
HANGING_SETUP_PY = f"""\
import subprocess, sys, time
sleep = [sys.executable, "-c", "import time; time.sleep(600)", "{SLEEPER}"]
subprocess.Popen(sleep)
subprocess.Popen(sleep, start_new_session=True)  # a daemon, out of the build's process group
time.sleep(600)
"""


def running(marker: str) -> list[int]:
    """The live processes (zombies aside) whose command line holds ``marker``."""
    found = []
    for folder in Path("/proc").iterdir():
        try:
            if marker.encode() not in (folder / "cmdline").read_bytes():
                continue
            state = (folder / "stat").read_text().rsplit(")", 1)[1].split()[0]
        except OSError:  # not a process, or gone meanwhile
            continue
        if state != "Z" and int(folder.name) != os.getpid():
            found.append(int(folder.name))
    return found


def all_gone(marker: str, seconds: float = 10) -> bool:
    """Whether the processes holding ``marker`` are gone within a moment (a kill is
    asynchronous)."""
    deadline = time.monotonic() + seconds
    while running(marker):
        if time.monotonic() > deadline:
            return False
        time.sleep(0.05)
    return True

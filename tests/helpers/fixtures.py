"""The tests' shared fixtures, loaded as a pytest plugin (see tests/conftest.py)."""

from __future__ import annotations

import logging
import shutil
import subprocess
import sys
import tempfile
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from selenium import webdriver

from helpers.projects import hatchling_release, setup_py_project, write_defaults
from helpers.repositories import GitRepository, HgRepository, SvnRepository
from helpers.system import require
from sdistmaker.cli import sdists_from_tags

_BASETEMP_PREFIX = "sdistmaker-tests-"


@pytest.hookimpl(tryfirst=True)
def pytest_configure(config: pytest.Config) -> None:
    """The tests' folders go below one that other users may search (pytest's own is private),
    as a served OUTDIR's do: the web servers' user reads them, and a run says when it could not.
    Before pytest makes its folders, from this setting."""
    if config.option.basetemp is None:
        config.option.basetemp = tempfile.mkdtemp(prefix=_BASETEMP_PREFIX)
        config.stash[_MADE_BASETEMP] = Path(config.option.basetemp)


def pytest_unconfigure(config: pytest.Config) -> None:
    made = config.stash.get(_MADE_BASETEMP, None)
    if made is not None:
        shutil.rmtree(made, ignore_errors=True)


_MADE_BASETEMP = pytest.StashKey[Path]()


@pytest.fixture
def tmp_path(tmp_path: Path) -> Path:
    """pytest's, readable and searchable by other users (see pytest_configure), as are the
    folders above it up to the tests' own (a parallel worker's folder among them)."""
    for folder in (tmp_path, *tmp_path.parents):
        folder.chmod(0o755)
        if folder.name.startswith(_BASETEMP_PREFIX):
            break
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
def make_hg(tmp_path: Path) -> Callable[[str], HgRepository]:
    require("hg")
    return lambda name: HgRepository(tmp_path / "hg" / name)


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


@pytest.fixture(scope="session")
def buildout(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A venv with zc.buildout, from PyPI like any user's."""
    venv = tmp_path_factory.mktemp("buildout") / "venv"
    subprocess.run([sys.executable, "-m", "venv", venv], check=True)
    subprocess.run([venv / "bin/python", "-m", "pip", "install", "-q", "zc.buildout"], check=True)
    return venv / "bin" / "buildout"


@pytest.fixture(scope="session")
def index(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """An index built by sdists_from_tags from real git tags, for the index stage's tests;
    returns OUTDIR."""
    root = tmp_path_factory.mktemp("index")
    lib = GitRepository(root / "git" / "acme-lib")
    lib.commit(hatchling_release("acme-lib", "1.0"))
    lib.tag("1.0")
    lib.commit(hatchling_release("acme-lib", "1.1"))
    lib.tag("1.1")
    lib.commit(
        hatchling_release(
            "acme-lib",
            "2.0",
            'requires-python = ">=3.99"\ndescription = "<script>alert(\'owned\')</script>"\n',
        )
    )
    lib.tag("2.0")
    app = GitRepository(root / "git" / "acme-app")
    app.commit(hatchling_release("acme.app", "1.0", 'dependencies = ["acme-lib<3"]\n'))
    app.tag("v1.0", annotated=True)
    app.tag("v1.1")  # its metadata says 1.0: this tag fails
    legacy = GitRepository(root / "git" / "legacy")
    files = setup_py_project("legacy", "0.5")
    files["setup.py"] = files["setup.py"].replace(")", ", install_requires=['acme-lib'])")
    legacy.commit(files)
    legacy.tag("0.5")
    defaults = write_defaults(
        root,
        GIT_REPOSITORIES=[lib.url, app.url, legacy.url],
        OUTDIR="out",
        YANKED={"Acme_Lib": {"1.1": "broken <b>build</b>"}},
    )
    assert sdists_from_tags(["-q", "-d", str(defaults)]) == 1
    return root / "out"


@pytest.fixture(scope="session")
def browser(tmp_path_factory: pytest.TempPathFactory) -> Iterator[webdriver.Chrome]:
    """Headless Chromium, kept off every network but this machine's."""
    require("chromium")
    require("chromedriver")
    options = webdriver.ChromeOptions()
    options.binary_location = shutil.which("chromium") or ""
    for argument in (
        "--headless",
        "--no-sandbox",
        "--disable-gpu",
        "--disable-quic",
        "--no-first-run",
        "--disable-background-networking",
        "--disable-component-update",
        "--disable-sync",
        f"--user-data-dir={tmp_path_factory.mktemp('chromium')}",
        "--window-size=1100,700",
    ):
        options.add_argument(argument)
    service = webdriver.ChromeService(executable_path=shutil.which("chromedriver"))
    driver = webdriver.Chrome(options=options, service=service)
    try:
        yield driver
    finally:
        driver.quit()

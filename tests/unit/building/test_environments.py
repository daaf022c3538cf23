import os
import shutil
import signal
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

from helpers.servers import make_wheel, silent_index, upstream_index
from sdistmaker.building import environments
from sdistmaker.building.environments import Environments
from sdistmaker.building.private_names import PrivateNames
from sdistmaker.errors import BuildError
from sdistmaker.outdir.store import Store

SETUPTOOLS = {"setuptools>=61"}


def soon() -> float:
    """A deadline no environment made here comes near."""
    return time.monotonic() + 600


def made(log: Path) -> int:
    """How many environments were made, by the log of the commands that made them."""
    return sum(" venv " in line for line in log.read_text().splitlines())


@pytest.mark.usefixtures("installer")
def test_an_environment_is_made_once_and_reused(tmp_path: Path) -> None:
    environments = Environments(tmp_path / "envs")
    log = tmp_path / "log"
    first = environments.python(SETUPTOOLS, "", os.environ, log, deadline=soon())
    second = Environments(tmp_path / "envs").python(
        SETUPTOOLS, "", os.environ, log, deadline=soon()
    )  # a later run
    assert first == second
    assert first.exists()
    assert made(log) == 1
    # Byte-compiled: no backend call compiles setuptools again.
    assert list(first.parent.parent.glob("lib/python*/site-packages/setuptools/__pycache__/*.pyc"))


def test_other_requirements_or_constraints_get_their_own(tmp_path: Path) -> None:
    environments = Environments(tmp_path / "envs")
    log = tmp_path / "log"
    plain = environments.python(SETUPTOOLS, "", os.environ, log, deadline=soon())
    pinned = environments.python(
        {"setuptools"}, "setuptools<58\n", os.environ, log, deadline=soon()
    )
    assert plain != pinned
    assert made(log) == 2
    assert [p.name for p in pinned.parent.parent.glob("lib/python*/site-packages/setuptools-57*")]
    kept = [p for p in (tmp_path / "envs").iterdir() if not p.name.endswith(".lock")]
    assert len(kept) == 2


def test_an_old_environment_is_made_anew(tmp_path: Path) -> None:
    log = tmp_path / "log"
    Environments(tmp_path / "envs").python(SETUPTOOLS, "", os.environ, log, deadline=soon())
    Environments(tmp_path / "envs", max_age=0).python(
        SETUPTOOLS, "", os.environ, log, deadline=soon()
    )
    assert made(log) == 2
    leftovers = [p for p in (tmp_path / "envs").iterdir() if p.name.startswith(".")]
    assert leftovers == []


def test_an_environment_in_use_is_not_made_anew_during_the_run(tmp_path: Path) -> None:
    log = tmp_path / "log"
    environments = Environments(tmp_path / "envs", max_age=0)  # old as soon as it is made
    first = environments.python(SETUPTOOLS, "", os.environ, log, deadline=soon())
    assert environments.python(SETUPTOOLS, "", os.environ, log, deadline=soon()) == first
    assert made(log) == 1  # a build running in it keeps it


@pytest.mark.parametrize(
    ("requirement", "refused"),
    [
        ("acme @ git+https://git.example.com/acme.git", "is a direct reference"),
        ("--index-url=http://127.0.0.1:9/simple/", "is not a valid requirement"),
    ],
)
def test_what_the_index_does_not_name_is_refused_before_any_install(
    tmp_path: Path, requirement: str, refused: str
) -> None:
    log = tmp_path / "log"
    with pytest.raises(BuildError, match=f"build requirement '.*' {refused}"):
        Environments(tmp_path / "envs").python(
            {"setuptools", requirement}, "", os.environ, log, deadline=soon()
        )
    assert not log.exists()


RENEW = """\
import os, sys, time
from pathlib import Path
from sdistmaker.building.environments import Environments
from sdistmaker.errors import BuildError
renewal = Environments(Path(sys.argv[1]), max_age=0)
renewal.python((), "", os.environ, Path(sys.argv[2]), deadline=time.monotonic() + 600)
"""
BULK = 10_000
"""Files added to an environment, so that deleting it takes long enough to be killed midway."""


def test_a_renewal_killed_while_it_deletes_the_old_environment_leaves_a_whole_one(
    tmp_path: Path,
) -> None:
    store = Store(tmp_path / "out")
    log = tmp_path / "log"
    python = Environments(store.environments).python((), "", os.environ, log, deadline=soon())
    bulk = python.parent.parent / "bulk"
    bulk.mkdir()
    for number in range(BULK):
        (bulk / str(number)).touch()
    first_deleted = next(os.scandir(bulk)).name  # rmtree deletes in the order scandir lists
    renewal = subprocess.Popen(
        [sys.executable, "-c", RENEW, str(store.environments), str(log)], start_new_session=True
    )
    began = time.monotonic()
    # Until a bulk folder is seen whole but for its first file (one that only moved, renamed
    # aside while this looked, is not one being deleted).
    while not any(
        folder.is_dir() and not (folder / first_deleted).exists() and folder.is_dir()
        for folder in store.environments.glob("*/bulk")
    ):
        assert renewal.poll() is None, "the renewal ended before it was killed"
        assert time.monotonic() - began < 60
    os.killpg(renewal.pid, signal.SIGKILL)
    renewal.wait()

    # Under its real name, the old environment whole or the new one: never a part.
    assert python.exists()
    assert (len(os.listdir(bulk)) if bulk.exists() else 0) in (0, BULK)
    store.remove_leftovers()  # as the next run does first: the old one, set aside, goes
    assert [path.name for path in store.environments.iterdir() if path.is_dir()] == [
        python.parent.parent.name
    ]


def test_a_build_waits_for_another_builds_install_no_longer_than_its_own_deadline(
    tmp_path: Path,
) -> None:
    environments = Environments(tmp_path / "envs")
    failures: dict[str, str] = {}
    with silent_index() as url:
        index = {**os.environ, "UV_INDEX_URL": url, "PIP_INDEX_URL": url}

        def make(build: str, seconds: float) -> None:
            """Make the environment as a build of ``seconds`` does, in the same run."""
            log = tmp_path / f"{build}.log"
            try:
                deadline = time.monotonic() + seconds
                environments.python({"acme-helper"}, "", index, log, deadline=deadline)
            except BuildError as error:
                failures[build] = str(error)

        (tmp_path / "first.log").touch()
        first = threading.Thread(target=make, args=("first", 4))
        first.start()
        # Until the first holds the environment's lock and asks the index: it logs each step it
        # starts, the environment's making first.
        while (tmp_path / "first.log").read_text().count("=== ") < 2:
            assert first.is_alive(), failures
            time.sleep(0.05)
        began = time.monotonic()
        make("second", 1)
        waited = time.monotonic() - began
        first.join()
    assert failures == {
        "first": "build requirements ['acme-helper'] timed out while being installed, "
        "process tree killed",
        "second": "build requirements ['acme-helper'] timed out: another build was still "
        "installing them",
    }
    assert waited < 2


# Private names: PRIVATE_NAMES and the names built here come only from OUTDIR or the find-links.

PLUGIN = "acme-build-plugin"


@dataclass
class Plugin:
    """An in-house build plugin: a good wheel (1.0) in a folder of find-links, and an index
    playing PyPI, where someone published a higher version of its name (9.0) and a public
    package that needs it."""

    links: Path
    public: str
    good: Path

    def installers(self) -> dict[str, str]:
        """As an administrator's BUILD_ENVIRONMENT names them."""
        return {
            "PATH": os.environ["PATH"],
            "UV_INDEX_URL": self.public,
            "PIP_INDEX_URL": self.public,
            "UV_FIND_LINKS": str(self.links),
            "PIP_FIND_LINKS": str(self.links),
        }


@pytest.fixture
def plugin(tmp_path: Path) -> Iterator[Plugin]:
    links = tmp_path / "links"
    links.mkdir()
    good = make_wheel(links, PLUGIN, "1.0")
    public = tmp_path / "public"
    public.mkdir()
    wheels = {
        PLUGIN: [make_wheel(public, PLUGIN, "9.0")],
        "sdistmaker-test-wrapper": [
            make_wheel(public, "sdistmaker-test-wrapper", "1.0", requires=(PLUGIN,))
        ],
    }
    with upstream_index(wheels) as url:
        yield Plugin(links, url, good)


def installed(python: Path) -> list[str]:
    """The distributions in the environment of ``python``, as name-version."""
    site = next(python.parent.parent.glob("lib/python*/site-packages"))
    return sorted(path.name.removesuffix(".dist-info") for path in site.glob("*.dist-info"))


@pytest.fixture(params=["uv", "pip"])
def installer(request: pytest.FixtureRequest, monkeypatch: pytest.MonkeyPatch) -> str:
    """uv, or pip where uv is not installed."""
    if request.param == "pip":
        monkeypatch.setattr(environments, "find_uv", lambda: None)
    return str(request.param)


@pytest.mark.usefixtures("installer")
@pytest.mark.parametrize("requirement", [PLUGIN, "sdistmaker-test-wrapper"])
@pytest.mark.parametrize(
    "private",
    [PrivateNames(globs=("acme-*",)), PrivateNames(names=frozenset({PLUGIN}))],
    ids=["PRIVATE_NAMES", "built here"],
)
def test_a_private_name_is_never_installed_from_a_public_index(
    tmp_path: Path, plugin: Plugin, requirement: str, private: PrivateNames
) -> None:
    """Required directly or by another requirement, found higher on the index than in the
    find-links: refused in one line naming where it would have come from, and nothing kept."""
    envs = tmp_path / "envs"
    with pytest.raises(BuildError) as error:
        Environments(envs, private=private).python(
            {requirement}, "", plugin.installers(), tmp_path / "log", deadline=soon()
        )
    assert str(error.value) == (
        f"build requirement {PLUGIN} 9.0 is a private name (PRIVATE_NAMES, or a project of "
        f"this index) but would come from {plugin.public}/{PLUGIN}/"
        "acme_build_plugin-9.0-py3-none-any.whl: "
        "only OUTDIR and the find-links may provide it"
    )
    assert [path.name for path in envs.iterdir() if not path.name.endswith(".lock")] == []


def test_a_private_name_published_here_comes_from_here(tmp_path: Path, plugin: Plugin) -> None:
    """uv looks in OUTDIR first, and takes a name from the first index that has it (pip, which
    merges the indexes, takes the highest version and is refused, as above)."""
    outdir = tmp_path / "out"
    (outdir / PLUGIN).mkdir(parents=True)
    shutil.copy(plugin.good, outdir / PLUGIN)
    link = f'<a href="{plugin.good.name}">{plugin.good.name}</a>'
    (outdir / PLUGIN / "index.html").write_text(f"<!DOCTYPE html><html><body>{link}</body></html>")
    private = PrivateNames(globs=("acme-*",), index=outdir)
    python = Environments(tmp_path / "envs", private=private).python(
        {"sdistmaker-test-wrapper"}, "", plugin.installers(), tmp_path / "log", deadline=soon()
    )
    assert installed(python) == ["acme_build_plugin-1.0", "sdistmaker_test_wrapper-1.0"]


def test_a_kept_environment_holding_a_name_become_private_is_not_used(
    tmp_path: Path, plugin: Plugin
) -> None:
    """A project of that name was built here since, or PRIVATE_NAMES took it in: what the
    environment holds is checked again before each run uses it."""
    envs, log = tmp_path / "envs", tmp_path / "log"
    public = Environments(envs).python({PLUGIN}, "", plugin.installers(), log, deadline=soon())
    assert installed(public) == ["acme_build_plugin-9.0"]
    with pytest.raises(BuildError, match=f"build requirement {PLUGIN} 9.0 is a private name"):
        Environments(envs, private=PrivateNames(names=frozenset({PLUGIN}))).python(
            {PLUGIN}, "", plugin.installers(), log, deadline=soon()
        )


def test_a_private_name_from_the_find_links_is_installed_whatever_link_leads_there(
    tmp_path: Path, plugin: Plugin
) -> None:
    """The find-links folder named through a link (as /opt/wheels often is): its wheels are the
    folder's all the same."""
    (tmp_path / "linked").symlink_to(plugin.links)
    installers = plugin.installers()
    installers["UV_FIND_LINKS"] = installers["PIP_FIND_LINKS"] = str(tmp_path / "linked")
    python = Environments(tmp_path / "envs", private=PrivateNames(globs=("acme-*",))).python(
        {f"{PLUGIN}<2"}, "", installers, tmp_path / "log", deadline=soon()
    )
    assert installed(python) == ["acme_build_plugin-1.0"]

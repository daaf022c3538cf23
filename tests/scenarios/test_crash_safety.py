"""Runs killed with SIGKILL (no ``finally``, no ``atexit``: a crash, an OOM kill, a power cut)
at many moments, each next run going on from what the killed ones left, as cron would start it.

Whenever a run dies, the index must be one a client can use as it is: every page complete, every
file a page lists there, complete and with the hash and size the page gives. And the run that is
finally left alone must end where one run that was never interrupted ends.
"""

from __future__ import annotations

import contextlib
import os
import signal
import subprocess
import sys
import tempfile
import time
from collections import Counter
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest

from helpers.index_checks import (
    PAGES,
    PRIVATE,
    assert_consistent,
    assert_links_resolve,
    listed,
    project_folders,
    state,
    visible,
)
from helpers.projects import pyproject_setuptools_project, sdist, setup_py_project, write_defaults
from helpers.repositories import GitRepository, SvnRepository
from helpers.system import IN_CI
from sdistmaker.cli import make_sdist, sdists_from_tags
from sdistmaker.outdir.temporaries import (
    BUILD_PREFIX,
    PREFIX,
    new_file,
    new_folder,
    remove_abandoned_build_folders,
)

FIRST_DELAY = 0.1
STEP = 0.1
"""Seconds: the n-th run killed by time is killed FIRST_DELAY + n * STEP after it starts. A step
below the time one tag takes to build puts kills in start-up, crawl, export and build; the
delays grow, so that a run finally gets to finish what is left."""
PUBLISHING = (0.0, 0.002, 0.005, 0.01, 0.02)
"""Seconds: between those, runs are killed that long (in turn) after they first change what
clients see, which with tags left to build is when they publish one: in the few milliseconds
of publishing and saving the state, which a delay from the start seldom hits."""
RENDERING = (0.0, 0.002, 0.005, 0.01, 0.02, 0.04, 0.08, 0.16, 0.32, 5.0)
"""Seconds: when every tag is recorded and only pages are left to write, runs are killed that
long after their first change, one after the other: kills all through the index stage, until
one run gets to finish it."""
DIE_AS_THE_STATE_IS_SAVED = """\
import os, signal, sys
from sdistmaker.cli import sdists_from_tags
from sdistmaker.outdir.temporaries import PREFIX

def die_as_the_state_is_saved(event, args):
    # Just before the new state, written and synced, is renamed into place.
    if event == "os.rename" and os.path.basename(os.fsdecode(args[0])).startswith(
        PREFIX + "state.json"
    ):
        os.killpg(0, signal.SIGKILL)

sys.addaudithook(die_as_the_state_is_saved)
sys.exit(sdists_from_tags(sys.argv[1:]))
"""
"""A run that kills itself (and all it started) the first time it saves the state: a moment of
microseconds, which no delay hits reliably. The first run of each round is started so."""
PHASES = {
    "export or build": {"export", "build"},
    "publish": {"publish: copying", "publish: linked, not yet recorded"},
    "state update": {"saving the state"},
    "pages": {"pages"},
}
"""What kills must have interrupted, by the places ``kill_point`` names."""
MOST_RUNS = 100
"""A run that never gets to finish is a failure, not an endless test."""
RUN_TIMEOUT = 120


@dataclass
class Index:
    """One OUTDIR and the defaults file that fills it."""

    defaults: Path
    outdir: Path
    scratch: Path
    """The runs' TMPDIR: what a killed run leaves there says where it was, and stays out of /tmp."""
    hashes: dict[str, str] = field(default_factory=dict)
    """Every file a page has listed, relative to OUTDIR -> its sha256 then; it may never change."""


@dataclass
class Repositories:
    """An svn repository of two projects and a git repository of one: six release tags to begin
    with, both kinds of setuptools build (setup.py only, pyproject.toml)."""

    svn: SvnRepository
    git: GitRepository
    tags: int = 6

    @classmethod
    def make(cls, root: Path) -> Repositories:
        svn = SvnRepository(root / "svn")
        svn.add_project("libs/alpha", setup_py_project("alpha", "1.0"))
        svn.tag("libs/alpha", "1.0")
        svn.tag("libs/alpha", "1.1", setup_py_project("alpha", "1.1"))
        svn.add_project("apps/beta", pyproject_setuptools_project("beta", "0.1"))
        svn.tag("apps/beta", "0.1")
        git = GitRepository(root / "git" / "gamma")
        for version in ("2.0", "2.1", "2.2"):
            git.commit(pyproject_setuptools_project("gamma", version))
            git.tag(version)
        return cls(svn, git)

    def release_more(self) -> None:
        """A new release of a project the index has, a new project, and a new git release."""
        self.svn.tag("libs/alpha", "1.2", setup_py_project("alpha", "1.2"))
        self.svn.add_project("libs/delta", setup_py_project("delta", "0.9"))
        self.svn.tag("libs/delta", "0.9")
        self.git.commit(pyproject_setuptools_project("gamma", "2.3"))
        self.git.tag("2.3")
        self.tags += 3

    def index(self, folder: Path) -> Index:
        folder.mkdir()
        scratch = folder / "tmp"
        scratch.mkdir()
        # Two builds at once however many CPUs: a kill can land while one tag is built and the
        # one before it is being published.
        defaults = write_defaults(
            folder, BASE=self.svn.url, GIT_REPOSITORIES=[self.git.url], OUTDIR="out", JOBS=2
        )
        return Index(defaults, folder / "out", scratch)


SDISTS_FROM_TAGS = ("-m", "sdistmaker")


def start(
    index: Index, *options: str, program: Sequence[str] = SDISTS_FROM_TAGS
) -> subprocess.Popen[str]:
    """A run of ``sdists_from_tags``, as cron starts it (``program``: how Python runs it)."""
    return subprocess.Popen(
        [sys.executable, *program, *options, "-d", str(index.defaults)],
        stdin=subprocess.DEVNULL,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env={**os.environ, "TMPDIR": str(index.scratch)},
        # A process group of its own, so that the kill also takes the svn, git and installer
        # processes it started, as a crash of the machine would.
        start_new_session=True,
    )


def run_killed(
    index: Index,
    delay: float = 0,
    after_change: float | None = None,
    as_the_state_is_saved: bool = False,
) -> bool:
    """Start a quiet run and SIGKILL it ``delay`` seconds after it started or, with
    ``after_change``, that long after it first changed what clients see; or, with
    ``as_the_state_is_saved``, let it kill itself as it first saves the state. Whether it
    finished first."""
    before = visible(index.outdir)
    program = ("-c", DIE_AS_THE_STATE_IS_SAVED) if as_the_state_is_saved else SDISTS_FROM_TAGS
    run = start(index, "-q", program=program)
    began = time.monotonic()
    if as_the_state_is_saved:
        with contextlib.suppress(subprocess.TimeoutExpired):
            run.wait(timeout=RUN_TIMEOUT)
    elif after_change is None:
        with contextlib.suppress(subprocess.TimeoutExpired):
            run.wait(timeout=delay)
    else:
        while run.poll() is None and visible(index.outdir) == before:
            assert time.monotonic() - began < RUN_TIMEOUT, "a run hangs"
            time.sleep(0.001)
        with contextlib.suppress(subprocess.TimeoutExpired):
            run.wait(timeout=after_change)
    if run.poll() is None:
        with contextlib.suppress(ProcessLookupError):  # it ended just now
            os.killpg(run.pid, signal.SIGKILL)
    out, err = run.communicate(timeout=RUN_TIMEOUT)
    if run.returncode == -signal.SIGKILL:
        return False
    # A run that was left alone: quiet, it says nothing but new failures.
    assert (run.returncode, out, err) == (0, "", ""), err
    return True


def only_pages_left(outdir: Path, tags: int) -> bool:
    """Whether every tag is recorded as built and the index stage has still to show some."""
    now = state(outdir)
    built = [r for r in now["tags"].values() if r["status"] == "built"]
    return len(built) == tags and bool(now["unindexed"])


def published(outdir: Path) -> set[str]:
    """What a web server serves from OUTDIR: every file but sdistmaker's own and those being
    written."""
    return {
        str(path.relative_to(outdir))
        for path in outdir.rglob("*")
        if path.is_file()
        and not any(part.startswith(".") for part in path.relative_to(outdir).parts)
    }


def leftovers(index: Index) -> set[Path]:
    """What runs leave when killed, until the next run removes it: their build folders, files
    they were writing, environments and git mirrors they were making."""
    return {*index.scratch.glob(f"{BUILD_PREFIX}*"), *index.outdir.rglob(f"{PREFIX}*")}


def kill_point(index: Index, before: set[Path], tags: int) -> str:
    """Where a killed run was, from what it left (two places at once with two builds)."""
    places: set[str] = set()
    for path in leftovers(index) - before:
        # A temporary's name holds the name of what it was to become.
        becoming = path.name.removeprefix(PREFIX).rsplit("-", 1)[0]
        if path.name.startswith(BUILD_PREFIX):
            places.add("build" if (path / "dist").exists() else "export")
        elif path.parent.name in ("environments", "git"):
            places.add(f"making {path.parent.name}")
        elif becoming.endswith((".tar.gz", ".whl")):
            places.add("publish: copying")
        elif becoming == "state.json":
            places.add("saving the state")
        else:
            places.add("pages")
    recorded = {r["file"] for r in state(index.outdir)["tags"].values()}
    stored = {
        str(path.relative_to(index.outdir))
        for folder in project_folders(index.outdir)
        for path in folder.glob("*.tar.gz")
    }
    if stored - recorded:
        places.add("publish: linked, not yet recorded")
    if not places and only_pages_left(index.outdir, tags):
        places.add("pages")
    return "+".join(sorted(places)) or "start-up, crawl or between steps"


def kill_until_one_finishes(index: Index, tags: int) -> list[str]:
    """Kill runs one after the other, each going on from what the others left, checking the
    index after each, until one finishes by itself; where each run was killed."""
    kills: list[str] = []
    timed = publishing = rendering = 0
    for number in range(MOST_RUNS):
        before = leftovers(index)
        if number == 0:
            finished = run_killed(index, as_the_state_is_saved=True)
        elif only_pages_left(index.outdir, tags):
            finished = run_killed(index, after_change=RENDERING[min(rendering, len(RENDERING) - 1)])
            rendering += 1
        elif publishing < timed:
            finished = run_killed(index, after_change=PUBLISHING[publishing % len(PUBLISHING)])
            publishing += 1
        else:
            finished = run_killed(index, FIRST_DELAY + timed * STEP)
            timed += 1
        assert_consistent(index.outdir, index.hashes)
        if finished:
            return kills
        kills.append(kill_point(index, before, tags))
    raise AssertionError(f"no run finished in {MOST_RUNS} runs")


def test_a_run_killed_at_any_point_leaves_a_consistent_index_and_the_next_run_finishes_it(
    tmp_path: Path,
) -> None:
    repositories = Repositories.make(tmp_path)
    killed = repositories.index(tmp_path / "killed")
    began = time.monotonic()
    kills = kill_until_one_finishes(killed, repositories.tags)
    # Again with an index that has projects, as a later cron run would find it.
    repositories.release_more()
    kills += kill_until_one_finishes(killed, repositories.tags)
    print(f"\n{len(kills)} kills in {time.monotonic() - began:.1f} s: {dict(Counter(kills))}")
    places = {place for kill in kills for place in kill.split("+")}
    missed = [phase for phase, named in PHASES.items() if not named & places]
    assert not missed, f"no run was killed in {missed}: {dict(Counter(kills))}"

    # One more run finds nothing to do and nothing that failed, not even before.
    again = start(killed)
    assert again.communicate(timeout=RUN_TIMEOUT) == (
        "",
        f"built 0, up to date {repositories.tags}, failed 0 (new 0)\n",
    )
    assert again.returncode == 0
    assert_consistent(killed.outdir, killed.hashes)
    # And it removed all that the killed runs left.
    assert leftovers(killed) == set()

    # The same repositories, built by one run that nobody stopped.
    reference = repositories.index(tmp_path / "reference")
    whole = start(reference)
    out, err = whole.communicate(timeout=RUN_TIMEOUT)
    assert (whole.returncode, out, err.splitlines()[-1]) == (
        0,
        "",
        f"built {repositories.tags}, up to date 0, failed 0 (new 0)",
    ), err
    assert_consistent(reference.outdir, reference.hashes)

    # Sdists built at different times differ in their bytes (times in the tar): names count.
    assert published(killed.outdir) == published(reference.outdir)
    assert listed(killed.outdir) == listed(reference.outdir)
    after, expected = state(killed.outdir), state(reference.outdir)
    assert {key: r["file"] for key, r in after["tags"].items()} == {
        key: r["file"] for key, r in expected["tags"].items()
    }
    assert {r["status"] for r in after["tags"].values()} == {"built"}
    assert (after["problems"], after["unindexed"]) == ({}, [])


def test_a_file_published_by_a_run_killed_before_it_saved_the_state_is_kept_and_recorded(
    svn_repository: SvnRepository, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    svn_repository.add_project("p", setup_py_project("p", "1.0"))
    svn_repository.tag("p", "1.0")
    defaults = write_defaults(tmp_path, BASE=svn_repository.url, OUTDIR="out")
    outdir = tmp_path / "out"
    # What such a run leaves: the file in place, complete, and no record of it anywhere.
    assert make_sdist([f"{svn_repository.url}/p/tags/1.0", str(outdir)]) == 0
    left = (outdir / "p" / "p-1.0.tar.gz").read_bytes()
    capsys.readouterr()

    assert sdists_from_tags(["-d", str(defaults)]) == 0
    assert capsys.readouterr().err.splitlines()[-1] == "built 1, up to date 0, failed 0 (new 0)"
    assert (outdir / "p" / "p-1.0.tar.gz").read_bytes() == left
    [record] = state(outdir)["tags"].values()
    assert (record["status"], record["file"]) == ("built", "p/p-1.0.tar.gz")
    assert listed(outdir) == {"p": ["p-1.0.tar.gz"]}


def test_a_second_tag_of_a_recorded_release_still_fails_and_the_file_is_kept(
    svn_repository: SvnRepository, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    svn_repository.add_project("p", setup_py_project("p", "1.0"))
    svn_repository.tag("p", "1.0")
    defaults = write_defaults(tmp_path, BASE=svn_repository.url, OUTDIR="out")
    assert sdists_from_tags(["-q", "-d", str(defaults)]) == 0
    published_file = tmp_path / "out" / "p" / "p-1.0.tar.gz"
    first = published_file.read_bytes()

    svn_repository.tag("p", "v1.0")  # the same release again: the same file name
    assert sdists_from_tags(["-q", "-d", str(defaults)]) == 1
    assert "p-1.0.tar.gz is already published; it is kept as it is" in capsys.readouterr().err
    assert published_file.read_bytes() == first


def wait_for(found: Callable[[], object], process: subprocess.Popen[str]) -> None:
    """Wait until ``found()`` is true, while ``process`` runs."""
    began = time.monotonic()
    while not found():
        assert process.poll() is None, "it ended first"
        assert time.monotonic() - began < RUN_TIMEOUT, "it never came"
        time.sleep(0.001)


def test_the_next_run_removes_what_killed_runs_left_in_outdir_and_nothing_else(
    svn_repository: SvnRepository, tmp_path: Path
) -> None:
    svn_repository.add_project("p", setup_py_project("p", "1.0"))
    svn_repository.tag("p", "1.0")
    index = Index(
        write_defaults(tmp_path, BASE=svn_repository.url, OUTDIR="out"), tmp_path / "out", tmp_path
    )
    private = index.outdir / PRIVATE
    # A run killed while it makes the build environment leaves it half made.
    run = start(index, "-q")
    wait_for(lambda: list((private / "environments").glob(f"{PREFIX}*")), run)
    os.killpg(run.pid, signal.SIGKILL)
    run.communicate(timeout=RUN_TIMEOUT)
    # Runs killed at other moments leave files, by the names they give them.
    (private / "git").mkdir()
    for folder, becoming in [
        (private, "p-1.0.tar.gz"),
        (private, "state.json"),
        (private, "index.html"),
    ]:
        os.close(new_file(folder, becoming)[0])
    new_folder(private / "git", "gamma.git")
    left = {path for path in leftovers(index) if path.is_relative_to(index.outdir)}
    assert {path.parent.name for path in left} == {PRIVATE, "environments", "git"}
    # Anything else, even by a name of sdistmaker's own outside its folders, is not a killed
    # run's: runs never write there (make_sdist does: it holds no lock).
    others = [
        private / "notes.txt",
        private / "environments" / "notes.txt",
        index.outdir / f"{PREFIX}notes.txt",
        index.outdir / "p" / f"{PREFIX}p-1.0.tar.gz-by-make-sdist",
    ]
    for path in others:
        path.parent.mkdir(exist_ok=True)
        path.write_text("mine")

    finished = start(index)
    assert finished.communicate(timeout=RUN_TIMEOUT)[1].endswith(
        "built 1, up to date 0, failed 0 (new 0)\n"
    )
    assert not [path for path in left if path.exists()]
    assert [path.read_text() for path in others] == ["mine"] * len(others)
    assert listed(index.outdir) == {"p": ["p-1.0.tar.gz"]}
    # The environment the killed run was making, made again.
    assert len([path for path in (private / "environments").iterdir() if path.is_dir()]) == 1


HOLD_BUILD_FOLDER = """\
import time
from sdistmaker.outdir.temporaries import BuildFolder
print(BuildFolder().path, flush=True)
time.sleep(60)
"""


def hold_build_folder(scratch: Path) -> tuple[subprocess.Popen[str], Path]:
    """Another process using a build folder in ``scratch`` (its TMPDIR), as a build does."""
    holder = subprocess.Popen(
        [sys.executable, "-c", HOLD_BUILD_FOLDER],
        stdout=subprocess.PIPE,
        text=True,
        env={**os.environ, "TMPDIR": str(scratch)},
    )
    assert holder.stdout is not None
    return holder, Path(holder.stdout.readline().strip())


def test_a_run_removes_the_build_folders_of_dead_processes_only(
    svn_repository: SvnRepository, tmp_path: Path
) -> None:
    index = Index(
        write_defaults(tmp_path, BASE=svn_repository.url, OUTDIR="out"),
        tmp_path / "out",
        tmp_path / "tmp",
    )
    index.scratch.mkdir()
    alive, used = hold_build_folder(index.scratch)
    dead, abandoned = hold_build_folder(index.scratch)
    dead.kill()
    dead.wait()
    # Made by a process killed before it locked it: held by nobody, abandoned too.
    unlocked = index.scratch / f"{BUILD_PREFIX}never-locked"
    unlocked.mkdir()
    (unlocked / "export").mkdir()
    try:
        run = start(index)
        assert run.communicate(timeout=RUN_TIMEOUT)[1].endswith("failed 0 (new 0)\n")
        assert (used.exists(), abandoned.exists(), unlocked.exists()) == (True, False, False)
    finally:
        alive.kill()
        alive.wait()
    start(index).communicate(timeout=RUN_TIMEOUT)
    assert list(index.scratch.iterdir()) == []


def test_build_folders_of_other_users_are_left_alone(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Even when sdistmaker runs as root, who could remove them."""
    if os.geteuid() != 0:
        if IN_CI:
            pytest.fail("CI must run this test as root")
        pytest.skip("only root can give a folder to another user")
    monkeypatch.setattr(tempfile, "tempdir", str(tmp_path))
    theirs = tmp_path / f"{BUILD_PREFIX}theirs"
    mine = tmp_path / f"{BUILD_PREFIX}mine"
    for folder in (theirs, mine):
        folder.mkdir()
    os.chown(theirs, 65534, 65534)
    remove_abandoned_build_folders()
    assert (theirs.is_dir(), mine.exists()) == (True, False)


def render_checking_every_step(
    outdir: Path, defaults: Path, check: Callable[[Path], None] = assert_consistent
) -> list[str]:
    """Render the index, checking it just before each page is renamed into place or removed,
    where a killed run could stop; the pages, in turn."""
    steps: list[str] = []
    watching = [True]

    def check_before_a_page_changes(event: str, args: tuple[Any, ...]) -> None:
        if watching and event in ("os.rename", "os.remove"):
            page = Path(args[1] if event == "os.rename" else args[0])
            if page.is_relative_to(outdir) and not page.is_relative_to(outdir / PRIVATE):
                check(outdir)
                steps.append(f"{event.removeprefix('os.')} {page.relative_to(outdir)}")

    # Audit hooks stay for the rest of the process: this one then does nothing.
    sys.addaudithook(check_before_a_page_changes)
    try:
        assert sdists_from_tags(["-q", "--render-only", "-d", str(defaults)]) == 0
    finally:
        watching.clear()
    check(outdir)
    return steps


API_DOCUMENTS = ("pypi.json", "pypi-1.0.json")
"""PyPI's JSON API of a project with one release: linked from no page."""


def test_no_page_ever_links_to_a_page_not_there(tmp_path: Path) -> None:
    outdir = tmp_path / "out"
    for name in ("alpha", "beta"):
        (outdir / name).mkdir(parents=True)
        pkg_info = f"Metadata-Version: 2.1\nName: {name}\nVersion: 1.0\n"
        sdist(outdir / name, pkg_info, f"{name}-1.0.tar.gz")
    defaults = write_defaults(tmp_path, OUTDIR="out")
    assert sorted(render_checking_every_step(outdir, defaults)) == sorted(
        # The first render of a new index: every page.
        [f"rename {name}/{page}" for name in ("alpha", "beta") for page in PAGES]
        + [f"rename {name}/{d}" for name in ("alpha", "beta") for d in API_DOCUMENTS]
        + ["rename +/alpha.html", "rename +/beta.html", "rename index.html", "rename index.json"]
        + ["rename +/alpha.atom", "rename +/beta.atom", "rename +/index.atom"]
        + ["rename +/index.html"] * 2
    )

    # A project whose files were taken away by hand (its pages list them until they go): no
    # page links to it while its own go.
    (outdir / "beta" / "beta-1.0.tar.gz").unlink()
    steps = render_checking_every_step(outdir, defaults, assert_links_resolve)
    assert steps[-6:] == [
        "remove beta/index.html",
        "remove beta/index.json",
        "remove beta/pypi-1.0.json",
        "remove beta/pypi.json",
        "remove +/beta.html",
        "remove +/beta.atom",
    ]
    assert not (outdir / "beta").exists()

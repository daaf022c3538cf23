"""What systems that mirror repositories share (sdistmaker/vcs/mirrors.py), with git's mirrors:
the setting listing repositories, a mirror held while in use, pip-style tag URLs, repositories
not read again while what tells their tags' changes says they did not."""

import re
import shutil
import subprocess
import sys
import textwrap
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from helpers.projects import hatchling_project
from helpers.repositories import GitRepository as Repo
from sdistmaker import values
from sdistmaker.config import Config
from sdistmaker.errors import VcsError
from sdistmaker.outdir import temporaries
from sdistmaker.vcs.base import Crawl, Source
from sdistmaker.vcs.git import GIT_REPOSITORIES, Git, GitProject, GitRepository
from sdistmaker.vcs.mirrors import Repository, parse_pip_url

MakeGit = Callable[[str], Repo]


def test_an_entry_is_a_url_or_a_dict_of_url_subdirectory_and_tags() -> None:
    entries = GIT_REPOSITORIES.check(
        ["https://g/a.git", {"url": "https://g/mono.git", "subdirectory": "/web/", "tags": "w-*"}]
    )
    assert entries == (
        GitRepository("https://g/a.git", "", "*"),
        GitRepository("https://g/mono.git", "web", "w-*"),
    )


@pytest.mark.parametrize(
    ("value", "message"),
    [
        ("https://g/a.git", "must be a list, not str"),
        ([3], "entries must be URLs or dicts, not int"),
        (
            [{"url": "u", "branch": "x"}],
            "unknown key 'branch' (known: folder, gitea, github, gitlab, subdirectory, tags, url)",
        ),
        ([{"tags": "x"}], "every entry needs a 'url' string"),
        ([{"url": "u", "tags": 3}], "'tags' must be a string"),
        ([{"url": "u", "subdirectory": "../other"}], "'subdirectory' must be a folder inside"),
    ],
)
def test_a_wrong_entry_says_what_is_wrong(value: object, message: str) -> None:
    with pytest.raises(values.Invalid, match=f"^{re.escape(message)}"):
        GIT_REPOSITORIES.check(value)


@pytest.mark.parametrize(
    ("spec", "system", "parts"),
    [
        ("hg+https://hg.example/p@1.0", "hg", ("https://hg.example/p", "1.0", "")),
        ("git+file:///srv/m@w-1#subdirectory=web", "git", ("file:///srv/m", "w-1", "web")),
    ],
)
def test_a_pip_style_url_splits_for_its_system(
    spec: str, system: str, parts: tuple[str, str, str]
) -> None:
    assert parse_pip_url(spec, system) == parts


def test_a_pip_style_url_of_another_system_is_refused() -> None:
    with pytest.raises(VcsError, match=r"not a hg URL \(expected hg\+URL@TAG\)"):
        parse_pip_url("git+https://g/p.git@1.0", "hg")


HOLD = textwrap.dedent("""\
    import fcntl, sys, time
    with open(sys.argv[1], "a") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        print("held", flush=True)
        time.sleep(30)
    """)


def test_a_mirror_another_run_holds_is_waited_for_then_named(
    make_git: MakeGit, tmp_path: Path
) -> None:
    """Runs for other OUTDIRs may share a folder of mirrors: none reads a mirror another is
    changing; one held past the repository's timeout is an error naming it."""
    repo = make_git("p")
    repo.commit(hatchling_project("p", "1.0"))
    repo.tag("1.0")
    source = GitProject(Repository(repo.url), tmp_path / "cache", timeout=1)
    source.tags()
    holder = subprocess.Popen(
        [sys.executable, "-c", HOLD, temporaries.lock_path(source.mirror)],
        stdout=subprocess.PIPE,
        text=True,
    )
    try:
        assert holder.stdout is not None and holder.stdout.readline() == "held\n"
        again = GitProject(Repository(repo.url), tmp_path / "cache", timeout=1)
        with pytest.raises(
            VcsError, match=f"its mirror {re.escape(str(source.mirror))} stayed in use"
        ):
            again.tags()
    finally:
        holder.kill()
        holder.wait()
    assert [
        t.name for t in GitProject(Repository(repo.url), tmp_path / "cache", timeout=1).tags()
    ] == ["1.0"]


def test_projects_sharing_a_fetched_set_fetch_their_mirror_once(
    make_git: MakeGit, tmp_path: Path
) -> None:
    repo = make_git("mono")
    repo.commit({"web/pyproject.toml": "[project]\n"})
    repo.tag("1.0")
    fetched: set[Path] = set()
    first = GitProject(Repository(repo.url, "web"), tmp_path / "cache", fetched=fetched)
    assert [t.name for t in first.tags()] == ["1.0"]
    assert fetched == {first.mirror}
    repo.tag("1.1")
    second = GitProject(Repository(repo.url, "api"), tmp_path / "cache", fetched=fetched)
    assert [t.name for t in second.tags()] == ["1.0"]  # one fetch a run
    assert [t.name for t in GitProject(Repository(repo.url), tmp_path / "cache").tags()] == [
        "1.0",
        "1.1",
    ]


def crawled(
    config: Config, memory: dict[str, Any], tmp_path: Path, walk: bool = False
) -> tuple[list[str], dict[str, Any]]:
    """The tags git's crawl finds of what ``config`` lists, starting from ``memory``, and what
    it keeps for the next crawl."""
    reading = Crawl(config, tmp_path / "private", memory, walk, lambda *_: None, lambda _: None)
    tags = Git().crawl(reading)
    return [f"{tag.project} {tag.name} {tag.identity[:7]}" for tag in tags], reading.memory


def test_a_repository_on_disk_whose_refs_did_not_change_is_not_read_again(
    make_git: MakeGit, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A cron run with nothing new over many repositories runs no git at all: each one's refs
    on disk say that its tags are what the last crawl read."""
    repo = make_git("app")
    first = repo.commit({"a": "1"})
    repo.tag("1.0")
    config = Config(tmp_path / "out", vcs_settings={"GIT_REPOSITORIES": (GitRepository(repo.url),)})
    tags, memory = crawled(config, {}, tmp_path)
    assert tags == [f"app 1.0 {first[:7]}"]
    with monkeypatch.context() as without_git:
        without_git.setenv("PATH", str(tmp_path / "nowhere"))
        assert crawled(config, memory, tmp_path) == (tags, memory)
    second = repo.commit({"a": "2"})
    repo.tag("1.1")
    repo.tag("1.0", force=True)  # moved: its identity is read anew
    tags, memory = crawled(config, memory, tmp_path)
    assert tags == [f"app 1.0 {second[:7]}", f"app 1.1 {second[:7]}"]
    repo.git("tag", "-d", "1.1")
    repo.git("pack-refs", "--all")
    assert crawled(config, memory, tmp_path)[0] == [f"app 1.0 {second[:7]}"]


def test_a_walk_or_a_lost_mirror_reads_the_repository_again(
    make_git: MakeGit, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    repo = make_git("app")
    repo.commit({"a": "1"})
    repo.tag("1.0")
    config = Config(tmp_path / "out", vcs_settings={"GIT_REPOSITORIES": (GitRepository(repo.url),)})
    _, memory = crawled(config, {}, tmp_path)
    monkeypatch.setenv("PATH", str(tmp_path / "nowhere"))
    reports: list[object] = []
    for walk in (True, False):
        if not walk:
            shutil.rmtree(tmp_path / "private" / "git")
        reading = Crawl(
            config, tmp_path / "private", memory, walk, lambda *r: reports.append(r), lambda _: None
        )
        assert Git().crawl(reading) == []  # git was needed, and is not there
    assert len(reports) == 2


def test_only_a_repository_read_with_a_release_tag_claims_its_name(
    make_git: MakeGit, tmp_path: Path
) -> None:
    """A repository with no release (its only tag ``latest``) claims no name, and says so: a
    claim an earlier run gave it goes. One that cannot be read is neither."""
    web, docs = make_git("web"), make_git("docs")
    web.commit(hatchling_project("web", "1.0"))
    web.tag("1.0")
    docs.commit({"index.md": "# Docs\n"})
    docs.tag("latest")
    listed = [GitRepository(r) for r in (web.url, docs.url, str(tmp_path / "gone"))]
    config = Config(tmp_path / "out", vcs_settings={"GIT_REPOSITORIES": tuple(listed)})
    seen: list[Source] = []
    crawl = Crawl(config, tmp_path / "private", {}, False, lambda *_: None, seen.append)
    assert [str(tag) for tag in Git().crawl(crawl)] == ["web 1.0"]
    assert [source.name for source in seen] == ["web"]
    assert [source.name for source in crawl.untagged] == ["docs"]

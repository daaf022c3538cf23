"""What systems that mirror repositories share (sdistmaker/vcs/mirrors.py), with git's mirrors:
the setting listing repositories, a mirror held while in use, pip-style tag URLs."""

import re
import subprocess
import sys
import textwrap
from collections.abc import Callable
from pathlib import Path

import pytest

from helpers.projects import hatchling_project
from helpers.repositories import GitRepository as Repo
from sdistmaker import values
from sdistmaker.config import Config
from sdistmaker.errors import VcsError
from sdistmaker.outdir import temporaries
from sdistmaker.vcs.base import Crawl, Source
from sdistmaker.vcs.git import GIT_REPOSITORIES, Git, GitProject, GitRepository
from sdistmaker.vcs.mirrors import parse_pip_url

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
        ([{"url": "u", "branch": "x"}], "unknown key 'branch' (known: subdirectory, tags, url)"),
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
    source = GitProject(repo.url, tmp_path / "cache", timeout=1)
    source.tags()
    holder = subprocess.Popen(
        [sys.executable, "-c", HOLD, temporaries.lock_path(source.mirror)],
        stdout=subprocess.PIPE,
        text=True,
    )
    try:
        assert holder.stdout is not None and holder.stdout.readline() == "held\n"
        again = GitProject(repo.url, tmp_path / "cache", timeout=1)
        with pytest.raises(
            VcsError, match=f"its mirror {re.escape(str(source.mirror))} stayed in use"
        ):
            again.tags()
    finally:
        holder.kill()
        holder.wait()
    assert [t.name for t in GitProject(repo.url, tmp_path / "cache", timeout=1).tags()] == ["1.0"]


def test_projects_sharing_a_fetched_set_fetch_their_mirror_once(
    make_git: MakeGit, tmp_path: Path
) -> None:
    repo = make_git("mono")
    repo.commit({"web/pyproject.toml": "[project]\n"})
    repo.tag("1.0")
    fetched: set[Path] = set()
    first = GitProject(repo.url, tmp_path / "cache", "web", fetched=fetched)
    assert [t.name for t in first.tags()] == ["1.0"]
    assert fetched == {first.mirror}
    repo.tag("1.1")
    second = GitProject(repo.url, tmp_path / "cache", "api", fetched=fetched)
    assert [t.name for t in second.tags()] == ["1.0"]  # one fetch a run
    assert [t.name for t in GitProject(repo.url, tmp_path / "cache").tags()] == ["1.0", "1.1"]


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

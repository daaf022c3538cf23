"""The crawl stage: every registered system's release tags, the projects it saw noted in the
state, what each system keeps to read less, and repositories it cannot read reported."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

from helpers.projects import hatchling_project, setup_py_project
from helpers.repositories import GitRepository as Git
from helpers.repositories import SvnRepository
from helpers.system import run
from sdistmaker.config import Config
from sdistmaker.crawl import crawl, withdraw_skipped
from sdistmaker.errors import SdistmakerError, VcsError
from sdistmaker.models import Tag
from sdistmaker.outdir.state import State, TagRecord
from sdistmaker.vcs.git import GIT_REPOSITORIES, GitRepository

MakeGit = Callable[[str], Git]
Reports = list[tuple[str, "SdistmakerError | None"]]


def repositories(svn_repository: SvnRepository, make_git: MakeGit, tmp_path: Path) -> Config:
    """An svn repository and a git one with a release each, and an svn project without."""
    svn_repository.add_project("libs/Acme.Utils", setup_py_project("Acme.Utils", "1.0"))
    svn_repository.tag("libs/Acme.Utils", "1.0")
    svn_repository.add_project("libs/fresh", setup_py_project("fresh", "0.1"))
    repo = make_git("web")
    repo.commit(hatchling_project("web", "2.0"))
    repo.tag("v2.0")
    return Config(
        outdir=tmp_path / "out",
        vcs_settings={"BASE": svn_repository.url, "GIT_REPOSITORIES": (GitRepository(repo.url),)},
    )


def crawled(config: Config, state: State, tmp_path: Path, walk: bool = False) -> list[str]:
    tags = crawl(config, state, tmp_path / "private", lambda *_: None, walk=walk)
    return [f"{tag.project} {tag.name}" for tag in tags]


def test_every_systems_tags_and_the_projects_that_claim_their_names(
    svn_repository: SvnRepository, make_git: MakeGit, tmp_path: Path
) -> None:
    config = repositories(svn_repository, make_git, tmp_path)
    state = State()
    assert crawled(config, state, tmp_path) == ["Acme.Utils 1.0", "web v2.0"]
    # Each project with a release gets its page before any of them builds; fresh, with no
    # release yet, claims no name (it may be a public project's).
    assert state.projects == {
        "acme-utils": f"svn:{svn_repository.url}/libs/Acme.Utils",
        "web": f"git:{GIT_REPOSITORIES.of(config)[0].url}#",
    }
    assert sorted(state.memory) == ["git", "hg", "svn"]


def test_a_crawl_reads_less_by_what_the_state_remembers_unless_told_to_walk(
    svn_repository: SvnRepository, make_git: MakeGit, tmp_path: Path
) -> None:
    config = repositories(svn_repository, make_git, tmp_path)
    state = State()
    crawled(config, state, tmp_path)
    # What the last crawl found below BASE, with nothing changed there since: trusted as it is.
    state.memory["svn"]["tags"] = []
    state.projects.clear()
    assert crawled(config, state, tmp_path) == ["web v2.0"]
    assert sorted(state.projects) == ["web"]
    assert crawled(config, state, tmp_path, walk=True) == ["Acme.Utils 1.0", "web v2.0"]


def test_a_claim_goes_once_its_project_is_read_with_no_release_and_publishes_nothing(
    svn_repository: SvnRepository, make_git: MakeGit, tmp_path: Path
) -> None:
    """Claims earlier runs gave: fresh's (a project with no release, as sdistmaker once
    claimed), old's (no release now, but it published a file), gone's (it cannot be read this
    run), web's (its last release tag deleted)."""
    config = repositories(svn_repository, make_git, tmp_path)
    svn_repository.mkdir("libs/old/trunk")
    web = GIT_REPOSITORIES.of(config)[0].url
    gone = str(tmp_path / "gone.git")
    listed = (GitRepository(gone), GitRepository(web))
    config = Config(config.outdir, vcs_settings={**config.vcs_settings, "GIT_REPOSITORIES": listed})
    claimed = {
        "fresh": f"svn:{svn_repository.url}/libs/fresh",
        "old": f"svn:{svn_repository.url}/libs/old",
        "gone": f"git:{gone}#",
    }
    state = State(projects=dict(claimed), owners={"old-lib": claimed["old"]})
    crawled(config, state, tmp_path)
    assert sorted(state.projects) == ["acme-utils", "gone", "old", "web"]

    run("git", "tag", "-d", "v2.0", cwd=Path(web))
    crawled(config, state, tmp_path)
    assert sorted(state.projects) == ["acme-utils", "gone", "old"]

    # Nothing changed below BASE: the claim goes as well when the crawl recalls its memory.
    state.projects["fresh"] = claimed["fresh"]
    assert crawled(config, state, tmp_path) == ["Acme.Utils 1.0"]
    assert sorted(state.projects) == ["acme-utils", "gone", "old"]


def test_a_project_whose_every_tag_holds_no_python_project_claims_no_name(
    tmp_path: Path,
) -> None:
    """Each tag of a discovered repository skipped: its project claims no name, unless one of
    its tags may still hold a project (failed, moved since, not built yet, or now listed), or it
    publishes."""
    tags = [
        tag("docs", "1.0"),
        tag("docs", "2.0"),
        tag("mixed", "1.0"),
        tag("mixed", "2.0"),
        tag("moved", "1.0", identity="new"),
        tag("waiting", "1.0"),
        tag("waiting", "1.1"),
        tag("listed", "1.0", discovered=False),
        tag("published", "1.0"),
    ]
    state = State(projects={name: f"git:/{name}#" for name in {t.project for t in tags}})
    for each in tags:
        if (each.project, each.name) != ("waiting", "1.1"):
            state.tags[each.key] = TagRecord(
                each.project, each.name, each.version, "old", "skipped", "2026-01-01T00:00:00Z"
            )
            state.tags[each.key].project_key = each.project_key
    state.tags["git:/mixed#@2.0"].status = "failed"
    state.owners["published-lib"] = "git:/published#"
    kept = ["listed", "mixed", "moved", "published", "waiting"]

    withdraw_skipped(state, tags)
    assert sorted(state.projects) == kept
    state.projects["docs"] = "git:/docs#"
    withdraw_skipped(state, [t for t in tags if t.project == "docs"][:1])
    assert sorted(state.projects) == kept


def tag(project: str, name: str, identity: str = "old", discovered: bool = True) -> Tag:
    """A tag of the git repository /``project``, as discovery finds it."""
    key = f"git:/{project}#"
    return Tag(
        project, name, name, f"/{project}", identity, f"{key}@{name}", key, "", print, discovered
    )


def test_a_repository_that_cannot_be_read_is_reported_and_the_others_still_read(
    svn_repository: SvnRepository, make_git: MakeGit, tmp_path: Path
) -> None:
    config = repositories(svn_repository, make_git, tmp_path)
    gone = str(tmp_path / "gone.git")
    entries = (GitRepository(gone), *GIT_REPOSITORIES.of(config))
    config = Config(
        config.outdir, vcs_settings={**config.vcs_settings, "GIT_REPOSITORIES": entries}
    )
    reports: Reports = []
    tags = crawl(config, State(), tmp_path / "private", lambda *report: reports.append(report))
    assert [f"{tag.project} {tag.name}" for tag in tags] == ["Acme.Utils 1.0", "web v2.0"]
    problems = {location: error for location, error in reports if error is not None}
    assert list(problems) == [gone]
    assert isinstance(problems[gone], VcsError)
    assert str(problems[gone]).startswith(f"{gone}: ")


def test_a_project_no_distribution_can_be_named_after_gets_no_page(
    svn_repository: SvnRepository, tmp_path: Path
) -> None:
    for name in ("+", "p"):
        svn_repository.add_project(name, setup_py_project("p", "1.0"))
        svn_repository.tag(name, "1.0")
    state = State()
    config = Config(outdir=tmp_path / "out", vcs_settings={"BASE": svn_repository.url})
    crawled(config, state, tmp_path)
    assert state.projects == {"p": f"svn:{svn_repository.url}/p"}

import re
import time
from pathlib import Path

import pytest

from helpers.projects import setup_py_project
from helpers.repositories import SvnRepository
from helpers.system import soon
from sdistmaker.config import Config
from sdistmaker.errors import VcsError
from sdistmaker.vcs import svn
from sdistmaker.vcs.base import Crawl, Source


def names(projects: list[svn.SvnProject]) -> list[str]:
    return sorted(p.location.split("/", 3)[-1].split("svn/", 1)[-1] for p in projects)


def test_the_walk_finds_projects_at_any_depth(svn_repository: SvnRepository) -> None:
    repo = svn_repository
    repo.add_project("top", setup_py_project("top", "1.0"))
    repo.add_project("group/nested", setup_py_project("nested", "1.0"))
    repo.add_project("group/deeper/still", setup_py_project("still", "1.0"))
    repo.mkdir("tagsonly/tags/1.0")  # a project with tags and no trunk
    repo.mkdir("empty/folder")
    projects = svn.find_projects(repo.url)
    assert names(projects) == ["group/deeper/still", "group/nested", "tagsonly", "top"]
    assert {p.name for p in projects} == {"top", "nested", "still", "tagsonly"}


def test_a_project_with_only_a_trunk_has_no_tags_yet(svn_repository: SvnRepository) -> None:
    svn_repository.mkdir("fresh/trunk")
    [project] = svn.find_projects(svn_repository.url)
    assert project.name == "fresh"
    assert project.tags() == []


def claims(crawl: Crawl, seen: list[Source]) -> tuple[list[str], list[str]]:
    """The projects a crawl claimed names for, and those it found with no release tag."""
    return sorted(p.name for p in seen), sorted(p.name for p in crawl.untagged)


def test_only_a_project_with_a_release_tag_claims_its_name(
    svn_repository: SvnRepository, tmp_path: Path
) -> None:
    """A trunk-only folder (docs/website) or a project whose only tag is no release claims no
    name, read by a walk or recalled from the last one: it would shadow a public project."""
    repo = svn_repository
    repo.add_project("libs/p", setup_py_project("p", "1.0"))
    repo.tag("libs/p", "1.0")
    repo.mkdir("docs/website/trunk")
    repo.add_project("libs/q", setup_py_project("q", "1.0"))
    repo.tag("libs/q", "latest")
    config = Config(tmp_path / "out", vcs_settings={"BASE": repo.url})
    seen: list[Source] = []
    walk = Crawl(config, tmp_path, {}, False, lambda *_: None, seen.append)
    assert [str(tag) for tag in svn.Subversion().crawl(walk)] == ["p 1.0"]
    assert claims(walk, seen) == (["p"], ["q", "website"])

    # Nothing changed below BASE since: the next crawl recalls what this one read.
    assert walk.memory["read"] == [repo.url, str(repo.youngest())]
    seen.clear()
    recalled = Crawl(config, tmp_path, walk.memory, False, lambda *_: None, seen.append)
    assert [str(tag) for tag in svn.Subversion().crawl(recalled)] == ["p 1.0"]
    assert claims(recalled, seen) == (["p"], ["q", "website"])


def test_blacklisted_folders_are_not_searched(svn_repository: SvnRepository) -> None:
    svn_repository.add_project("live/p", setup_py_project("p", "1.0"))
    svn_repository.add_project(".attic/old", setup_py_project("old", "1.0"))
    svn_repository.add_project("archive/gone", setup_py_project("gone", "1.0"))
    projects = svn.find_projects(svn_repository.url, blacklist=[".attic", "archive"])
    assert names(projects) == ["live/p"]


def test_a_stop_indicator_ends_the_search_in_its_folder(svn_repository: SvnRepository) -> None:
    svn_repository.add_project("docs/site/hidden", setup_py_project("hidden", "1.0"))
    svn_repository.commit_files("docs", {"buildout.cfg": "[buildout]\n"})
    svn_repository.add_project("libs/p", setup_py_project("p", "1.0"))
    assert names(svn.find_projects(svn_repository.url, stop_indicators=["buildout.cfg"])) == [
        "libs/p"
    ]
    assert "docs/site/hidden" in names(svn.find_projects(svn_repository.url))


def test_base_may_be_a_project_itself(svn_repository: SvnRepository) -> None:
    svn_repository.add_project("p", setup_py_project("p", "1.0"))
    svn_repository.tag("p", "1.0")
    [project] = svn.find_projects(f"{svn_repository.url}/p/")
    assert [t.name for t in project.tags()] == ["1.0"]


def test_tags_carry_version_location_and_last_changed_revision(
    svn_repository: SvnRepository,
) -> None:
    repo = svn_repository
    repo.add_project("g/p", setup_py_project("p", "1.0"))
    repo.tag("g/p", "1.0")
    first = repo.youngest()
    repo.tag("g/p", "v1.1", setup_py_project("p", "1.1"))
    second = repo.youngest()
    repo.tag("g/p", "latest")  # not a release
    repo.commit_files("g/p/trunk", {"later.txt": "later"})  # does not change the tags
    [project] = svn.find_projects(repo.url)
    tags = sorted(project.tags(), key=lambda t: t.name)
    assert [(t.name, t.version, t.identity) for t in tags] == [
        ("1.0", "1.0", str(first)),
        ("v1.1", "1.1", str(second)),
    ]
    assert tags[0].location == f"{repo.url}/g/p/tags/1.0"
    assert tags[0].project == "p"
    assert tags[0].key == f"svn:{repo.url}/g/p/tags/1.0"


def test_a_commit_into_a_tag_changes_its_identity(svn_repository: SvnRepository) -> None:
    svn_repository.add_project("p", setup_py_project("p", "1.0"))
    svn_repository.tag("p", "1.0")
    [before] = svn.find_projects(svn_repository.url)[0].tags()
    svn_repository.commit_files("p/tags/1.0", {"fix.txt": "sneaky"})
    [after] = svn.find_projects(svn_repository.url)[0].tags()
    assert after.key == before.key
    assert after.identity != before.identity


def test_export_uses_the_crawled_revision_even_after_the_tag_is_recreated(
    svn_repository: SvnRepository, tmp_path: Path
) -> None:
    repo = svn_repository
    repo.add_project("p", setup_py_project("p", "1.0"))
    repo.tag("p", "1.0")
    [project] = svn.find_projects(repo.url)
    [tag] = project.tags()
    repo.delete("p/tags/1.0")
    repo.tag("p", "1.0", {"setup.py": "raise SystemExit('recreated')\n"})
    tag.export(tmp_path / "export", soon())
    assert "version='1.0'" in (tmp_path / "export" / "setup.py").read_text()


@pytest.mark.parametrize("target", ["/etc/passwd", "../../somewhere", "inner/../../outside"])
def test_export_refuses_links_out_of_the_tree(
    svn_repository: SvnRepository, tmp_path: Path, target: str
) -> None:
    svn_repository.add_project("p", {**setup_py_project("p", "1.0"), "inner/x.txt": "x"})
    svn_repository.commit_link("p/trunk", "escape", target)
    svn_repository.tag("p", "1.0")
    [project] = svn.find_projects(svn_repository.url)
    [tag] = project.tags()
    message = f"link escape points out of the tag, to {target}"
    with pytest.raises(VcsError, match=f"^{re.escape(message)}$"):
        tag.export(tmp_path / "export", soon())


def test_export_keeps_links_within_the_tree(svn_repository: SvnRepository, tmp_path: Path) -> None:
    svn_repository.add_project("p", {**setup_py_project("p", "1.0"), "docs/index.txt": "x"})
    svn_repository.commit_link("p/trunk", "README.txt", "docs/index.txt")
    svn_repository.commit_link("p/trunk/docs", "setup.py", "../setup.py")
    svn_repository.tag("p", "1.0")
    [project] = svn.find_projects(svn_repository.url)
    [tag] = project.tags()
    tag.export(tmp_path / "export", soon())
    assert (tmp_path / "export" / "README.txt").read_text() == "x"
    assert (tmp_path / "export" / "docs" / "setup.py").is_symlink()


def test_names_with_spaces_and_unicode_survive(
    svn_repository: SvnRepository, tmp_path: Path
) -> None:
    svn_repository.add_project("my group/pröject", setup_py_project("p", "1.0"))
    svn_repository.tag("my group/pröject", "pröject 1.0")
    [project] = svn.find_projects(svn_repository.url)
    [tag] = project.tags()
    assert (tag.project, tag.name, tag.version) == ("pröject", "pröject 1.0", "1.0")
    tag.export(tmp_path / "export", soon())
    assert (tmp_path / "export" / "setup.py").exists()


def test_base_on_server_is_read_when_it_answers_and_named_as_base(
    svn_repository: SvnRepository,
) -> None:
    svn_repository.add_project("p", setup_py_project("p", "1.0"))
    svn_repository.tag("p", "1.0")
    [project] = svn.find_projects("https://svn.example.invalid/repos", svn_repository.url)
    assert project.url == f"{svn_repository.url}/p"
    [tag] = project.tags()
    assert tag.location == "https://svn.example.invalid/repos/p/tags/1.0"


def test_a_dead_base_on_server_falls_back_to_base(
    svn_repository: SvnRepository, caplog: pytest.LogCaptureFixture
) -> None:
    svn_repository.add_project("p", setup_py_project("p", "1.0"))
    projects = svn.find_projects(svn_repository.url, "file:///no/such/repository")
    assert names(projects) == ["p"]
    assert "BASE_ON_SERVER does not answer" in caplog.text


def test_an_unreadable_base_is_an_error_naming_it(tmp_path: Path) -> None:
    url = (tmp_path / "nothing").as_uri()
    with pytest.raises(VcsError, match=rf"^{url}: svn: E\d+: .*"):
        svn.find_projects(url)


def test_a_tag_url_names_its_tag(svn_repository: SvnRepository) -> None:
    svn_repository.add_project("g/p", setup_py_project("p", "1.0"))
    svn_repository.tag("g/p", "1.0")
    tag = svn.tag_from_url(f"{svn_repository.url}/g/p/tags/1.0/")
    assert (tag.project, tag.name, tag.version) == ("p", "1.0", "1.0")
    assert tag.identity == str(svn_repository.youngest())


@pytest.mark.parametrize(
    ("path", "message"),
    [("g/p/trunk", "not a tag URL"), ("g/p/tags/latest", "names no PEP 440 version")],
)
def test_a_url_that_is_no_release_tag_is_refused(
    svn_repository: SvnRepository, path: str, message: str
) -> None:
    svn_repository.add_project("g/p", setup_py_project("p", "1.0"))
    svn_repository.tag("g/p", "latest")
    with pytest.raises(VcsError, match=message):
        svn.tag_from_url(f"{svn_repository.url}/{path}")


def test_tags_of_one_project_share_its_key_whatever_they_point_at() -> None:
    project = svn.SvnProject("p", "file:///r/g/p", "file:///r/g/p")
    one, two = project.tag("1.0", "1.0", "3"), project.tag("1.1", "1.1", "5")
    assert one.key != two.key
    assert one.project_key == two.project_key == project.key == "svn:file:///r/g/p"
    assert project.tag("1.0", "1.0", "7").key == one.key  # moved


def test_a_tag_url_is_what_make_sdist_takes_to_rebuild_it() -> None:
    tag = svn.SvnProject("p", "file:///r/g/p", "file:///r/g/p").tag("1.0", "1.0", "3")
    assert tag.url == "file:///r/g/p/tags/1.0"
    assert tag.culprit == "p 1.0 (file:///r/g/p/tags/1.0)"


def test_export_tells_when_the_tag_was_last_changed(
    svn_repository: SvnRepository, tmp_path: Path
) -> None:
    repo = svn_repository
    repo.add_project("p", setup_py_project("p", "1.0"))
    before = time.time()
    repo.tag("p", "1.0")
    [project] = svn.find_projects(repo.url)
    [tag] = project.tags()
    made = tag.export(tmp_path / "export", soon())
    assert made is not None
    assert before - 1 <= made <= time.time()

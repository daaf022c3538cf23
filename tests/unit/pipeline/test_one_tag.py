"""Building one tag, given by its URL, into a destination folder (make_sdist)."""

from collections.abc import Callable
from pathlib import Path

import pytest

from helpers.projects import crafted_project
from helpers.repositories import GitRepository, SvnRepository
from sdistmaker.errors import SdistmakerError, StoreError
from sdistmaker.outdir import published
from sdistmaker.pipeline.one_tag import make_sdist

MakeGit = Callable[[str], GitRepository]


def test_an_svn_tag_url_is_built_into_the_folder_of_its_distribution(
    svn_repository: SvnRepository, tmp_path: Path
) -> None:
    svn_repository.add_project("libs/p", crafted_project())
    svn_repository.tag("libs/p", "1.0")
    dest = tmp_path / "dest"
    made = make_sdist(f"{svn_repository.url}/libs/p/tags/1.0", dest)
    assert made == dest / "alpha" / "alpha-1.0.tar.gz"
    assert sorted(p.name for p in dest.rglob("*")) == [
        published.RECORD,
        "alpha",
        "alpha-1.0.tar.gz",
    ]
    record = published.read(dest / "alpha")
    assert (record.owner, list(record.published)) == (
        f"svn:{svn_repository.url}/libs/p",
        ["alpha-1.0.tar.gz"],
    )
    provenance = record.provenance["alpha-1.0.tar.gz"]
    assert provenance["repository"] == f"{svn_repository.url}/libs/p/tags/1.0"
    assert (provenance["tag"], provenance["route"]) == ("1.0", "build")
    assert provenance["revision"].isdigit()


def test_a_git_tag_is_built_from_the_url_a_run_names_it_by(
    make_git: MakeGit, tmp_path: Path
) -> None:
    repo = make_git("p")
    repo.commit(crafted_project())
    repo.tag("v2.0", annotated=True)
    repo.commit({"later.txt": "not in the tag\n"})
    made = make_sdist(f"git+{repo.url}@v2.0", tmp_path / "dest")
    assert made == tmp_path / "dest" / "alpha" / "alpha-2.0.tar.gz"
    assert made.stat().st_size > 0


@pytest.mark.parametrize(
    ("url", "named"),
    [
        ("file:///nowhere/p/tags/1.0", "file:///nowhere/p/tags/1.0: svn: E180001: "),
        ("git+file:///nowhere/p@1.0", "file:///nowhere/p: fatal: "),
        ("file:///nowhere/p/trunk", "file:///nowhere/p/trunk: not a tag URL"),
        ("https://u:secret@127.0.0.1:9/p/tags/1.0", "https://127.0.0.1:9/p/tags/1.0: svn: "),
        ("git+https://u:secret@127.0.0.1:9/p.git@1.0", "https://127.0.0.1:9/p.git: fatal: "),
    ],
    ids=["svn", "git", "no tag", "svn password", "git password"],
)
def test_a_tag_url_that_leads_nowhere_is_one_line_naming_it_without_its_password(
    url: str, named: str, tmp_path: Path
) -> None:
    with pytest.raises(SdistmakerError) as error:
        make_sdist(url, tmp_path / "dest")
    message = str(error.value)
    assert message.startswith(named)
    assert "\n" not in message
    assert "secret" not in message
    assert not (tmp_path / "dest").exists()


def test_a_folder_another_project_publishes_is_not_published_to(
    svn_repository: SvnRepository, make_git: MakeGit, tmp_path: Path
) -> None:
    svn_repository.add_project("p", crafted_project())
    svn_repository.tag("p", "1.0")
    make_sdist(f"{svn_repository.url}/p/tags/1.0", tmp_path)
    fork = make_git("fork")
    fork.commit(crafted_project())
    fork.tag("1.1")
    with pytest.raises(StoreError) as error:
        make_sdist(f"git+{fork.url}@1.1", tmp_path)
    assert str(error.value).startswith(f"alpha is published from svn:{svn_repository.url}/p, ")
    assert sorted(p.name for p in (tmp_path / "alpha").glob("*.gz")) == ["alpha-1.0.tar.gz"]

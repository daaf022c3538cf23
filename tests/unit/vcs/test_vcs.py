"""The registry of version-control systems: what the crawl, ``make_sdist`` and the command line
find there."""

from __future__ import annotations

from pathlib import Path

import pytest

from sdistmaker import vcs
from sdistmaker.cli import sdists_from_tags
from sdistmaker.errors import VcsError
from sdistmaker.models import Tag
from sdistmaker.vcs.git import Git
from sdistmaker.vcs.hg import Mercurial
from sdistmaker.vcs.svn import Subversion


class Fossil(vcs.VersionControl):
    """A system more, as another module would register it."""

    name = "fossil"
    prefixes = ("fossil+",)
    tag_url = "fossil+URL@TAG"
    hook = vcs.Hook("--fossil-commit", "tell sdistmaker of a Fossil commit", ("CHECKIN",))

    def crawl(self, crawl: vcs.Crawl) -> list[Tag]:
        return []

    def tag_from_url(self, url: str, workdir: Path) -> Tag:
        raise VcsError(f"{url}: no tags here")


@pytest.fixture
def registry(monkeypatch: pytest.MonkeyPatch) -> None:
    """Systems registered in a test are gone after it."""
    monkeypatch.setattr(vcs, "_systems", vcs.systems())


def test_svn_git_and_hg_are_registered_svn_first() -> None:
    assert [type(system) for system in vcs.systems()] == [Subversion, Git, Mercurial]
    vcs.systems().clear()  # a copy: no caller can change what the crawl reads
    assert [system.name for system in vcs.systems()] == ["svn", "git", "hg"]


@pytest.mark.parametrize(
    ("url", "system"),
    [
        ("git+https://git.example.com/p.git@1.0", Git),
        ("git+file:///srv/git/p.git@1.0", Git),
        ("https://svn.example.com/repos/p/tags/1.0", Subversion),
        ("file:///srv/svn/repos/p/tags/1.0", Subversion),
        ("svn+ssh://svn.example.com/repos/p/tags/1.0", Subversion),
        ("hg+https://hg.example.com/p@1.0", Mercurial),
    ],
)
def test_a_tag_url_goes_to_the_system_of_its_prefix_else_to_svn(
    url: str, system: type[vcs.VersionControl]
) -> None:
    assert type(vcs.for_url(url)) is system


@pytest.mark.usefixtures("registry")
def test_a_registered_system_is_crawled_found_by_its_prefix_and_offers_its_hook(
    capsys: pytest.CaptureFixture[str],
) -> None:
    vcs.register(Fossil)
    assert [system.name for system in vcs.systems()] == ["svn", "git", "hg", "fossil"]
    assert type(vcs.for_url("fossil+https://fossil.example.com/p@1.0")) is Fossil
    assert type(vcs.for_url("https://svn.example.com/repos/p/tags/1.0")) is Subversion
    with pytest.raises(SystemExit):
        sdists_from_tags(["--help"])
    assert "--fossil-commit CHECKIN" in capsys.readouterr().out


def test_a_url_no_system_takes_is_an_error_without_its_password(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    # The registry as it is, but for the system that takes plain URLs.
    monkeypatch.setattr(vcs, "_systems", [system for system in vcs.systems() if system.prefixes])
    with pytest.raises(VcsError) as error:
        vcs.for_url("https://builder:s3cret@svn.example.com/repos/p/tags/1.0")
    assert str(error.value) == (
        "https://svn.example.com/repos/p/tags/1.0: no version-control system takes this URL"
    )

import pytest

from sdistmaker.git import parse_pip_url
from sdistmaker.tags import Tag, version_from_tag_name


@pytest.mark.parametrize(
    ("name", "version"),
    [
        ("1.2", "1.2"),
        ("v1.2", "1.2"),
        ("V1.2", "1.2"),
        ("project-1.2", "1.2"),
        ("acme.utils-2.0.1", "2.0.1"),
        ("my-project-1.2", "1.2"),
        ("release_3.0", "3.0"),
        ("frontend/1.4", "1.4"),
        ("project 1.5", "1.5"),
        ("1.0-rc1", "1.0rc1"),
        ("2.0.dev3", "2.0.dev3"),
        ("1.0.post1", "1.0.post1"),
    ],
)
def test_release_tags_map_to_normalised_versions(name: str, version: str) -> None:
    assert version_from_tag_name(name) == version


@pytest.mark.parametrize("name", ["latest", "reinout-fixed", "stable", "", "v", "old-trunk"])
def test_tags_naming_no_version_are_no_release(name: str) -> None:
    assert version_from_tag_name(name) is None


def test_a_tag_key_ignores_what_it_points_at() -> None:
    first = Tag("git", "p", "1.0", "1.0", "https://h/p.git", identity="a" * 40)
    moved = Tag("git", "p", "1.0", "1.0", "https://h/p.git", identity="b" * 40)
    assert first.key == moved.key
    assert first.project_key == moved.project_key == "git:https://h/p.git#"


def test_svn_tags_of_one_project_share_its_project_key() -> None:
    one = Tag("svn", "p", "1.0", "1.0", "file:///r/g/p/tags/1.0", identity="3")
    two = Tag("svn", "p", "1.1", "1.1", "file:///r/g/p/tags/1.1", identity="5")
    assert one.key != two.key
    assert one.project_key == two.project_key == "svn:file:///r/g/p"


def test_a_tag_url_is_what_make_sdist_takes_to_rebuild_it() -> None:
    svn = Tag("svn", "p", "1.0", "1.0", "file:///r/g/p/tags/1.0", identity="3")
    assert svn.url == "file:///r/g/p/tags/1.0"
    git = Tag("git", "web", "v2.0", "2.0", "https://h/mono.git", "a" * 40, subdirectory="web")
    assert git.url == "git+https://h/mono.git@v2.0#subdirectory=web"
    assert parse_pip_url(git.url) == ("https://h/mono.git", "v2.0", "web")
    assert git.culprit == "web v2.0 (git+https://h/mono.git@v2.0#subdirectory=web)"

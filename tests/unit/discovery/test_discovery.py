"""Sources that find repositories (sdistmaker/discovery/): how a setting's entry names one, and
which of the repositories it finds are read."""

from __future__ import annotations

import pytest

from sdistmaker import discovery, values
from sdistmaker.discovery import Discovered, Found
from sdistmaker.discovery.folder import Folder


def test_an_entry_naming_no_source_is_a_repository_of_its_own() -> None:
    assert discovery.entry({"url": "https://git.example.com/app.git"}, "git") is None


def test_an_entry_naming_a_source_takes_what_every_source_takes() -> None:
    entry = discovery.entry(
        {"folder": "/srv/git/**/*.git", "subdirectory": "/web/", "tags": "web-*", "exclude": ["x"]},
        "git",
    )
    assert isinstance(entry, Discovered) and isinstance(entry.source, Folder)
    assert (entry.subdirectory, entry.tags, entry.include, entry.exclude) == (
        "web",
        "web-*",
        ("*",),
        ("x",),
    )


@pytest.mark.parametrize(
    ("value", "message"),
    [
        ({"folder": "/srv/*.git", "branch": "x"}, "unknown key 'branch' (known: exclude, folder,"),
        ({"folder": "/srv/*.git", "include": "a*"}, "must be a list of strings, not str"),
        ({"folder": "/srv/*.git", "subdirectory": ".."}, "'subdirectory' must be a folder inside"),
        ({"folder": "/srv/*.git", "tags": 1}, "'tags' must be a string, not int"),
    ],
)
def test_a_wrong_source_entry_says_what_is_wrong(value: dict[str, object], message: str) -> None:
    with pytest.raises(values.Invalid) as raised:
        discovery.entry(value, "git")
    assert str(raised.value).startswith(message)


def test_include_and_exclude_match_repository_paths() -> None:
    entry = discovery.entry(
        {"folder": "/srv/git/**/*.git", "include": ["python/*"], "exclude": ["*/attic-*"]},
        "git",
    )
    assert entry is not None
    paths = ["python/app.git", "python/attic-old.git", "web/site.git", "python/sub/lib.git"]
    wanted = [path for path in paths if entry.wanted(Found(path, path, path))]
    # Globs match as fnmatch does: * takes slashes too.
    assert wanted == ["python/app.git", "python/sub/lib.git"]


def test_a_source_of_git_repositories_only_is_refused_for_another_system() -> None:
    with pytest.raises(values.Invalid, match=r"^'gitlab' finds git repositories, not hg ones$"):
        discovery.entry({"gitlab": "https://gitlab.example.com", "group": "acme"}, "hg")
    assert discovery.entry({"folder": "/srv/hg/*"}, "hg") is not None

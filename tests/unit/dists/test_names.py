"""Names: which can be a project folder's, which release a distribution file's name says."""

import pytest
from packaging.version import Version

from sdistmaker.dists.names import (
    is_distribution,
    is_project_name,
    names_release,
    project_name,
    releases_named,
)


@pytest.mark.parametrize(
    ("name", "folder"),
    [
        ("acme-utils", "acme-utils"),
        ("Acme.Utils", "acme-utils"),
        ("acme__utils", "acme-utils"),
        ("ACME_utils.2", "acme-utils-2"),
        ("+", None),
        ("..", None),
        (".hidden", None),
        ("acme/utils", None),
        ("-acme", None),
        ("", None),
    ],
)
def test_a_project_folder_is_named_by_the_normalised_name_or_not_at_all(
    name: str, folder: str | None
) -> None:
    assert project_name(name) == folder


@pytest.mark.parametrize(
    ("name", "is_one"),
    [
        ("acme-utils", True),
        ("a2", True),
        ("Acme-Utils", False),
        ("acme_utils", False),
        ("acme.utils", False),
        ("acme--utils", False),
        ("acme-", False),
    ],
)
def test_only_a_normalised_name_is_a_project_name(name: str, is_one: bool) -> None:
    assert is_project_name(name) is is_one


@pytest.mark.parametrize(
    ("filename", "is_one"),
    [
        ("p-1.0.tar.gz", True),
        ("p-1.0.zip", True),
        ("p-1.0-py3-none-any.whl", True),
        (".sdistmaker-tmp-p-1.0.tar.gz-x1y2", False),
        (".p-1.0.tar.gz", False),
        ("p-1.0.tar.gz.metadata", False),
        ("index.html", False),
    ],
)
def test_a_distribution_file_is_an_archive_not_hidden(filename: str, is_one: bool) -> None:
    assert is_distribution(filename) is is_one


def test_an_sdists_name_says_every_release_a_split_at_a_hyphen_gives() -> None:
    """Names and versions may hold hyphens: which hyphen splits them, the name cannot say."""
    assert releases_named("Acme-Utils-1.0-1.tar.gz") == {
        ("acme", None),
        ("acme-utils", Version("1.0.post1")),
        ("acme-utils-1-0", Version("1")),
    }
    assert releases_named("p-1.0.zip") == {("p", Version("1.0"))}


def test_a_wheels_name_says_one_release() -> None:
    assert releases_named("Acme_Utils-1.0-py2.py3-none-any.whl") == {("acme-utils", Version("1.0"))}


@pytest.mark.parametrize(
    ("filename", "says"),
    [
        ("acme_utils-1.0.tar.gz", True),
        ("Acme.Utils-1.0.0.zip", True),
        ("acme_utils-1.0-py3-none-any.whl", True),
        ("acme-utils-1.0-py3-none-any.whl", False),  # a hyphen in a wheel's name: no wheel name
        ("acme-utils-1.1.tar.gz", False),
        ("acme-1.0.tar.gz", False),
        ("acme-utils-1.0.whl", False),
        ("acme-utils.tar.gz", False),
    ],
)
def test_a_file_names_a_release_whatever_the_spelling_of_its_name_and_version(
    filename: str, says: bool
) -> None:
    assert names_release(filename, "Acme.Utils", "1.0") is says

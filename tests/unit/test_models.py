import pytest

from sdistmaker.models import version_from_tag_name


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

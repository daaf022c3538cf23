"""Private names: build requirements that only this index and the find-links may provide."""

from pathlib import Path

import pytest

from sdistmaker.building.installers import Pinned
from sdistmaker.building.private_names import PrivateNames, refuse_private_from_elsewhere
from sdistmaker.errors import BuildError


@pytest.mark.parametrize(
    ("name", "private"),
    [
        ("acme-utils", True),
        ("Acme_Utils", True),
        ("ACME.web", True),
        ("in-house", True),
        ("In_House", True),
        ("acme", False),
        ("setuptools", False),
        ("in-house-extra", False),
    ],
)
def test_a_name_is_private_by_a_glob_or_as_a_project_here_however_spelt(
    name: str, private: bool
) -> None:
    names = PrivateNames(globs=("acme-*",), names=frozenset({"in-house"}))
    assert (name in names) is private


def test_without_globs_or_projects_no_name_is_private() -> None:
    assert "acme-utils" not in PrivateNames()
    assert None not in PrivateNames(globs=("*",))


def wheel_at(url: str, name: str = "acme-utils") -> Pinned:
    return Pinned(name, "1.0", ((url, "0" * 64),))


@pytest.fixture
def places(tmp_path: Path) -> dict[str, Path]:
    """OUTDIR, a folder of find-links, and a link to that folder (as /opt/wheels often is)."""
    found = {"outdir": tmp_path / "pypi", "links": tmp_path / "links"}
    for folder in found.values():
        folder.mkdir()
    found["linked"] = tmp_path / "linked"
    found["linked"].symlink_to(found["links"])
    return found


def allowed(url: str, places: dict[str, Path], find_links: str) -> bool:
    """Whether a private name may be installed from ``url``."""
    private = PrivateNames(globs=("acme-*",), index=places["outdir"])
    installers = {"UV_FIND_LINKS": find_links, "PIP_FIND_LINKS": ""}
    try:
        refuse_private_from_elsewhere([wheel_at(url)], private, installers)
    except BuildError:
        return False
    return True


@pytest.mark.parametrize(
    ("where", "find_links", "is_allowed"),
    [
        ("{outdir}/acme-utils/acme_utils-1.0-py3-none-any.whl", "", True),
        ("{links}/acme_utils-1.0-py3-none-any.whl", "{links}", True),
        ("{linked}/acme_utils-1.0-py3-none-any.whl", "{links}", True),
        ("{links}/acme_utils-1.0-py3-none-any.whl", "{linked}", True),
        ("{links}/acme_utils-1.0-py3-none-any.whl", "/elsewhere,{links}", True),
        ("{outdir}/../elsewhere/acme_utils-1.0-py3-none-any.whl", "", False),
        ("{outdir}-other/acme_utils-1.0-py3-none-any.whl", "", False),
        ("{links}/acme_utils-1.0-py3-none-any.whl", "", False),
    ],
)
def test_a_private_name_may_come_from_a_file_below_outdir_or_the_find_links(
    places: dict[str, Path], where: str, find_links: str, is_allowed: bool
) -> None:
    """Below the folders themselves, whatever links lead there: not from beside them, not from
    a folder whose name merely begins as theirs."""
    url = "file://" + where.format(**places)
    assert allowed(url, places, find_links.format(**places)) is is_allowed


@pytest.mark.parametrize(
    ("url", "is_allowed"),
    [
        ("https://wheels.acme.example/simple/acme_utils-1.0-py3-none-any.whl", True),
        ("https://builder:s3cret@WHEELS.acme.example/simple/acme_utils-1.0.whl", True),
        ("https://wheels.acme.example/other/acme_utils-1.0-py3-none-any.whl", False),
        ("http://wheels.acme.example/simple/acme_utils-1.0-py3-none-any.whl", False),
        ("https://wheels.acme.example.evil/simple/acme_utils-1.0-py3-none-any.whl", False),
    ],
)
def test_a_find_links_page_provides_the_files_of_its_folder(
    places: dict[str, Path], url: str, is_allowed: bool
) -> None:
    page = "https://wheels.acme.example/simple/links.html"
    assert allowed(url, places, page) is is_allowed


def test_a_private_name_from_elsewhere_is_refused_naming_where_without_its_secret(
    places: dict[str, Path],
) -> None:
    public = "https://ci:s3cret@pypi.example/packages/acme_utils-9.0-py3-none-any.whl"
    pinned = [
        wheel_at("https://pypi.example/packages/setuptools.whl", "setuptools"),
        wheel_at(public),
    ]
    private = PrivateNames(globs=("acme-*",), index=places["outdir"])
    with pytest.raises(BuildError) as raised:
        refuse_private_from_elsewhere(pinned, private, {})
    assert str(raised.value) == (
        "build requirement acme-utils 1.0 is a private name (PRIVATE_NAMES, or a project of "
        "this index) but would come from "
        "https://pypi.example/packages/acme_utils-9.0-py3-none-any.whl: "
        "only OUTDIR and the find-links may provide it"
    )

"""svn:externals, checked before an export follows them: read as svn reads them, and only from
the tag's repository and those SVN_EXTERNALS_FROM names."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

import pytest

from helpers.projects import setup_py_project
from helpers.repositories import SvnRepository
from helpers.system import soon
from sdistmaker.errors import VcsError
from sdistmaker.vcs import svn, svn_externals
from sdistmaker.vcs.svn_externals import Externals


def test_externals_of_the_tags_repository_are_exported(
    svn_repository: SvnRepository, tmp_path: Path
) -> None:
    svn_repository.add_project("shared", {"shared.txt": "shared\n"})
    svn_repository.add_project("p", setup_py_project("p", "1.0"))
    svn_repository.set_externals(
        "p/trunk", "^/shared/trunk shared\n../../../shared/trunk/shared.txt copy.txt"
    )
    svn_repository.tag("p", "1.0")
    [project] = [p for p in svn.find_projects(svn_repository.url) if p.name == "p"]
    [tag] = project.tags()
    tag.export(tmp_path / "export", soon())
    assert (tmp_path / "export" / "shared" / "shared.txt").read_text() == "shared\n"
    assert (tmp_path / "export" / "copy.txt").read_text() == "shared\n"


def test_externals_from_a_repository_svn_externals_from_names_are_exported(
    svn_repository: SvnRepository, tmp_path: Path
) -> None:
    other = SvnRepository(tmp_path / "other")
    other.add_project("lib", {"lib.txt": "lib\n"})
    svn_repository.add_project("p", setup_py_project("p", "1.0"))
    svn_repository.set_externals("p/trunk", f"{other.url}/lib/trunk lib")
    svn_repository.tag("p", "1.0")
    options = svn.Options(externals_from=(f"{other.url}/lib",))
    [project] = svn.find_projects(svn_repository.url, options=options)
    [tag] = project.tags()
    tag.export(tmp_path / "export", soon())
    assert (tmp_path / "export" / "lib" / "lib.txt").read_text() == "lib\n"
    # Only below what it names: a folder beside it is another's.
    options = svn.Options(externals_from=(f"{other.url}/li",))
    [project] = svn.find_projects(svn_repository.url, options=options)
    [tag] = project.tags()
    with pytest.raises(VcsError, match="from another repository: refused"):
        tag.export(tmp_path / "again", soon())


@pytest.mark.parametrize(
    ("definition", "absolute"),
    [
        ("^/shared/lib", "https://svn.example.com/repos/shared/lib"),
        ("^/../other/lib", "https://svn.example.com/other/lib"),
        ("../../lib", "https://svn.example.com/repos/p/lib"),
        ("//mirror.example.com/repos/lib", "https://mirror.example.com/repos/lib"),
        ("/elsewhere/lib", "https://svn.example.com/elsewhere/lib"),
        ("https://svn.example.com/repos/a/../../x", "https://svn.example.com/x"),
    ],
)
def test_relative_externals_are_read_as_svn_reads_them(definition: str, absolute: str) -> None:
    folder = "https://svn.example.com/repos/p/tags/1.0"
    assert svn_externals._absolute(definition, folder, "https://svn.example.com/repos") == absolute


@pytest.mark.parametrize(
    ("line", "definition"),
    [
        ("^/shared/trunk shared", ("^/shared/trunk", [])),
        ("-r 5 ^/shared/trunk@3 shared", ("^/shared/trunk@3", ["-r", "5"])),
        ("-r5 ../lib 'my lib'", ("../lib", ["-r", "5"])),
        # From before svn 1.5: the path first.
        (
            "shared -r 5 https://svn.example.com/repos/shared",
            ("https://svn.example.com/repos/shared", ["-r", "5"]),
        ),
        ('"my lib" /repos/lib', ("/repos/lib", [])),
    ],
)
def test_both_formats_of_a_definition_are_read(
    line: str, definition: tuple[str, list[str]]
) -> None:
    value = f"# shared code\n\n{line}\n"
    assert list(svn_externals._definitions(value)) == [definition]


@pytest.mark.parametrize("line", ["^/a b c", "^/a", '^/lib "my lib'])
def test_a_definition_svn_cannot_read_either_is_an_error(line: str) -> None:
    with pytest.raises(VcsError) as error:
        list(svn_externals._definitions(line))
    assert str(error.value) == f"an svn:externals line svn cannot read either: {line!r}"


def checked(
    repository: SvnRepository, folder: str, externals_from: Sequence[str] = ()
) -> list[float]:
    """Check the externals below ``folder``; when the repository's roots were asked for."""
    asked: list[float] = []

    def roots(deadline: float) -> tuple[str, ...]:
        asked.append(deadline)
        return (repository.url,)

    location = f"{repository.url}/{folder}"
    Externals(location, soon(), roots, externals_from).refuse_any_from_elsewhere(location)
    return asked


def test_roots_are_asked_only_of_a_tag_with_externals(svn_repository: SvnRepository) -> None:
    svn_repository.add_project("shared", {"shared.txt": "shared\n"})
    svn_repository.add_project("p", setup_py_project("p", "1.0"))
    assert checked(svn_repository, "p/trunk") == []
    svn_repository.set_externals("p/trunk", "^/shared/trunk one\n^/shared/trunk/shared.txt two")
    assert len(checked(svn_repository, "p/trunk")) == 1


def test_an_external_from_elsewhere_is_named_without_peg_or_password(
    svn_repository: SvnRepository,
) -> None:
    svn_repository.add_project("p", setup_py_project("p", "1.0"))
    svn_repository.mkdir("p/trunk/src")
    svn_repository.set_externals(
        "p/trunk/src", "https://builder:s3cret@svn.example.invalid/lib@12 lib"
    )
    with pytest.raises(VcsError) as error:
        checked(svn_repository, "p/trunk")
    assert str(error.value) == (
        f"{svn_repository.url}/p/trunk: svn:externals on {svn_repository.url}/p/trunk/src bring "
        "in https://svn.example.invalid/lib from another repository: refused "
        "(SVN_EXTERNALS_FROM names those that may)"
    )


def test_an_external_is_checked_at_its_operative_revision(svn_repository: SvnRepository) -> None:
    svn_repository.add_project("lib", {"lib.txt": "lib\n"})
    svn_repository.set_externals("lib/trunk", "https://svn.example.invalid/other other")
    then = svn_repository.youngest()
    svn_repository.set_externals("lib/trunk", "")
    svn_repository.add_project("p", setup_py_project("p", "1.0"))
    svn_repository.set_externals("p/trunk", "^/lib/trunk lib")
    checked(svn_repository, "p/trunk")  # lib has none now
    svn_repository.set_externals("p/trunk", f"-r {then} ^/lib/trunk lib")
    with pytest.raises(
        VcsError, match=r"bring in https://svn\.example\.invalid/other from another"
    ):
        checked(svn_repository, "p/trunk")


def chain(repository: SvnRepository, length: int) -> None:
    """Folders n0 … n{length}, each but the last bringing in the next as an external."""
    repository.mkdir(*(f"n{n}" for n in range(length + 1)))
    for n in range(length):
        repository.set_externals(f"n{n}", f"^/n{n + 1} next")


def test_externals_are_followed_eight_deep_and_no_deeper(svn_repository: SvnRepository) -> None:
    chain(svn_repository, 9)
    checked(svn_repository, "n1")
    with pytest.raises(VcsError) as error:
        checked(svn_repository, "n0")
    assert str(error.value) == f"{svn_repository.url}/n0: svn:externals nested too deep"


def test_externals_that_bring_in_each_other_are_read_once(svn_repository: SvnRepository) -> None:
    svn_repository.mkdir("a", "b")
    svn_repository.set_externals("a", "^/b b")
    svn_repository.set_externals("b", "^/a a")
    checked(svn_repository, "a")

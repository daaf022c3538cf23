"""The errors sdistmaker reports: each class, raised by the library, is one line on the command
line, its message as it is, and an exit status that says whether the user must mend their
defaults (2) or something else failed (1)."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import pytest

from helpers.projects import write_defaults
from helpers.repositories import SvnRepository
from sdistmaker.cli import make_sdist, sdists_from_tags
from sdistmaker.config import load_defaults
from sdistmaker.errors import (
    BuildError,
    ConfigError,
    SdistmakerError,
    StoreError,
    TemplateError,
    VcsError,
)
from sdistmaker.pipeline.one_tag import make_sdist as build_one
from sdistmaker.pipeline.run import run


@dataclass
class Case:
    library: Callable[[], object]
    """What raises the error in the library."""
    command: list[str]
    """sdists_from_tags's arguments, or make_sdist's (after "make_sdist")."""


def wrong_defaults(tmp_path: Path, svn: SvnRepository) -> Case:
    defaults = write_defaults(tmp_path, OUTDIR="out", JOBS=0)
    return Case(lambda: load_defaults(defaults), ["-q", "-d", str(defaults)])


def unreadable_repository(tmp_path: Path, svn: SvnRepository) -> Case:
    url = f"{svn.url}/nothing/tags/1.0"
    dest = str(tmp_path / "dest")
    return Case(lambda: build_one(url, dest), ["make_sdist", "-q", url, dest])


def failing_build(tmp_path: Path, svn: SvnRepository) -> Case:
    svn.add_project("p", {"setup.py": "raise RuntimeError('nope')\n"})
    svn.tag("p", "1.0")
    url, dest = f"{svn.url}/p/tags/1.0", str(tmp_path / "dest")
    return Case(lambda: build_one(url, dest), ["make_sdist", "-q", url, dest])


def unreadable_state(tmp_path: Path, svn: SvnRepository) -> Case:
    defaults = write_defaults(tmp_path, OUTDIR="out")
    (tmp_path / "out" / ".sdistmaker").mkdir(parents=True)
    (tmp_path / "out" / ".sdistmaker" / "state.json").write_text('{"version": 999}')
    return Case(lambda: run(load_defaults(defaults)), ["-q", "-d", str(defaults)])


def failing_template(tmp_path: Path, svn: SvnRepository) -> Case:
    (tmp_path / "templates" / "simple").mkdir(parents=True)
    (tmp_path / "templates" / "simple" / "root.html").write_text("{{ 1 / 0 }}\n")
    defaults = write_defaults(tmp_path, OUTDIR="out", TEMPLATES="templates")
    return Case(
        lambda: run(load_defaults(defaults), render_only=True),
        ["-q", "--render-only", "-d", str(defaults)],
    )


CASES: dict[type[SdistmakerError], tuple[Callable[[Path, SvnRepository], Case], int]] = {
    ConfigError: (wrong_defaults, 2),
    VcsError: (unreadable_repository, 1),
    BuildError: (failing_build, 1),
    StoreError: (unreadable_state, 1),
    TemplateError: (failing_template, 1),
}


@pytest.mark.parametrize("error_class", CASES, ids=[kind.__name__ for kind in CASES])
def test_each_error_is_one_line_and_its_exit_status(
    error_class: type[SdistmakerError],
    tmp_path: Path,
    svn_repository: SvnRepository,
    capsys: pytest.CaptureFixture[str],
) -> None:
    arrange, status = CASES[error_class]
    case = arrange(tmp_path, svn_repository)
    with pytest.raises(error_class) as error:
        case.library()
    if case.command[0] == "make_sdist":
        assert make_sdist(case.command[1:]) == status
    else:
        assert sdists_from_tags(case.command) == status
    assert capsys.readouterr().err == f"{error.value}\n"
    assert "\n" not in str(error.value)


def test_every_error_class_is_on_the_command_line() -> None:
    """A new class of error here is one the command line must be shown to report."""
    classes = SdistmakerError.__subclasses__()
    assert set(CASES) == {kind for kind in classes if kind.__module__ == "sdistmaker.errors"}

"""A folder of repositories on this machine (sdistmaker/discovery/folder.py): which folders its
glob finds, and how people address them."""

from __future__ import annotations

import time
from pathlib import Path

import pytest

from helpers.system import run
from sdistmaker import values
from sdistmaker.discovery.folder import Folder
from sdistmaker.errors import VcsError

GIT_MARKS = ("HEAD", ".git")


def bare(folder: Path) -> Path:
    run("git", "init", "-q", "--bare", folder)
    return folder


def found(source: Folder) -> list[tuple[str, str, str]]:
    return [(f.url, f.address, f.path) for f in source.find(GIT_MARKS, time.monotonic() + 60)]


def test_the_glob_finds_repositories_at_any_depth_and_nothing_inside_them(tmp_path: Path) -> None:
    root = tmp_path / "srv"
    app = bare(root / "team" / "app.git")
    tools = bare(root / "tools.git")
    bare(root / "team" / "app.git" / "hooks" / "inner.git")  # inside a repository: not looked at
    (root / "notes.git").mkdir()  # named like one, but no repository
    (root / "attic" / "old").mkdir(parents=True)
    source = Folder.of({"folder": f"{root}/**/*.git", "url": "https://git.example.com/{path}"})
    assert found(source) == [
        (str(app), "https://git.example.com/team/app.git", "team/app.git"),
        (str(tools), "https://git.example.com/tools.git", "tools.git"),
    ]
    assert source.folder == root


def test_a_glob_of_one_level_and_a_folder_alone(tmp_path: Path) -> None:
    root = tmp_path / "srv"
    bare(root / "team" / "app.git")
    tools = bare(root / "tools.git")
    assert found(Folder.of({"folder": f"{root}/*.git"})) == [(str(tools), str(tools), "tools.git")]
    everything = Folder.of({"folder": str(root)})  # no glob: every repository below it
    assert [path for _, _, path in found(everything)] == ["team/app.git", "tools.git"]


def test_a_missing_folder_is_an_error_naming_the_source(tmp_path: Path) -> None:
    source = Folder.of({"folder": f"{tmp_path}/gone/**/*.git"})
    with pytest.raises(
        VcsError, match=rf"^{tmp_path}/gone/\*\*/\*\.git: no folder {tmp_path}/gone$"
    ):
        found(source)


@pytest.mark.parametrize(
    ("value", "message"),
    [
        (
            {"folder": "srv/git/*.git"},
            "'folder' must be an absolute path or glob, not 'srv/git/*.git'",
        ),
        ({"folder": "/srv/*.git", "url": "https://h/{name}"}, "'url' may name {path} and nothing"),
        ({"folder": 3}, "'folder' must be a string, not int"),
    ],
)
def test_a_wrong_folder_entry_says_what_is_wrong(value: dict[str, object], message: str) -> None:
    with pytest.raises(values.Invalid) as raised:
        Folder.of(value)
    assert str(raised.value).startswith(message)

"""WHEELS = True: a wheel from every new sdist, published and indexed beside it."""

import json
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path

import pytest

from helpers.projects import hatchling_project, setup_py_project, write_defaults
from helpers.repositories import GitRepository
from helpers.system import fresh_venv
from sdistmaker.cli import sdists_from_tags

MakeGit = Callable[[str], GitRepository]


def test_wheels_are_built_published_indexed_and_installable(
    make_git: MakeGit, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    repo = make_git("p")
    repo.commit(hatchling_project("acme.wheel", "1.0"))
    repo.tag("1.0")
    defaults = write_defaults(tmp_path, GIT_REPOSITORIES=[repo.url], OUTDIR="out", WHEELS=True)
    assert sdists_from_tags(["-d", str(defaults)]) == 0
    lines = capsys.readouterr().err.splitlines()
    assert lines[:2] == [
        "built p 1.0 -> acme-wheel/acme_wheel-1.0.tar.gz",
        "built p 1.0 -> acme-wheel/acme_wheel-1.0-py2.py3-none-any.whl",
    ]
    folder = tmp_path / "out" / "acme-wheel"
    assert (folder / "acme_wheel-1.0-py2.py3-none-any.whl.metadata").exists()
    files = json.loads((folder / "index.json").read_text())["files"]
    assert [f["filename"] for f in files] == [
        "acme_wheel-1.0-py2.py3-none-any.whl",
        "acme_wheel-1.0.tar.gz",
    ]
    assert all(f["core-metadata"] for f in files)

    python = fresh_venv(tmp_path / "venv")
    subprocess.run(
        [
            sys.executable,
            "-m",
            "pip",
            "--python",
            python,
            "install",
            "-q",
            "--only-binary",
            ":all:",
            "--index-url",
            (tmp_path / "out").as_uri() + "/",
            "acme.wheel",
        ],
        check=True,
    )
    assert sdists_from_tags(["-q", "-d", str(defaults)]) == 0


def test_an_sdist_missing_a_file_fails_its_wheel_and_is_still_published(
    make_git: MakeGit, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    repo = make_git("p")
    files = setup_py_project("incomplete", "1.0")
    # The tag has CHANGES.txt, but no MANIFEST.in puts it in the sdist.
    files["setup.py"] = files["setup.py"].replace(
        "setup(", "setup(long_description=open('CHANGES.txt').read(), "
    )
    files["CHANGES.txt"] = "1.0: first\n"
    repo.commit(files)
    repo.tag("1.0")
    defaults = write_defaults(tmp_path, GIT_REPOSITORIES=[repo.url], OUTDIR="out", WHEELS=True)
    assert sdists_from_tags(["-q", "-d", str(defaults)]) == 1
    [line] = capsys.readouterr().err.splitlines()
    assert line.startswith(f"failed p 1.0 (git+{repo.url}@1.0): wheel: FileNotFoundError: ")
    assert "CHANGES.txt" in line
    assert sorted(p.name for p in (tmp_path / "out" / "incomplete").glob("*.gz")) == [
        "incomplete-1.0.tar.gz"
    ]
    assert not list((tmp_path / "out" / "incomplete").glob("*.whl"))
    assert sdists_from_tags(["-q", "-d", str(defaults)]) == 0

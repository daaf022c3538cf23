import json
import os
import textwrap
import uuid
from pathlib import Path
from typing import Any

import pytest

from helpers.projects import (
    ProjectKind,
    crafted_project,
    hatchling_project,
    pyproject_setuptools_project,
    scm_project,
    setup_py_project,
    write_tree,
)
from helpers.repositories import SvnRepository
from helpers.system import all_gone, require
from sdistmaker.building import processes
from sdistmaker.building.build import (
    ROUTE_BUILD,
    ROUTE_LEGACY_PYTHON,
    ROUTE_OLD_SETUPTOOLS,
    BuildSettings,
    Sdist,
    build_sdist,
    build_wheel,
)
from sdistmaker.cli import make_sdist
from sdistmaker.dists import archives
from sdistmaker.errors import BuildError, NotAProject


def build(tmp_path: Path, files: dict[str, str], version: str, **options: Any) -> Sdist:
    source = tmp_path / "source"
    write_tree(source, files)
    settings = BuildSettings(**{"timeout": 120.0, **options})
    log = tmp_path / "build.log"
    return build_sdist(
        source, tmp_path / "dist", version=version, project="p", settings=settings, log=log
    )


@pytest.mark.parametrize(
    ("kind", "filename"),
    [
        (setup_py_project, "acme_utils-1.0.tar.gz"),
        (pyproject_setuptools_project, "acme_utils-1.0.tar.gz"),
        (hatchling_project, "acme_utils-1.0.tar.gz"),
    ],
)
def test_each_kind_of_project_builds(tmp_path: Path, kind: ProjectKind, filename: str) -> None:
    sdist = build(tmp_path, kind("Acme.Utils", "1.0"), "1.0")
    assert sdist.path == tmp_path / "dist" / filename
    assert (sdist.name, sdist.version, sdist.route) == ("acme-utils", "1.0", ROUTE_BUILD)


def test_a_version_from_the_vcs_is_the_tags_version(tmp_path: Path) -> None:
    sdist = build(tmp_path, scm_project("scm.thing", ""), "2.3.post1")
    assert sdist.path.name == "scm_thing-2.3.post1.tar.gz"


def test_hatch_vcs_gets_the_tags_version_too(tmp_path: Path) -> None:
    files = {
        "pyproject.toml": textwrap.dedent("""\
            [build-system]
            requires = ["hatchling", "hatch-vcs"]
            build-backend = "hatchling.build"
            [project]
            name = "vcs-thing"
            dynamic = ["version"]
            [tool.hatch.version]
            source = "vcs"
            """),
        "vcs_thing/__init__.py": "",
    }
    assert build(tmp_path, files, "0.4").version == "0.4"


def test_a_version_other_than_the_tags_is_refused(tmp_path: Path) -> None:
    with pytest.raises(
        BuildError, match=r"built version 1.0 but the tag is version 1.1 \(p-1.0.tar.gz\)"
    ):
        build(tmp_path, setup_py_project("p", "1.0"), "1.1")


def test_a_tree_holding_no_python_project_is_refused_saying_what_it_lacks(
    tmp_path: Path,
) -> None:
    """A distinct error: a discovered repository's tag holding no project is skipped, not
    failed."""
    with pytest.raises(NotAProject) as refused:
        build(tmp_path, {"README.txt": "hello", "docs/setup.py": ""}, "1.0")
    assert str(refused.value) == (
        "holds no Python project: no pyproject.toml, setup.py or setup.cfg"
    )
    assert isinstance(refused.value, BuildError)


def test_a_tree_with_only_a_setup_cfg_is_a_python_project_that_fails(tmp_path: Path) -> None:
    files = {"setup.cfg": "[metadata]\nname = cfg.only\nversion = 1.0\n"}
    reason = "^setup.cfg alone: PyPA build needs a pyproject.toml or a setup.py$"
    with pytest.raises(BuildError, match=reason) as failed:
        build(tmp_path, files, "1.0")
    assert not isinstance(failed.value, NotAProject)


def test_a_raising_setup_py_fails_with_its_exception(tmp_path: Path) -> None:
    files = {"setup.py": "raise RuntimeError('no way to build this')\n"}
    with pytest.raises(BuildError, match="RuntimeError: no way to build this"):
        build(tmp_path, files, "1.0")
    assert "no way to build this" in (tmp_path / "build.log").read_text()


def test_setup_py_only_projects_fall_back_to_old_setuptools(tmp_path: Path) -> None:
    files = {
        "setup.py": "from setuptools import setup\n"
        "setup(name='old.thing', version='1.0', use_2to3=True, py_modules=[])\n"
    }
    sdist = build(tmp_path, files, "1.0")
    assert sdist.route == ROUTE_OLD_SETUPTOOLS
    assert sdist.path.name == "old.thing-1.0.tar.gz"


def test_python_2_setup_py_builds_with_legacy_python(tmp_path: Path, legacy_python: str) -> None:
    files = {
        "setup.py": "from setuptools import setup\n"
        "print 'python 2 syntax'\n"
        "setup(name='py2.thing', version='0.9', py_modules=[])\n"
    }
    sdist = build(tmp_path, files, "0.9", legacy_python=legacy_python)
    assert (sdist.name, sdist.route) == ("py2-thing", ROUTE_LEGACY_PYTHON)


def test_without_legacy_python_python_2_code_fails_with_the_reason(tmp_path: Path) -> None:
    files = {"setup.py": "print 'python 2 syntax'\n"}
    with pytest.raises(BuildError) as error:
        build(tmp_path, files, "0.9")
    message = str(error.value)
    assert message.startswith("build, setuptools<58: SyntaxError: Missing parentheses")


SLEEPER = f"sleeper-{uuid.uuid4()}"
"""Marks the processes the hanging backend starts, to look for them after."""
HANGING_BACKEND = f"""\
import subprocess, sys, time

def get_requires_for_build_sdist(config_settings=None):
    sleep = [sys.executable, "-c", "import time; time.sleep(300)", "{SLEEPER}"]
    subprocess.Popen(sleep)
    subprocess.Popen(sleep, start_new_session=True)  # a daemon, out of the process group
    time.sleep(300)
    return []
"""


def test_a_hanging_build_is_killed_with_its_whole_process_tree(tmp_path: Path) -> None:
    require("bwrap")  # without a sandbox, a daemon escapes the kill of the process group
    files = {
        "pyproject.toml": (
            '[build-system]\nrequires = []\nbuild-backend = "hang"\nbackend-path = ["."]\n'
        ),
        "hang.py": HANGING_BACKEND,
    }
    with pytest.raises(BuildError, match=r"build timed out \(build\), process tree killed"):
        build(tmp_path, files, "1.0", timeout=8.0)
    assert all_gone(SLEEPER)


def test_each_build_has_its_own_temporary_folder(tmp_path: Path) -> None:
    files = {
        "setup.py": "import os, tempfile\n"
        "open(os.path.join(os.path.dirname(os.path.abspath(__file__)), 'tmp.txt'), 'w')"
        ".write(tempfile.gettempdir())\n"
        "from setuptools import setup\nsetup(name='p', version='1.0', py_modules=[])\n"
    }
    build(tmp_path, files, "1.0")
    used = Path((tmp_path / "source" / "tmp.txt").read_text())
    assert used.is_relative_to(tmp_path)
    assert os.environ.get("TMPDIR") != str(used)


def test_build_environment_reaches_the_backend(tmp_path: Path) -> None:
    files = {
        "setup.py": "import os\n"
        "open(os.path.join(os.path.dirname(os.path.abspath(__file__)), 'mark.txt'), 'w')"
        ".write(os.environ['ACME_INDEX'])\n"
        "from setuptools import setup\nsetup(name='p', version='1.0', py_modules=[])\n"
    }
    build(tmp_path, files, "1.0", environment={"ACME_INDEX": "https://pypi.acme.example/simple/"})
    assert (tmp_path / "source" / "mark.txt").read_text() == "https://pypi.acme.example/simple/"


def test_a_build_gets_only_what_it_needs_of_sdistmakers_environment(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A variable's name does not tell whether it holds a secret: a build gets the few it
    needs to run at all, and what BUILD_ENVIRONMENT gives (None: as sdistmaker has it)."""
    secrets = {
        "TWINE_PASSWORD": "s3cret",
        "RELEASE_SIGNING_KEY": "-----BEGIN PGP PRIVATE KEY BLOCK----- s3cret",
        "CI_JOB_TOKEN": "s3cret",
        "NOTIFY": "https://hooks.slack.com/services/T000/B000/s3cret",
        "MYSQL_PWD": "s3cret",
        "PIP_INDEX_URL": "https://builder:s3cret@pypi.example/simple",
    }
    for name, value in secrets.items():
        monkeypatch.setenv(name, value)
    monkeypatch.setenv("HARMLESS_SETTING", "left out all the same")
    monkeypatch.setenv("ACME_CA", "/etc/acme/ca.pem")
    monkeypatch.setenv("TZ", "Europe/Vienna")
    monkeypatch.setenv("LC_TIME", "C.UTF-8")
    files = {
        "setup.py": "import json, os\n"
        "open(os.path.join(os.path.dirname(os.path.abspath(__file__)), 'seen.json'), 'w')"
        ".write(json.dumps(dict(os.environ)))\n"
        "from setuptools import setup\nsetup(name='p', version='1.0', py_modules=[])\n"
    }
    given = {"GITLAB_TOKEN": "given", "ACME_CA": None, "NOT_SET_ANYWHERE": None}
    build(tmp_path, files, "1.0", environment=given)
    seen = json.loads((tmp_path / "source" / "seen.json").read_text())
    assert [name for name, value in seen.items() if "s3cret" in value] == []
    hooks = {name for name in seen if name.startswith("_PYPROJECT_HOOKS_")}  # PyPA build's
    needed = {"PATH", "HOME", "LANG", "TZ", "LC_TIME"} & set(os.environ)
    own = {"TMPDIR", "SETUPTOOLS_SCM_PRETEND_VERSION", "SETUPTOOLS_SCM_PRETEND_VERSION_FOR_P"}
    # PWD: bwrap's, where it runs the command.
    assert set(seen) - {"PWD"} == needed | own | hooks | {"GITLAB_TOKEN", "ACME_CA"}
    assert (seen["GITLAB_TOKEN"], seen["ACME_CA"], seen["TZ"]) == (
        "given",
        "/etc/acme/ca.pem",
        "Europe/Vienna",
    )


def test_a_build_printing_without_end_keeps_the_head_and_tail_of_its_output(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(processes, "LOG_LIMIT", 64 * 1024)
    files = setup_py_project("p", "1.0")
    files["setup.py"] = (
        "import sys\n"
        "print('FIRST LINE')\n"
        "for n in range(200_000): print('noise', n)\n"
        "print('LAST LINE')\n"
        "sys.stdout.flush()\n" + files["setup.py"]
    )
    build(tmp_path, files, "1.0")
    log = tmp_path / "build.log"
    text = log.read_text()
    assert os.path.getsize(log) < 3 * 64 * 1024  # every route's output, each capped
    assert "FIRST LINE" in text
    assert "LAST LINE" in text
    assert "bytes of output left out here" in text


# What a build made is read as untrusted: any file may come out of a tag's backend.


@pytest.mark.parametrize(
    ("written", "message"),
    [
        (
            'good_sdist(directory), os.rename(os.path.join(directory, TOP + ".tar.gz"), '
            'os.path.join(os.fsencode(directory), b"\\xff\\xfe" + TOP.encode() + b".tar.gz"))',
            r"'\udcff\udcfealpha-1.1.tar.gz': no distribution file name: ASCII letters, digits "
            r"and ._+!- only",
        ),
        (
            'sdist(directory, member(TOP + "/PKG-INFO", PKG_INFO), name="alpha 1.1.tar.gz")',
            "'alpha 1.1.tar.gz': no distribution file name: ASCII letters, digits and ._+!- only",
        ),
        (
            'sdist(directory, member(TOP + "/PKG-INFO", PKG_INFO), name="alpha-1.1.zip")',
            "'alpha-1.1.zip': no distribution file name: an sdist is a .tar.gz file",
        ),
        (
            'sdist(directory, member(TOP + "/PKG-INFO", PKG_INFO), name="alpha-1.2.tar.gz")',
            "alpha-1.2.tar.gz: its name does not say alpha 1.1, as its metadata does",
        ),
        (
            'os.mkfifo(os.path.join(directory, TOP + ".tar.gz"))',
            "alpha-1.1.tar.gz: not a regular file",
        ),
        (
            'os.symlink("/etc/passwd", os.path.join(directory, TOP + ".tar.gz"))',
            "alpha-1.1.tar.gz: not a regular file",
        ),
    ],
)
def test_an_sdist_passes_only_as_a_plain_file_named_for_its_release(
    tmp_path: Path, written: str, message: str
) -> None:
    """``written`` makes the sdist; the file left in the folder is what is checked."""
    with pytest.raises(BuildError) as error:
        build(tmp_path, crafted_project(f"({written}, TOP + '.tar.gz')[-1]"), "1.1")
    assert str(error.value) == message


def test_a_wheel_is_checked_as_its_sdist_is(tmp_path: Path) -> None:
    other_version = (
        'wheel(directory, {TOP + ".dist-info/METADATA": PKG_INFO.replace(VERSION.encode(), '
        'b"9.9")}, name="alpha-9.9-py3-none-any.whl")'
    )
    sdist = build(tmp_path, crafted_project(wheel=other_version), "1.1")
    log = tmp_path / "build.log"
    with pytest.raises(BuildError) as error:
        build_wheel(sdist, tmp_path, BuildSettings(timeout=120.0), log)
    assert str(error.value) == "wheel: alpha-9.9-py3-none-any.whl is alpha 9.9, not alpha 1.1"


def test_a_wheel_is_built_from_what_unpacks_within_the_limit(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The sdist passed its check; what it unpacks to is bounded all the same."""
    sdist = build(tmp_path, crafted_project(), "1.1")
    monkeypatch.setattr(archives, "UNPACKED_LIMIT", 2048)
    with pytest.raises(BuildError) as error:
        build_wheel(sdist, tmp_path, BuildSettings(timeout=120.0), tmp_path / "build.log")
    assert str(error.value) == ("wheel: cannot unpack alpha-1.1.tar.gz: unpacks to more than 2 KiB")


def test_make_sdist_refuses_a_crafted_sdist_in_one_line(
    svn_repository: SvnRepository, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    folder = 'sdist(directory, member(TOP + "/PKG-INFO", kind=tarfile.DIRTYPE))'
    svn_repository.add_project("alpha", crafted_project(folder))
    svn_repository.tag("alpha", "1.1")
    url = f"{svn_repository.url}/alpha/tags/1.1"
    assert make_sdist([url, str(tmp_path / "dest")]) == 1
    message = "alpha-1.1.tar.gz: 'alpha-1.1/PKG-INFO' is not a regular file"
    assert capsys.readouterr().err == f"{url}: {message}\n"

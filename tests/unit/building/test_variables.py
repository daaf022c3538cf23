"""What a build sees of the environment: what it needs to run, BUILD_ENVIRONMENT, its version."""

import json
import os
import subprocess
import sys
from pathlib import Path

from sdistmaker.building import sandbox

SHOW = """\
import json, sys
from pathlib import Path
from sdistmaker.building.variables import build_environment
tmp, version, name, given = Path(sys.argv[1]), sys.argv[2], sys.argv[3], json.loads(sys.argv[4])
print(json.dumps(build_environment(tmp, version, name, given)))
"""

SDISTMAKERS = {
    "PATH": os.environ["PATH"],
    "HOME": "/var/lib/sdistmaker",
    "LANG": "C.UTF-8",
    "LANGUAGE": "en",
    "TZ": "Europe/Vienna",
    "LC_TIME": "C.UTF-8",
    "TWINE_PASSWORD": "s3cret",
    "CI_JOB_TOKEN": "s3cret-too",
    "PIP_INDEX_URL": "https://builder:s3cret@pypi.example/simple",
    "SSH_AUTH_SOCK": "/tmp/ssh-agent.1",
    "PYTHONPATH": "/opt/hooks",
}
"""sdistmaker's environment: what a build needs to run, and secrets."""


def build_environment(
    tmp: Path, version: str, name: str, given: dict[str, str | None]
) -> dict[str, str]:
    """The variables a build gets, in a process whose environment is SDISTMAKERS alone."""
    command = [sys.executable, "-c", SHOW, str(tmp), version, name, json.dumps(given)]
    shown = subprocess.run(command, env=SDISTMAKERS, capture_output=True, text=True, check=True)
    variables: dict[str, str] = json.loads(shown.stdout)
    return variables


def test_a_build_gets_what_it_needs_to_run_build_environment_and_its_version(
    tmp_path: Path,
) -> None:
    """BUILD_ENVIRONMENT's variables set to None take sdistmaker's value, when it has one."""
    given = {"GITLAB_TOKEN": "given", "CI_JOB_TOKEN": None, "NOT_SET_ANYWHERE": None}
    variables = build_environment(tmp_path / "tmp", "1.0.post1", "Acme.Utils-x", given)
    assert variables == {
        **{name: SDISTMAKERS[name] for name in ("PATH", "HOME", "LANG", "LANGUAGE", "TZ")},
        "LC_TIME": "C.UTF-8",
        "GITLAB_TOKEN": "given",
        "CI_JOB_TOKEN": "s3cret-too",
        "TMPDIR": str(tmp_path / "tmp"),
        "SETUPTOOLS_SCM_PRETEND_VERSION": "1.0.post1",
        "SETUPTOOLS_SCM_PRETEND_VERSION_FOR_ACME_UTILS_X": "1.0.post1",
    }


def test_build_environment_wins_over_what_a_build_would_inherit(tmp_path: Path) -> None:
    given: dict[str, str | None] = {"TZ": "UTC", "HOME": "/nonexistent"}
    variables = build_environment(tmp_path / "tmp", "1.0", "p", given)
    assert (variables["TZ"], variables["HOME"]) == ("UTC", "/nonexistent")


def test_a_builds_temporary_folder_is_made_and_is_the_build_users(tmp_path: Path) -> None:
    tmp = tmp_path / "build" / "tmp"
    build_environment(tmp, "1.0", "p", {})
    owner = sandbox.build_user() or (os.getuid(), os.getgid())
    assert (tmp.stat().st_uid, tmp.stat().st_gid) == owner

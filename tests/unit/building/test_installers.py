"""The installers that make build environments: uv, or pip where uv is not installed."""

import hashlib
import json
import os
import subprocess
import sys
import tarfile
from pathlib import Path

import pytest

from helpers.projects import write_tree
from helpers.servers import make_wheel, upstream_index
from helpers.system import soon
from sdistmaker.building import installers
from sdistmaker.errors import BuildError

LOOK_FOR_UV_AT_ONCE = """\
import json, threading
from sdistmaker.building.installers import find_uv
start = threading.Barrier(8)
found = set()
def look():
    start.wait()
    try:
        found.add(find_uv())
    except Exception as error:
        found.add(repr(error))
workers = [threading.Thread(target=look) for _ in range(8)]
for worker in workers:
    worker.start()
for worker in workers:
    worker.join()
print(json.dumps(sorted(found, key=str)))
"""


def test_workers_making_environments_at_once_in_a_new_process_all_find_uv() -> None:
    # A fresh interpreter each time: what went wrong was the first use of sysconfig in a
    # process, by two threads at once (it failed in four processes out of five).
    for _ in range(3):
        run = subprocess.run(
            [sys.executable, "-c", LOOK_FOR_UV_AT_ONCE], capture_output=True, text=True, check=True
        )
        [found] = json.loads(run.stdout)
        assert found is None or Path(found).exists(), found


def test_installers_get_their_caches_and_certificates_but_no_secret(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """They run outside the sandbox, as sdistmaker's user: sdistmaker's environment is no more
    theirs than the builds'; an index or a proxy comes from BUILD_ENVIRONMENT."""
    monkeypatch.setenv("UV_CACHE_DIR", "/var/cache/uv")
    monkeypatch.setenv("SSL_CERT_FILE", "/etc/ssl/acme-ca.pem")
    monkeypatch.setenv("CI_JOB_TOKEN", "s3cret")
    monkeypatch.setenv("UV_INDEX_URL", "https://ci:s3cret@pypi.example/simple")
    given = {"PATH": "/usr/bin", "UV_INDEX": "https://pypi.example/simple"}
    variables = installers.installer_environment(given, Path("/srv/pypi"))
    assert "s3cret" not in str(variables)
    assert (variables["UV_CACHE_DIR"], variables["SSL_CERT_FILE"]) == (
        "/var/cache/uv",
        "/etc/ssl/acme-ca.pem",
    )
    # This index first.
    assert variables["UV_INDEX"] == "file:///srv/pypi https://pypi.example/simple"
    assert variables["PIP_EXTRA_INDEX_URL"] == "file:///srv/pypi"


def test_installers_trust_the_systems_certificates_unless_told_otherwise(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """pip trusts the system's certificate store; uv only its own unless told: a company's CA
    installed in the system store works for both (hooks and cron pass no SSL_CERT_FILE)."""
    monkeypatch.delenv("UV_SYSTEM_CERTS", raising=False)
    assert installers.installer_environment({}, None)["UV_SYSTEM_CERTS"] == "1"
    told = installers.installer_environment({"UV_SYSTEM_CERTS": "0"}, None)
    assert told["UV_SYSTEM_CERTS"] == "0"


@pytest.fixture(params=["uv", "pip"])
def uv(request: pytest.FixtureRequest) -> str | None:
    """uv's program, or None: pip in the environment, as where uv is not installed."""
    if request.param == "pip":
        return None
    found = installers.find_uv()
    assert found is not None, "uv is a dependency of sdistmaker's: it is installed"
    return found


class Steps:
    """Runs an installer's commands as an environment's making does, into one log."""

    def __init__(self, installer: installers.Installer, index: str, log: Path) -> None:
        self.installer = installer
        given = {"PATH": os.environ["PATH"], "UV_INDEX_URL": index, "PIP_INDEX_URL": index}
        self.variables = installers.installer_environment(given, None)
        self.log = log

    def run(self, command: list[str], deadline: float) -> None:
        with open(self.log, "ab") as output:
            requirements = self.installer.requirements
            installers.run_installer(command, self.variables, output, requirements, deadline)


def test_exactly_the_resolution_checked_is_installed(tmp_path: Path, uv: str | None) -> None:
    """Resolved within the constraints, pinned to the file and hash the index gave, installed
    from that file."""
    wanted = make_wheel(tmp_path, "acme-lib", "1.0")
    newer = make_wheel(tmp_path, "acme-lib", "1.1")
    with upstream_index({"acme-lib": [wanted, newer]}) as index:
        installer = installers.Installer(uv, tmp_path / "env", {"Acme_Lib"}, "acme-lib<1.1\n")
        steps = Steps(installer, index, tmp_path / "log")
        steps.run(installer.venv(), soon())
        installer.write_inputs()
        steps.run(installer.resolve(), soon())
        [pinned] = installer.resolution()
        assert (pinned.name, pinned.version) == ("acme-lib", "1.0")
        digest = hashlib.sha256(wanted.read_bytes()).hexdigest()
        assert pinned.files == ((f"{index}/acme-lib/{wanted.name}", digest),)
        installer.files["pinned"].write_text(installers.pinned_line(pinned))
        steps.run(installer.install(), soon())
    site = next((tmp_path / "env").glob("lib/python*/site-packages"))
    assert sorted(path.name for path in site.glob("acme*")) == [
        "acme_lib",
        "acme_lib-1.0.dist-info",
    ]


BACKEND = """\
open({ran!r}, "w").write("the requirement's code ran")
"""


def source_only(folder: Path, ran: Path) -> Path:
    """An sdist of acme-src whose build backend, in the sdist itself, leaves ``ran`` behind."""
    top = "acme_src-1.0"
    files = {
        f"{top}/PKG-INFO": "Metadata-Version: 2.1\nName: acme-src\nVersion: 1.0\n",
        f"{top}/pyproject.toml": '[build-system]\nrequires = []\nbuild-backend = "backend"\n'
        'backend-path = ["."]\n',
        f"{top}/backend.py": BACKEND.format(ran=str(ran)),
    }
    write_tree(folder / "tree", files)
    path = folder / f"{top}.tar.gz"
    with tarfile.open(path, "w:gz") as archive:
        archive.add(folder / "tree" / top, top)
    return path


def test_a_requirement_with_no_wheel_is_not_installed_and_none_of_its_code_runs(
    tmp_path: Path, uv: str | None
) -> None:
    """Building an sdist runs its code, outside the sandbox."""
    ran = tmp_path / "ran"
    with upstream_index({"acme-src": [source_only(tmp_path, ran)]}) as index:
        installer = installers.Installer(uv, tmp_path / "env", {"acme-src"}, "")
        steps = Steps(installer, index, tmp_path / "log")
        steps.run(installer.venv(), soon())
        installer.write_inputs()
        with pytest.raises(BuildError) as raised:
            steps.run(installer.resolve(), soon())
    assert str(raised.value) == (
        "could not install the build requirements ['acme-src'] (from wheels only)"
    )
    assert not ran.exists()


def test_a_file_of_another_hash_than_the_resolutions_is_not_installed(
    tmp_path: Path, uv: str | None
) -> None:
    wheel = make_wheel(tmp_path, "acme-lib", "1.0")
    with upstream_index({"acme-lib": [wheel]}) as index:
        installer = installers.Installer(uv, tmp_path / "env", {"acme-lib"}, "")
        steps = Steps(installer, index, tmp_path / "log")
        steps.run(installer.venv(), soon())
        other = installers.Pinned(
            "acme-lib", "1.0", ((f"{index}/acme-lib/{wheel.name}", "0" * 64),)
        )
        installer.files["pinned"].write_text(installers.pinned_line(other))
        with pytest.raises(BuildError, match="could not install"):
            steps.run(installer.install(), soon())
    assert not list((tmp_path / "env").glob("lib/python*/site-packages/acme_lib*"))


@pytest.mark.parametrize(
    ("uv", "resolution", "why"),
    [
        ("uv", "packages = [", "TOMLDecodeError"),
        ("uv", '[[packages]]\nname = "acme-src"\nversion = "1.0"\n', "no wheel for acme-src"),
        ("uv", '[[packages]]\nname = "acme-lib"\nwheels = [{url = "x"}]\n', "KeyError"),
        (None, '{"install": [{"metadata": {}}]}', "KeyError('download_info')"),
        (None, "[]", "TypeError"),
    ],
)
def test_a_resolution_that_cannot_be_read_is_refused_in_one_line(
    tmp_path: Path, uv: str | None, resolution: str, why: str
) -> None:
    installer = installers.Installer(uv, tmp_path, {"acme-lib"}, "")
    installer.files["resolution"].write_text(resolution)
    with pytest.raises(BuildError) as raised:
        installer.resolution()
    message = str(raised.value)
    name = installer.files["resolution"].name
    assert message.startswith(f"build requirements ['acme-lib']: unreadable resolution {name}: ")
    assert why in message
    assert "\n" not in message


def test_an_install_is_killed_at_its_deadline(tmp_path: Path) -> None:
    hangs = [sys.executable, "-c", "import time; time.sleep(60)"]
    with open(tmp_path / "log", "wb") as output, pytest.raises(BuildError) as raised:
        installers.run_installer(hangs, dict(os.environ), output, {"acme-lib"}, soon(1))
    assert str(raised.value) == (
        "build requirements ['acme-lib'] timed out while being installed, process tree killed"
    )
    assert (tmp_path / "log").read_text().splitlines() == [
        f"=== {' '.join(hangs)}",
        "=== killed after the build timeout",
    ]


def test_requirements_are_written_one_a_line_as_packaging_reads_them(tmp_path: Path) -> None:
    """Nothing of them an installer could take for an option or a second requirement."""
    requirements = {"setuptools >= 61", "Wheel", "acme-lib[fast] ; python_version>'3'"}
    installer = installers.Installer(None, tmp_path, requirements, "setuptools<70\n")
    installer.write_inputs()
    assert installer.files["requirements"].read_text() == (
        'Wheel\nacme-lib[fast]; python_version > "3"\nsetuptools>=61\n'
    )
    assert installer.files["constraints"].read_text() == "setuptools<70\n"

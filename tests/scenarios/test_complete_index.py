"""A complete index (MIRROR): what the requirements and the private releases need, resolved by
uv against an upstream index served on 127.0.0.1 (standing in for PyPI), mirrored into OUTDIR so
that installs work with upstream gone, from file:// and through the shipped Apache and
nginx configurations."""

from __future__ import annotations

import hashlib
import shutil
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path
from urllib.parse import urlsplit

import pytest

from helpers.projects import hatchling_project, write_defaults
from helpers.repositories import GitRepository
from helpers.servers import (
    apache,
    forwarding_proxy,
    free_port,
    make_wheel,
    nginx,
    upstream_index,
)
from helpers.system import NETWORK, installed
from sdistmaker.cli import sdists_from_tags


def upstream_wheels(folder: Path) -> dict[str, list[Path]]:
    """Two versions of a library, its dependency chain, and a wheel for Windows only."""
    folder.mkdir()
    return {
        "acme-http": [
            make_wheel(folder, "acme-http", "1.0", requires=("acme-certs>=1",)),
            make_wheel(folder, "acme-http", "2.0", requires=("acme-certs>=1",)),
        ],
        "acme-certs": [make_wheel(folder, "acme-certs", "1.1", requires=("acme-idna",))],
        "acme-idna": [
            make_wheel(folder, "acme-idna", "3.0"),
            make_wheel(folder, "acme-idna", "3.0", tag="cp311-cp311-win_amd64"),
        ],
        "unrelated": [make_wheel(folder, "unrelated", "1.0")],
    }


def test_requirements_and_their_dependencies_install_with_upstream_gone(tmp_path: Path) -> None:
    with upstream_index(upstream_wheels(tmp_path / "wheels")) as index:
        mirror = {"index": index, "requirements": ["acme-http"], "exclude": ["*-win_amd64.whl"]}
        defaults = write_defaults(tmp_path, OUTDIR="out", MIRROR=mirror)
        assert sdists_from_tags(["-q", "-d", str(defaults)]) == 0
        outdir = tmp_path / "out"
        files = sorted(str(p.relative_to(outdir)) for p in outdir.glob("*/*.whl"))
        assert files == [
            "acme-certs/acme_certs-1.1-py3-none-any.whl",
            "acme-http/acme_http-2.0-py3-none-any.whl",
            "acme-idna/acme_idna-3.0-py3-none-any.whl",
        ]
        assert f"Mirrored from {index}" in (outdir / "+" / "acme-http.html").read_text()
        stamps = {f: (outdir / f).stat().st_mtime_ns for f in files}
        # A second run downloads nothing: every file is there already.
        assert sdists_from_tags(["-d", str(defaults)]) == 0
        assert {f: (outdir / f).stat().st_mtime_ns for f in files} == stamps
    # Upstream is gone: the index alone installs the whole tree.
    subprocess.run([sys.executable, "-m", "venv", tmp_path / "venv"], check=True)
    python = tmp_path / "venv" / "bin" / "python"
    install: list[str | Path] = [python, "-m", "pip", "install", "-q"]
    install += ["--index-url", outdir.as_uri() + "/"]
    subprocess.run([*install, "acme-http"], check=True)
    versions = installed(python)
    assert (versions["acme-http"], versions["acme-certs"], versions["acme-idna"]) == (
        "2.0",
        "1.1",
        "3.0",
    )


def test_upstream_is_reached_through_the_proxy_build_environment_names(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """As from a hook: no proxy in sdistmaker's environment, upstream reachable only through
    the company's proxy that BUILD_ENVIRONMENT names (a name that resolves nowhere else)."""
    for name in ("HTTP_PROXY", "http_proxy", "ALL_PROXY", "all_proxy", "NO_PROXY", "no_proxy"):
        monkeypatch.delenv(name, raising=False)
    asked: list[str] = []
    with (
        upstream_index(upstream_wheels(tmp_path / "wheels")) as index,
        forwarding_proxy({"upstream.invalid": urlsplit(index).netloc}, asked) as proxy,
    ):
        mirror = {"index": "http://upstream.invalid/simple", "requirements": ["acme-certs"]}
        mirror["exclude"] = ["*-win_amd64.whl"]
        defaults = write_defaults(
            tmp_path,
            OUTDIR="out",
            MIRROR=mirror,
            BUILD_ENVIRONMENT={"HTTP_PROXY": f"http://{proxy}"},
        )
        assert sdists_from_tags(["-q", "-d", str(defaults)]) == 0
    outdir = tmp_path / "out"
    assert sorted(p.name for p in outdir.glob("*/*.whl")) == [
        "acme_certs-1.1-py3-none-any.whl",
        "acme_idna-3.0-py3-none-any.whl",
    ]
    # uv's resolution and sdistmaker's downloads and reading of yanks alike.
    assert "http://upstream.invalid/simple/acme-certs/acme_certs-1.1-py3-none-any.whl" in asked
    assert asked.count("http://upstream.invalid/simple/acme-certs/") >= 2


def test_a_file_whose_hash_is_not_upstreams_is_refused(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    wheels = tmp_path / "wheels"
    wheels.mkdir()
    wheel = make_wheel(wheels, "acme-certs", "1.1")
    simple = tmp_path / "upstream" / "simple" / "acme-certs"
    simple.mkdir(parents=True)
    digest = hashlib.sha256(wheel.read_bytes()).hexdigest()
    shutil.copy(wheel, simple / wheel.name)
    (simple / "index.html").write_text(f'<a href="{wheel.name}#sha256={digest}">{wheel.name}</a>')
    with open(simple / wheel.name, "ab") as changed:  # changed after upstream listed it
        changed.write(b"\0")
    index = (tmp_path / "upstream" / "simple").as_uri()
    defaults = write_defaults(
        tmp_path, OUTDIR="out", MIRROR={"index": index, "requirements": ["acme-certs"]}
    )
    assert sdists_from_tags(["-q", "-d", str(defaults)]) == 1
    [line] = capsys.readouterr().err.splitlines()
    assert line.startswith(f"failed mirroring: {(simple / wheel.name).as_uri()}: sha256 ")
    assert line.endswith(f", not {digest} as the index says: refused")
    assert not (tmp_path / "out" / "acme-certs" / wheel.name).exists()
    assert not list((tmp_path / "out" / ".sdistmaker").glob("*acme_certs*"))


def test_a_private_project_and_all_it_needs_install_through_web_servers_with_upstream_gone(
    make_git: Callable[[str], GitRepository], tmp_path: Path
) -> None:
    repo = make_git("acme-app")
    project = hatchling_project("acme-app", "1.0")
    project["pyproject.toml"] = project["pyproject.toml"].replace(
        'version = "1.0"', 'version = "1.0"\ndependencies = ["acme-http>=2"]'
    )
    repo.commit(project)
    repo.tag("1.0")
    with upstream_index(upstream_wheels(tmp_path / "wheels")) as index:
        mirror = {"index": index, "private_dependencies": True, "exclude": ["*-win_amd64.whl"]}
        defaults = write_defaults(
            tmp_path,
            OUTDIR="out",
            GIT_REPOSITORIES=[repo.url],
            WHEELS=True,
            MIRROR=mirror,
            BUILD_ENVIRONMENT=NETWORK,
        )
        assert sdists_from_tags(["-q", "-d", str(defaults)]) == 0
    outdir = tmp_path / "out"
    assert not list(outdir.glob("*/*win_amd64*"))
    dead = f"http://127.0.0.1:{free_port()}/simple"  # upstream, gone
    for server in (apache, nginx):
        venv = tmp_path / f"venv-{server.__name__}"
        subprocess.run([sys.executable, "-m", "venv", venv], check=True)
        python = venv / "bin" / "python"
        with server(outdir, dead) as port:
            install: list[str | Path] = [python, "-m", "pip", "install", "-q", "--no-cache-dir"]
            index_url = f"http://127.0.0.1:{port}/simple/"
            subprocess.run([*install, "--index-url", index_url, "acme-app"], check=True)
        versions = installed(python)
        assert (versions["acme-app"], versions["acme-http"], versions["acme-idna"]) == (
            "1.0",
            "2.0",
            "3.0",
        )

"""Mercurial end to end: repositories served by hg's own web server (as hgweb serves a
company's), their tags built by every kind of backend, installed by pip and uv from the index;
a push of a tag built by the hook README.rst shows."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path

from helpers.projects import (
    hatchling_project,
    pyproject_setuptools_project,
    scm_project,
    write_defaults,
)
from helpers.repositories import HgRepository
from helpers.servers import hg_serve
from helpers.system import BIN, NETWORK, installed, require, wait_for_file
from sdistmaker.cli import sdists_from_tags

MakeHg = Callable[[str], HgRepository]


@contextmanager
def hgweb(folder: Path) -> Iterator[str]:
    """``hg serve`` serving every repository in ``folder``, at ``URL/<name>``."""
    configuration = folder.parent / "hgweb.conf"
    configuration.write_text(f"[paths]\n/ = {folder}/*\n")
    with hg_serve("--web-conf", configuration) as url:
        yield url


def test_tags_served_over_http_build_and_install_with_pip_and_uv(
    make_hg: MakeHg, tmp_path: Path
) -> None:
    for name, kind in [
        ("acme-tools", pyproject_setuptools_project),
        ("acme-web", hatchling_project),
        ("acme-scm", scm_project),
    ]:
        repo = make_hg(name)
        repo.commit(kind(name, "1.2"))
        repo.tag("v1.2")
    with hgweb(tmp_path / "hg") as server:
        urls = [f"{server}/{name}" for name in ("acme-tools", "acme-web", "acme-scm")]
        defaults = write_defaults(
            tmp_path, OUTDIR="out", HG_REPOSITORIES=urls, WHEELS=True, BUILD_ENVIRONMENT=NETWORK
        )
        assert sdists_from_tags(["-q", "-d", str(defaults)]) == 0
    outdir = tmp_path / "out"
    for name in ("acme_tools", "acme_web", "acme_scm"):
        assert (outdir / name.replace("_", "-") / f"{name}-1.2.tar.gz").exists()
    index = outdir.as_uri() + "/"
    requirements = ["acme-tools", "acme-web", "acme-scm"]

    subprocess.run([sys.executable, "-m", "venv", tmp_path / "pip"], check=True)
    python = str(tmp_path / "pip/bin/python")
    pip = [python, "-m", "pip", "install", "-q", "--index-url", index]
    subprocess.run([*pip, *requirements], check=True)
    assert {n: v for n, v in installed(tmp_path / "pip/bin/python").items() if "acme" in n} == {
        "acme-tools": "1.2",
        "acme-web": "1.2",
        "acme-scm": "1.2",
    }

    uv = shutil.which("uv") or str(BIN / "uv")
    subprocess.run([uv, "venv", "-q", "--python", sys.executable, tmp_path / "uv"], check=True)
    environment = {**os.environ, "VIRTUAL_ENV": str(tmp_path / "uv")}
    command = [uv, "pip", "install", "-q", "--index-url", index, *requirements]
    subprocess.run(command, check=True, env=environment)
    assert installed(tmp_path / "uv/bin/python")["acme-scm"] == "1.2"


def test_a_pushed_tag_is_built_by_the_hook_in_the_background(
    make_hg: MakeHg, tmp_path: Path
) -> None:
    require("hg")
    server = tmp_path / "server"
    server.mkdir()
    subprocess.run(["hg", "init", server / "pushed"], check=True)
    defaults = write_defaults(
        server, HG_REPOSITORIES=[str(server / "pushed")], OUTDIR="out", BUILD_ENVIRONMENT=NETWORK
    )
    # The line README.rst shows for the repository's hgrc.
    command = f"{BIN / 'sdists_from_tags'} -q --defaults-file={defaults}"
    (server / "pushed" / ".hg" / "hgrc").write_text(
        f'[hooks]\nchangegroup.sdistmaker = {command} --hg-push "$HG_NODE" "$HG_NODE_LAST"\n'
    )
    work = make_hg("work")
    work.commit(hatchling_project("pushed", "2.0"))
    work.hg("push", "-q", str(server / "pushed"))
    time.sleep(1)
    assert not (server / "out" / ".sdistmaker" / "hook.log").exists()

    work.tag("2.0")
    work.hg("push", "-q", str(server / "pushed"))
    assert wait_for_file(server / "out" / "pushed" / "pushed-2.0.tar.gz")


def test_make_sdist_builds_one_tag_of_a_subdirectory(make_hg: MakeHg, tmp_path: Path) -> None:
    repo = make_hg("mono")
    repo.commit({**{f"web/{k}": v for k, v in hatchling_project("acme-web", "2.1").items()}})
    repo.tag("web-2.1")
    url = f"hg+{repo.url}@web-2.1#subdirectory=web"
    done = subprocess.run(
        [BIN / "make_sdist", "-q", url, tmp_path / "dest"], capture_output=True, text=True
    )
    assert (done.returncode, done.stderr) == (0, "")
    assert done.stdout.strip() == str(tmp_path / "dest" / "acme-web" / "acme_web-2.1.tar.gz")

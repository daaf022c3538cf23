"""Builds in a company network: the index that build requirements come from is served over TLS
with a certificate of the company's own authority, which only the system's certificate store
holds (as on company machines), and the run starts from a hook or cron with an empty
environment."""

from __future__ import annotations

import subprocess
import sys
from collections.abc import Callable
from pathlib import Path

from helpers.projects import crafted_project, write_defaults
from helpers.repositories import GitRepository
from helpers.servers import make_wheel, upstream_index
from helpers.tls import company_authority


def test_build_requirements_come_from_an_index_the_system_store_trusts(
    make_git: Callable[[str], GitRepository], tmp_path: Path
) -> None:
    authority = company_authority(tmp_path / "authority")
    (tmp_path / "wheels").mkdir()
    tool = make_wheel(tmp_path / "wheels", "acme-build-tool", "1.0")
    project = crafted_project()
    project["pyproject.toml"] = project["pyproject.toml"].replace(
        "requires = []", 'requires = ["acme-build-tool"]'
    )
    project["backend.py"] = "import acme_build_tool\n" + project["backend.py"]  # installed
    repo = make_git("alpha")
    repo.commit(project)
    repo.tag("1.0")
    with upstream_index({"acme-build-tool": [tool]}, tls=authority.server_context()) as index:
        assert index.startswith("https://")
        only_there = {"UV_INDEX_URL": index, "PIP_INDEX_URL": index}
        defaults = write_defaults(
            tmp_path, OUTDIR="out", GIT_REPOSITORIES=[repo.url], BUILD_ENVIRONMENT=only_there
        )
        hook = [str(Path(sys.executable).parent / "sdists_from_tags"), "-q", "-d", str(defaults)]
        cron = ["env", "-i", "PATH=/usr/bin:/bin", f"HOME={tmp_path}"]
        run = subprocess.run(
            [*authority.trusted_by_the_system(tmp_path), *cron, *hook],
            capture_output=True,
            text=True,
            timeout=300,
        )
    assert (run.returncode, run.stderr) == (0, "")
    assert (tmp_path / "out" / "alpha" / "alpha-1.0.tar.gz").exists()

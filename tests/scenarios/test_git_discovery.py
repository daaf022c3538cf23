"""Git repositories found, not listed: a folder of real bare repositories on the server, read on
disk and addressed for people through git's http-backend behind Apache, as a company's git
server serves them."""

from __future__ import annotations

import shutil
from collections.abc import Callable
from pathlib import Path

from helpers.projects import hatchling_project, write_defaults
from helpers.repositories import GitRepository
from helpers.servers import apache_git
from sdistmaker.cli import make_sdist, sdists_from_tags
from sdistmaker.outdir.store import Store


def released(
    make_git: Callable[[str], GitRepository], server: Path, path: str, version: str
) -> None:
    """A project released as ``version``, pushed to the bare repository ``server/path``."""
    name = Path(path).name.removesuffix(".git")
    repo = make_git(name)
    repo.commit(hatchling_project(f"acme-{name}", version))
    repo.tag(version)
    repo.add_server(server / path)


def test_repositories_in_a_folder_are_found_built_and_kept_when_gone(
    make_git: Callable[[str], GitRepository], tmp_path: Path
) -> None:
    server = tmp_path / "srv" / "git"
    released(make_git, server, "team/app.git", "1.0")
    released(make_git, server, "tools.git", "2.0")
    (server / "attic").mkdir()  # a folder, no repository
    website = make_git("website")  # a repository, and a release, but no Python project
    website.commit({"index.md": "# Acme\n"})
    website.tag("1.0")
    website.add_server(server / "website.git")
    with apache_git(server) as http:
        found = {"folder": f"{server}/**/*.git", "url": f"{http}/{{path}}"}
        defaults = write_defaults(tmp_path, OUTDIR="out", GIT_REPOSITORIES=[found])
        outdir = tmp_path / "out"
        assert sdists_from_tags(["-q", "-d", str(defaults)]) == 0
        assert sorted(p.name for p in outdir.glob("*/*.tar.gz")) == [
            "acme_app-1.0.tar.gz",
            "acme_tools-2.0.tar.gz",
        ]
        # Skipped, not failed: no page of its own shadows PyPI's project of that name.
        assert not (outdir / "website").exists()
        # People address each by its URL on the git server: make_sdist rebuilds it from there.
        records = Store(outdir).load_state().tags.values()
        assert sorted((r.project_key, r.status) for r in records) == [
            (f"git:{http}/team/app.git#", "built"),
            (f"git:{http}/tools.git#", "built"),
            (f"git:{http}/website.git#", "skipped"),
        ]
        assert make_sdist([f"git+{http}/team/app.git@1.0", str(tmp_path / "by-hand")]) == 0
        assert (tmp_path / "by-hand" / "acme-app" / "acme_app-1.0.tar.gz").exists()
    # A repository added is built by the next run; one removed keeps what it published.
    released(make_git, server, "team/lib.git", "0.1")
    shutil.rmtree(server / "tools.git")
    assert sdists_from_tags(["-q", "-d", str(defaults)]) == 0
    assert sorted(p.name for p in outdir.glob("*/*.tar.gz")) == [
        "acme_app-1.0.tar.gz",
        "acme_lib-0.1.tar.gz",
        "acme_tools-2.0.tar.gz",
    ]

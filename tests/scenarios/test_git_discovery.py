"""Git repositories found, not listed: a folder of real bare repositories on the server, read on
disk and addressed for people through git's http-backend behind Apache, as a company's git
server serves them; a forge's group, organisation or user, listed by its API (helpers.forges)
and cloned through git's http-backend."""

from __future__ import annotations

import shutil
from collections.abc import Callable
from pathlib import Path

import pytest

from helpers.forges import Forge, Hosted, forge
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


def released_on(
    forge: Forge, make_git: Callable[[str], GitRepository], path: str, version: str
) -> GitRepository:
    """A project released as ``version``, pushed to the forge's repository at ``path``."""
    repo = make_git(path.replace("/", "-"))
    repo.commit(hatchling_project(f"acme-{Path(path).name}", version))
    repo.tag(version)
    repo.add_server(forge.repository(path))
    return repo


def test_a_private_gitlab_group_is_built_and_read_again_once_pushed_to(
    make_git: Callable[[str], GitRepository], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Its projects are cloned over HTTP with the token, through git's http-backend; a run
    with nothing pushed since asks the API and fetches nothing."""
    old = Hosted("acme/python/old", archived=True)
    hosted = [Hosted("acme/python/app"), Hosted("acme/python/tools/lib"), old]
    with forge("gitlab", tmp_path / "gitlab", hosted) as gitlab:
        app = released_on(gitlab, make_git, "acme/python/app", "1.0")
        released_on(gitlab, make_git, "acme/python/tools/lib", "0.1")
        released_on(gitlab, make_git, "acme/python/old", "0.9")  # archived: not read
        monkeypatch.setenv("GITLAB_TOKEN", gitlab.token)
        source = {"gitlab": gitlab.url, "group": "acme/python", "token": "GITLAB_TOKEN"}
        defaults = write_defaults(tmp_path, OUTDIR="out", GIT_REPOSITORIES=[source])
        outdir = tmp_path / "out"
        assert sdists_from_tags(["-q", "-d", str(defaults)]) == 0
        assert sorted(p.name for p in outdir.glob("*/*.tar.gz")) == [
            "acme_app-1.0.tar.gz",
            "acme_lib-0.1.tar.gz",
        ]
        records = Store(outdir).load_state().tags.values()
        assert sorted(r.project_key for r in records) == [
            f"git:{gitlab.clone_url('acme/python/app')}#",
            f"git:{gitlab.clone_url('acme/python/tools/lib')}#",
        ]
        written = [p for p in outdir.rglob("*") if p.is_file()]
        assert not [p for p in written if gitlab.token.encode() in p.read_bytes()]
        assert gitlab.exposures == []

        fetched, asked = len(gitlab.git_requests), len(gitlab.api_requests)
        assert sdists_from_tags(["-q", "-d", str(defaults)]) == 0
        assert (len(gitlab.git_requests), len(gitlab.api_requests)) == (fetched, asked + 1)

        # A push moves the project's last activity: the next run fetches that project alone.
        app.commit(hatchling_project("acme-app", "1.1"))
        app.tag("1.1")
        app.git("push", "-q", "server", "1.1")
        gitlab.repositories[0].activity = "2020-03-04T05:06:07Z"
        assert sdists_from_tags(["-q", "-d", str(defaults)]) == 0
        assert (outdir / "acme-app" / "acme_app-1.1.tar.gz").exists()
        again = gitlab.git_requests[fetched:]
        assert again and all(path.startswith("/acme/python/app.git/") for path in again)


def test_a_forge_that_refuses_its_token_leaves_the_other_sources_read(
    make_git: Callable[[str], GitRepository],
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    with (
        forge("gitea", tmp_path / "gitea", [Hosted("acme/app")]) as gitea,
        forge("github", tmp_path / "github", [Hosted("jane/tool")], private=False) as github,
    ):
        released_on(gitea, make_git, "acme/app", "1.0")
        released_on(github, make_git, "jane/tool", "2.0")
        monkeypatch.setenv("GITEA_TOKEN", "not-the-token")
        sources = [
            {"gitea": gitea.url, "org": "acme", "token": "GITEA_TOKEN"},
            {"github": github.url, "user": "jane"},
        ]
        defaults = write_defaults(tmp_path, OUTDIR="out", GIT_REPOSITORIES=sources)
        assert sdists_from_tags(["-q", "-d", str(defaults)]) == 1
        assert capsys.readouterr().err.splitlines() == [
            f"failed reading: {gitea.url}/acme: the forge refused the token in GITEA_TOKEN "
            "(401 Unauthorized)"
        ]
        assert [p.name for p in (tmp_path / "out").glob("*/*.tar.gz")] == ["acme_tool-2.0.tar.gz"]
        assert gitea.git_requests == []

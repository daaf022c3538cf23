"""A Gitea or Forgejo organisation (sdistmaker/discovery/gitea.py): its repositories, as their
API lists them, and when their time of update tells that nothing was pushed."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from helpers.forges import OLD, Forge, Hosted, find, forge, paths

REPOSITORIES = [
    Hosted("acme/app"),
    Hosted("acme/lib", mirror=True),
    Hosted("acme/cli"),
    Hosted("acme/old", archived=True),
    Hosted("acme/nothing-yet", empty=True),
    Hosted("acme/app-fork", fork=True),
    Hosted("other/site"),
]


@pytest.fixture
def gitea(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Forge]:
    with forge("gitea", tmp_path / "gitea", list(REPOSITORIES)) as served:
        monkeypatch.setenv("GITEA_TOKEN", served.token)
        yield served


def setting(served: Forge, **more: object) -> dict[str, object]:
    return {"gitea": served.url, "org": "acme", "token": "GITEA_TOKEN", **more}


def test_every_repository_of_the_organisation_is_found_page_by_page(gitea: Forge) -> None:
    found = find(setting(gitea))
    assert [f.path for f in found] == ["acme/app", "acme/lib", "acme/cli"]
    assert gitea.api_paths[0] == "/api/v1/orgs/acme/repos?limit=50"
    assert len(gitea.api_paths) == 3
    assert {r["Authorization"] for r in gitea.api_requests} == {f"token {gitea.token}"}
    app = found[0]
    assert app.address == f"http://{gitea.address}/acme/app.git"
    # The token as the user name: every Gitea version takes it so.
    assert app.url == f"http://{gitea.token}@{gitea.address}/acme/app.git"


def test_the_time_of_update_tells_but_of_a_mirror(gitea: Forge) -> None:
    """A push sets it; a mirror's sync sets its newest commit's time, which a new tag on an
    older commit leaves as it was."""
    assert [f.activity for f in find(setting(gitea))] == [OLD, None, OLD]


def test_archived_forked_and_empty_repositories_are_read_when_asked_for(gitea: Forge) -> None:
    asked = setting(gitea, include_archived=True, include_forks=True, include_empty=True)
    assert paths(asked) == [h.path for h in REPOSITORIES if h.path.startswith("acme/")]
    assert paths(setting(gitea, include_archived=True))[-1] == "acme/old"


def test_include_and_exclude_match_full_paths(gitea: Forge) -> None:
    assert paths(setting(gitea, include=["acme/*"], exclude=["acme/c*"])) == [
        "acme/app",
        "acme/lib",
    ]

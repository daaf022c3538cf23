"""A GitHub organisation or user (sdistmaker/discovery/github.py), on GitHub or GitHub
Enterprise Server: its repositories, as GitHub's API lists them, and its rate limits."""

from __future__ import annotations

import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from helpers.forges import OLD, Canned, Forge, Hosted, find, forge, paths
from sdistmaker import discovery, values
from sdistmaker.discovery.github import GitHub
from sdistmaker.errors import VcsError

REPOSITORIES = [
    Hosted("acme/app"),
    Hosted("acme/lib", activity=None),
    Hosted("acme/cli"),
    Hosted("acme/old", archived=True),
    Hosted("acme/nothing-yet", empty=True),
    Hosted("acme/app-fork", fork=True),
    Hosted("jane/tool"),
]


@pytest.fixture
def github(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Forge]:
    with forge("github", tmp_path / "github", list(REPOSITORIES)) as served:
        monkeypatch.setenv("GITHUB_TOKEN", served.token)
        yield served


def setting(served: Forge, **more: object) -> dict[str, object]:
    return {"github": served.url, "org": "acme", "token": "GITHUB_TOKEN", **more}


def test_every_repository_of_the_organisation_is_found_page_by_page(github: Forge) -> None:
    found = find(setting(github))
    assert [(f.path, f.activity) for f in found] == [
        ("acme/app", OLD),
        ("acme/lib", None),  # never pushed to
        ("acme/cli", OLD),
    ]
    assert github.api_paths[0] == "/api/v3/orgs/acme/repos?per_page=100&type=all"
    assert len(github.api_paths) == 3
    assert {r["Authorization"] for r in github.api_requests} == {f"Bearer {github.token}"}
    assert {r["Accept"] for r in github.api_requests} == {"application/vnd.github+json"}
    assert found[0].url == f"http://x-access-token:{github.token}@{github.address}/acme/app.git"


def test_a_user_s_own_repositories(github: Forge) -> None:
    entry = {"github": github.url, "user": "jane", "token": "GITHUB_TOKEN"}
    assert paths(entry) == ["jane/tool"]
    assert github.api_paths == ["/api/v3/users/jane/repos?per_page=100"]


def test_archived_forked_and_empty_repositories_are_read_when_asked_for(github: Forge) -> None:
    asked = setting(github, include_archived=True, include_forks=True, include_empty=True)
    assert paths(asked) == [h.path for h in REPOSITORIES if h.path.startswith("acme/")]
    assert paths(setting(github, include_empty=True))[-1] == "acme/nothing-yet"
    assert paths(setting(github, exclude=["acme/app"])) == ["acme/lib", "acme/cli"]


def test_a_spent_rate_limit_waits_for_its_reset(github: Forge) -> None:
    """GitHub answers 403 with x-ratelimit-remaining 0 once a primary rate limit is spent."""
    spent = {"x-ratelimit-remaining": "0"}
    github.canned.append(Canned(403, {**spent, "x-ratelimit-reset": str(int(time.time()) + 1)}))
    assert paths(setting(github)) == ["acme/app", "acme/lib", "acme/cli"]
    github.canned.append(Canned(403, {**spent, "x-ratelimit-reset": str(int(time.time()) + 900)}))
    started = time.monotonic()
    with pytest.raises(VcsError, match=r"/orgs/acme: rate limited by the forge until \d\d:"):
        find(setting(github), seconds=600)
    assert time.monotonic() - started < 5


def test_github_com_s_repositories_get_the_token_its_api_is_given() -> None:
    source = GitHub.of({"github": "https://api.github.com", "user": "jane"})
    assert source.location == "https://api.github.com/users/jane"
    assert source.clone_origins() == {"https://api.github.com", "https://github.com"}


@pytest.mark.parametrize(
    ("entry", "message"),
    [
        ({"github": "https://api.github.com"}, "'github' needs one 'org' or 'user'"),
        ({"github": "https://api.github.com", "org": "a", "user": "b"}, "'github' needs one"),
        ({"github": "https://github.com", "org": "a"}, "'github' names GitHub's API: https://api"),
    ],
)
def test_a_wrong_github_entry_says_what_is_wrong(entry: dict[str, object], message: str) -> None:
    with pytest.raises(values.Invalid) as raised:
        discovery.entry(entry, "git")
    assert str(raised.value).startswith(message)

"""A GitLab group (sdistmaker/discovery/gitlab.py): its projects and its subgroups', as GitLab's
API lists them, and when their last activity tells that nothing was pushed."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import datetime, timedelta, timezone
from pathlib import Path

import pytest

from helpers.forges import OLD, Forge, Hosted, find, forge, paths
from sdistmaker import discovery, values

PROJECTS = [
    Hosted("acme/python/app"),
    Hosted("acme/python/tools/lib"),
    Hosted("acme/python/tools/cli"),
    Hosted("acme/python/old", archived=True),
    Hosted("acme/python/nothing-yet", empty=True),
    Hosted("acme/python/app-fork", fork=True),
    Hosted("acme/web/site"),
]


@pytest.fixture
def gitlab(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Forge]:
    with forge("gitlab", tmp_path / "gitlab", list(PROJECTS)) as served:
        monkeypatch.setenv("GITLAB_TOKEN", served.token)
        yield served


def setting(served: Forge, **more: object) -> dict[str, object]:
    return {"gitlab": served.url, "group": "acme/python", "token": "GITLAB_TOKEN", **more}


def test_every_project_of_the_group_and_its_subgroups_is_found_page_by_page(
    gitlab: Forge,
) -> None:
    found = find(setting(gitlab))
    assert [f.path for f in found] == [
        "acme/python/app",
        "acme/python/tools/lib",
        "acme/python/tools/cli",
    ]
    assert gitlab.api_paths[0] == (
        "/api/v4/groups/acme%2Fpython/projects?include_subgroups=true&per_page=100"
        "&order_by=id&sort=asc&archived=false"
    )
    assert len(gitlab.api_paths) == 3  # two projects a page, forks and empty ones among them
    assert {r["PRIVATE-TOKEN"] for r in gitlab.api_requests} == {gitlab.token}
    app = found[0]
    assert app.address == f"http://{gitlab.address}/acme/python/app.git"
    assert app.url == f"http://oauth2:{gitlab.token}@{gitlab.address}/acme/python/app.git"


def test_archived_forked_and_empty_projects_are_read_when_asked_for(gitlab: Forge) -> None:
    asked = setting(gitlab, include_archived=True, include_forks=True, include_empty=True)
    assert paths(asked) == [h.path for h in PROJECTS if h.path.startswith("acme/python/")]
    assert "archived=false" not in gitlab.api_paths[-1]
    assert paths(setting(gitlab, include_forks=True))[-1] == "acme/python/app-fork"


def test_include_and_exclude_match_full_paths(gitlab: Forge) -> None:
    chosen = setting(gitlab, include=["acme/python/tools/*"], exclude=["*/cli"])
    assert paths(chosen) == ["acme/python/tools/lib"]


@pytest.mark.parametrize(
    ("age", "told"),
    [(None, True), (timedelta(minutes=80), True), (timedelta(minutes=30), False)],
)
def test_the_last_activity_tells_only_once_the_next_push_moves_it(
    gitlab: Forge, age: timedelta | None, told: bool
) -> None:
    """GitLab moves last_activity_at at most once an hour: a time less than an hour (and a
    margin) old may stay as it is through a push, and tells nothing."""
    when = OLD
    if age is not None:
        when = (datetime.now(timezone.utc) - age).isoformat(timespec="milliseconds")
    gitlab.repositories[0].activity = when.replace("+00:00", "Z")
    [app] = find(setting(gitlab, include=["*/app"]))
    assert app.activity == (gitlab.repositories[0].activity if told else None)


@pytest.mark.parametrize(
    ("entry", "message"),
    [
        ({"gitlab": "https://gitlab.example.com"}, "'gitlab' needs one 'group', naming whose"),
        ({"gitlab": "https://gitlab.example.com", "group": "/"}, "'gitlab' needs one 'group'"),
        ({"gitlab": "gitlab.example.com", "group": "a"}, "'gitlab' must be an http(s) URL, not"),
        (
            {"gitlab": "https://me:secret@gitlab.example.com", "group": "a"},
            "'gitlab' must hold no credentials: 'token' names where they are",
        ),
        (
            {"gitlab": "https://gitlab.example.com", "group": "a", "include_forks": "yes"},
            "'include_forks' must be True or False, not str",
        ),
        (
            {"gitlab": "https://gitlab.example.com", "group": "a", "org": "b"},
            "unknown key 'org' (known: exclude, gitlab, group, include,",
        ),
    ],
)
def test_a_wrong_gitlab_entry_says_what_is_wrong(entry: dict[str, object], message: str) -> None:
    with pytest.raises(values.Invalid) as raised:
        discovery.entry(entry, "git")
    assert str(raised.value).startswith(message)
    assert "secret" not in str(raised.value)

"""What every forge's source does (sdistmaker/discovery/forge.py): its token, named and never
shown, to the API's host alone; its pages; its rate limits; its errors, one line naming it."""

from __future__ import annotations

import re
import time
from collections.abc import Iterator, Mapping
from pathlib import Path

import pytest

from helpers.forges import Canned, Forge, Hosted, find, forge, paths
from helpers.projects import hatchling_project
from helpers.repositories import GitRepository
from helpers.servers import free_port, tarpit
from sdistmaker import discovery, values
from sdistmaker.errors import VcsError
from sdistmaker.vcs.git import GitProject
from sdistmaker.vcs.mirrors import Repository

WRONG = "wrong-token-9876543210"


@pytest.fixture
def gitea(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Forge]:
    """A private Gitea with three repositories of organisation acme, its token in
    GITEA_TOKEN."""
    hosted = [Hosted("acme/app"), Hosted("acme/lib"), Hosted("acme/web")]
    with forge("gitea", tmp_path / "gitea", hosted) as served:
        monkeypatch.setenv("GITEA_TOKEN", served.token)
        monkeypatch.setenv("NETRC", str(tmp_path / "no-netrc"))
        yield served


def setting(served: Forge, **more: object) -> dict[str, object]:
    return {"gitea": served.url, "org": "acme", "token": "GITEA_TOKEN", **more}


def failure(served: Forge, entry: Mapping[str, object], seconds: float = 30) -> str:
    """The one line a source that cannot be read says; never the token."""
    with pytest.raises(VcsError) as raised:
        find(entry, seconds)
    said = str(raised.value)
    assert "\n" not in said and served.token not in said and WRONG not in said
    return said


def test_the_token_comes_from_the_variable_named_and_goes_in_the_forge_s_header(
    gitea: Forge,
) -> None:
    assert paths(setting(gitea)) == ["acme/app", "acme/lib", "acme/web"]
    # Two pages, each asked with the token.
    assert [r["Authorization"] for r in gitea.api_requests] == [f"token {gitea.token}"] * 2


def test_without_a_variable_the_token_is_netrc_s_password_for_the_api_s_host(
    gitea: Forge, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    netrc = tmp_path / "netrc"
    netrc.write_text(
        "machine git.example.com login x password other-host-s\n"
        f"machine 127.0.0.1 login builder password {gitea.token}\n"
    )
    monkeypatch.setenv("NETRC", str(netrc))
    assert paths({"gitea": gitea.url, "org": "acme"}) == ["acme/app", "acme/lib", "acme/web"]
    assert gitea.api_requests[0]["Authorization"] == f"token {gitea.token}"


def test_without_either_the_api_is_read_without_a_token(
    gitea: Forge, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # A "default" entry is for any host: its password goes to none of the forges.
    (tmp_path / "netrc").write_text("default login x password for-every-host\n")
    monkeypatch.setenv("NETRC", str(tmp_path / "netrc"))
    entry = {"gitea": gitea.url, "org": "acme"}
    said = failure(gitea, entry)
    assert said == f"{gitea.url}/acme: the forge asks for a token (401 Unauthorized)"
    assert "Authorization" not in gitea.api_requests[0]
    gitea.private = False
    assert paths(entry) == ["acme/app", "acme/lib", "acme/web"]
    assert find(entry)[0].url == f"{gitea.url}/acme/app.git"


def test_a_variable_holding_nothing_or_a_netrc_that_is_none_is_said(
    gitea: Forge, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("GITEA_TOKEN")
    said = failure(gitea, setting(gitea))
    assert said == f"{gitea.url}/acme: the variable GITEA_TOKEN holds no token"
    # Blanks around it go (a file read into a variable ends in one); those within are no token's.
    monkeypatch.setenv("GITEA_TOKEN", f"{gitea.token}\n")
    assert paths(setting(gitea)) == ["acme/app", "acme/lib", "acme/web"]
    monkeypatch.setenv("GITEA_TOKEN", f"{WRONG}\r\nX-Injected: 1")
    said = failure(gitea, setting(gitea))
    assert said == f"{gitea.url}/acme: the variable GITEA_TOKEN holds no token"
    (tmp_path / "netrc").write_text(f"machine 127.0.0.1 login x password {WRONG} stray\n")
    monkeypatch.setenv("NETRC", str(tmp_path / "netrc"))
    said = failure(gitea, {"gitea": gitea.url, "org": "acme"})
    assert said == f"{gitea.url}/acme: {tmp_path / 'netrc'} cannot be read as a netrc file"


@pytest.mark.parametrize(
    "token", ["glpat-AbC123xyz", "ghp_0123456789abcdefABCD", "github_pat_11ABC_x", "MY TOKEN", 7]
)
def test_a_token_given_in_place_of_a_variable_s_name_is_refused_unrepeated(token: object) -> None:
    with pytest.raises(values.Invalid) as raised:
        discovery.entry(
            {"gitea": "https://gitea.example.com", "org": "acme", "token": token}, "git"
        )
    assert str(raised.value) == (
        "'token' must name the environment variable holding the token (in upper case, such as "
        "GITLAB_TOKEN), never be the token"
    )


def test_the_token_is_refused_in_one_line_naming_its_variable(
    gitea: Forge, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("GITEA_TOKEN", WRONG)
    said = failure(gitea, setting(gitea))
    assert said == (
        f"{gitea.url}/acme: the forge refused the token in GITEA_TOKEN (401 Unauthorized)"
    )


def test_an_unknown_owner_is_said(gitea: Forge) -> None:
    said = failure(gitea, setting(gitea, org="acne"))
    assert said == f"{gitea.url}/acne: no such org acne (404 Not Found)"
    gitea.private = False
    said = failure(gitea, {"gitea": gitea.url, "org": "acne"})
    assert said == (
        f"{gitea.url}/acne: no such org acne (404 Not Found; without a token, a private one is "
        "not seen either)"
    )


def test_a_next_page_on_another_host_is_not_asked_for(tmp_path: Path, gitea: Forge) -> None:
    with forge("gitea", tmp_path / "elsewhere", gitea.repositories) as elsewhere:
        gitea.next_pages_at = elsewhere.address
        said = failure(gitea, setting(gitea))
        assert said.startswith(
            f"{gitea.url}/acme: its next page is elsewhere (http://{elsewhere.address}/api/v1/"
        )
        assert elsewhere.api_requests == []


def test_a_redirect_is_followed_on_the_api_s_host_alone(tmp_path: Path, gitea: Forge) -> None:
    moved = f"http://{gitea.address}/api/v1/orgs/acme/repos?limit=50"
    gitea.canned.append(Canned(301, {"Location": moved}))
    assert paths(setting(gitea)) == ["acme/app", "acme/lib", "acme/web"]
    assert [r["Authorization"] for r in gitea.api_requests] == [f"token {gitea.token}"] * 3
    with forge("gitea", tmp_path / "elsewhere", gitea.repositories) as elsewhere:
        away = f"http://{elsewhere.address}/api/v1/orgs/acme/repos"
        gitea.canned.append(Canned(302, {"Location": away}))
        said = failure(gitea, setting(gitea))
        assert said == f"{gitea.url}/acme: redirected elsewhere ({away})"
        assert elsewhere.api_requests == []


def test_pages_that_go_round_in_a_circle_are_left(gitea: Forge) -> None:
    first = f"http://{gitea.address}/api/v1/orgs/acme/repos?limit=50"
    gitea.canned += [Canned(200, {"Link": f'<{first}>; rel="next"'}, b"[]")] * 2
    said = failure(gitea, setting(gitea))
    assert said == f"{gitea.url}/acme: its pages go round in a circle"


def test_a_rate_limit_is_waited_out(gitea: Forge) -> None:
    gitea.canned.append(Canned(429, {"Retry-After": "1"}))
    started = time.monotonic()
    assert paths(setting(gitea)) == ["acme/app", "acme/lib", "acme/web"]
    assert time.monotonic() - started >= 1


def test_a_rate_limit_past_the_deadline_fails_at_once(gitea: Forge) -> None:
    gitea.canned.append(Canned(429, {"Retry-After": "3600"}))
    started = time.monotonic()
    said = failure(gitea, setting(gitea), seconds=600)
    assert time.monotonic() - started < 5
    assert re.fullmatch(
        rf"{re.escape(gitea.url)}/acme: rate limited by the forge until \d\d:\d\d:\d\d", said
    )


@pytest.mark.parametrize(
    "answer",
    [
        Canned(200, {}, b"<html><body>Sign in</body></html>"),
        Canned(200, {}, b'{"message": "a dict, not a list"}'),
        Canned(200, {}, b'[{"full_name": "acme/app"}]'),  # no clone_url
        Canned(200, {}, b'[{"full_name": "acme/app", "clone_url": 3}]'),
        Canned(502, {}, b"Bad Gateway"),
    ],
)
def test_an_answer_that_is_not_the_list_expected_is_said(gitea: Forge, answer: Canned) -> None:
    gitea.canned.append(answer)
    said = failure(gitea, setting(gitea))
    unexpected = "its API did not answer with the list of repositories expected"
    assert said == f"{gitea.url}/acme: " + (
        unexpected if answer.status == 200 else "the forge answered 502 Bad Gateway"
    )


def test_an_unreachable_forge_is_said() -> None:
    url = f"http://127.0.0.1:{free_port()}"
    with pytest.raises(VcsError) as raised:
        find({"gitea": url, "org": "acme"})
    assert str(raised.value) == f"{url}/acme: cannot be reached (Connection refused)"


def test_a_forge_that_never_answers_is_given_up_at_the_deadline() -> None:
    with tarpit() as port:
        url = f"http://127.0.0.1:{port}"
        started = time.monotonic()
        with pytest.raises(VcsError) as raised:
            find({"gitea": url, "org": "acme"}, seconds=2)
        assert time.monotonic() - started < 5
    assert str(raised.value) == f"{url}/acme: its API did not answer in time"


def test_clone_urls_on_another_host_get_no_token(tmp_path: Path, gitea: Forge) -> None:
    gitea.clones_at = f"127.0.0.1:{free_port()}"
    found = find(setting(gitea))
    assert [f.url for f in found] == [f"http://{gitea.clones_at}/{f.path}.git" for f in found]


@pytest.mark.parametrize("kind", ["gitlab", "gitea", "github"])
def test_git_reads_a_private_repository_with_the_token_as_its_forge_takes_it(
    kind: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    owner = "org" if kind != "gitlab" else "group"
    with forge(kind, tmp_path / "forge", [Hosted("acme/app")]) as served:
        work = GitRepository(tmp_path / "app")
        work.commit(hatchling_project("acme-app", "1.0"))
        work.tag("1.0")
        work.add_server(served.repository("acme/app"))
        monkeypatch.setenv("TOKEN", served.token)
        [found] = find({kind: served.url, owner: "acme", "token": "TOKEN"})
        repository = Repository(found.url, address=found.address, discovered=True)
        project = GitProject(repository, tmp_path / "mirrors")
        assert [tag.name for tag in project.tags()] == ["1.0"]
        assert project.location == served.clone_url("acme/app")
        assert served.git_requests and served.exposures == []
        assert served.token.encode() not in (project.mirror / "config").read_bytes()

"""Forges on 127.0.0.1, for the sources that find repositories on one (sdistmaker/discovery/).

GitLab, Gitea (Forgejo) and GitHub run nowhere here (Debian packages none of them): this stands
in for the part of their REST APIs sdistmaker reads, as their documentation describes it. It
lists a group's (GitLab, subgroups included), an organisation's or a user's repositories from
the list a test gives it, with each forge's own JSON fields, its token header, real pages
(``Link: <…>; rel="next"``, GitLab's ``X-Next-Page``; small pages, so that clients page), 401 for
a wrong token, 404 for an unknown owner, and canned answers a test queues (a rate limit's 429,
a redirect, a page that is no JSON). The repositories themselves are real bare repositories
below its folder (``PATH.git``), served on the same host, as a forge serves them, to git over
smart HTTP by git's own http-backend: a private forge's only with the token, in the
credentials that forge takes in clone URLs.
"""

from __future__ import annotations

import contextlib
import http.server
import json
import math
import time
import uuid
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, unquote, urlencode

from helpers.servers import (
    answer_with_git,
    basic_credentials,
    command_lines_holding,
    http_server,
    refused_without,
)
from sdistmaker import discovery
from sdistmaker.discovery import Found

OLD = "2020-01-02T03:04:05Z"
"""A time of the last push long past."""


@dataclass
class Hosted:
    """A repository on the forge, at ``path`` (``acme/python/app``) below its owner."""

    path: str
    activity: str | None = OLD
    """The time of its last push, as the forge says it (None: never pushed to)."""
    archived: bool = False
    empty: bool = False
    fork: bool = False
    mirror: bool = False


@dataclass
class Canned:
    """An answer given, once, to the next request to the API, in place of the forge's own."""

    status: int
    headers: dict[str, str] = field(default_factory=dict)
    body: bytes = b""


@dataclass
class Forge:
    kind: str
    """gitlab, gitea or github."""
    folder: Path
    """Its repositories: ``folder/PATH.git``."""
    address: str = ""
    """host:port"""
    repositories: list[Hosted] = field(default_factory=list)
    token: str = field(default_factory=lambda: f"forge-token-{uuid.uuid4().hex}")
    """Unique, so that a command line holding it can only have it from this forge."""
    private: bool = True
    """Whether its API and repositories are closed to a client without the token."""
    page_size: int = 2
    canned: list[Canned] = field(default_factory=list)
    next_pages_at: str = ""
    """host:port its next-page links point at, when not its own."""
    clones_at: str = ""
    """host:port its clone URLs point at, when not its own."""
    api_requests: list[dict[str, str]] = field(default_factory=list)
    """The headers of every request to the API."""
    api_paths: list[str] = field(default_factory=list)
    """The path and query of every request to the API."""
    git_requests: list[str] = field(default_factory=list)
    """The path of every request git made."""
    exposures: list[str] = field(default_factory=list)
    """Command lines that held the token while git asked for a repository."""

    @property
    def url(self) -> str:
        """The URL a setting names it by (GitHub's: its API, GitHub Enterprise style)."""
        return f"http://{self.address}" + ("/api/v3" if self.kind == "github" else "")

    def clone_url(self, path: str) -> str:
        return f"http://{self.clones_at or self.address}/{path}.git"

    def repository(self, path: str) -> Path:
        """Where its bare repository at ``path`` is."""
        return self.folder / f"{path}.git"

    @property
    def git_user(self) -> tuple[str, str]:
        """The user name and password a clone URL gives for the token on this forge."""
        return {
            "gitlab": ("oauth2", self.token),
            "gitea": (self.token, ""),
            "github": ("x-access-token", self.token),
        }[self.kind]

    def token_header(self) -> tuple[str, str]:
        return {
            "gitlab": ("PRIVATE-TOKEN", self.token),
            "gitea": ("Authorization", f"token {self.token}"),
            "github": ("Authorization", f"Bearer {self.token}"),
        }[self.kind]

    def item(self, hosted: Hosted) -> dict[str, object]:
        """``hosted`` as the forge's API lists it."""
        clone_url = self.clone_url(hosted.path)
        if self.kind == "gitlab":
            fork = {"forked_from_project": {"id": 1}} if hosted.fork else {}
            return {
                "path_with_namespace": hosted.path,
                "http_url_to_repo": clone_url,
                "archived": hosted.archived,
                "empty_repo": hosted.empty,
                "last_activity_at": hosted.activity,
                **fork,
            }
        common = {
            "full_name": hosted.path,
            "clone_url": clone_url,
            "archived": hosted.archived,
            "fork": hosted.fork,
        }
        if self.kind == "gitea":
            return {
                **common,
                "empty": hosted.empty,
                "mirror": hosted.mirror,
                "updated_at": hosted.activity,
            }
        return {**common, "size": 0 if hosted.empty else 42, "pushed_at": hosted.activity}


_LISTINGS = {
    "gitlab": [("/api/v4/groups/", "/projects", "per_page")],
    "gitea": [("/api/v1/orgs/", "/repos", "limit")],
    "github": [("/api/v3/orgs/", "/repos", "per_page"), ("/api/v3/users/", "/repos", "per_page")],
}
"""Each forge's paths listing an owner's repositories (start, end), and its page size's
parameter."""


def _listing(forge: Forge, path: str) -> tuple[str, str] | None:
    """The owner a request's path asks the repositories of, and the page size's parameter."""
    for start, end, size in _LISTINGS[forge.kind]:
        if path.startswith(start) and path.endswith(end):
            return unquote(path[len(start) : -len(end)]), size
    return None


def _owned(forge: Forge, owner: str, query: dict[str, list[str]]) -> list[Hosted] | None:
    """The repositories of ``owner`` (None: no such owner), as the query filters them."""
    below = [r for r in forge.repositories if r.path.startswith(f"{owner}/")]
    if not below:
        return None
    if query.get("include_subgroups") != ["true"]:
        below = [r for r in below if "/" not in r.path.removeprefix(f"{owner}/")]
    if query.get("archived") == ["false"]:
        below = [r for r in below if not r.archived]
    return below


class _Handler(http.server.BaseHTTPRequestHandler):
    """Answers as the forge it serves does."""

    def __init__(self, served: Forge, *arguments: Any) -> None:
        self.served = served
        super().__init__(*arguments)

    def do_GET(self) -> None:
        path, _, query = self.path.partition("?")
        if not path.startswith("/api/"):
            self.git()
        else:
            self.served.api_requests.append(dict(self.headers))
            self.served.api_paths.append(self.path)
            self.api(path, parse_qs(query))

    do_POST = do_GET

    def git(self) -> None:
        self.served.git_requests.append(self.path)
        self.served.exposures.extend(command_lines_holding(self.served.token))
        expected = basic_credentials(*self.served.git_user)
        if not (self.served.private and refused_without(self, expected, self.served.kind)):
            answer_with_git(self, self.served.folder, "forge")

    def api(self, path: str, query: dict[str, list[str]]) -> None:
        name, value = self.served.token_header()
        sent = self.headers.get(name)
        listing = _listing(self.served, path)
        owned = None if listing is None else _owned(self.served, listing[0], query)
        if self.served.canned:
            canned = self.served.canned.pop(0)
            self.answer(canned.status, canned.body, canned.headers)
        elif (sent is not None and sent != value) or (self.served.private and sent is None):
            self.answer(401, b'{"message": "401 Unauthorized"}')
        elif listing is None or owned is None:
            self.answer(404, b'{"message": "404 Not Found"}')
        else:
            self.page(path, query, owned, listing[1])

    def page(
        self, path: str, query: dict[str, list[str]], owned: list[Hosted], size_key: str
    ) -> None:
        size = min(int(query.get(size_key, ["30"])[0]), self.served.page_size)
        number = int(query.get("page", ["1"])[0])
        pages = max(math.ceil(len(owned) / size), 1)
        items = [self.served.item(r) for r in owned[(number - 1) * size : number * size]]
        headers = {"X-Total-Count": str(len(owned))}
        if number < pages:
            following = urlencode({**{k: v[0] for k, v in query.items()}, "page": number + 1})
            at = self.served.next_pages_at or self.served.address
            headers["Link"] = f'<http://{at}{path}?{following}>; rel="next"'
            headers["X-Next-Page"] = str(number + 1)
        self.answer(200, json.dumps(items).encode(), headers)

    def answer(self, status: int, body: bytes, headers: dict[str, str] | None = None) -> None:
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        for name, value in (headers or {}).items():
            self.send_header(name, value)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, format: str, *args: object) -> None:
        pass


@contextlib.contextmanager
def forge(
    kind: str, folder: Path, repositories: list[Hosted] | None = None, private: bool = True
) -> Iterator[Forge]:
    """A forge of ``kind`` (gitlab, gitea, github) listing ``repositories``, served from below
    ``folder``; open to anyone unless ``private``."""
    served = Forge(kind, folder, repositories=repositories or [], private=private)
    with http_server(lambda *arguments: _Handler(served, *arguments)) as address:
        served.address = address
        yield served


def find(setting: Mapping[str, object], seconds: float = 30) -> list[Found]:
    """What the source a setting's entry names finds and keeps (``include``, ``exclude``), as a
    run reads it, within ``seconds``."""
    entry = discovery.entry(dict(setting), "git")
    assert entry is not None
    found = entry.source.find(("HEAD",), time.monotonic() + seconds)
    return [each for each in found if entry.wanted(each)]


def paths(setting: Mapping[str, object]) -> list[str]:
    return [each.path for each in find(setting)]

"""What the forges' sources share (GitLab, Gitea and Forgejo, GitHub): their settings, their
token, their API read page by page within the deadline, and the repositories they list.

The token is named, never given: ``token`` names the environment variable holding it; without
one, the password netrc gives for the API's host is the token, if any; with neither, the API is
read without one (public repositories). It goes to the API's own scheme, host and port alone:
redirects and next pages elsewhere are refused (requests would carry a custom header such as
GitLab's PRIVATE-TOKEN to any host), and it is never part of a message, a log line, a page or
the state. Repositories are cloned with it in their URL, which git is given without it
(sdistmaker.vcs.git_command), for the API's host alone.

Pages follow the ``Link: <…>; rel="next"`` header all three send (GitHub: "Using pagination in
the REST API"; GitLab: REST API "Pagination link header"; Gitea: "API Usage", Pagination). A
rate limit (429, or GitHub's 403 with ``x-ratelimit-remaining: 0``) is waited out as GitHub's
"Troubleshooting the REST API" says (``retry-after`` seconds, else until ``x-ratelimit-reset``,
else a minute), never past the deadline.
"""

from __future__ import annotations

import abc
import json
import netrc
import os
import re
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any, ClassVar
from urllib.parse import quote, urljoin, urlsplit

from sdistmaker import values
from sdistmaker.discovery.base import Discovery, Found
from sdistmaker.errors import VcsError
from sdistmaker.urls import public_url
from sdistmaker.vcs.base import STALL_SECONDS

if TYPE_CHECKING:
    import requests

# Upper case, as environment variables are named: GitHub's tokens (ghp_…) are identifiers too.
_VARIABLE = re.compile(r"[A-Z_][A-Z0-9_]*")
_REDIRECTS = 5
_RATE_LIMIT_WAIT = 60
"""Seconds to wait when a rate limit says not how long (GitHub: "at least one minute")."""
_LARGEST_PAGE = 32 * 1024 * 1024
_SKIPS = {"include_archived": "archived", "include_forks": "fork", "include_empty": "empty"}


@dataclass(frozen=True)
class Token:
    value: str = field(repr=False)
    origin: str
    """Where it comes from, as messages say it ("the token in GITLAB_TOKEN")."""


@dataclass(frozen=True)
class Listed:
    """A repository as the forge lists it."""

    path: str
    """Its full path on the forge (``acme/python/app``)."""
    clone_url: str
    archived: bool
    empty: bool
    fork: bool
    activity: str | None
    """What changes with every push to it (Found.activity); None where the forge cannot tell."""


class Forge(Discovery):
    """A forge's group, organisation or user: every repository its API lists, but those that
    are archived, forks or empty unless asked for."""

    keys = frozenset({"token", *_SKIPS})
    systems = frozenset({"git"})
    owners: ClassVar[tuple[str, ...]]
    """The keys that may name whose repositories are read (``group``; ``org`` or ``user``)."""
    credentials: ClassVar[str]
    """How a clone URL holds the token, as the forge takes it (``oauth2:{token}``)."""

    def __init__(self, base: str, owner: str, name: str, settings: dict[str, Any]) -> None:
        self.base = base
        """The API's URL (GitHub's) or the forge's (the others'), without a trailing slash."""
        self.owner = owner
        """What ``name`` is: one of ``owners``."""
        self.name = name
        self.variable: str = settings["token"]
        self.included = {_SKIPS[key] for key in _SKIPS if settings[key]}

    @classmethod
    def of(cls, value: dict[Any, Any]) -> Forge:
        named = [key for key in cls.owners if key in value]
        name = values.string_at(value, named[0]).strip("/") if len(named) == 1 else ""
        if not name:
            owners = " or ".join(map(repr, cls.owners))
            raise values.Invalid(f"{cls.kind!r} needs one {owners}, naming whose repositories")
        return cls(_base(value, cls.kind), named[0], name, _settings(value))

    @property
    def location(self) -> str:
        return f"{self.base}/{self.name}"

    @property
    @abc.abstractmethod
    def first_page(self) -> str:
        """The URL of the first page listing the repositories."""

    @abc.abstractmethod
    def headers(self, token: str | None) -> dict[str, str]:
        """The headers of every request to the API."""

    @abc.abstractmethod
    def listed(self, item: dict[str, Any]) -> Listed:
        """One repository of a page; KeyError, TypeError or ValueError when it is not one."""

    def clone_origins(self) -> set[str]:
        """The scheme, host and port of the clone URLs the token goes to: the API's."""
        return {origin(self.base)}

    def find(self, marks: tuple[str, ...], deadline: float) -> list[Found]:
        token = self.token()
        found = []
        for item in self._items(token, deadline):
            try:
                listed = self.listed(item)
            except (KeyError, TypeError, ValueError):
                raise VcsError(f"{self.location}: {_UNEXPECTED}") from None
            if not self._skipped(listed):
                url = self._with_token(listed.clone_url, token)
                found.append(Found(url, public_url(listed.clone_url), listed.path, listed.activity))
        return found

    def _skipped(self, listed: Listed) -> bool:
        """Whether ``listed`` is archived, a fork or empty, and not asked for all the same."""
        return any(getattr(listed, kind) and kind not in self.included for kind in _SKIPS.values())

    def token(self) -> Token | None:
        """The token: in the variable ``token`` names, else netrc's password for the API's host;
        None without either."""
        if self.variable:
            value = os.environ.get(self.variable, "")
            return self._checked(
                value, f"the variable {self.variable}", f"the token in {self.variable}"
            )
        path = Path(os.environ.get("NETRC") or Path.home() / ".netrc")
        host = urlsplit(self.base).hostname or ""
        try:
            # Only the host's own entry: a "default" one is meant for any host there is.
            entry = netrc.netrc(path).hosts.get(host) if path.is_file() else None
        except (netrc.NetrcParseError, OSError, UnicodeDecodeError):
            raise VcsError(f"{self.location}: {path} cannot be read as a netrc file") from None
        if entry is None or not entry[2]:
            return None
        origin = f"the password {path} gives for {host}"
        return self._checked(entry[2], origin, origin)

    def _checked(self, value: str, where: str, origin: str) -> Token:
        """The token ``where`` holds, without the blanks around it (a file read into a variable
        ends in a newline); one that is none is never sent, nor shown."""
        value = value.strip()
        if not value or not value.isascii() or not value.isprintable() or " " in value:
            raise VcsError(f"{self.location}: {where} holds no token")
        return Token(value, origin)

    def _with_token(self, url: str, token: Token | None) -> str:
        parts = urlsplit(url)
        if token is None or origin(url) not in self.clone_origins():
            return url
        userinfo = self.credentials.format(token=quote(token.value, safe=""))
        return parts._replace(netloc=f"{userinfo}@{parts.netloc.rpartition('@')[2]}").geturl()

    def _items(self, token: Token | None, deadline: float) -> Iterator[dict[str, Any]]:
        """Every repository the API lists, page after page."""
        # Only here: every run imports the discovery sources, few read a forge (requests takes
        # longer to import than a run with nothing new).
        import requests

        url: str | None = self.first_page
        seen = set()
        with requests.Session() as session:
            session.auth = _Headers(self.headers(token.value if token else None))
            while url is not None:
                seen.add(url)
                response = self._get(session, url, token, deadline)
                yield from self._page(response, deadline)
                url = self._next(response, seen)

    def _next(self, response: requests.Response, seen: set[str]) -> str | None:
        link = response.links.get("next", {}).get("url")
        if link is None:
            return None
        url = urljoin(response.url, link)
        if origin(url) != origin(self.base):
            raise VcsError(f"{self.location}: its next page is elsewhere ({public_url(url)})")
        if url in seen:
            raise VcsError(f"{self.location}: its pages go round in a circle")
        return url

    def _get(
        self, session: requests.Session, url: str, token: Token | None, deadline: float
    ) -> requests.Response:
        """The answer to ``url`` once no rate limit holds it back; VcsError for another than
        200 OK."""
        while True:
            response = self._request(session, url, deadline)
            wait = _rate_limited(response)
            if wait is None:
                break
            if time.monotonic() + wait > deadline:
                until = time.strftime("%H:%M:%S", time.localtime(time.time() + wait))
                raise VcsError(f"{self.location}: rate limited by the forge until {until}")
            time.sleep(wait)
        if response.status_code == 200:
            return response
        said = f"{response.status_code} {response.reason}"
        if response.status_code == 404:
            # Forges hide what a stranger may not see: a private group is "not found" too.
            unseen = "" if token else "; without a token, a private one is not seen either"
            raise VcsError(f"{self.location}: no such {self.owner} {self.name} ({said}{unseen})")
        if response.status_code in (401, 403):
            refused = f"refused {token.origin}" if token else "asks for a token"
            raise VcsError(f"{self.location}: the forge {refused} ({said})")
        raise VcsError(f"{self.location}: the forge answered {said}")

    def _request(self, session: requests.Session, url: str, deadline: float) -> requests.Response:
        """The answer to ``url``, after redirects within the API's scheme, host and port."""
        import requests

        for _ in range(_REDIRECTS + 1):
            silence = min(STALL_SECONDS, deadline - time.monotonic())
            if silence <= 0:
                raise VcsError(f"{self.location}: reading its API timed out")
            try:
                response = session.get(
                    url, allow_redirects=False, stream=True, timeout=(silence, silence)
                )
            except requests.RequestException as error:
                raise VcsError(f"{self.location}: {_why(error)}") from None
            if not response.is_redirect:
                return response
            url = urljoin(url, response.headers["Location"])
            if origin(url) != origin(self.base):
                raise VcsError(f"{self.location}: redirected elsewhere ({public_url(url)})")
        raise VcsError(f"{self.location}: redirected more than {_REDIRECTS} times")

    def _page(self, response: requests.Response, deadline: float) -> list[dict[str, Any]]:
        import requests

        body = bytearray()
        try:
            for chunk in response.iter_content(1 << 16):
                body += chunk
                if time.monotonic() > deadline:
                    raise VcsError(f"{self.location}: reading its API timed out")
                if len(body) > _LARGEST_PAGE:
                    raise ValueError("too large")
            page = json.loads(body)
        except requests.RequestException as error:
            raise VcsError(f"{self.location}: {_why(error)}") from None
        except ValueError:
            raise VcsError(f"{self.location}: {_UNEXPECTED}") from None
        if not isinstance(page, list) or not all(isinstance(item, dict) for item in page):
            raise VcsError(f"{self.location}: {_UNEXPECTED}")
        return page


_UNEXPECTED = "its API did not answer with the list of repositories expected"


class _Headers:
    """The token's headers, and nothing else: requests' own netrc look-up stays off (it would
    send a "default" entry's password to any host)."""

    def __init__(self, headers: dict[str, str]) -> None:
        self.headers = headers

    def __call__(self, request: requests.PreparedRequest) -> requests.PreparedRequest:
        request.headers.update(self.headers)
        return request


def _settings(value: dict[Any, Any]) -> dict[str, Any]:
    """The settings every forge takes, checked: the variable naming the token, and which of the
    repositories skipped by default to read all the same."""
    variable = value.get("token", "")
    if not isinstance(variable, str) or (variable and not _VARIABLE.fullmatch(variable)):
        # Never repeated: it may be the token itself.
        raise values.Invalid(
            "'token' must name the environment variable holding the token (in upper case, "
            "such as GITLAB_TOKEN), never be the token"
        )
    flags = {key: value.get(key, False) for key in _SKIPS}
    for key, flag in flags.items():
        if not isinstance(flag, bool):
            raise values.Invalid(f"{key!r} must be True or False, not {type(flag).__name__}")
    return {"token": variable, **flags}


def _base(value: dict[Any, Any], kind: str) -> str:
    text = values.string_at(value, kind)
    parts = urlsplit(text)
    if parts.scheme not in ("http", "https") or not parts.hostname or parts.query:
        raise values.Invalid(f"{kind!r} must be an http(s) URL, not {public_url(text)!r}")
    if "@" in parts.netloc:
        raise values.Invalid(f"{kind!r} must hold no credentials: 'token' names where they are")
    return text.rstrip("/")


def origin(url: str) -> str:
    """The scheme, host and port of ``url`` (``https://host``: its default port goes)."""
    parts = urlsplit(url)
    scheme, address = parts.scheme.lower(), parts.netloc.rpartition("@")[2].lower()
    return f"{scheme}://{address.removesuffix({'http': ':80', 'https': ':443'}.get(scheme, ''))}"


def _rate_limited(response: requests.Response) -> float | None:
    """Seconds to wait before asking again; None when no rate limit holds the request back."""
    headers = response.headers
    # GitHub's secondary rate limits answer 403 with retry-after, its primary ones without.
    held = headers.get("x-ratelimit-remaining") == "0" or "retry-after" in headers
    if response.status_code != 429 and not (response.status_code == 403 and held):
        return None
    retry_after = headers.get("retry-after", "")
    if retry_after.isdigit():
        return float(retry_after)
    reset = headers.get("x-ratelimit-reset") or headers.get("ratelimit-reset", "")  # GitLab's
    return max(float(reset) - time.time(), 0.0) if reset.isdigit() else _RATE_LIMIT_WAIT


def _why(error: requests.RequestException) -> str:
    """Why a request failed, in one line: the system's words for it (Connection refused)."""
    import requests

    if isinstance(error, requests.Timeout):
        return "its API did not answer in time"
    causes: list[BaseException] = [error]
    while (cause := causes[-1].__cause__ or causes[-1].__context__) is not None:
        causes.append(cause)
    first = causes[-1]
    said = first.strerror if isinstance(first, OSError) and first.strerror else str(first)
    return f"cannot be reached ({said})"


def text(item: dict[str, Any], key: str) -> str:
    """The string a listed repository holds at ``key``."""
    found = item[key]
    if not isinstance(found, str) or not found:
        raise ValueError(key)
    return found


def flag(item: dict[str, Any], key: str) -> bool:
    """The flag a listed repository holds at ``key``; False when it holds none."""
    found = item.get(key, False)
    if not isinstance(found, bool):
        raise ValueError(key)
    return found


def optional_text(item: dict[str, Any], key: str) -> str | None:
    """The string a listed repository holds at ``key``; None when it holds none."""
    return None if item.get(key) is None else text(item, key)

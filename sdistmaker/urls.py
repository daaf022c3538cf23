"""Repository URLs as sdistmaker shows them (free of credentials) and finds them on disk."""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import unquote, unquote_plus, urlsplit


def local_folder(url: str, marks: tuple[str, ...]) -> Path | None:
    """The folder on this machine holding the repository at ``url``, known by one of ``marks``
    (what only a repository's own folder holds); None for a remote one, or where there is no
    repository.

    A ``file://`` URL may go on inside the repository (svn's ``file:///srv/svn/repo/libs``):
    the deepest folder that exists is the repository's own.
    """
    parts = urlsplit(url)
    if parts.scheme == "file":
        folder = Path(unquote(parts.path))  # as url2pathname does on POSIX, without urllib.request
    elif parts.scheme or _SCP_LIKE.match(url):  # git's user@host:path is remote too
        return None
    else:
        folder = Path(url)
    folder = folder.resolve()
    while not folder.is_dir() and folder != folder.parent:
        folder = folder.parent
    return folder if any((folder / mark).exists() for mark in marks) else None


_SCP_LIKE = re.compile(r"^[^/]+:")


def public_url(url: str) -> str:
    """The URL as logs, pages, state and error messages show it, free of what may be a secret.

    Its user information goes, all of it: a password, or a token given as the user name (as
    GitHub and GitLab take them); ssh-like URLs (``ssh://``, ``git+ssh://``, ``svn+ssh://``)
    keep their user name, which is no secret there. Query parameters whose names say they hold
    a secret (``private_token``, ``X-Amz-Signature`` …) go too.
    """
    return _URL.sub(_public, url)


def redact(text: str) -> str:
    """A message from a VCS command with every URL in it in its public form."""
    return _URL_IN_TEXT.sub(_public, text)


def without_credentials(url: str) -> tuple[str, Credentials | None]:
    """``url`` without the user information ``public_url`` leaves out, and what that held."""
    found = _URL.match(url)
    if found is None or found["userinfo"] is None or _keeps_user_name(found["scheme"]):
        return url, None
    user, _, password = found["userinfo"].partition(":")
    host = f"{found['scheme']}://{found['address'].partition('/')[0]}"
    rest = url[found.end("userinfo") + 1 :]
    return f"{found['scheme']}://{rest}", Credentials(host, unquote(user), unquote(password))


@dataclass(frozen=True)
class Credentials:
    """A URL's user name and password, percent-decoded; the password is empty where the URL
    gives none (a token as the user name)."""

    host: str
    """The scheme, host and port they are for, as ``https://git.example.com``."""
    username: str
    password: str = field(repr=False)


def _url_pattern(blank: str, closing: str) -> re.Pattern[str]:
    # Parts as urlsplit finds them: the user information ends at the last "@" before the path,
    # the query at "#". In a message a URL also ends at a blank, and, but for its user
    # information (where a password may hold one), at a quote.
    return re.compile(
        rf"(?P<scheme>[A-Za-z][A-Za-z0-9+.-]*)://(?:(?P<userinfo>[^/?#{blank}]*)@)?"
        rf"(?P<address>[^?#{blank}{closing}]*)(?:\?(?P<query>[^#{blank}{closing}]*))?"
    )


_URL = _url_pattern("", "")
_URL_IN_TEXT = _url_pattern(r"\s", "'\"<>`")
_SECRET_NAME = re.compile("token|key|secret|pass|pwd|auth|sig|credential", re.IGNORECASE)
_PARAMETER = re.compile(r"(?:^|[&;])([^&;=]*)[^&;]*")


def _public(url: re.Match[str]) -> str:
    user = ""
    if url["userinfo"] is not None and _keeps_user_name(url["scheme"]):
        user = url["userinfo"].partition(":")[0] + "@"
    query = _PARAMETER.sub(_public_parameter, url["query"] or "").lstrip("&;")
    return f"{url['scheme']}://{user}{url['address']}" + (f"?{query}" if query else "")


def _public_parameter(parameter: re.Match[str]) -> str:
    return "" if _SECRET_NAME.search(unquote_plus(parameter[1])) else parameter[0]


def _keeps_user_name(scheme: str) -> bool:
    # ssh takes no password in a URL: its user name is only a name.
    return "ssh" in scheme.lower().split("+")

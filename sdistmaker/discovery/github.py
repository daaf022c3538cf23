"""A GitHub (or GitHub Enterprise Server, whose API is at ``https://HOST/api/v3``) organisation
or user: every repository of it, as GitHub's REST API "List organization repositories" (``GET
/orgs/{org}/repos``, ``type=all``) or "List repositories for a user" (``GET
/users/{username}/repos``: the public ones the user owns) gives them (fields ``full_name``,
``clone_url``, ``archived``, ``fork``, ``size``, 0 for an empty one, ``pushed_at``); the token
in the ``Authorization: Bearer …`` header, and in clone URLs as the password of
``x-access-token``."""

from __future__ import annotations

from typing import Any
from urllib.parse import quote, urlsplit

from sdistmaker import discovery, values
from sdistmaker.discovery.forge import Forge, Listed, flag, optional_text, origin, text


class GitHub(Forge):
    """``{"github": "https://api.github.com", "org": "acme"}``, or ``"user": "name"``."""

    kind = "github"
    owners = ("org", "user")
    keys = Forge.keys | set(owners)
    credentials = "x-access-token:{token}"

    @classmethod
    def of(cls, value: dict[Any, Any]) -> Forge:
        source = super().of(value)
        if urlsplit(source.base).hostname == "github.com":
            raise values.Invalid("'github' names GitHub's API: https://api.github.com")
        return source

    @property
    def location(self) -> str:
        return f"{self.base}/{self.owner}s/{self.name}"

    @property
    def first_page(self) -> str:
        # An organisation's every repository; a user's own (their default).
        every = "&type=all" if self.owner == "org" else ""
        return f"{self.base}/{self.owner}s/{quote(self.name, safe='')}/repos?per_page=100{every}"

    def headers(self, token: str | None) -> dict[str, str]:
        authorization = {} if token is None else {"Authorization": f"Bearer {token}"}
        return {"Accept": "application/vnd.github+json", **authorization}

    def clone_origins(self) -> set[str]:
        # GitHub's API has a host of its own (api.github.com): its repositories are on github.com.
        return {*super().clone_origins(), origin(self.base.replace("://api.", "://", 1))}

    def listed(self, item: dict[str, Any]) -> Listed:
        size = item["size"]
        if not isinstance(size, int):
            raise TypeError("size")
        return Listed(
            path=text(item, "full_name"),
            clone_url=text(item, "clone_url"),
            archived=flag(item, "archived"),
            empty=size == 0,
            fork=flag(item, "fork"),
            activity=optional_text(item, "pushed_at"),
        )


discovery.register(GitHub)

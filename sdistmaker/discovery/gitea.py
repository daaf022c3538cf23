"""A Gitea or Forgejo organisation: every repository of it, as their API's "List an
organization's repos" gives them (``GET /api/v1/orgs/{org}/repos``, paged by ``page`` and
``limit``; fields ``full_name``, ``clone_url``, ``archived``, ``empty``, ``fork``, ``mirror``,
``updated_at``); the token in the ``Authorization: token …`` header, and in clone URLs as the
user name, which every Gitea version takes (with no password, the user name is the token)."""

from __future__ import annotations

from typing import Any
from urllib.parse import quote

from sdistmaker import discovery
from sdistmaker.discovery.forge import Forge, Listed, flag, optional_text, text


class Gitea(Forge):
    """``{"gitea": "https://gitea.example.com", "org": "acme"}``."""

    kind = "gitea"
    owners = ("org",)
    keys = Forge.keys | set(owners)
    credentials = "{token}"

    @property
    def first_page(self) -> str:
        return f"{self.base}/api/v1/orgs/{quote(self.name, safe='')}/repos?limit=50"

    def headers(self, token: str | None) -> dict[str, str]:
        return {} if token is None else {"Authorization": f"token {token}"}

    def listed(self, item: dict[str, Any]) -> Listed:
        # A push sets updated_at to its time; a mirror's sync to its newest commit's, which a
        # tag on an older commit leaves as it was.
        mirror = flag(item, "mirror")
        return Listed(
            path=text(item, "full_name"),
            clone_url=text(item, "clone_url"),
            archived=flag(item, "archived"),
            empty=flag(item, "empty"),
            fork=flag(item, "fork"),
            activity=None if mirror else optional_text(item, "updated_at"),
        )


discovery.register(Gitea)

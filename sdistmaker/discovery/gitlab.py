"""A GitLab group: every project of it and of its subgroups, as GitLab's REST API "List a
group's projects" gives them (``GET /api/v4/groups/:id/projects`` with ``include_subgroups``,
``archived``; fields ``path_with_namespace``, ``http_url_to_repo``, ``archived``,
``empty_repo``, ``forked_from_project`` for a fork, ``last_activity_at``); the token in the
``PRIVATE-TOKEN`` header, and in clone URLs as the password of any user (``oauth2``)."""

from __future__ import annotations

from datetime import datetime, timedelta, timezone
from typing import Any
from urllib.parse import quote

from sdistmaker import discovery
from sdistmaker.discovery.forge import Forge, Listed, flag, optional_text, text

# GitLab moves a project's last_activity_at to an event's time only when it is an hour old or
# more (Event#reset_project_activity, RESET_PROJECT_ACTIVITY_INTERVAL): a tag pushed within the
# hour after another event leaves it as it was. Once it is older than that (and a margin for
# the clocks), the next push moves it, so it tells whether tags were pushed since it was read.
_SETTLED = timedelta(hours=1, minutes=15)


class GitLab(Forge):
    """``{"gitlab": "https://gitlab.example.com", "group": "acme/python"}``."""

    kind = "gitlab"
    owners = ("group",)
    keys = Forge.keys | set(owners)
    credentials = "oauth2:{token}"

    @property
    def first_page(self) -> str:
        group = quote(self.name, safe="")
        archived = "" if "archived" in self.included else "&archived=false"
        # Oldest first: a project made while the pages are read comes last, shifting none.
        return (
            f"{self.base}/api/v4/groups/{group}/projects?include_subgroups=true&per_page=100"
            f"&order_by=id&sort=asc{archived}"
        )

    def headers(self, token: str | None) -> dict[str, str]:
        return {} if token is None else {"PRIVATE-TOKEN": token}

    def listed(self, item: dict[str, Any]) -> Listed:
        return Listed(
            path=text(item, "path_with_namespace"),
            clone_url=text(item, "http_url_to_repo"),
            archived=flag(item, "archived"),
            empty=flag(item, "empty_repo"),
            fork=item.get("forked_from_project") is not None,
            activity=_settled(optional_text(item, "last_activity_at")),
        )


def _settled(activity: str | None) -> str | None:
    """``activity`` when old enough that the next push moves it; None before."""
    if activity is None:
        return None
    moment = datetime.fromisoformat(activity.replace("Z", "+00:00"))
    if moment.tzinfo is None:
        raise ValueError(activity)
    return activity if datetime.now(timezone.utc) - moment > _SETTLED else None


discovery.register(GitLab)

"""Subversion: find projects below BASE, list their tags, export a tag, with the svn command."""

from __future__ import annotations

import logging
import os
import xml.etree.ElementTree as ET
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import quote, unquote

from plumbum import CommandNotFound, local

from sdistmaker.errors import VcsError
from sdistmaker.tags import Tag, version_from_tag_name
from sdistmaker.urls import public_url, redact
from sdistmaker.vcs import Source, refuse_links_out_of

logger = logging.getLogger(__name__)


def svn(*args: str, url: str) -> str:
    """Run svn, never interactively, English messages, UTF-8 names; errors name ``url``."""
    try:
        command = local["svn"].with_env(LC_ALL="C.UTF-8", SVN_SSH=_ssh_command())
    except CommandNotFound:
        raise VcsError(f"{public_url(url)}: the svn command is not installed") from None
    code, out, err = command.run(["--non-interactive", *args], retcode=None)
    if code:
        lines = [line for line in err.splitlines() if line.strip()]
        message = lines[-1] if lines else f"svn exited with {code}"
        raise VcsError(f"{public_url(url)}: {redact(message)}")
    return str(out)


def _ssh_command() -> str:
    """The command svn+ssh:// URLs are tunnelled through: the user's SVN_SSH (a key, a login
    name), else svn's own default, made to fail rather than ask for a password, a passphrase or
    whether to trust a host key (``--non-interactive`` does not reach ssh, which asks on the
    terminal). A BatchMode the user's command sets itself comes first, and wins."""
    return f"{os.environ.get('SVN_SSH') or 'ssh -q -o ControlMaster=no'} -o BatchMode=yes"


@dataclass(frozen=True)
class Entry:
    name: str
    kind: str
    revision: str
    """The entry's last-changed revision."""


def list_folder(url: str) -> list[Entry]:
    root = ET.fromstring(svn("list", "--xml", url, url=url))
    return [
        Entry(entry.findtext("name", ""), entry.get("kind", ""), _revision(entry))
        for entry in root.iter("entry")
    ]


def _revision(entry: ET.Element) -> str:
    commit = entry.find("commit")
    return "" if commit is None else commit.get("revision", "")


class SvnProject(Source):
    """A folder holding ``trunk`` and/or ``tags``; each folder in ``tags`` is a release tag."""

    def __init__(self, name: str, url: str, public: str, has_tags: bool = True) -> None:
        self.name = name
        self.has_tags = has_tags
        self.url = url
        """Where sdistmaker reads it (BASE_ON_SERVER when that answers)."""
        self.location = public
        """How it is named to users and in the state (below BASE)."""

    @property
    def key(self) -> str:
        return f"svn:{self.location}"

    def tags(self) -> list[Tag]:
        if not self.has_tags:  # a project with a trunk only has not released yet
            return []
        found = []
        for entry in list_folder(f"{self.url}/tags"):
            version = version_from_tag_name(entry.name)
            if entry.kind != "dir" or version is None:
                continue
            found.append(
                Tag(
                    vcs="svn",
                    project=self.name,
                    name=entry.name,
                    version=version,
                    location=f"{self.location}/tags/{quote(entry.name)}",
                    identity=entry.revision,
                    source=self,
                )
            )
        return found

    def export(self, tag: Tag, destination: Path) -> None:
        url = f"{self.url}/tags/{quote(tag.name)}"
        # The peg revision pins the tag as it was crawled, even if it is deleted and recreated.
        svn("export", "--quiet", f"{url}@{tag.identity}", str(destination), url=tag.location)
        refuse_links_out_of(destination)


def find_projects(
    base: str,
    base_on_server: str = "",
    blacklist: Sequence[str] = (".svn", ".attic"),
    stop_indicators: Sequence[str] = (),
) -> list[SvnProject]:
    """Walk from BASE (read through BASE_ON_SERVER when that answers) and return every project."""
    start = reachable_base(base, base_on_server)
    public = public_url(base.rstrip("/"))
    return list(_walk(start, public, start, set(blacklist), set(stop_indicators)))


def reachable_base(base: str, base_on_server: str = "") -> str:
    """The URL to read BASE through: BASE_ON_SERVER when that answers, BASE otherwise."""
    if base_on_server:
        try:
            svn("info", "--show-item", "kind", base_on_server, url=base_on_server)
            return base_on_server.rstrip("/")
        except VcsError as error:
            logger.warning("BASE_ON_SERVER does not answer, reading BASE instead: %s", error)
    return base.rstrip("/")


def last_changed_revision(url: str) -> str:
    """The last revision that changed anything below ``url``: one call, however big the tree."""
    return svn("info", "--show-item", "last-changed-revision", url, url=url).strip()


def remember(
    projects: Sequence[SvnProject], tags: Sequence[Tag]
) -> dict[str, list[dict[str, str]]]:
    """A crawl's result, as the state keeps it (see ``recall``)."""
    return {
        "projects": [
            {"name": p.name, "url": p.url, "public": p.location, "has_tags": str(p.has_tags)}
            for p in projects
        ],
        "tags": [
            {"project": t.source.url, "name": t.name, "version": t.version, "identity": t.identity}
            for t in tags
            if isinstance(t.source, SvnProject)
        ],
    }


def recall(memory: dict[str, list[dict[str, str]]]) -> tuple[list[SvnProject], list[Tag]]:
    """The projects and tags ``remember`` kept, with no call to svn."""
    projects = {
        p["url"]: SvnProject(p["name"], p["url"], p["public"], p["has_tags"] == "True")
        for p in memory["projects"]
    }
    tags = [
        Tag(
            vcs="svn",
            project=projects[t["project"]].name,
            name=t["name"],
            version=t["version"],
            location=f"{projects[t['project']].location}/tags/{quote(t['name'])}",
            identity=t["identity"],
            source=projects[t["project"]],
        )
        for t in memory["tags"]
    ]
    return list(projects.values()), tags


def _walk(
    url: str, base: str, start: str, blacklist: set[str], stop_indicators: set[str]
) -> Iterator[SvnProject]:
    entries = list_folder(url)
    folders = sorted(entry.name for entry in entries if entry.kind == "dir")
    if "trunk" in folders or "tags" in folders:
        name = unquote(url.rsplit("/", 1)[-1])
        yield SvnProject(name, url, base + url[len(start) :], has_tags="tags" in folders)
        return
    if stop_indicators & {entry.name for entry in entries}:
        return
    for folder in folders:
        if folder not in blacklist:
            yield from _walk(f"{url}/{quote(folder)}", base, start, blacklist, stop_indicators)


def tag_from_url(url: str) -> Tag:
    """The tag an svn URL like ``…/project/tags/1.0`` names, with its current identity."""
    url = url.rstrip("/")
    parts = url.split("/")
    if len(parts) < 3 or parts[-2] != "tags":
        raise VcsError(f"{public_url(url)}: not a tag URL (expected …/<project>/tags/<tag>)")
    name = unquote(parts[-1])
    version = version_from_tag_name(name)
    if version is None:
        raise VcsError(f"{public_url(url)}: tag {name!r} names no PEP 440 version")
    revision = svn("info", "--show-item", "last-changed-revision", url, url=url).strip()
    project_url = url.rsplit("/tags/", 1)[0]
    project = SvnProject(
        unquote(project_url.rsplit("/", 1)[-1]), project_url, public_url(project_url)
    )
    return Tag(
        vcs="svn",
        project=project.name,
        name=name,
        version=version,
        location=public_url(url),
        identity=revision,
        source=project,
    )

"""Subversion: find projects below BASE, list their tags, export a tag, with the svn command."""

from __future__ import annotations

import functools
import logging
import os
import shutil
import subprocess
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any
from urllib.parse import quote, unquote

from sdistmaker import shapes, values
from sdistmaker.errors import VcsError
from sdistmaker.models import Tag, version_from_tag_name
from sdistmaker.urls import public_url
from sdistmaker.vcs import register
from sdistmaker.vcs.base import (
    READ_TIMEOUT,
    Crawl,
    Hook,
    Setting,
    Source,
    VersionControl,
    refuse_links_out_of,
)
from sdistmaker.vcs.svn_command import deadline_in, info, list_folder, svn
from sdistmaker.vcs.svn_externals import Externals

if TYPE_CHECKING:
    from sdistmaker.config import Config

logger = logging.getLogger(__name__)


@dataclass(frozen=True)
class Options:
    """How projects are read."""

    timeout: float = READ_TIMEOUT
    """Seconds each svn command reading the tree may take."""
    externals_from: tuple[str, ...] = ()
    """URLs of other repositories (or folders in them) whose content a tag's svn:externals may
    bring in (SVN_EXTERNALS_FROM)."""


class SvnProject(Source):
    """A folder holding ``trunk`` and/or ``tags``; each folder in ``tags`` is a release tag."""

    def __init__(
        self, name: str, url: str, public: str, has_tags: bool = True, options: Options = Options()
    ) -> None:
        self.name = name
        self.has_tags = has_tags
        self.options = options
        self._roots: tuple[str, ...] = ()
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
        for entry in list_folder(f"{self.url}/tags", self.options.timeout):
            version = version_from_tag_name(entry.name)
            if entry.kind == "dir" and version is not None:
                found.append(self.tag(entry.name, version, entry.revision, made=entry.changed_at))
        return found

    def tag(
        self, name: str, version: str, revision: str, location: str = "", made: float | None = None
    ) -> Tag:
        """Its tag ``name``, as of ``revision`` (made at ``made``, when the listing said);
        ``location`` (its public URL) as named."""
        location = location or f"{self.location}/tags/{quote(name)}"
        export = functools.partial(self._export, name, revision, location, made)
        return Tag(
            project=self.name,
            name=name,
            version=version,
            location=location,
            identity=revision,
            key=f"svn:{location}",
            project_key=self.key,
            url=location,
            export=export,
        )

    def _export(  # noqa: PLR0913 (a tag as crawled, where to, by when)
        self,
        name: str,
        revision: str,
        location: str,
        made: float | None,
        destination: Path,
        deadline: float,
    ) -> float | None:
        url = f"{self.url}/tags/{quote(name)}"
        # The peg revision pins the tag as it was crawled, even if it is deleted and recreated.
        target = f"{url}@{revision}"
        externals = Externals(location, deadline, self.roots, self.options.externals_from)
        externals.refuse_any_from_elsewhere(target)
        svn("export", "--quiet", target, str(destination), url=location, deadline=deadline)
        refuse_links_out_of(destination)
        # A tag remembered from an earlier crawl was listed without its date.
        return made if made is not None else info(target, deadline).changed_at

    def roots(self, deadline: float) -> tuple[str, ...]:
        """The repository's URL as read, and as BASE names it (BASE_ON_SERVER may differ)."""
        if not self._roots:
            root = info(self.url, deadline).root
            # The two differ only in how they start: BASE_ON_SERVER, or BASE.
            pairs = zip(reversed(self.url), reversed(self.location), strict=False)
            shorter = min(len(self.url), len(self.location))
            same = next((n for n, (a, b) in enumerate(pairs) if a != b), shorter)
            read, public = (
                self.url[: len(self.url) - same],
                self.location[: len(self.location) - same],
            )
            self._roots = (root, public + root[len(read) :]) if root.startswith(read) else (root,)
        return self._roots


@dataclass(frozen=True)
class _Walk:
    """What stays the same while walking from BASE."""

    base: str
    """BASE as shown to users."""
    start: str
    """BASE as read (BASE_ON_SERVER when that answers)."""
    blacklist: set[str]
    stop_indicators: set[str]
    options: Options


def find_projects(
    base: str,
    base_on_server: str = "",
    blacklist: Sequence[str] = (".svn", ".attic"),
    stop_indicators: Sequence[str] = (),
    options: Options = Options(),
) -> list[SvnProject]:
    """Walk from BASE (read through BASE_ON_SERVER when that answers) and return every project."""
    start, _ = reachable_base(base, base_on_server, options.timeout)
    public = public_url(base.rstrip("/"))
    walk = _Walk(public, start, set(blacklist), set(stop_indicators), options)
    return list(_walk(start, walk))


def reachable_base(
    base: str, base_on_server: str = "", timeout: float = READ_TIMEOUT
) -> tuple[str, str]:
    """The URL to read BASE through (BASE_ON_SERVER when that answers, BASE otherwise) and the
    last revision that changed anything below it: one call, however big the tree. Either must
    be a folder: a file there is no tree to find projects in."""
    if base_on_server:
        try:
            return base_on_server.rstrip("/"), _folder_revision(base_on_server, timeout)
        except VcsError as error:
            logger.warning("BASE_ON_SERVER does not answer, reading BASE instead: %s", error)
    return base.rstrip("/"), _folder_revision(base, timeout)


def _folder_revision(url: str, timeout: float) -> str:
    found = info(url.rstrip("/"), deadline_in(timeout))
    if found.kind != "dir":
        raise VcsError(f"{public_url(url)}: not a folder but a {found.kind}: no projects below it")
    return found.last_changed


def remember(
    projects: Sequence[SvnProject], tags: Sequence[Tag]
) -> dict[str, list[dict[str, str]]]:
    """A crawl's result, as the state keeps it (see ``recall``)."""
    read = {p.key: p.url for p in projects}
    return {
        "projects": [
            {"name": p.name, "url": p.url, "public": p.location, "has_tags": str(p.has_tags)}
            for p in projects
        ],
        "tags": [
            {
                "project": read[t.project_key],
                "name": t.name,
                "version": t.version,
                "identity": t.identity,
            }
            for t in tags
            if t.project_key in read
        ],
    }


def recall(
    memory: dict[str, list[dict[str, str]]], options: Options = Options()
) -> tuple[list[SvnProject], list[Tag]]:
    """The projects and tags ``remember`` kept, with no call to svn."""
    projects = {
        p["url"]: SvnProject(p["name"], p["url"], p["public"], p["has_tags"] == "True", options)
        for p in memory["projects"]
    }
    tags = [
        projects[t["project"]].tag(t["name"], t["version"], t["identity"]) for t in memory["tags"]
    ]
    return list(projects.values()), tags


def _walk(url: str, walk: _Walk) -> Iterator[SvnProject]:
    entries = list_folder(url, walk.options.timeout)
    folders = sorted(entry.name for entry in entries if entry.kind == "dir")
    if "trunk" in folders or "tags" in folders:
        name = unquote(url.rsplit("/", 1)[-1])
        public = walk.base + url[len(walk.start) :]
        yield SvnProject(name, url, public, "tags" in folders, walk.options)
        return
    if walk.stop_indicators & {entry.name for entry in entries}:
        return
    for folder in folders:
        if folder not in walk.blacklist:
            yield from _walk(f"{url}/{quote(folder)}", walk)


def tag_from_url(url: str, options: Options = Options()) -> Tag:
    """The tag an svn URL like ``…/project/tags/1.0`` names, with its current identity."""
    url = url.rstrip("/")
    parts = url.split("/")
    if len(parts) < 3 or parts[-2] != "tags":
        raise VcsError(f"{public_url(url)}: not a tag URL (expected …/<project>/tags/<tag>)")
    name = unquote(parts[-1])
    version = version_from_tag_name(name)
    if version is None:
        raise VcsError(f"{public_url(url)}: tag {name!r} names no PEP 440 version")
    revision = info(url, deadline_in(options.timeout)).last_changed
    project_url = url.rsplit("/tags/", 1)[0]
    project = SvnProject(
        unquote(project_url.rsplit("/", 1)[-1]), project_url, public_url(project_url), True, options
    )
    return project.tag(name, version, revision, public_url(url))


BASE = Setting("BASE", values.url, "")
"""The URL below which every folder holding ``trunk`` or ``tags`` is a project."""
BASE_ON_SERVER = Setting("BASE_ON_SERVER", values.url, "")
"""BASE as the machine sdistmaker runs on reads it fastest (``file://``), when that answers."""
BLACKLIST = Setting("BLACKLIST", values.strings, (".svn", ".attic"))
"""Folder names not walked into."""
STOP_INDICATORS = Setting("STOP_INDICATORS", values.strings, ())
"""Names of entries that mark a folder as no project nor group of projects."""
SVN_EXTERNALS_FROM = Setting("SVN_EXTERNALS_FROM", values.url_list, ())
"""Other repositories whose content svn:externals may bring into a tag."""


class Subversion(VersionControl):
    """Projects below BASE (read through BASE_ON_SERVER when that answers): a folder holding
    ``trunk`` or ``tags`` is a project, each folder in its ``tags`` a tag."""

    name = "svn"
    marks = ("db/current",)  # its storage
    tag_url = "an svn tag URL (…/PROJECT/tags/TAG)"
    hook = Hook(
        "--svn-commit",
        "for an svn post-commit hook: start a background run if the commit touched a tag",
        ("REPOS", "REV"),
    )
    settings = (BASE, BASE_ON_SERVER, BLACKLIST, STOP_INDICATORS, SVN_EXTERNALS_FROM)

    def repositories(self, config: Config) -> list[tuple[str, str]]:
        urls = [(setting.name, setting.of(config)) for setting in (BASE, BASE_ON_SERVER)]
        return [(name, url) for name, url in urls if url]

    def crawl(self, crawl: Crawl) -> list[Tag]:
        if not BASE.of(crawl.config):
            return []
        location = public_url(BASE.of(crawl.config))
        return crawl.read(location, lambda: self._tags(crawl))[0]

    def _tags(self, crawl: Crawl) -> list[Tag]:
        """Every tag below BASE. When nothing below BASE changed since the last crawl that read
        every project (its memory), that crawl's tags, for one call to svn instead of a walk."""
        config = crawl.config
        base, base_on_server = BASE.of(config), BASE_ON_SERVER.of(config)
        options = Options(config.read_timeout, SVN_EXTERNALS_FROM.of(config))
        start, revision = reachable_base(base, base_on_server, options.timeout)
        if crawl.memory.get("read") == [start, revision] and not crawl.walk:
            projects, tags = recall(crawl.memory, options)
            tagged = {tag.project_key for tag in tags}
            for project in projects:
                crawl.claim(project, tagged=project.key in tagged)
            logger.debug("nothing changed below %s since r%s", base, revision)
            return tags
        ignored = (BLACKLIST.of(config), STOP_INDICATORS.of(config))
        projects = find_projects(base, base_on_server, *ignored, options)
        tags = []
        complete = True
        for project in projects:
            found, read = crawl.tags_of(project)
            tags += found
            complete = complete and read
        crawl.memory = {**remember(projects, tags), "read": [start, revision]} if complete else {}
        return tags

    def tag_from_url(self, url: str, workdir: Path) -> Tag:
        return tag_from_url(url)

    def check_memory(self, memory: object, where: str) -> dict[str, Any]:
        """The last crawl below BASE as ``remember`` keeps it: nothing, or every project, every
        tag (of one of those projects) and what was read at which revision."""
        checked = shapes.of(dict, memory, where)
        if not checked:
            return checked
        shapes.holds(checked, where, _MEMORY_FIELDS, _MEMORY_FIELDS)
        projects = [
            shapes.fields(p, f'{where}["projects"][{n}]', _PROJECT_FIELDS)
            for n, p in enumerate(shapes.of(list, checked["projects"], f'{where}["projects"]'))
        ]
        urls = {project["url"] for project in projects}
        for n, tag in enumerate(shapes.of(list, checked["tags"], f'{where}["tags"]')):
            project = shapes.fields(tag, f'{where}["tags"][{n}]', _TAG_FIELDS)["project"]
            if project not in urls:
                raise shapes.WrongShape(
                    f'{where}["tags"][{n}] names no project of {where}["projects"]: '
                    f"{shapes.shown(project)}"
                )
        read = checked["read"]
        if len(shapes.strings(read, f'{where}["read"]')) != 2:
            raise shapes.WrongShape(
                f'{where}["read"] must hold a URL and a revision, not {shapes.shown(read)}'
            )
        return checked

    def touched(self, arguments: Sequence[str], lines: Iterable[str]) -> bool:
        """Whether the commit (``REPOS REV``) added, changed or deleted anything in a ``tags``
        folder, or copied a folder that may hold some (a project or a group moved or branched)."""
        repository, revision = arguments
        svnlook = shutil.which("svnlook") or "/usr/bin/svnlook"
        result = subprocess.run(
            [svnlook, "changed", "--copy-info", "-r", revision, repository],
            capture_output=True,
            text=True,
            env={**os.environ, "LC_ALL": "C.UTF-8"},
        )
        if result.returncode:
            raise VcsError(f"{repository}: {result.stderr.strip() or 'svnlook failed'}")
        for line in result.stdout.splitlines():
            if line.startswith(" "):  # "    (from path:rREV)" below a copy
                continue
            action, path = line[:4], line[4:]
            if "tags" in path.rstrip("/").split("/") or ("+" in action and path.endswith("/")):
                return True
        return False


_MEMORY_FIELDS = {"projects", "tags", "read"}
_PROJECT_FIELDS = {"name", "url", "public", "has_tags"}
_TAG_FIELDS = {"project", "name", "version", "identity"}


register(Subversion)

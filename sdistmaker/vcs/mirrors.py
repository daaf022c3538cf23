"""What the systems that keep a mirror of each repository share (git, and any like it): the
setting listing the repositories, each mirror below sdistmaker's folder (fetched once a run,
held while in use, made anew when damaged), tags chosen by version and glob, pip-style tag
URLs (``git+URL@TAG#subdirectory=PATH``)."""

from __future__ import annotations

import abc
import contextlib
import fcntl
import fnmatch
import functools
import hashlib
import logging
import os
import re
import shutil
import time
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any, ClassVar
from urllib.parse import parse_qs, urlsplit, urlunsplit

from sdistmaker import discovery, shapes, values
from sdistmaker.discovery import Discovered
from sdistmaker.errors import VcsError
from sdistmaker.models import Tag, version_from_tag_name
from sdistmaker.outdir import temporaries
from sdistmaker.urls import local_folder, public_url
from sdistmaker.vcs.base import READ_TIMEOUT, Crawl, Setting, Source, VersionControl

if TYPE_CHECKING:
    from sdistmaker.config import Config

logger = logging.getLogger(__name__)


@dataclass(frozen=True)
class Repository:
    """A repository to read: one a setting lists (GIT_REPOSITORIES), or one a source named
    there found."""

    url: str
    """Where it is read, credentials included."""
    subdirectory: str = ""
    tags: str = "*"
    """A glob the tag names must match, e.g. ``"frontend-*"`` in a monorepo."""
    address: str = ""
    """How people address it, when not by ``url`` (a repository found in a folder)."""
    activity: str | None = None
    """What its source tells of when its tags last may have changed (discovery.Found)."""
    discovered: bool = False
    """Found by a source, not listed."""


_KEYS = {"url", "subdirectory", "tags"}


def _entry(kind: type[Repository], system: str, value: Any) -> Repository | Discovered:
    if isinstance(value, str):
        value = {"url": value}
    if not isinstance(value, dict):
        raise values.Invalid(f"entries must be URLs or dicts, not {type(value).__name__}")
    source = discovery.entry(value, system)
    if source is not None:
        return source
    values.known_keys(value, _KEYS | set(discovery.kinds()))
    if not isinstance(value.get("url"), str) or not value["url"]:
        raise values.Invalid("every entry needs a 'url' string")
    values.url(value["url"])
    subdirectory = values.subdirectory(value)
    return kind(
        url=value["url"], subdirectory=subdirectory, tags=values.string_at(value, "tags") or "*"
    )


def _entries(
    kind: type[Repository], system: str, value: Any
) -> tuple[Repository | Discovered, ...]:
    if isinstance(value, (str, dict)) or not isinstance(value, (list, tuple)):
        raise values.Invalid(f"must be a list, not {type(value).__name__}")
    return tuple(_entry(kind, system, item) for item in value)


def repositories_setting(name: str, kind: type[Repository], system: str) -> Setting:
    """The setting ``name``: a list of ``system``'s repositories, each a URL or a dict
    (``url``, ``subdirectory``, ``tags``), read as ``kind``, or a dict naming a source that
    finds them (sdistmaker.discovery)."""
    return Setting(name, functools.partial(_entries, kind, system), ())


class MirroredProject(Source):
    """A repository, or one subdirectory of it, mirrored into ``cache``.

    Projects in one repository share its mirror; ``fetched`` (shared by a run's repositories)
    holds the mirrors already brought up to date, so each is fetched once a run.
    """

    system: ClassVar[str]
    """The system's name: the start of its pip-style URLs and of its projects' keys."""
    suffix: ClassVar[str] = ""
    """How its repositories' URLs often end (``.git``): not part of a project's name."""
    marks: ClassVar[tuple[str, ...]]
    """What only its repositories' own folders hold (VersionControl.marks)."""

    def __init__(
        self,
        repository: Repository,
        cache: Path,
        fetched: set[Path] | None = None,
        timeout: float = READ_TIMEOUT,
    ) -> None:
        self.url = repository.url
        """Where it is read, credentials included."""
        self.location = public_url(repository.address or repository.url)
        self.timeout = timeout
        """Seconds each command reading the repository may take."""
        self.subdirectory = repository.subdirectory.strip("/")
        self.pattern = repository.tags
        self.repository = repository
        named = urlsplit(self.location).path.rstrip("/").rsplit("/", 1)[-1]
        if self.suffix:
            named = named.removesuffix(self.suffix)
        named = named or "repository"
        self.name = self.subdirectory.rsplit("/", 1)[-1] if self.subdirectory else named
        digest = hashlib.sha256(self.location.encode()).hexdigest()[:16]
        safe = re.sub(r"[^A-Za-z0-9._-]", "_", named)
        self.mirror = cache / f"{safe}-{digest}{self.suffix}"
        self._fetched = fetched if fetched is not None else set()

    @property
    def key(self) -> str:
        return f"{self.system}:{self.location}#{self.subdirectory}"

    @abc.abstractmethod
    def _make(self, partial: Path) -> None:
        """Make a mirror of the repository in the new folder ``partial``."""

    @abc.abstractmethod
    def _fetch(self) -> None:
        """Bring the mirror up to date; deleted and moved tags follow the remote."""

    @abc.abstractmethod
    def _damage(self) -> str | None:
        """Why the system does not take the mirror for a repository; None when it does."""

    @abc.abstractmethod
    def _listing(self) -> list[tuple[str, str]]:
        """Every tag of the mirror: its name, and the identity of what it points at."""

    @abc.abstractmethod
    def _export(self, name: str, identity: str, destination: Path, deadline: float) -> float | None:
        """Write tag ``name``'s tree (its subdirectory's) into ``destination``; return when
        the tag was made (seconds since the epoch)."""

    @contextlib.contextmanager
    def _holding(self, operation: int) -> Iterator[None]:
        """Hold the mirror: shared (``fcntl.LOCK_SH``) to read it, exclusive to change it. A
        mirror folder may be shared by runs for other OUTDIRs (linked in by an admin): none
        fetches into, or replaces, a mirror another is reading or changing."""
        self.mirror.parent.mkdir(parents=True, exist_ok=True)
        with open(temporaries.lock_path(self.mirror), "a") as lock:
            deadline = time.monotonic() + self.timeout
            while not _took(lock.fileno(), operation):
                if time.monotonic() > deadline:
                    raise VcsError(f"{self.location}: its mirror {self.mirror} stayed in use")
                time.sleep(0.1)
            yield

    def update(self) -> None:
        """Create the mirror, or bring it up to date. A mirror the system no longer takes for a
        repository is made anew: it is only a copy."""
        if self.mirror in self._fetched:
            return
        with self._holding(fcntl.LOCK_EX):
            self._update()
        self._fetched.add(self.mirror)

    def _update(self) -> None:
        if not os.path.lexists(self.mirror):
            self._clone()
            return
        try:
            self._fetch()
        except VcsError:
            damage = self._damage()
            if damage is None:
                raise  # the mirror is whole: reading the repository failed
            logger.warning(
                "damaged %s mirror %s (%s): making it anew from %s",
                self.system,
                self.mirror,
                damage,
                self.location,
            )
            self._clone()

    def _clone(self) -> None:
        """Make the mirror under a temporary name, then put it in place of what is there."""
        self.mirror.parent.mkdir(parents=True, exist_ok=True)
        partial = temporaries.new_folder(self.mirror.parent, self.mirror.name)
        try:
            self._make(partial)
        except BaseException:
            shutil.rmtree(partial, ignore_errors=True)
            raise
        temporaries.put_in_place(partial, self.mirror)

    @abc.abstractmethod
    def _refs_state(self, folder: Path) -> str | None:
        """What changes whenever a tag of the repository in ``folder`` (on this machine's disk)
        is made, moved or deleted, read without running the system's command; None when that
        cannot be told."""

    def activity(self) -> str | None:
        """What tells, without reading the repository, whether its tags may have changed since
        the last run: its source's word, or its refs' state on this machine's disk; None when
        nothing does."""
        if self.repository.activity is not None:
            return self.repository.activity
        folder = local_folder(self.url, self.marks)
        return None if folder is None else self._refs_state(folder)

    def listing(self) -> list[tuple[str, str]]:
        """Every tag of the repository, brought up to date: its name and identity."""
        self.update()
        with self._holding(fcntl.LOCK_SH):
            return self._listing()

    def tags(self) -> list[Tag]:
        return self.release_tags(self.listing())

    def release_tags(self, listing: Iterable[tuple[str, str]]) -> list[Tag]:
        """The release tags of a ``listing`` of the repository's tags."""
        found = []
        for name, identity in listing:
            version = version_from_tag_name(name)
            if version is not None and fnmatch.fnmatchcase(name, self.pattern):
                found.append(self.tag(name, version, identity))
        return found

    def tag(self, name: str, version: str, identity: str) -> Tag:
        """Its tag ``name``, pointing at ``identity`` (a commit, a changeset)."""
        url = f"{self.system}+{self.location}@{name}"
        return Tag(
            project=self.name,
            name=name,
            version=version,
            location=self.location,
            identity=identity,
            key=f"{self.key}@{name}",
            project_key=self.key,
            url=f"{url}#subdirectory={self.subdirectory}" if self.subdirectory else url,
            export=functools.partial(self._export, name, identity),
            discovered=self.repository.discovered,
        )


def stamp(path: Path) -> str:
    """What changes when the file at ``path`` is replaced, grows or shrinks, or comes or goes."""
    try:
        found = path.stat()
    except FileNotFoundError:
        return f"{path.name} -"
    return f"{path.name} {found.st_ino} {found.st_size} {found.st_mtime_ns}"


def _took(descriptor: int, operation: int) -> bool:
    try:
        fcntl.flock(descriptor, operation | fcntl.LOCK_NB)
    except BlockingIOError:
        return False
    return True


def parse_pip_url(spec: str, system: str) -> tuple[str, str, str]:
    """Split pip's ``SYSTEM+URL@TAG#subdirectory=PATH`` into URL, tag and subdirectory."""
    prefix = f"{system}+"
    if not spec.startswith(prefix):
        raise VcsError(f"{public_url(spec)}: not a {system} URL (expected {prefix}URL@TAG)")
    url, _, fragment = spec[len(prefix) :].partition("#")
    subdirectory = parse_qs(fragment).get("subdirectory", [""])[0]
    try:
        parts = urlsplit(url)
    except ValueError as error:
        raise VcsError(f"{public_url(spec)}: no valid URL ({error})") from None
    if "@" not in parts.path:
        raise VcsError(f"{public_url(spec)}: no tag given (expected {prefix}URL@TAG)")
    path, tag = parts.path.rsplit("@", 1)
    return urlunsplit(parts._replace(path=path)), tag, subdirectory


class Mirroring(VersionControl):
    """A system reading the repositories its setting lists, each kept in a mirror below
    sdistmaker's own folder so that later runs fetch only what changed."""

    project: ClassVar[type[MirroredProject]]
    repositories_setting: ClassVar[Setting]

    def repositories(self, config: Config) -> list[tuple[str, str]]:
        setting = self.repositories_setting
        entries = setting.of(config)
        return [(setting.name, entry.url) for entry in entries if isinstance(entry, Repository)]

    def local_repositories(self, config: Config) -> list[tuple[str, Path]]:
        setting = self.repositories_setting
        folders = [
            (setting.name, entry.source.folder)
            for entry in setting.of(config)
            if isinstance(entry, Discovered) and entry.source.folder is not None
        ]
        return super().local_repositories(config) + folders

    def crawl(self, crawl: Crawl) -> list[Tag]:
        remembered = crawl.memory.get("repositories", {})  # checked as the state was read
        kept: dict[str, Any] = {}
        tags: list[Tag] = []
        for source in self.sources(crawl):

            def read(source: MirroredProject = source) -> list[Tag]:
                return source.release_tags(_listing(source, remembered, kept, crawl.walk))

            tags += crawl.tags_of(source, read)[0]
        crawl.memory = {"repositories": kept} if kept else {}
        return tags

    def check_memory(self, memory: object, where: str) -> dict[str, Any]:
        return check_memory(memory, where)

    def sources(self, crawl: Crawl) -> list[MirroredProject]:
        """The repositories the defaults list or name a source of, each project of a repository
        sharing its mirror (fetched once a run)."""
        fetched: set[Path] = set()
        cache, timeout = crawl.private / self.name, crawl.config.read_timeout
        projects = []
        for entry in self.repositories_setting.of(crawl.config):
            found = [entry] if isinstance(entry, Repository) else self._found(entry, crawl)
            projects += [self.project(each, cache, fetched, timeout) for each in found]
        return projects

    def _found(self, entry: Discovered, crawl: Crawl) -> list[Repository]:
        """The repositories ``entry``'s source holds that it asks for; none when the source
        cannot be read (reported: what it found before stays published)."""
        deadline = time.monotonic() + crawl.config.read_timeout
        source = entry.source
        found = crawl.read(source.location, lambda: source.find(self.marks, deadline))[0]
        wanted = [
            Repository(each.url, entry.subdirectory, entry.tags, each.address, each.activity, True)
            for each in found
            if entry.wanted(each)
        ]
        logger.debug(
            "%s: found %d repositories, reading %d", source.location, len(found), len(wanted)
        )
        return wanted

    def tag_from_url(self, url: str, workdir: Path) -> Tag:
        """The tag a pip-style URL names, its repository mirrored into ``workdir``."""
        address, name, subdirectory = parse_pip_url(url, self.name)
        repository = Repository(address, subdirectory)
        for tag in self.project(repository, workdir / self.name).tags():
            if tag.name == name:
                return tag
        missing = version_from_tag_name(name) is None
        reason = "names no PEP 440 version" if missing else "does not exist"
        raise VcsError(f"{public_url(url)}: tag {name!r} {reason}")


def _listing(
    source: MirroredProject, remembered: dict[str, Any], kept: dict[str, Any], walk: bool
) -> list[tuple[str, str]]:
    """The tags of ``source``: as the last run read them when its activity says nothing
    changed since (a run with nothing new reads no repository), else read now; what was read
    is ``kept`` for the next run, with the activity seen before reading."""
    activity = source.activity()
    last = remembered.get(source.key)
    if activity is None:
        return source.listing()
    if not walk and last and last["activity"] == activity and source.mirror.is_dir():
        listing = [(name, identity) for name, identity in last["tags"]]
        logger.debug("nothing changed in %s since the last run", source.location)
    else:
        listing = source.listing()
    kept[source.key] = {"activity": activity, "tags": [list(tag) for tag in listing]}
    return listing


def check_memory(memory: object, where: str) -> dict[str, Any]:
    """A mirroring system's crawl memory: per project, the activity its tags were read at and
    those tags; raise WrongShape naming what in it is not."""
    top = shapes.of(dict, memory, where)
    shapes.mapping(top.get("repositories", {}), f'{where}["repositories"]', _remembered)
    return top


def _remembered(value: object, where: str) -> dict[str, Any]:
    entry = shapes.of(dict, value, where)
    shapes.holds(entry, where, {"activity", "tags"}, {"activity", "tags"})
    shapes.of_str(entry["activity"], f'{where}["activity"]')
    for index, tag in enumerate(shapes.of(list, entry["tags"], f'{where}["tags"]')):
        pair = shapes.strings(tag, f'{where}["tags"][{index}]')
        if len(pair) != 2:
            raise shapes.WrongShape(f'{where}["tags"][{index}] must hold a name and an identity')
    return entry

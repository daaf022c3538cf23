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
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any, ClassVar
from urllib.parse import parse_qs, urlsplit, urlunsplit

from sdistmaker import values
from sdistmaker.errors import VcsError
from sdistmaker.models import Tag, version_from_tag_name
from sdistmaker.outdir import temporaries
from sdistmaker.urls import public_url
from sdistmaker.vcs.base import READ_TIMEOUT, Crawl, Setting, Source, VersionControl

if TYPE_CHECKING:
    from sdistmaker.config import Config

logger = logging.getLogger(__name__)


@dataclass(frozen=True)
class Repository:
    """One entry of a setting listing repositories (GIT_REPOSITORIES)."""

    url: str
    subdirectory: str = ""
    tags: str = "*"
    """A glob the tag names must match, e.g. ``"frontend-*"`` in a monorepo."""


_KEYS = {"url", "subdirectory", "tags"}


def _entry(kind: type[Repository], value: Any) -> Repository:
    if isinstance(value, str):
        value = {"url": value}
    if not isinstance(value, dict):
        raise values.Invalid(f"entries must be URLs or dicts, not {type(value).__name__}")
    values.known_keys(value, _KEYS)
    if not isinstance(value.get("url"), str) or not value["url"]:
        raise values.Invalid("every entry needs a 'url' string")
    values.url(value["url"])
    for key in ("subdirectory", "tags"):
        if not isinstance(value.get(key, ""), str):
            raise values.Invalid(f"{key!r} must be a string")
        values.string(value.get(key, ""))
    subdirectory = value.get("subdirectory", "").strip("/")
    if {".", ".."} & set(subdirectory.split("/")):
        raise values.Invalid(
            f"'subdirectory' must be a folder inside the repository, not {subdirectory!r}"
        )
    return kind(url=value["url"], subdirectory=subdirectory, tags=value.get("tags") or "*")


def _entries(kind: type[Repository], value: Any) -> tuple[Repository, ...]:
    if isinstance(value, (str, dict)) or not isinstance(value, (list, tuple)):
        raise values.Invalid(f"must be a list, not {type(value).__name__}")
    return tuple(_entry(kind, item) for item in value)


def repositories_setting(name: str, kind: type[Repository]) -> Setting:
    """The setting ``name``: a list of repositories, each a URL or a dict (``url``,
    ``subdirectory``, ``tags``), read as ``kind``."""
    return Setting(name, functools.partial(_entries, kind), ())


class MirroredProject(Source):
    """A repository, or one subdirectory of it, mirrored into ``cache``.

    Projects in one repository share its mirror; ``fetched`` (shared by a run's repositories)
    holds the mirrors already brought up to date, so each is fetched once a run.
    """

    system: ClassVar[str]
    """The system's name: the start of its pip-style URLs and of its projects' keys."""
    suffix: ClassVar[str] = ""
    """How its repositories' URLs often end (``.git``): not part of a project's name."""

    def __init__(  # noqa: PLR0913 (an entry of a list of repositories, and how to read it)
        self,
        url: str,
        cache: Path,
        subdirectory: str = "",
        tags: str = "*",
        fetched: set[Path] | None = None,
        timeout: float = READ_TIMEOUT,
    ) -> None:
        self.url = url
        """Where it is read, credentials included."""
        self.location = public_url(url)
        self.timeout = timeout
        """Seconds each command reading the repository may take."""
        self.subdirectory = subdirectory.strip("/")
        self.pattern = tags
        repository = urlsplit(self.location).path.rstrip("/").rsplit("/", 1)[-1]
        if self.suffix:
            repository = repository.removesuffix(self.suffix)
        repository = repository or "repository"
        self.name = self.subdirectory.rsplit("/", 1)[-1] if self.subdirectory else repository
        digest = hashlib.sha256(self.location.encode()).hexdigest()[:16]
        safe = re.sub(r"[^A-Za-z0-9._-]", "_", repository)
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
    def _export(self, name: str, identity: str, destination: Path, deadline: float) -> None:
        """Write tag ``name``'s tree (its subdirectory's) into ``destination``."""

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

    def tags(self) -> list[Tag]:
        self.update()
        with self._holding(fcntl.LOCK_SH):
            listing = self._listing()
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
        )


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
        return [(setting.name, entry.url) for entry in setting.of(config)]

    def crawl(self, crawl: Crawl) -> list[Tag]:
        tags: list[Tag] = []
        for source in self.sources(crawl):
            tags += crawl.tags_of(source)[0]
        return tags

    def sources(self, crawl: Crawl) -> list[MirroredProject]:
        """The repositories the defaults name, each project of a repository sharing its mirror
        (fetched once a run)."""
        fetched: set[Path] = set()
        return [
            self.project(
                entry.url,
                crawl.private / self.name,
                entry.subdirectory,
                entry.tags,
                fetched,
                crawl.config.read_timeout,
            )
            for entry in self.repositories_setting.of(crawl.config)
        ]

    def tag_from_url(self, url: str, workdir: Path) -> Tag:
        """The tag a pip-style URL names, its repository mirrored into ``workdir``."""
        address, name, subdirectory = parse_pip_url(url, self.name)
        for tag in self.project(address, workdir / self.name, subdirectory).tags():
            if tag.name == name:
                return tag
        missing = version_from_tag_name(name) is None
        reason = "names no PEP 440 version" if missing else "does not exist"
        raise VcsError(f"{public_url(url)}: tag {name!r} {reason}")

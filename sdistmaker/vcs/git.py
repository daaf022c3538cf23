"""Git: keep a mirror of each repository, list its release tags in one call, export a tag."""

from __future__ import annotations

import contextlib
import fcntl
import fnmatch
import functools
import hashlib
import logging
import os
import re
import shutil
import tempfile
import time
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import IO, TYPE_CHECKING, Any
from urllib.parse import parse_qs, urlsplit, urlunsplit

from sdistmaker import values
from sdistmaker.building import processes
from sdistmaker.errors import VcsError
from sdistmaker.models import Tag, version_from_tag_name
from sdistmaker.outdir import temporaries
from sdistmaker.vcs import register
from sdistmaker.vcs.base import (
    READ_TIMEOUT,
    Crawl,
    Hook,
    Setting,
    Source,
    VersionControl,
    extract_tree,
)
from sdistmaker.vcs.git_command import environment, git_message
from sdistmaker.vcs.urls import public_url

if TYPE_CHECKING:
    from sdistmaker.config import Config

logger = logging.getLogger(__name__)


class GitProject(Source):
    """A git repository, or one subdirectory of it, mirrored into ``cache``.

    Projects in one repository share its mirror; ``fetched`` (shared by a run's repositories)
    holds the mirrors already brought up to date, so each is fetched once a run.
    """

    def __init__(  # noqa: PLR0913 (an entry of GIT_REPOSITORIES, and how to read it)
        self,
        url: str,
        cache: Path,
        subdirectory: str = "",
        tags: str = "*",
        fetched: set[Path] | None = None,
        timeout: float = READ_TIMEOUT,
    ) -> None:
        self.location = public_url(url)
        self._environment = {**os.environ, **environment(url)}
        self.timeout = timeout
        """Seconds each git command reading the repository may take."""
        self.subdirectory = subdirectory.strip("/")
        self.pattern = tags
        repository = urlsplit(self.location).path.rstrip("/").rsplit("/", 1)[-1]
        repository = re.sub(r"\.git$", "", repository) or "repository"
        self.name = self.subdirectory.rsplit("/", 1)[-1] if self.subdirectory else repository
        digest = hashlib.sha256(self.location.encode()).hexdigest()[:16]
        self.mirror = cache / f"{re.sub(r'[^A-Za-z0-9._-]', '_', repository)}-{digest}.git"
        self._fetched = fetched if fetched is not None else set()

    @property
    def key(self) -> str:
        return f"git:{self.location}#{self.subdirectory}"

    def _git(
        self,
        *args: str,
        repository: Path | None = None,
        deadline: float | None = None,
        output: IO[bytes] | None = None,
    ) -> str:
        """Run git on the mirror (or ``repository``), named as such: were it damaged, git
        would otherwise look for a repository in the folders around it, and might find one.
        Killed at ``deadline`` (by default, the repository's timeout from now)."""
        repository = repository or self.mirror
        program = shutil.which("git")
        if program is None:
            raise VcsError(f"{self.location}: the git command is not installed")
        command = [program, f"--git-dir={repository}", *args]
        deadline = deadline or time.monotonic() + self.timeout
        try:
            done = processes.run(command, self._environment, deadline, output)
        except processes.TimedOut:
            raise VcsError(f"{self.location}: git {args[0]} timed out") from None
        if done.code:
            raise VcsError(f"{self.location}: {git_message(done.errors, done.code)}")
        return done.output.decode("utf-8", "surrogateescape").rstrip("\n")

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
        """Create the mirror, or bring it up to date; deleted and moved tags follow the remote.
        A mirror git no longer takes for a repository is made anew: it is only a copy."""
        if self.mirror in self._fetched:
            return
        with self._holding(fcntl.LOCK_EX):
            self._update()
        self._fetched.add(self.mirror)

    def _update(self) -> None:
        if not os.path.lexists(self.mirror):
            self._clone()
        else:
            try:
                self._git("fetch", "--prune", "--quiet", "origin")
            except VcsError:
                damage = self._damage()
                if damage is None:
                    raise  # the mirror is whole: reading the repository failed
                logger.warning(
                    "damaged git mirror %s (%s): making it anew from %s",
                    self.mirror,
                    damage,
                    self.location,
                )
                self._clone()

    def _damage(self) -> str | None:
        """Why git does not take the mirror for a repository; None when it does."""
        try:
            self._git("rev-parse", "--git-dir")
        except VcsError as error:
            return str(error).removeprefix(f"{self.location}: ")
        return None

    def _clone(self) -> None:
        """Make the mirror under a temporary name, then put it in place of what is there."""
        self.mirror.parent.mkdir(parents=True, exist_ok=True)
        partial = temporaries.new_folder(self.mirror.parent, self.mirror.name)
        try:
            self._git("init", "--quiet", "--bare", repository=partial)
            self._git("fetch", "--quiet", "origin", repository=partial)
        except BaseException:
            shutil.rmtree(partial, ignore_errors=True)
            raise
        temporaries.put_in_place(partial, self.mirror)

    def tags(self) -> list[Tag]:
        self.update()
        with self._holding(fcntl.LOCK_SH):
            listing = self._git(
                "for-each-ref",
                "refs/tags",
                "--format=%(refname:strip=2)%00%(objectname)%00%(*objectname)",
            )
        found = []
        for line in listing.splitlines():
            name, target, peeled = line.split("\0")
            version = version_from_tag_name(name)
            if version is None or not fnmatch.fnmatchcase(name, self.pattern):
                continue
            found.append(self.tag(name, version, peeled or target))
        return found

    def tag(self, name: str, version: str, commit: str) -> Tag:
        """Its tag ``name``, pointing at ``commit``."""
        url = f"git+{self.location}@{name}"
        return Tag(
            project=self.name,
            name=name,
            version=version,
            location=self.location,
            identity=commit,
            key=f"{self.key}@{name}",
            project_key=self.key,
            url=f"{url}#subdirectory={self.subdirectory}" if self.subdirectory else url,
            export=functools.partial(self._export, name, commit),
        )

    def _export(self, name: str, commit: str, destination: Path, deadline: float) -> None:
        # git archive (not a checkout) so export-subst attributes apply, as in a release tarball.
        paths = ["--", self.subdirectory + "/"] if self.subdirectory else []
        with tempfile.TemporaryFile() as archive, self._holding(fcntl.LOCK_SH):
            self._refuse_submodules(name, commit, paths, deadline)
            self._git("archive", "--format=tar", commit, *paths, deadline=deadline, output=archive)
            archive.seek(0)
            extract_tree(archive, destination, self.subdirectory)
        _mark_as_archive(destination, name, commit)

    def _refuse_submodules(self, name: str, commit: str, paths: list[str], deadline: float) -> None:
        """An export holds no submodule (its content is another repository's), so a tag with
        one would make an sdist without its files, for good: it fails, naming them."""
        listing = self._git("ls-tree", "-r", "-z", commit, *paths, deadline=deadline)
        entries = [line.partition("\t") for line in listing.split("\0") if line]
        submodules = [path for meta, _, path in entries if meta.split(" ")[1:2] == ["commit"]]
        if submodules:
            raise VcsError(
                f"{self.location}: tag {name} holds git submodules, which an export does "
                f"not include: {', '.join(submodules)}"
            )


_ARCHIVAL = ".git_archival.txt"
_SCM_CONFIGURATION = ("pyproject.toml", "setup.cfg", "setup.py")


def _mark_as_archive(tree: Path, name: str, commit: str) -> None:
    """Let setuptools-scm see an export as the git archive it is.

    In a checkout setuptools-scm puts every tracked file in the sdist; an export has no .git,
    so it would add none, and files that only it adds (data, docs) would silently go missing.
    In a tree with an expanded .git_archival.txt it takes every file, which after git archive
    are exactly the tracked ones.
    """
    archival = tree / _ARCHIVAL
    if archival.exists() and "$Format" not in archival.read_text(errors="replace"):
        return
    configuration = [tree / name for name in _SCM_CONFIGURATION if (tree / name).is_file()]
    texts = [path.read_text(errors="replace") for path in configuration]
    if any("setuptools_scm" in text or "setuptools-scm" in text for text in texts):
        archival.write_text(f"node: {commit}\ndescribe-name: {name}\n")


def _took(descriptor: int, operation: int) -> bool:
    try:
        fcntl.flock(descriptor, operation | fcntl.LOCK_NB)
    except BlockingIOError:
        return False
    return True


def parse_pip_url(spec: str) -> tuple[str, str, str]:
    """Split pip's ``git+URL@TAG#subdirectory=PATH`` into URL, tag and subdirectory."""
    if not spec.startswith("git+"):
        raise VcsError(f"{public_url(spec)}: not a git URL (expected git+URL@TAG)")
    url, _, fragment = spec[len("git+") :].partition("#")
    subdirectory = parse_qs(fragment).get("subdirectory", [""])[0]
    try:
        parts = urlsplit(url)
    except ValueError as error:
        raise VcsError(f"{public_url(spec)}: no valid URL ({error})") from None
    if "@" not in parts.path:
        raise VcsError(f"{public_url(spec)}: no tag given (expected git+URL@TAG)")
    path, tag = parts.path.rsplit("@", 1)
    return urlunsplit(parts._replace(path=path)), tag, subdirectory


def tag_from_url(spec: str, cache: Path) -> Tag:
    """The tag a pip-style ``git+URL@TAG`` names, its repository mirrored into ``cache``."""
    url, name, subdirectory = parse_pip_url(spec)
    repository = GitProject(url, cache, subdirectory)
    for tag in repository.tags():
        if tag.name == name:
            return tag
    reason = "names no PEP 440 version" if version_from_tag_name(name) is None else "does not exist"
    raise VcsError(f"{public_url(spec)}: tag {name!r} {reason}")


@dataclass(frozen=True)
class GitRepository:
    """One entry of GIT_REPOSITORIES."""

    url: str
    subdirectory: str = ""
    tags: str = "*"
    """A glob the tag names must match, e.g. ``"frontend-*"`` in a monorepo."""


_GIT_KEYS = {"url", "subdirectory", "tags"}


def _entry(value: Any) -> GitRepository:
    if isinstance(value, str):
        value = {"url": value}
    if not isinstance(value, dict):
        raise values.Invalid(f"entries must be URLs or dicts, not {type(value).__name__}")
    unknown = set(value) - _GIT_KEYS
    if unknown:
        raise values.Invalid(
            f"unknown key {sorted(unknown)[0]!r} (known: {', '.join(sorted(_GIT_KEYS))})"
        )
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
    return GitRepository(
        url=value["url"],
        subdirectory=subdirectory,
        tags=value.get("tags") or "*",
    )


def _entries(value: Any) -> tuple[GitRepository, ...]:
    if isinstance(value, (str, dict)) or not isinstance(value, (list, tuple)):
        raise values.Invalid(f"must be a list, not {type(value).__name__}")
    return tuple(_entry(item) for item in value)


GIT_REPOSITORIES = Setting("GIT_REPOSITORIES", _entries, ())
"""The repositories to read, each a URL or a dict (``url``, ``subdirectory``, ``tags``)."""


class Git(VersionControl):
    """Each repository GIT_REPOSITORIES names (a subdirectory of it, its tags matching a glob),
    kept in a mirror below sdistmaker's own folder so that later runs fetch only what changed."""

    name = "git"
    prefixes = ("git+",)
    tag_url = "git+URL@TAG[#subdirectory=PATH]"
    hook = Hook(
        "--git-push",
        "for a git post-receive hook (ref lines on stdin): the same for pushed tags",
    )
    settings = (GIT_REPOSITORIES,)

    def repositories(self, config: Config) -> list[tuple[str, str]]:
        return [(GIT_REPOSITORIES.name, entry.url) for entry in GIT_REPOSITORIES.of(config)]

    def crawl(self, crawl: Crawl) -> list[Tag]:
        tags: list[Tag] = []
        for source in self.sources(crawl):
            crawl.seen(source)
            tags += crawl.read(source.location, source.tags)[0]
        return tags

    def sources(self, crawl: Crawl) -> list[GitProject]:
        """The repositories the defaults name, each project of a repository sharing its mirror
        (fetched once a run)."""
        fetched: set[Path] = set()
        return [
            GitProject(
                repository.url,
                crawl.private / self.name,
                repository.subdirectory,
                repository.tags,
                fetched,
                crawl.config.read_timeout,
            )
            for repository in GIT_REPOSITORIES.of(crawl.config)
        ]

    def tag_from_url(self, url: str, workdir: Path) -> Tag:
        return tag_from_url(url, workdir / self.name)

    def touched(self, arguments: Sequence[str], lines: Iterable[str]) -> bool:
        """Whether a push, as post-receive reads it (``old new ref`` lines), moved a tag."""
        return any(
            len(fields) == 3 and fields[2].startswith("refs/tags/")
            for fields in (line.split() for line in lines)
        )


register(Git)

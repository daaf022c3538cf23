"""What every version-control system implements: how the crawl reads its repositories, how
``make_sdist`` reads one tag, how its commit hook tells whether a tag changed; and what they
share: a tag's tree extracted from an archive, links out of it refused."""

from __future__ import annotations

import abc
import os
import shutil
import tarfile
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import IO, TYPE_CHECKING, Any, ClassVar, TypeVar

from sdistmaker.building import processes
from sdistmaker.errors import SdistmakerError, VcsError
from sdistmaker.models import Tag
from sdistmaker.urls import local_folder

if TYPE_CHECKING:
    from sdistmaker.config import Config

T = TypeVar("T")

READ_TIMEOUT = 600.0
"""Seconds one command reading a repository may take by default (REPOSITORY_TIMEOUT): then it
is killed with all it started, and the repository reported."""
STALL_SECONDS = 60
"""Seconds a connection may pass without a byte where the protocol lets clients give up
sooner than the deadline (http, ssh): a server that stopped answering, not a slow one."""


def ssh_options() -> str:
    """ssh's options for reading repositories: fail rather than ask for a password, a
    passphrase or whether to trust a host key; give up a connection that stays silent."""
    return (
        f"-o BatchMode=yes -o ConnectTimeout={STALL_SECONDS} -o ServerAliveInterval=15 "
        f"-o ServerAliveCountMax={STALL_SECONDS // 15}"
    )


@dataclass(frozen=True)
class Command:
    """A system's command line tool, run for one repository: every failure is a VcsError naming
    the repository, in one line."""

    program: str
    """Its name, looked for on PATH (``git``)."""
    location: str
    """The repository, as messages name it (no credentials)."""
    environment: Mapping[str, str]
    explain: Callable[[bytes, int], str]
    """What went wrong, in one line, from what the tool wrote to its errors and its exit
    status."""

    def run(
        self,
        options: Sequence[str],
        arguments: Sequence[str],
        deadline: float,
        output: IO[bytes] | None = None,
    ) -> bytes:
        """Run the tool with ``options``, then its subcommand and ``arguments``, killed with all it
        started at ``deadline`` (``time.monotonic()``); what it wrote to its output (nothing
        when that went to ``output``)."""
        program = shutil.which(self.program)
        if program is None:
            raise VcsError(f"{self.location}: the {self.program} command is not installed")
        command = [program, *options, *arguments]
        try:
            done = processes.run(command, self.environment, deadline, output)
        except processes.TimedOut:
            raise VcsError(f"{self.location}: {self.program} {arguments[0]} timed out") from None
        if done.code:
            raise VcsError(f"{self.location}: {self.explain(done.errors, done.code)}")
        return done.output


class Source(abc.ABC):
    """One place release tags come from: an svn project, or a git repository (or a part of one)."""

    name: str
    """The project's name in the VCS (its folder, or its repository or subdirectory)."""
    location: str
    """Its public address, free of credentials, for messages."""

    @property
    @abc.abstractmethod
    def key(self) -> str:
        """Names the project across runs, as ``Tag.project_key`` of its tags does."""

    @abc.abstractmethod
    def tags(self) -> list[Tag]:
        """Every release tag, with its current identity. Tags that name no version are left out."""


Report = Callable[[str, "SdistmakerError | None"], None]
"""Told of every repository read: its location, and what went wrong (None: nothing)."""


@dataclass
class Crawl:
    """What a version-control system's crawl is given, and gives back."""

    config: Config
    private: Path
    """sdistmaker's own folder in OUTDIR, where a system keeps its mirrors."""
    memory: dict[str, Any]
    """What the system's last crawl kept (in the state), to read less; it sets it anew."""
    walk: bool
    """Read every project even where the memory says nothing changed."""
    report: Report
    seen: Callable[[Source], None]
    """Told of every project read that holds a release tag: it claims its name (it gets a page
    before any of its tags builds)."""
    untagged: list[Source] = field(default_factory=list)
    """Every project read whole that holds no release tag: it claims no name."""

    def read(self, location: str, read: Callable[[], Sequence[T]]) -> tuple[list[T], bool]:
        """What ``read`` finds at ``location``, and whether it could: a repository that cannot
        be read is reported, and the others are still read."""
        try:
            found = list(read())
        except SdistmakerError as error:
            self.report(location, error)
            return [], False
        self.report(location, None)
        return found, True

    def tags_of(
        self, source: Source, tags: Callable[[], Sequence[Tag]] | None = None
    ) -> tuple[list[Tag], bool]:
        """``source``'s release tags (as ``tags`` reads them, by default its own ``tags``),
        and whether it could be read (see ``read``); read, it claims its name by them (see
        ``claim``), unread it keeps what it had."""
        found, read = self.read(source.location, tags or source.tags)
        if read:
            self.claim(source, tagged=bool(found))
        return found, read

    def claim(self, source: Source, tagged: bool) -> None:
        """A project read whole claims its name only when it holds a release tag (``tagged``):
        a trunk-only folder or a repository with no release would shadow a public project."""
        if tagged:
            self.seen(source)
        else:
            self.untagged.append(source)


@dataclass(frozen=True)
class Setting:
    """A setting of the defaults file that a system reads (``BASE``, ``GIT_REPOSITORIES``)."""

    name: str
    check: Callable[[Any], Any]
    """Returns the value checked, or raises ``sdistmaker.values.Invalid`` saying what is wrong."""
    default: Any

    def of(self, config: Config) -> Any:
        """Its value in ``config``, checked; its default when the defaults file does not set it."""
        return config.vcs_settings.get(self.name, self.default)


@dataclass(frozen=True)
class Hook:
    """A commit hook's command-line option (``--svn-commit REPOS REV``)."""

    option: str
    help: str
    metavar: tuple[str, ...] = ()
    """The option's arguments; none: a flag, the hook reading its standard input."""


class VersionControl(abc.ABC):
    """One version-control system. Registered (``sdistmaker.vcs.register``), it is found by
    the crawl, by ``make_sdist`` from a tag's URL, and by the command line for its hook."""

    name: ClassVar[str]
    """Its short name: in the keys of its tags, and for its crawl's memory in the state."""
    prefixes: ClassVar[tuple[str, ...]] = ()
    """How the URLs ``make_sdist`` takes for it start (``git+``); none: every URL no other
    system's prefix claims (svn's, as in sdistmaker 1.4)."""
    tag_url: ClassVar[str]
    """The form of the tag URLs ``make_sdist`` takes for it, for its help."""
    hook: ClassVar[Hook | None] = None
    settings: ClassVar[tuple[Setting, ...]] = ()
    """Its settings in the defaults file."""
    marks: ClassVar[tuple[str, ...]] = ()
    """What only its repositories' own folders hold: how one on this machine's disk is found
    (builds must not read it)."""

    def local_folder(self, url: str) -> Path | None:
        """The folder on this machine holding its repository at ``url``; None for a remote one."""
        return local_folder(url, self.marks)

    def repositories(self, config: Config) -> list[tuple[str, str]]:
        """The URLs of the repositories ``config`` has it read, each with the setting naming it
        (to tell which are on this machine's disk)."""
        return []

    def local_repositories(self, config: Config) -> list[tuple[str, Path]]:
        """The folders on this machine's disk holding the repositories ``config`` has it read,
        each with the setting naming it."""
        folders = [(setting, self.local_folder(url)) for setting, url in self.repositories(config)]
        return [(setting, folder) for setting, folder in folders if folder is not None]

    @abc.abstractmethod
    def crawl(self, crawl: Crawl) -> list[Tag]:
        """Every release tag of the repositories the defaults name for this system."""

    @abc.abstractmethod
    def tag_from_url(self, url: str, workdir: Path) -> Tag:
        """The tag ``url`` names, for ``make_sdist``; ``workdir`` may hold a mirror."""

    def check_memory(self, memory: object, where: str) -> dict[str, Any]:
        """The crawl memory a state holds, as ``crawl`` keeps it; raise WrongShape naming what
        in it is not. By default: none."""
        return {}

    def touched(self, arguments: Sequence[str], lines: Iterable[str]) -> bool:
        """Whether the commit its hook reports (``arguments``, or ``lines`` on its standard
        input) touched a release tag."""
        return False


def refuse_links_out_of(tree: Path) -> None:
    """Raise VcsError for a symbolic link in the exported ``tree`` that points out of it."""
    for folder, folders, files in os.walk(tree):
        for name in [*folders, *files]:
            path = Path(folder, name)
            if path.is_symlink():
                refuse_link_out_of(tree, path, os.readlink(path))


def refuse_link_out_of(tree: Path, link: Path, target: str) -> None:
    """Raise VcsError when ``link`` in the exported ``tree`` points at ``target`` out of it.

    A backend follows links: one to ``/etc/passwd`` or ``../../somewhere`` would put a file of
    the server's into a published sdist. Links already in the tree are followed as the backend
    would follow them; an absolute target is out of the tree wherever it points.
    """
    top = os.path.realpath(tree)
    pointed = os.path.realpath(os.path.join(os.path.dirname(link), target))
    if os.path.isabs(target) or os.path.commonpath([top, pointed]) != top:
        raise VcsError(f"link {link.relative_to(tree)} points out of the tag, to {target}")


def extract_tree(archive: IO[bytes], destination: Path, subdirectory: str = "") -> None:
    """Extract from the tar ``archive`` of a tag's tree what lies below ``subdirectory``."""
    destination.mkdir(parents=True)
    prefix = subdirectory + "/" if subdirectory else ""
    with tarfile.open(fileobj=archive) as tar:
        members = []
        for member in tar.getmembers():
            if not member.name.startswith(prefix) or member.name == prefix.rstrip("/"):
                continue
            member.name = member.name[len(prefix) :]
            if member.name:
                members.append(member)
        tar.extractall(destination, members, filter=_within(destination))


def _within(destination: Path) -> Callable[[tarfile.TarInfo, str], tarfile.TarInfo | None]:
    """tarfile's "data" filter, which refuses what a release tarball never holds, with links
    out of the tree refused as svn exports refuse them: checked as each is extracted, before a
    later member could be written through one."""

    def check(member: tarfile.TarInfo, path: str) -> tarfile.TarInfo | None:
        if member.issym():
            refuse_link_out_of(destination, destination / member.name, member.linkname)
        return tarfile.data_filter(member, path)

    return check

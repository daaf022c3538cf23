"""Git: a bare mirror of each repository, its release tags listed in one call, a tag exported
with ``git archive``."""

from __future__ import annotations

import fcntl
import functools
import hashlib
import logging
import os
import tempfile
import time
from collections.abc import Iterable, Sequence
from pathlib import Path
from typing import IO, TYPE_CHECKING

from sdistmaker.errors import VcsError
from sdistmaker.vcs import register
from sdistmaker.vcs.base import (
    Command,
    Hook,
    extract_tree,
)
from sdistmaker.vcs.git_command import environment, git_message
from sdistmaker.vcs.mirrors import (
    MirroredProject,
    Mirroring,
    Repository,
    repositories_setting,
    stamp,
)

if TYPE_CHECKING:
    pass

logger = logging.getLogger(__name__)


class GitProject(MirroredProject):
    """A git repository, or one subdirectory of it, in a bare mirror."""

    system = "git"
    suffix = ".git"
    marks = ("HEAD", ".git")  # a bare repository, a work tree

    @functools.cached_property
    def _environment(self) -> dict[str, str]:
        return {**os.environ, **environment(self.url)}

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
        git = Command("git", self.location, self._environment, git_message)
        deadline = deadline or time.monotonic() + self.timeout
        written = git.run([f"--git-dir={repository or self.mirror}"], args, deadline, output)
        return written.decode("utf-8", "surrogateescape").rstrip("\n")

    def _make(self, partial: Path) -> None:
        self._git("init", "--quiet", "--bare", repository=partial)
        self._git("fetch", "--quiet", "origin", repository=partial)

    def _fetch(self) -> None:
        self._git("fetch", "--prune", "--quiet", "origin")

    def _damage(self) -> str | None:
        try:
            self._git("rev-parse", "--git-dir")
        except VcsError as error:
            return str(error).removeprefix(f"{self.location}: ")
        return None

    def _refs_state(self, folder: Path) -> str | None:
        """Git writes each ref it makes or moves under a new name and renames it into place,
        and rewrites packed-refs whole: the names and inodes of the loose tags and packed-refs'
        stat change with every tag made, moved or deleted."""
        git_dir = folder / ".git" if (folder / ".git").is_dir() else folder
        if not (git_dir / "refs").is_dir():
            return None  # a worktree's .git file, or a repository git keeps elsewhere
        stamps = [stamp(git_dir / "packed-refs"), stamp(git_dir / "reftable" / "tables.list")]
        stamps += _loose(git_dir / "refs" / "tags")
        return hashlib.sha256("\n".join(stamps).encode()).hexdigest()[:32]

    def _listing(self) -> list[tuple[str, str]]:
        listing = self._git(
            "for-each-ref",
            "refs/tags",
            "--format=%(refname:strip=2)%00%(objectname)%00%(*objectname)",
        )
        tags = [line.split("\0") for line in listing.splitlines()]
        return [(name, peeled or target) for name, target, peeled in tags]

    def _export(self, name: str, identity: str, destination: Path, deadline: float) -> float | None:
        # git archive (not a checkout) so export-subst attributes apply, as in a release tarball.
        paths = ["--", self.subdirectory + "/"] if self.subdirectory else []
        with tempfile.TemporaryFile() as archive, self._holding(fcntl.LOCK_SH):
            self._refuse_submodules(name, identity, paths, deadline)
            self._git(
                "archive", "--format=tar", identity, *paths, deadline=deadline, output=archive
            )
            archive.seek(0)
            extract_tree(archive, destination, self.subdirectory)
            # An annotated tag's own date, a lightweight one's commit's.
            made = self._git(
                "for-each-ref", "--format=%(creatordate:unix)", f"refs/tags/{name}",
                deadline=deadline,
            )  # fmt: skip
        _mark_as_archive(destination, name, identity)
        return float(made.split()[0]) if made else None

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


def _loose(folder: Path) -> list[str]:
    """Each loose ref below ``folder``: its path and inode."""
    try:
        entries = sorted(os.scandir(folder), key=lambda entry: entry.name)
    except FileNotFoundError:
        return []
    stamps = []
    for entry in entries:
        if entry.is_dir(follow_symlinks=False):
            stamps += [f"{entry.name}/{inner}" for inner in _loose(Path(entry.path))]
        else:
            stamps.append(f"{entry.name} {entry.inode()}")
    return stamps


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


class GitRepository(Repository):
    """One entry of GIT_REPOSITORIES."""


GIT_REPOSITORIES = repositories_setting("GIT_REPOSITORIES", GitRepository, "git")


class Git(Mirroring):
    """Each repository GIT_REPOSITORIES names (a subdirectory of it, its tags matching a glob),
    kept in a bare mirror."""

    name = "git"
    marks = GitProject.marks
    prefixes = ("git+",)
    tag_url = "git+URL@TAG[#subdirectory=PATH]"
    hook = Hook(
        "--git-push",
        "for a git post-receive hook (ref lines on stdin): the same for pushed tags",
    )
    settings = (GIT_REPOSITORIES,)
    project = GitProject
    repositories_setting = GIT_REPOSITORIES

    def touched(self, arguments: Sequence[str], lines: Iterable[str]) -> bool:
        """Whether a push, as post-receive reads it (``old new ref`` lines), moved a tag."""
        return any(
            len(fields) == 3 and fields[2].startswith("refs/tags/")
            for fields in (line.split() for line in lines)
        )


register(Git)

"""Mercurial: a mirror of each repository (a clone without a working copy), its global tags read
from the mirror, a tag exported with ``hg archive``."""

from __future__ import annotations

import fcntl
import functools
import os
import shutil
import tarfile
import tempfile
import time
from collections.abc import Iterable, Sequence
from pathlib import Path
from typing import IO

from sdistmaker.building import processes
from sdistmaker.errors import VcsError
from sdistmaker.urls import redact, without_credentials
from sdistmaker.vcs import register
from sdistmaker.vcs.base import Command, Hook, extract_tree, ssh_options
from sdistmaker.vcs.mirrors import (
    MirroredProject,
    Mirroring,
    Repository,
    repositories_setting,
    stamp,
)

_CONFIGURATION = (
    # Never wait for a password, a passphrase or a host key: unattended runs must fail, not hang.
    "ui.interactive=false",
    f"ui.ssh=ssh {ssh_options()}",
    # No .hg_archival.txt in an export: builds are told the tag's version instead.
    "ui.archivemeta=false",
)


class HgProject(MirroredProject):
    """A Mercurial repository, or one subdirectory of it, in a clone with no working copy."""

    system = "hg"
    marks = (".hg",)

    @functools.cached_property
    def _environment(self) -> dict[str, str]:
        # HGPLAIN: output and messages as scripts read them, whatever the user's configuration
        # (its [auth] credentials still apply).
        return {**os.environ, "HGPLAIN": "1", "HGENCODING": "utf-8", "LC_ALL": "C.UTF-8"}

    @functools.cached_property
    def _address(self) -> str:
        """The URL hg reads: credentials belong in hg's [auth] configuration, where no other
        user of the machine can read them, never on its command line."""
        address, credentials = without_credentials(self.url)
        if credentials is not None:
            raise VcsError(
                f"{self.location}: credentials in the URL are not passed to hg; give them in "
                "the [auth] section of the hg configuration of the user sdistmaker runs as"
            )
        return address

    def _hg(
        self,
        *args: str,
        repository: Path | None = None,
        deadline: float | None = None,
        output: IO[bytes] | None = None,
    ) -> str:
        """Run hg on the mirror (or ``repository``), named as such: hg would otherwise look
        for a repository in the folders around it. Killed at ``deadline`` (by default, the
        repository's timeout from now)."""
        hg = Command("hg", self.location, self._environment, _message)
        options = [f"--config={setting}" for setting in _CONFIGURATION]
        options += ["--noninteractive", f"--repository={repository or self.mirror}"]
        deadline = deadline or time.monotonic() + self.timeout
        written = hg.run(options, args, deadline, output)
        return written.decode("utf-8", "surrogateescape")

    def _make(self, partial: Path) -> None:
        partial.rmdir()  # hg clone makes its destination
        self._hg("clone", "--noupdate", "--quiet", "--", self._address, str(partial))

    def _fetch(self) -> None:
        self._hg("pull", "--quiet", "--", self._address)

    def _damage(self) -> str | None:
        try:
            self._hg("log", "--rev=tip", "--template={node}")
        except VcsError as error:
            return str(error).removeprefix(f"{self.location}: ")
        return None

    def _refs_state(self, folder: Path) -> str | None:
        """Global tags live in .hgtags, changed only by a changeset: hg's changelog grows with
        every one pushed, and shrinks with every one stripped."""
        changelog = folder / ".hg" / "store" / "00changelog.i"
        return stamp(changelog) if changelog.exists() else None

    def _listing(self) -> list[tuple[str, str]]:
        listing = self._hg("tags", "--template={tag}\\0{node}\\0{type}\\n")
        tags = [line.split("\0") for line in listing.splitlines() if line]
        # A local tag is the mirror's alone, not the repository's: never released.
        return [(name, node) for name, node, kind in tags if kind != "local"]

    def _export(self, name: str, identity: str, destination: Path, deadline: float) -> float | None:
        with tempfile.TemporaryFile() as archive:
            with self._holding(fcntl.LOCK_SH):
                command = ["archive", "--type=tar", "--prefix=.", f"--rev={identity}", "-"]
                self._hg(*command, deadline=deadline, output=archive)
                # The tagged changeset's date (seconds and offset).
                made = self._hg(
                    "log", f"--rev={identity}", "--template={date|hgdate}", deadline=deadline
                )
            archive.seek(0)
            self._refuse_subrepositories(name, archive)
            archive.seek(0)
            extract_tree(archive, destination, self.subdirectory)
        return float(made.split()[0]) if made else None

    def _refuse_subrepositories(self, name: str, archive: IO[bytes]) -> None:
        """An export holds no subrepository (its content is another repository's), so a tag
        with one in its tree would make an sdist without its files, for good: it fails, naming
        them."""
        with tarfile.open(fileobj=archive) as tar:
            listed = tar.extractfile(".hgsub") if ".hgsub" in tar.getnames() else None
            text = listed.read().decode("utf-8", "replace") if listed is not None else ""
        paths = [line.partition("=")[0].strip() for line in text.splitlines() if "=" in line]
        within = self.subdirectory + "/" if self.subdirectory else ""
        inside = [path for path in paths if f"{path}/".startswith(within)]
        if inside:
            raise VcsError(
                f"{self.location}: tag {name} holds hg subrepositories, which an export does "
                f"not include: {', '.join(inside)}"
            )


def _message(errors: bytes, code: int) -> str:
    """What went wrong, in hg's words: its "abort:" line, else its last line."""
    lines = [line.strip() for line in errors.decode("utf-8", "replace").splitlines()]
    lines = [line for line in lines if line]
    aborts = [line for line in lines if line.startswith("abort:")]
    return redact((aborts or lines or [f"hg exited with {code}"])[-1])


HG_REPOSITORIES = repositories_setting("HG_REPOSITORIES", Repository, "hg")


class Mercurial(Mirroring):
    """Each repository HG_REPOSITORIES names (a subdirectory of it, its tags matching a glob),
    kept in a clone with no working copy."""

    name = "hg"
    marks = HgProject.marks
    prefixes = ("hg+",)
    tag_url = "hg+URL@TAG[#subdirectory=PATH]"
    hook = Hook(
        "--hg-push",
        "for an hg changegroup hook (cwd: the repository): the same for pushed tags",
        ("NODE", "NODE_LAST"),
    )
    settings = (HG_REPOSITORIES,)
    project = HgProject
    repositories_setting = HG_REPOSITORIES

    def touched(self, arguments: Sequence[str], lines: Iterable[str]) -> bool:
        """Whether the changesets a push added (``$HG_NODE`` to ``$HG_NODE_LAST``, in the
        repository the hook runs in) changed .hgtags, where global tags live."""
        first, last = arguments
        program = shutil.which("hg") or "hg"
        environment = {**os.environ, "HGPLAIN": "1"}
        command = [program, "log", f"--rev={first}:{last}", "--template={join(files, '\\n')}\\n"]
        result = processes.run(command, environment, time.monotonic() + 60)
        if result.code:
            raise VcsError(f"hg log {first}:{last}: {_message(result.errors, result.code)}")
        return ".hgtags" in result.output.decode("utf-8", "replace").splitlines()


register(Mercurial)

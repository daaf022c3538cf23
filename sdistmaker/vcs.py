"""The small interface every version-control system implements: list release tags, export one."""

from __future__ import annotations

import abc
import os
from pathlib import Path

from sdistmaker.errors import VcsError
from sdistmaker.tags import Tag

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

    @abc.abstractmethod
    def export(self, tag: Tag, destination: Path, deadline: float) -> None:
        """Write the tag's tree, as of its identity, into the new folder ``destination``, by
        ``deadline`` (``time.monotonic()``: the build's, which the export counts against)."""


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

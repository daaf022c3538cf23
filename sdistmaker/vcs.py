"""The small interface every version-control system implements: list release tags, export one."""

from __future__ import annotations

import abc
import os
from pathlib import Path

from sdistmaker.errors import VcsError
from sdistmaker.tags import Tag


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
    def export(self, tag: Tag, destination: Path) -> None:
        """Write the tag's tree, as of its identity, into the new folder ``destination``."""


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

"""A folder of repositories on this machine, found by a glob (``/srv/git/**/*.git``): read on
disk, and addressed for people by a URL template, in the spirit of svn's BASE_ON_SERVER."""

from __future__ import annotations

import os
import re
import time
from pathlib import Path
from typing import Any

from sdistmaker import discovery, values
from sdistmaker.discovery.base import Discovery, Found
from sdistmaker.errors import VcsError


class Folder(Discovery):
    """``{"folder": "/srv/git/**/*.git", "url": "https://git.example.com/{path}"}``: every
    repository whose folder the glob matches; ``url`` says how people address the one found at
    ``{path}``, its path below the glob's fixed part (without it, its folder)."""

    kind = "folder"
    keys = frozenset({"url"})

    def __init__(self, pattern: str, template: str = "") -> None:
        self.pattern = pattern
        self.template = template
        parts = Path(pattern).parts
        fixed = _until_magic(parts)
        self.root = Path(*fixed)
        """The glob's fixed part: the folder searched."""
        # A folder with no glob holds its repositories at any depth.
        self.matcher = _regex("/".join(parts[len(fixed) :]) or "**")

    @classmethod
    def of(cls, value: dict[Any, Any]) -> Folder:
        pattern = values.string_at(value, "folder")
        if not os.path.isabs(pattern):
            raise values.Invalid(f"'folder' must be an absolute path or glob, not {pattern!r}")
        template = values.string_at(value, "url")
        try:
            template.format(path="team/app.git")
        except (KeyError, IndexError, ValueError):
            raise values.Invalid(
                f"'url' may name {{path}} and nothing else in braces, not {template!r}"
            ) from None
        return cls(pattern.rstrip("/"), template)

    @property
    def location(self) -> str:
        return self.pattern

    @property
    def folder(self) -> Path:
        return self.root

    def find(self, marks: tuple[str, ...], deadline: float) -> list[Found]:
        if not self.root.is_dir():
            raise VcsError(f"{self.pattern}: no folder {self.root}")
        found = []
        # A walk that stops at each repository: a glob's ** would search every repository's
        # own folders too (thousands of them in a git repository's objects).
        for folder, folders, _ in os.walk(self.root, onerror=_raise):
            if time.monotonic() > deadline:
                raise VcsError(f"{self.pattern}: finding repositories timed out")
            here = Path(folder)
            if here == self.root or not any((here / mark).exists() for mark in marks):
                folders.sort()
                continue
            folders.clear()
            path = here.relative_to(self.root).as_posix()
            if self.matcher.fullmatch(path):
                address = self.template.format(path=path) if self.template else folder
                found.append(Found(folder, address, path))
        return found


def _until_magic(parts: tuple[str, ...]) -> list[str]:
    fixed = []
    for part in parts:
        if any(character in part for character in "*?["):
            break
        fixed.append(part)
    return fixed


def _regex(glob: str) -> re.Pattern[str]:
    """What a glob below the fixed part matches, as the shell reads it with globstar: ``*`` and
    ``?`` within one folder's name, ``**`` any number of folders."""
    segments = glob.split("/")
    pattern = ""
    for segment in segments[:-1]:
        pattern += "(?:[^/]+/)*" if segment == "**" else _segment(segment) + "/"
    last = segments[-1]
    return re.compile(pattern + ("(?:[^/]+/)*[^/]+" if last == "**" else _segment(last)))


def _segment(segment: str) -> str:
    translated = ""
    for piece in re.split(r"(\*|\?|\[[^]]*\])", segment):
        if piece == "*":
            translated += "[^/]*"
        elif piece == "?":
            translated += "[^/]"
        elif piece.startswith("[") and piece.endswith("]") and len(piece) > 2:
            translated += "[" + piece[1:-1].replace("\\", "\\\\").replace("!", "^", 1) + "]"
        else:
            translated += re.escape(piece)
    return translated


def _raise(error: OSError) -> None:
    raise VcsError(f"{error.filename}: cannot be read ({error.strerror})")


discovery.register(Folder)

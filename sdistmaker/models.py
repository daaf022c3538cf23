"""What flows between the stages: a release Tag found in a VCS, and the Release built from it."""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

from packaging.version import InvalidVersion, Version

# What may stand before the version in a tag name: "project-1.2", "release_1.2", "project 1.2".
_PREFIX_END = re.compile(r"[-_/\s]")


Export = Callable[[Path, float], "float | None"]
"""Writes a tag's tree, as of its identity, into a new folder by a deadline
(``time.monotonic()``: the build's, which the export counts against); returns when the tag was
made, in seconds since the epoch (None when its system cannot tell)."""


@dataclass(frozen=True)
class Tag:
    """One release tag: where it lives, which version it claims and which content it points at.
    Its version-control system (sdistmaker.vcs) gave it its keys and address, and the means to
    export it."""

    project: str
    name: str
    version: str
    location: str
    """The tag's public address, free of credentials (an svn tag URL, a git repository's)."""
    identity: str
    """What the tag points at (an svn tag's last-changed revision, a git commit)."""
    key: str
    """Names the tag across runs, whatever it points at."""
    project_key: str
    """Names the VCS project the tag belongs to."""
    url: str
    """The tag's address as ``make_sdist`` takes it, to rebuild it by hand."""
    export: Export = field(compare=False, repr=False)
    discovered: bool = False
    """The tag comes from a repository found by discovery, not listed: one holding no Python
    project is skipped, not failed."""

    @property
    def culprit(self) -> str:
        """How a failure names the tag: project, tag name and where it lives."""
        return f"{self} ({self.url})"

    def __str__(self) -> str:
        return f"{self.project} {self.name}"


@dataclass(frozen=True)
class Release:
    """A tag built into a published sdist."""

    tag: Tag
    path: Path
    distribution: str
    route: str
    """How it was built: "build", "setuptools<58" or "legacy-python"."""
    wheel: Path | None = None
    """The wheel built from the sdist, when WHEELS asks for one and it built."""


def version_from_tag_name(name: str) -> str | None:
    """The normalised PEP 440 version a tag name stands for, or None when it is no release.

    ``1.2``, ``v1.2``, ``project-1.2`` and ``group/project-1.2`` all give ``1.2``;
    ``latest`` and ``reinout-fixed`` give None.
    """
    candidates = [name]
    candidates += [name[match.end() :] for match in _PREFIX_END.finditer(name)]
    for candidate in candidates:
        try:
            return str(Version(candidate))
        except InvalidVersion:
            continue
    return None

"""What flows between the stages: a release Tag found in a VCS, and the Release built from it."""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING

from packaging.version import InvalidVersion, Version

if TYPE_CHECKING:
    from sdistmaker.vcs import Source

# What may stand before the version in a tag name: "project-1.2", "release_1.2", "project 1.2".
_PREFIX_END = re.compile(r"[-_/\s]")


@dataclass(frozen=True)
class Tag:
    """One release tag: where it lives, which version it claims and which content it points at."""

    vcs: str
    project: str
    name: str
    version: str
    location: str
    """The tag's public address, free of credentials: the svn tag URL, or the git repository URL."""
    identity: str
    """What the tag points at: the svn tag's last-changed revision, or the git commit sha."""
    subdirectory: str = ""
    source: Source | None = field(default=None, compare=False, repr=False)

    @property
    def key(self) -> str:
        """Names the tag across runs, whatever it points at."""
        if self.vcs == "svn":
            return f"svn:{self.location}"
        return f"{self.vcs}:{self.location}#{self.subdirectory}@{self.name}"

    @property
    def project_key(self) -> str:
        """Names the VCS project the tag belongs to."""
        if self.vcs == "svn":
            return "svn:" + self.location.rsplit("/tags/", 1)[0]
        return f"{self.vcs}:{self.location}#{self.subdirectory}"

    @property
    def url(self) -> str:
        """The tag's address as ``make_sdist`` takes it, to rebuild it by hand."""
        if self.vcs == "svn":
            return self.location
        url = f"{self.vcs}+{self.location}@{self.name}"
        return f"{url}#subdirectory={self.subdirectory}" if self.subdirectory else url

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

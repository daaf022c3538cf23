"""Private names: build requirements that only this index and the find-links may provide, and
the check that a resolution takes them from nowhere else."""

from __future__ import annotations

import os
import posixpath
import re
from collections.abc import Collection, Mapping
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import unquote, urlsplit

from packaging.utils import canonicalize_name

from sdistmaker.building.installers import Pinned
from sdistmaker.errors import BuildError
from sdistmaker.index.rules import name_pattern
from sdistmaker.urls import public_url


@dataclass(frozen=True)
class PrivateNames:
    """Build requirements that only this index and the find-links may provide."""

    globs: tuple[str, ...] = ()
    """PRIVATE_NAMES: globs of normalised names."""
    names: frozenset[str] = frozenset()
    """The normalised names of the projects here: those crawled, those published."""
    index: Path | None = None
    """OUTDIR, an index installers look in first."""

    def __contains__(self, name: object) -> bool:
        if not isinstance(name, str):
            return False
        normalised = canonicalize_name(name)
        if normalised in self.names:
            return True
        return bool(self.globs) and re.match(name_pattern(self.globs), normalised) is not None


def refuse_private_from_elsewhere(
    pinned: Collection[Pinned], private: PrivateNames, installers: Mapping[str, str]
) -> None:
    """A private name may come only from this index or a find-links location (UV_FIND_LINKS,
    PIP_FIND_LINKS): anyone may publish that name on a public index."""
    sources = _sources(private, installers)
    for package in pinned:
        if package.name not in private:
            continue
        for url, _ in package.files:
            if not any(_within(url, source) for source in sources):
                raise BuildError(
                    f"build requirement {package.name} {package.version} is a private name "
                    "(PRIVATE_NAMES, or a project of this index) but would come from "
                    f"{public_url(url)}: only OUTDIR and the find-links may provide it"
                )


def _sources(private: PrivateNames, installers: Mapping[str, str]) -> list[str]:
    """Where private names may come from, as URLs: this index and the find-links."""
    sources = [private.index.as_uri()] if private.index is not None else []
    for name in ("UV_FIND_LINKS", "PIP_FIND_LINKS"):
        for location in re.split(r"[\s,]+", installers.get(name, "")):
            if "://" in location:
                sources.append(location)
            elif location:
                sources.append(Path(location).absolute().as_uri())
    return sources


def _within(url: str, source: str) -> bool:
    """Whether the file at ``url`` lies below ``source``: the folder an index or a find-links
    location is, or the folder of a find-links page."""
    file, place = urlsplit(url), urlsplit(source)
    if (file.scheme, _host(file.netloc)) != (place.scheme, _host(place.netloc)):
        return False
    folder = unquote(place.path)
    if not folder.endswith("/") and not (place.scheme == "file" and Path(folder).is_dir()):
        folder = posixpath.dirname(folder)
    # On this machine, the folders themselves, whatever links lead there.
    normal = os.path.realpath if file.scheme == "file" else posixpath.normpath
    return normal(unquote(file.path)).startswith(normal(folder).rstrip("/") + "/")


def _host(netloc: str) -> str:
    return netloc.rpartition("@")[2].lower()

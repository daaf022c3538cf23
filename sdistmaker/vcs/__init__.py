"""Version-control systems, one module each, each registering itself here (as pip's do): the
crawl reads every registered system's repositories, ``make_sdist`` picks one by how a tag's URL
starts, the defaults file takes each one's settings, the command line offers each one's commit
hook. Nothing outside this package names a system: another is one module more.
"""

from __future__ import annotations

from sdistmaker.errors import VcsError
from sdistmaker.urls import public_url
from sdistmaker.vcs.base import Crawl, Hook, Report, Setting, Source, VersionControl

__all__ = [
    "Crawl",
    "Hook",
    "Report",
    "Setting",
    "Source",
    "VersionControl",
    "for_url",
    "register",
    "settings",
    "systems",
]

_systems: list[VersionControl] = []


def register(system: type[VersionControl]) -> None:
    _systems.append(system())


def systems() -> list[VersionControl]:
    """Every registered system, in the order the crawl reads them."""
    return list(_systems)


def settings() -> list[Setting]:
    """The settings of every registered system."""
    return [setting for system in _systems for setting in system.settings]


def for_url(url: str) -> VersionControl:
    """The system a tag URL for ``make_sdist`` is of: the one whose prefix it starts with, else
    the one that takes plain URLs."""
    for system in _systems:
        if system.prefixes and url.startswith(system.prefixes):
            return system
    for system in _systems:
        if not system.prefixes:
            return system
    raise VcsError(f"{public_url(url)}: no version-control system takes this URL")


# Each registers itself; svn first, as the crawl has always read it first.
from sdistmaker.vcs import svn, git, hg  # noqa: E402, F401, I001

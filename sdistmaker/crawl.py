"""The crawl stage: every release tag in the repositories the defaults file names.

Subversion below BASE (svn.py) and each git repository (git.py). A repository that cannot be
read is reported and skipped; the others are still read. The crawl notes in the state which
projects it has seen, and what it found below BASE, so that a later crawl with nothing new below
BASE costs one call to svn instead of a walk.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import TypeVar

from sdistmaker.config import Config
from sdistmaker.errors import SdistmakerError
from sdistmaker.names import project_name
from sdistmaker.store import State
from sdistmaker.tags import Tag
from sdistmaker.urls import public_url
from sdistmaker.vcs import Source

logger = logging.getLogger("sdistmaker")

Report = Callable[[str, "SdistmakerError | None"], None]
"""Told of every repository read: its location, and what went wrong (None: nothing)."""
T = TypeVar("T")


def crawl(
    config: Config, state: State, git_cache: Path, report: Report, *, walk: bool = False
) -> list[Tag]:
    """Every release tag; ``walk`` reads every svn project even when nothing changed below BASE."""
    tags: list[Tag] = []
    if config.base:
        found, _ = _read(
            public_url(config.base), lambda: _svn_tags(config, state, report, walk), report
        )
        tags += found
    for source in git_sources(config, git_cache):
        _seen(state, source)
        tags += _read(source.location, source.tags, report)[0]
    return tags


def git_sources(config: Config, cache: Path) -> list[Source]:
    if not config.git_repositories:
        return []
    # Imported here, as svn below: a run that reads no such repository does not load them.
    from sdistmaker.git import GitRepository

    fetched: set[Path] = set()
    return [
        GitRepository(
            repository.url,
            cache,
            repository.subdirectory,
            repository.tags,
            fetched,
            config.read_timeout,
        )
        for repository in config.git_repositories
    ]


def _read(location: str, read: Callable[[], Sequence[T]], report: Report) -> tuple[list[T], bool]:
    try:
        found = list(read())
    except SdistmakerError as error:
        report(location, error)
        return [], False
    report(location, None)
    return found, True


def _seen(state: State, source: Source) -> None:
    """Note a project the crawl found, for the page it gets before any of its tags builds:
    only under a name a distribution can have (a folder named ``+`` is no project's page)."""
    name = project_name(source.name)
    if name is not None:
        state.projects[name] = source.key


def _svn_tags(config: Config, state: State, report: Report, walk: bool) -> list[Tag]:
    """Every svn tag below BASE. When nothing below BASE changed since the last crawl that read
    every project, that crawl's tags, for one call to svn instead of a walk."""
    from sdistmaker import svn

    options = svn.Options(config.read_timeout, config.svn_externals_from)
    start, revision = svn.reachable_base(config.base, config.base_on_server, options.timeout)
    if state.svn.get("read") == [start, revision] and not walk:
        projects, tags = svn.recall(state.svn, options)
        for project in projects:
            _seen(state, project)
        logger.debug("nothing changed below %s since r%s", config.base, revision)
        return tags
    projects = svn.find_projects(
        config.base, config.base_on_server, config.blacklist, config.stop_indicators, options
    )
    tags = []
    complete = True
    for project in projects:
        _seen(state, project)
        found, read = _read(project.location, project.tags, report)
        tags += found
        complete = complete and read
    state.svn = {**svn.remember(projects, tags), "read": [start, revision]} if complete else {}
    return tags

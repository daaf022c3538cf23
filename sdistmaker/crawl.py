"""The crawl stage: every release tag in the repositories the defaults file names, read by each
registered version-control system (sdistmaker.vcs). A repository that cannot be read is
reported and skipped; the others are still read. The crawl notes in the state which projects
claim their names (those with a release tag that may hold a Python project), and what each
system keeps to read less the next time (svn: what it found below BASE, so that a crawl with
nothing new there costs one call instead of a walk).
"""

from __future__ import annotations

from collections.abc import Iterable
from pathlib import Path

from sdistmaker import vcs
from sdistmaker.config import Config
from sdistmaker.dists.names import project_name
from sdistmaker.models import Tag
from sdistmaker.outdir.state import State


def crawl(
    config: Config, state: State, private: Path, report: vcs.Report, *, walk: bool = False
) -> list[Tag]:
    """Every release tag; ``walk`` reads every project even where a system's memory says
    nothing changed. ``private`` is sdistmaker's own folder, where systems keep mirrors."""
    tags: list[Tag] = []
    for system in vcs.systems():
        memory = state.memory.get(system.name, {})
        reading = vcs.Crawl(config, private, memory, walk, report, lambda s: _seen(state, s))
        tags += system.crawl(reading)
        state.memory[system.name] = reading.memory
        _withdraw(state, {source.key for source in reading.untagged})
    withdraw_skipped(state, tags)
    return tags


def _seen(state: State, source: vcs.Source) -> None:
    """Note a project that claims its name, for the page it gets before any of its tags
    builds: only under a name a distribution can have (a folder named ``+`` is no project's
    page)."""
    name = project_name(source.name)
    if name is not None:
        state.projects[name] = source.key


def withdraw_skipped(state: State, tags: Iterable[Tag]) -> None:
    """Withdraw the claims of the projects of ``tags`` that hold no Python project: every tag
    of theirs among ``tags`` is discovered and was skipped as it is now, and every other tag
    the state records of them was skipped too."""
    skipped: dict[str, bool] = {}
    for tag in tags:
        record = state.tags.get(tag.key)
        now = record is not None and (record.status, record.identity) == ("skipped", tag.identity)
        skipped[tag.project_key] = skipped.get(tag.project_key, True) and now and tag.discovered
    for record in state.tags.values():
        if record.status != "skipped" and record.project_key in skipped:
            skipped[record.project_key] = False
    _withdraw(state, {key for key, only in skipped.items() if only})


def _withdraw(state: State, keys: set[str]) -> None:
    """The projects ``keys`` name claim no name now, but those that publish: what they
    published keeps its folder and pages (nothing published is ever removed)."""
    keys = keys - set(state.owners.values())
    if keys:
        state.projects = {name: key for name, key in state.projects.items() if key not in keys}

"""The index stage: bring OUTDIR's pages up to date with the files the store holds.

Every folder of OUTDIR is a project; its pages (see pages.py) list its files with hashes computed
from the files themselves. Between runs the index remembers, in OUTDIR/.sdistmaker/index/, each
project folder's modification time and what its pages show (one small file for all projects),
and each project's file facts (a file per project). Files are only ever added to a folder, never
changed in place, and adding one changes the folder's time: a project whose folder and settings
did not change costs one stat, however many files it holds. Only changed projects are read and
rendered; the root pages only when the set of projects changed. Pages for people live apart, in
OUTDIR/+/, so installers never parse them. Every page is written to a temporary name and renamed.
"""

from __future__ import annotations

import contextlib
import json
import logging
import os
from collections.abc import Collection, Mapping, Sequence
from dataclasses import dataclass, fields
from pathlib import Path

from packaging.utils import canonicalize_name
from packaging.version import Version

from sdistmaker.distributions import (
    DistributionError,
    DistributionFile,
    is_distribution,
    read_distribution,
)
from sdistmaker.pages import Project, Renderer, TagFailure, Yanked
from sdistmaker.store import write_atomically

logger = logging.getLogger(__name__)

BROWSE = "+"
"""The folder of the pages for people; no normalised project name can be "+"."""
_FACTS = {f.name for f in fields(DistributionFile)}


@dataclass
class IndexResult:
    rendered: list[str]
    """The projects whose pages were written."""
    problems: dict[str, str]
    """Distribution file (relative to OUTDIR) -> why it is left out of the index."""


@dataclass
class _Known:
    """What the index remembers of one project between runs."""

    mtime_ns: int
    settings: str
    fingerprint: str
    latest: str
    summary: str
    row: str
    """The project's row on the front page, as HTML."""
    problems: dict[str, str]


class _Cache:
    VERSION = 2

    def __init__(self, folder: Path) -> None:
        self.projects_file = folder / "projects.json"
        self.facts_folder = folder / "files"

    def load(self) -> tuple[dict[str, _Known], dict[str, str]]:
        """Every project's record and the root pages' fingerprints; nothing when unreadable
        (it is rebuilt from the files: only time is lost)."""
        try:
            data = json.loads(self.projects_file.read_text(encoding="utf-8"))
            if data["version"] == self.VERSION:
                projects = {name: _Known(**known) for name, known in data["projects"].items()}
                return projects, dict(data["roots"])
        except (OSError, ValueError, KeyError, TypeError):
            pass
        return {}, {}

    def save(self, projects: Mapping[str, _Known], roots: Mapping[str, str]) -> None:
        self.projects_file.parent.mkdir(parents=True, exist_ok=True)
        data = {
            "version": self.VERSION,
            "roots": roots,
            "projects": {name: vars(known) for name, known in projects.items()},
        }
        # What the index knows can always be learned again from the files: no need to wait for
        # the disk.
        write_atomically(self.projects_file, json.dumps(data).encode(), durable=False)

    def facts(self, name: str) -> dict[str, DistributionFile]:
        try:
            data = json.loads((self.facts_folder / f"{name}.json").read_text(encoding="utf-8"))
        except (OSError, ValueError):
            return {}
        # Facts of another shape (another sdistmaker version) are read again from the file.
        return {
            filename: DistributionFile(**facts)
            for filename, facts in data.items()
            if isinstance(facts, dict) and set(facts) == _FACTS
        }

    def save_facts(self, name: str, facts: Mapping[str, DistributionFile]) -> None:
        self.facts_folder.mkdir(parents=True, exist_ok=True)
        data = {filename: vars(f) for filename, f in facts.items()}
        write_atomically(
            self.facts_folder / f"{name}.json", json.dumps(data).encode(), durable=False
        )

    def forget(self, name: str) -> None:
        (self.facts_folder / f"{name}.json").unlink(missing_ok=True)


def update(
    outdir: Path,
    private: Path,
    yanked: Yanked,
    templates: Path | None = None,
    failures: Mapping[str, Sequence[TagFailure]] | None = None,
    placeholders: Collection[str] = (),
    changed: Collection[str] | None = None,
) -> IndexResult:
    """Bring every page up to date with the store; ``private`` keeps what the index remembers.

    ``failures`` lists, per project, its tags that did not build, for the pages for people.
    ``placeholders`` are names of projects with no file yet that still get a page of their own,
    so that a web server answers for them instead of asking an upstream index. ``changed``
    names the only project folders that may hold new files (what a run published); None looks
    at every folder (files put there by other means, a lost index cache).
    """
    failures = failures or {}
    cache = _Cache(private / "index")
    known, roots = cache.load()
    renderer = Renderer(yanked, templates)
    (outdir / BROWSE).mkdir(exist_ok=True)
    for name in placeholders:
        (outdir / name).mkdir(exist_ok=True)
    current: dict[str, _Known] = {}
    rendered: list[str] = []
    problems: dict[str, str] = {}
    if changed is None or not known:
        folders = _project_folders(outdir)
    else:
        folders = _known_folders(outdir, known, {*changed, *placeholders})
    for name, mtime_ns in folders:
        settings = renderer.settings(name, failures.get(name, ()))
        settings += "+placeholder" if name in placeholders else ""
        record = known.get(name)
        if record and (record.mtime_ns, record.settings) == (mtime_ns, settings):
            current[name] = record
            continue
        project, unreadable = _read_project(outdir / name, cache)
        if not project.files and name not in placeholders:
            problems.update({f"{name}/{file}": why for file, why in unreadable.items()})
            continue  # retired below, with every other project that is gone
        fingerprint = renderer.fingerprint(project, settings)
        if record is None or record.fingerprint != fingerprint:
            _write_pages(outdir, renderer, project, failures.get(name, ()))
            rendered.append(name)
        row = renderer.overview(project)
        mtime_ns = (outdir / name).stat().st_mtime_ns  # after our own writes to the folder
        current[name] = _Known(
            mtime_ns, settings, fingerprint, row["latest"], row["summary"], row["row"], unreadable
        )
    for gone in set(known) - set(current):
        _retire(outdir, gone)
        cache.forget(gone)
    roots_before = dict(roots)
    _write_roots(outdir, renderer, current, roots)
    if rendered or roots != roots_before or current != known:
        cache.save(current, roots)
    for name, record in current.items():
        problems.update({f"{name}/{file}": why for file, why in record.problems.items()})
    return IndexResult(rendered, problems)


def _project_folders(outdir: Path) -> list[tuple[str, int]]:
    folders = []
    with os.scandir(outdir) as entries:
        for entry in entries:
            if entry.name.startswith(".") or entry.name == BROWSE or not entry.is_dir():
                continue
            if canonicalize_name(entry.name) != entry.name:
                logger.warning("%s is no normalised project name: not indexed", entry.path)
                continue
            folders.append((entry.name, entry.stat().st_mtime_ns))
    return sorted(folders)


def _known_folders(
    outdir: Path, known: Mapping[str, _Known], changed: Collection[str]
) -> list[tuple[str, int]]:
    """The folders the index knows, as it knows them, and the ``changed`` ones as they are."""
    folders = [(name, record.mtime_ns) for name, record in known.items() if name not in changed]
    for name in changed:
        with contextlib.suppress(FileNotFoundError):
            folders.append((name, (outdir / name).stat().st_mtime_ns))
    return sorted(folders)


def _read_project(folder: Path, cache: _Cache) -> tuple[Project, dict[str, str]]:
    """The project's files: known facts for files seen before, the file itself for new ones."""
    previous = cache.facts(folder.name)
    facts: dict[str, DistributionFile] = {}
    problems: dict[str, str] = {}
    with os.scandir(folder) as entries:
        for entry in entries:
            if not is_distribution(entry.name) or not entry.is_file():
                continue
            stat = entry.stat()
            known = previous.get(entry.name)
            if known is None or (known.mtime_ns, known.size) != (stat.st_mtime_ns, stat.st_size):
                try:
                    known = _read(Path(entry.path))
                except DistributionError as error:
                    problems[entry.name] = str(error)
                    continue
            facts[entry.name] = known
    if facts != previous:
        cache.save_facts(folder.name, facts)
    files = sorted(facts.values(), key=lambda f: (Version(f.version), f.filename))
    return Project(folder.name, tuple(files)), problems


def _read(path: Path) -> DistributionFile:
    facts, metadata = read_distribution(path)
    if metadata is not None:
        target = path.with_name(path.name + ".metadata")
        if not target.exists() or target.read_bytes() != metadata:
            write_atomically(target, metadata)
    return facts


def _write_pages(
    outdir: Path, renderer: Renderer, project: Project, failures: Sequence[TagFailure]
) -> None:
    html, data = renderer.project_pages(project)
    folder = outdir / project.name
    write_atomically(folder / "index.json", data.encode(), durable=False)
    write_atomically(folder / "index.html", html.encode(), durable=False)
    page = renderer.browse_project(project, failures)
    write_atomically(outdir / BROWSE / f"{project.name}.html", page.encode(), durable=False)
    logger.debug("rendered the pages of %s (%d files)", project.name, len(project.files))


def _write_roots(
    outdir: Path, renderer: Renderer, projects: Mapping[str, _Known], roots: dict[str, str]
) -> None:
    """The root pages when the set of projects changed; the front page for people when a
    project's latest release or summary changed too."""
    names = sorted(projects)
    root = renderer.root_fingerprint(names)
    if roots.get("root") != root or not (outdir / "index.html").exists():
        html, data = renderer.root_pages(names)
        write_atomically(outdir / "index.json", data.encode(), durable=False)
        write_atomically(outdir / "index.html", html.encode(), durable=False)
        roots["root"] = root
        logger.debug("rendered the root pages (%d projects)", len(names))
    rows = [
        {
            "name": name,
            "latest": projects[name].latest,
            "summary": projects[name].summary,
            "row": projects[name].row,
        }
        for name in names
    ]
    front = renderer.root_fingerprint([projects[name].row for name in names])
    if roots.get("front") != front or not (outdir / BROWSE / "index.html").exists():
        front_page = renderer.browse_index(rows).encode()
        write_atomically(outdir / BROWSE / "index.html", front_page, durable=False)
        roots["front"] = front


def _retire(outdir: Path, name: str) -> None:
    """Remove the pages of a project that has none any more: only pages, never a file."""
    folder = outdir / name
    for page in ("index.html", "index.json"):
        (folder / page).unlink(missing_ok=True)
    (outdir / BROWSE / f"{name}.html").unlink(missing_ok=True)
    with contextlib.suppress(OSError):  # not empty: it holds something that is not ours
        folder.rmdir()

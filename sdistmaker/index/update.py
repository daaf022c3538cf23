"""Bring the index up to date: which projects to render, and rendering them."""

from __future__ import annotations

import contextlib
import functools
import heapq
import logging
import os
import re
from collections.abc import Collection, Mapping, Sequence
from dataclasses import dataclass, field, replace
from pathlib import Path

from packaging.version import Version

from sdistmaker.dists.distributions import DistributionError, DistributionFile, read_distribution
from sdistmaker.dists.names import is_distribution, is_project_name
from sdistmaker.errors import ConfigError
from sdistmaker.index import api
from sdistmaker.index.cache import Entry, IndexCache, Overview, Record, Settings
from sdistmaker.index.pages import Project, Renderer, TagFailure, Yanked
from sdistmaker.index.rules import name_pattern
from sdistmaker.outdir import published
from sdistmaker.outdir.atomic import write_atomically
from sdistmaker.outdir.store import make_served_folder

logger = logging.getLogger(__name__)

BROWSE = "+"
"""The folder of the pages for people; no normalised project name can be "+"."""
FRONT = "index.html"
"""The front page for people, in BROWSE: every project's page links to it."""
FEED = "index.atom"
"""The feed of the index's newest releases, in BROWSE; a project's is ``<name>.atom``."""
FEED_LENGTH = 50
"""Releases a feed lists, the newest."""


@dataclass
class IndexResult:
    rendered: list[str]
    """The projects whose pages were written."""
    problems: dict[str, str]
    """Distribution file (relative to OUTDIR) -> why it is left out of the index, for the
    projects looked at."""
    examined: set[str]
    """The projects looked at; others were not (and their problems not either)."""
    projects: list[str] | None = None
    """Every project the index lists, when it looked at them; None when nothing changed."""


@dataclass(frozen=True)
class Shown:
    """What the pages show of the projects besides their files."""

    yanked: Yanked
    templates: Path | None = None
    """A folder of templates that replace the shipped ones (TEMPLATES)."""
    failures: Mapping[str, Sequence[TagFailure]] = field(default_factory=dict)
    """Per project, its tags that did not build, for the pages for people."""
    placeholders: Collection[str] = ()
    """Projects with no file yet that still get a page of their own, so that a web server
    answers for them instead of asking an upstream index."""
    unlisted: Sequence[str] = ()
    """Globs of the projects the root pages leave out: ACCESS keeps them from some readers,
    and every reader gets the same root pages."""


def update(
    outdir: Path, private: Path, shown: Shown, changed: Collection[str] | None = None
) -> IndexResult:
    """Bring the pages up to date with the store; ``private`` keeps what the index remembers.
    ``changed`` names the only project folders that may hold new files (what a run published);
    None looks at every folder (files put there by other means, a lost index cache)."""
    return _Update(outdir, private, shown).run(changed)


class _Update:
    """One bringing up to date of the index: what it looks at, writes and remembers."""

    def __init__(self, outdir: Path, private: Path, shown: Shown) -> None:
        self.outdir = outdir
        self.private = private
        self.failures = shown.failures
        # Only a project name names a folder here: YANKED, a state or a crawl of an older
        # version may name "+" (the pages for people) or "..".
        self.placeholders = {name for name in shown.placeholders if is_project_name(name)}
        self.cache = IndexCache(private)
        self.renderer = Renderer(shown.yanked, shown.templates, self.cache.folder / "compiled")
        self.settings = _settings(self.renderer, shown, self.failures, self.placeholders)
        self.unlisted = re.compile(name_pattern(shown.unlisted)) if shown.unlisted else None
        self.before = self.cache.settings()
        # A new template changes every page; a project's settings only its own.
        self.everything = self.before is None or self.before.signature != self.settings.signature
        self.resettled: set[str] = set()
        if self.before is not None and not self.everything:
            now, then = self.settings.special, self.before.special
            self.resettled = {n for n in now.keys() | then.keys() if now.get(n) != then.get(n)}
        self.overview = Overview()
        self.recent = self.cache.recent()
        # Without the newest releases remembered, only a full render lists them again.
        self.everything |= self.recent is None
        self.newest: list[tuple[tuple[str, str, str], dict[str, str]]] = []
        """The newest releases of the projects rendered in this run, for the index's feed: a
        heap of FEED_LENGTH at most (a full render does not keep every release)."""
        self.rendered: list[str] = []
        self.retired: list[str] = []
        self.problems: dict[str, str] = {}

    def run(self, changed: Collection[str] | None) -> IndexResult:
        make_served_folder(self.outdir / BROWSE)
        for name in self.placeholders:
            make_served_folder(self.outdir / name)
        if changed is not None and not (self.everything or changed or self.resettled):
            return IndexResult([], {}, set())  # nothing published, no settings changed
        examine = self._to_examine(changed)
        for name in sorted(examine):
            self._examine(name)
        self._finish()
        return IndexResult(self.rendered, self.problems, examine, self.overview.names())

    def _to_examine(self, changed: Collection[str] | None) -> set[str]:
        remembered = self.cache.overview()
        if remembered is None or self.everything:
            changed = None
        self.overview = remembered or Overview()
        if not (self.outdir / BROWSE / FRONT).exists():
            # Every project's page for people links to it: it is there before the first of them.
            self._write_front_page()
        if changed is None:
            examine = {*_project_folders(self.outdir), *self.overview.names()}
        else:
            examine = {*changed, *self.resettled}
        return {name for name in examine if is_project_name(name)}

    def _examine(self, name: str) -> None:
        """Bring one project's pages up to date, and what the index remembers of it."""
        folder = self.outdir / name
        entry = self.overview.get(name)
        unchanged = entry and not self.everything and name not in self.resettled
        if entry and unchanged and _unchanged(folder, entry):
            self._note(name, entry.problems)
            return
        record = self.cache.record(name)
        project, unreadable = _read_project(folder, record.files, self.private)
        self._note(name, unreadable)
        if not project.files and name not in self.placeholders:
            if entry is not None or (folder / "index.html").exists():
                self.overview.remove(name)
                self.retired.append(name)
            return
        fingerprint = self.renderer.fingerprint(project, self.settings.of(name))
        yanked = sorted(self.renderer.yanked.get(name, {}).items())
        documents = self.renderer.fingerprint(project, f"documents {yanked}")
        if documents == record.documents and (folder / api.PROJECT_DOCUMENT).exists():
            documents = ""  # as written: a template changed, or the failed tags
        if entry is None or fingerprint != entry.fingerprint:
            failures = self.failures.get(name, ())
            releases = _write_pages(
                self.outdir, self.private, self.renderer, (project, failures), documents
            )
            self._keep_newest(releases)
            self.rendered.append(name)
        files = {f.filename: f for f in project.files}
        if files != record.files or (documents and documents != record.documents):
            self.cache.save_record(name, Record(files, documents or record.documents))
        row = self.renderer.overview(project)["row"]
        mtime_ns = folder.stat().st_mtime_ns  # after our own writes to the folder
        self.overview.set(name, Entry(mtime_ns, fingerprint, unreadable, row))

    def _note(self, name: str, problems: Mapping[str, str]) -> None:
        self.problems.update({f"{name}/{file}": why for file, why in problems.items()})

    def _finish(self) -> None:
        """The root pages, then what the index remembers, then what no page links to now."""
        overview = self.overview
        names_changed = self.everything or overview.names_changed
        if names_changed or not (self.outdir / "index.html").exists():
            self._write_roots()
        if self.rendered or self.retired or self.everything:
            self._write_feed()
        if names_changed or overview.rows_changed:
            self._write_front_page()
        if overview.changed:
            self.cache.save_overview(overview)
        # Only now that no page links to them (a run killed before leaves them to the next).
        for name in self.retired:
            _retire(self.outdir, name)
            self.cache.forget(name)
        if self.settings != self.before:
            self.cache.save_settings(self.settings)

    def _listed(self) -> list[str]:
        """The projects the root pages list: every one but those ``unlisted`` matches."""
        names = self.overview.names()
        return names if self.unlisted is None else [n for n in names if not self.unlisted.match(n)]

    def _write_feed(self) -> None:
        """The index's feed: the newest releases it remembers of the projects not rendered
        now, and those of the ones rendered, but of the projects that went or that the root
        pages leave out."""
        gone = {*self.rendered, *self.retired}
        entries = [e for e in self.recent or [] if e["project"] not in gone]
        entries += [entry for _, entry in self.newest]
        entries.sort(key=_newness, reverse=True)
        entries = entries[:FEED_LENGTH]
        feed = self.outdir / BROWSE / FEED
        if entries == self.recent and feed.exists() and not self.everything:
            return
        # What the root pages leave out is remembered all the same: it may be listed again
        # (ACCESS changed) without being rendered again.
        shown = [e for e in entries if not (self.unlisted and self.unlisted.match(e["project"]))]
        page = self.renderer.feed("New releases", FRONT, f"{BROWSE}/{FEED}", shown)
        write_atomically(feed, page.encode(), self.private, durable=False)
        self.cache.save_recent(entries)

    def _keep_newest(self, releases: list[dict[str, str]]) -> None:
        """Keep what of a rendered project's ``releases`` (newest first) may be in the index's
        feed, beside the newest kept so far."""
        for entry in releases:
            if len(self.newest) < FEED_LENGTH:
                heapq.heappush(self.newest, (_newness(entry), entry))
            elif _newness(entry) > self.newest[0][0]:
                heapq.heapreplace(self.newest, (_newness(entry), entry))
            else:
                return  # the project's older releases are older still

    def _write_front_page(self) -> None:
        names = self._listed()
        rows = self.overview.rows(None if self.unlisted is None else set(names))
        feed = FEED if (self.outdir / BROWSE / FEED).exists() else ""
        page = self.renderer.browse_index(rows, len(names), feed)
        write_atomically(self.outdir / BROWSE / FRONT, page.encode(), self.private, durable=False)

    def _write_roots(self) -> None:
        names = self._listed()
        html, data = self.renderer.root_pages(names)
        write_atomically(self.outdir / "index.json", data.encode(), self.private, durable=False)
        write_atomically(self.outdir / "index.html", html.encode(), self.private, durable=False)
        logger.debug("rendered the root pages (%d projects)", len(names))


def _newness(entry: dict[str, str]) -> tuple[str, str, str]:
    """How a feed orders releases: by date, then (for releases made at once) by name."""
    return (entry["date"], entry["project"], entry["id"])


def projects(private: Path) -> list[str]:
    """Every project the index lists, as it remembers them in ``private``."""
    overview = IndexCache(private).overview()
    return overview.names() if overview is not None else []


def check_templates(private: Path, templates: Path) -> None:
    """Raise ConfigError, naming file and line, when a template in ``templates`` (TEMPLATES)
    does not compile or names one that is nowhere: before a run builds anything. Templates
    unchanged since the index was last rendered whole rendered then, and are not looked at
    again (a run with nothing new stays quick)."""
    try:
        renderer = Renderer({}, templates)
    except OSError as error:
        raise ConfigError(f"{error.filename}: cannot read the template: {error.strerror}") from None
    before = IndexCache(private).settings()
    if before is None or before.signature != renderer.signature:
        renderer.check(templates)


def _settings(
    renderer: Renderer,
    shown: Shown,
    failures: Mapping[str, Sequence[TagFailure]],
    placeholders: Collection[str],
) -> Settings:
    """Every project's settings, keeping only those that differ from the templates' signature
    (a few projects, however large the index); what the root pages leave out is part of it."""
    unlisted = f" unlisted:{','.join(shown.unlisted)}" if shown.unlisted else ""
    settings = Settings(renderer.signature + unlisted, {})
    for name in {*shown.yanked, *failures, *placeholders}:
        project_settings = renderer.settings(name, failures.get(name, ()))
        project_settings += "+placeholder" if name in placeholders else ""
        if project_settings != renderer.signature:
            settings.special[name] = project_settings
    return settings


def _project_folders(outdir: Path) -> list[str]:
    folders = []
    with os.scandir(outdir) as entries:
        for entry in entries:
            if entry.name.startswith(".") or entry.name == BROWSE or not entry.is_dir():
                continue
            if not is_project_name(entry.name):
                logger.warning("%s is no normalised project name: not indexed", entry.path)
                continue
            folders.append(entry.name)
    return folders


def _unchanged(folder: Path, entry: Entry) -> bool:
    try:
        return folder.stat().st_mtime_ns == entry.mtime_ns
    except FileNotFoundError:
        return False


def _read_project(
    folder: Path, previous: Mapping[str, DistributionFile], staging: Path
) -> tuple[Project, dict[str, str]]:
    """The project's files (none when its folder is gone): known facts for files seen before,
    the file itself for new ones; each published when the folder's record says (a file's own
    time moves when it is restored from a backup)."""
    facts: dict[str, DistributionFile] = {}
    problems: dict[str, str] = {}
    record = published.read(folder)
    recorded = record.published
    try:
        with os.scandir(folder) as found:
            entries = list(found)
    except FileNotFoundError:
        entries = []
    for entry in entries:
        if not is_distribution(entry.name) or not entry.is_file():
            continue
        stat = entry.stat()
        known = previous.get(entry.name)
        if known is None or (known.mtime_ns, known.size) != (stat.st_mtime_ns, stat.st_size):
            try:
                known = _read(Path(entry.path), staging)
            except DistributionError as error:
                problems[entry.name] = str(error)
                continue
        if entry.name in recorded:
            known = replace(known, upload_time=recorded[entry.name])
        facts[entry.name] = known
    files = sorted(facts.values(), key=lambda f: (Version(f.version), f.filename))
    return Project(folder.name, tuple(files), record.mirrored_from, record.provenance), problems


def _read(path: Path, staging: Path) -> DistributionFile:
    facts, metadata = read_distribution(path)
    if metadata is not None:
        target = path.with_name(path.name + ".metadata")
        if not target.exists() or target.read_bytes() != metadata:
            write_atomically(target, metadata, staging)
    return facts


def _write_pages(
    outdir: Path,
    staging: Path,
    renderer: Renderer,
    shown: tuple[Project, Sequence[TagFailure]],
    documents: str,
) -> list[dict[str, str]]:
    """Write the project's pages, its JSON API documents (unless ``documents`` is empty: they
    are as written) and its feed; return its releases as feeds list them. A page a template
    change left as it was is not written again."""
    project, failures = shown
    html, data = renderer.project_pages(project)
    folder = outdir / project.name
    # Each release's metadata read once, for the JSON API and the page for people.
    metadata = functools.cache(api.metadata_in(folder, project.files))
    if documents:
        yanked = renderer.yanked.get(project.name, {})
        _write_documents(folder, staging, yanked, project, metadata)
    _write_changed(folder / "index.json", data.encode(), staging)
    _write_changed(folder / "index.html", html.encode(), staging)
    releases = renderer.releases(project)
    feed = renderer.feed(
        f"{project.name} releases", f"{project.name}.html", f"{BROWSE}/{project.name}.atom",
        releases[:FEED_LENGTH],
    )  # fmt: skip
    _write_changed(outdir / BROWSE / f"{project.name}.atom", feed.encode(), staging)
    page = renderer.browse_project(project, failures, metadata)
    _write_changed(outdir / BROWSE / f"{project.name}.html", page.encode(), staging)
    logger.debug("rendered the pages of %s (%d files)", project.name, len(project.files))
    return releases


def _write_documents(
    folder: Path,
    staging: Path,
    yanked: Mapping[str, str],
    project: Project,
    metadata: api.Metadata,
) -> None:
    """The project's JSON API documents; those of versions it no longer has go."""
    written = api.documents(project, yanked, metadata)
    for name, data in written.items():
        _write_changed(folder / name, data, staging)
    for stale in _documents(folder) - written.keys():
        (folder / stale).unlink(missing_ok=True)


def _write_changed(path: Path, data: bytes, staging: Path) -> None:
    """Write ``data`` to ``path`` unless it holds it already: reading costs less than
    replacing, and most pages stay the same when one template changes."""
    with contextlib.suppress(FileNotFoundError):
        if path.read_bytes() == data:
            return
    write_atomically(path, data, staging, durable=False)


def _documents(folder: Path) -> set[str]:
    with contextlib.suppress(FileNotFoundError), os.scandir(folder) as entries:
        return {entry.name for entry in entries if api.is_document(entry.name)}
    return set()


def _retire(outdir: Path, name: str) -> None:
    """Remove the pages of a project that has none any more: only pages, never a file."""
    folder = outdir / name
    for page in ("index.html", "index.json", *sorted(_documents(folder))):
        (folder / page).unlink(missing_ok=True)
    (outdir / BROWSE / f"{name}.html").unlink(missing_ok=True)
    (outdir / BROWSE / f"{name}.atom").unlink(missing_ok=True)
    with contextlib.suppress(OSError):  # not empty: it holds something that is not ours
        folder.rmdir()

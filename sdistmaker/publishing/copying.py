"""Copy what changed in OUTDIR to a store, in an order that never lets a reader of the store see
a page linking to an object it does not hold yet: distribution files and their metadata first,
then the projects' pages, then the root pages and the pages for people. Nothing is ever deleted
from a store, and sdistmaker's own folder and dot files never go there.

What each store holds is recorded (``OUTDIR/.sdistmaker/published-to/``: per object, the size
and time of the file it was copied from), so that a run looks only at the projects whose pages
changed and the root pages, never lists or reads the store, and copies only what differs. The
record is saved as the copying goes on: a run killed midway leaves it true, and the next one
completes the copy.
"""

from __future__ import annotations

import hashlib
import json
import os
from collections.abc import Collection, Iterator
from pathlib import Path

from sdistmaker.dists.names import is_distribution, is_project_name
from sdistmaker.index import api
from sdistmaker.outdir.atomic import write_atomically
from sdistmaker.publishing.targets import PublishError, Target

BROWSE = "+"
ROOT_PAGES = ("index.html", "index.json")
FILES, PAGES = "public, max-age=31536000, immutable", "public, max-age=60"
"""Cache headers: a published file never changes, a page does with every release."""
_TYPES = {
    ".html": "text/html; charset=utf-8",
    ".atom": "application/atom+xml; charset=utf-8",
    ".metadata": "text/plain; charset=utf-8",
    ".whl": "application/zip",
    ".zip": "application/zip",
    ".gz": "application/gzip",
}
_SAVE_EVERY = 100
"""Objects copied between two saves of the record: a killed run copies them again."""


def publish(outdir: Path, private: Path, target: Target, projects: Collection[str] | None) -> int:
    """Copy to ``target`` what differs from what it holds of ``projects`` (their folders and
    pages for people; None: every project, as for a store never published to) and of the root
    pages. Return how many objects were copied; raise PublishError naming the object, leaving
    what was copied recorded."""
    record = _Record(private, target.url)
    if not record.whole:
        projects = None  # not known to hold the whole index yet: look at every project
    # Only a project name names a folder here: a state may name "+" or "..".
    names = sorted(_project_folders(outdir) if projects is None else projects)
    names = [name for name in names if is_project_name(name)]
    copied = 0
    try:
        for phase in (_files, _project_pages, _people_pages):
            for relative in phase(outdir, names):
                copied += _copy(outdir, target, relative, record)
            record.save()
        record.whole = True
    finally:
        record.save()
    return copied


def _copy(outdir: Path, target: Target, relative: str, record: _Record) -> int:
    path = outdir / relative
    try:
        stat = path.stat()
    except FileNotFoundError:
        return 0  # a project's page that went, or a feed not written yet
    seen = [stat.st_size, stat.st_mtime_ns]
    if record.objects.get(relative) == seen:
        return 0
    content_type, cache_control = headers(relative)
    try:
        target.put(relative, path, content_type, cache_control)
    except PublishError as error:
        raise PublishError(f"cannot publish {relative}: {error}") from None
    record.objects[relative] = seen
    record.note_copy()
    return 1


def headers(relative: str) -> tuple[str, str]:
    """The content type and cache header of the object at ``relative``."""
    name = relative.rsplit("/", 1)[-1]
    if name == "index.json":
        return "application/vnd.pypi.simple.v1+json", PAGES
    if api.is_document(name):
        return "application/json", PAGES
    suffix = os.path.splitext(name)[1]
    content_type = _TYPES.get(suffix, "application/octet-stream")
    return content_type, FILES if is_distribution(name) or suffix == ".metadata" else PAGES


def _files(outdir: Path, names: list[str]) -> Iterator[str]:
    for name in names:
        for entry in _entries(outdir / name):
            if is_distribution(entry) or (
                entry.endswith(".metadata") and is_distribution(entry.removesuffix(".metadata"))
            ):
                yield f"{name}/{entry}"


def _project_pages(outdir: Path, names: list[str]) -> Iterator[str]:
    for name in names:
        for entry in _entries(outdir / name):
            if entry in ROOT_PAGES or api.is_document(entry):
                yield f"{name}/{entry}"


def _people_pages(outdir: Path, names: list[str]) -> Iterator[str]:
    for name in names:
        yield from (f"{BROWSE}/{name}.atom", f"{BROWSE}/{name}.html")
    yield from ROOT_PAGES
    yield from (f"{BROWSE}/index.atom", f"{BROWSE}/index.html")


def _entries(folder: Path) -> list[str]:
    try:
        return sorted(e.name for e in os.scandir(folder) if not e.name.startswith("."))
    except (FileNotFoundError, NotADirectoryError):
        return []


def _project_folders(outdir: Path) -> list[str]:
    return [
        entry.name
        for entry in os.scandir(outdir)
        if is_project_name(entry.name) and entry.is_dir(follow_symlinks=False)
    ]


class _Record:
    """What one store holds: object key -> size and time of the file it was copied from."""

    def __init__(self, private: Path, url: str) -> None:
        self.private = private
        self.url = url
        name = hashlib.sha256(url.encode()).hexdigest()[:16]
        self.path = private / "published-to" / f"{name}.json"
        self.objects: dict[str, list[int]] = {}
        self.whole = False
        """Whether the store was once given the whole index: then only changes are looked at."""
        self._unsaved = 0
        try:
            data = json.loads(self.path.read_bytes())
            if data.get("url") == url and isinstance(data.get("objects"), dict):
                self.objects, self.whole = data["objects"], data.get("whole") is True
        except (OSError, ValueError, AttributeError):
            pass
        self._whole_saved = self.whole

    def note_copy(self) -> None:
        self._unsaved += 1
        if self._unsaved >= _SAVE_EVERY:
            self.save()

    def save(self) -> None:
        saved = {"url": self.url, "whole": self.whole, "objects": self.objects}
        if self._unsaved or not self.path.exists() or self.whole != self._whole_saved:
            self.path.parent.mkdir(parents=True, exist_ok=True)
            write_atomically(self.path, json.dumps(saved).encode(), self.private)
            self._unsaved, self._whole_saved = 0, self.whole

"""What the index stage remembers between runs, in OUTDIR/.sdistmaker/index/, so that a run costs
what changed and not the size of the index.

- ``settings.json``: the templates' signature and the few projects whose pages show more than
  their files (yanked releases, failed tags, placeholders): a run finds the projects whose
  settings changed without looking at the others.
- ``overview``: per project, in name order, its folder's modification time, a fingerprint of its
  pages, the files left out of them and its row on the front page. One flat file, read and
  written whole but never parsed project by project: splitting it and joining the rows costs
  little even for tens of thousands of projects.
- ``recent.json``: the newest releases of the whole index, as its feed lists them, so that a run
  writes the feed from the projects it rendered alone.
- ``projects/<name>.json``: per project, the facts of its files (name, size, hashes, metadata),
  read only when that project is looked at and written only when its files changed.

Anything unreadable counts as unknown: it is learned again from the files, and only time is
lost. For the same reason nothing here waits for the disk.
"""

from __future__ import annotations

import json
from collections.abc import Container, Mapping
from dataclasses import dataclass, field, fields
from pathlib import Path
from typing import NamedTuple

from sdistmaker.dists.distributions import DistributionFile
from sdistmaker.outdir.atomic import write_atomically

VERSION = 4
_FACTS = {f.name for f in fields(DistributionFile)}


@dataclass
class Settings:
    """What pages show besides files: the templates, and per project what differs."""

    signature: str
    special: dict[str, str] = field(default_factory=dict)

    def of(self, name: str) -> str:
        return self.special.get(name, self.signature)


class Entry(NamedTuple):
    """What the overview holds of one project."""

    mtime_ns: int
    fingerprint: str
    """Changes when anything the project's pages show changes."""
    problems: Mapping[str, str]
    """File name -> why it is left out of the project's pages."""
    row: str
    """The project's row on the front page, as HTML."""


class Overview:
    """Every indexed project's Entry, kept as the flat list of strings it is stored as (name,
    mtime, fingerprint, problems as JSON, row; again and again, in name order) and made into an
    Entry only for the projects a run looks at. Projects added or removed are merged in once,
    when the whole is next needed."""

    _WIDTH = 5
    _HEADER = f"sdistmaker index overview {VERSION}\n"

    def __init__(self, parts: list[str] | None = None) -> None:
        self._parts = parts or []
        self._position = {name: n for n, name in enumerate(self._parts[:: self._WIDTH])}
        self._added: dict[str, list[str]] = {}
        self._removed: set[str] = set()
        self.changed = False
        self.names_changed = False
        """Whether a project was added or removed since the overview was read."""
        self.rows_changed = False
        """Whether a row was changed, added or removed since the overview was read."""

    @classmethod
    def from_bytes(cls, data: bytes) -> Overview | None:
        text = data.decode("utf-8")
        if not text.startswith(cls._HEADER):
            return None
        body = text[len(cls._HEADER) :]
        parts = body.split("\0") if body else []
        return cls(parts) if len(parts) % cls._WIDTH == 0 else None

    def to_bytes(self) -> bytes:
        self._settle()
        return (self._HEADER + "\0".join(self._parts)).encode("utf-8")

    def names(self) -> list[str]:
        self._settle()
        return self._parts[:: self._WIDTH]

    def rows(self, listed: Container[str] | None = None) -> str:
        """The front page's rows, in name order (of the projects ``listed``, if given)."""
        self._settle()
        rows = self._parts[4 :: self._WIDTH]
        if listed is None:
            return "".join(rows)
        return "".join(row for name, row in zip(self.names(), rows, strict=True) if name in listed)

    def get(self, name: str) -> Entry | None:
        stored = self._added.get(name) or self._stored(name)
        if stored is None:
            return None
        _, mtime_ns, fingerprint, problems, row = stored
        return Entry(int(mtime_ns), fingerprint, json.loads(problems) if problems else {}, row)

    def set(self, name: str, entry: Entry) -> None:
        # Control characters never reach a page (pages.py), but a template may hold one.
        row = entry.row.replace("\0", "\ufffd")
        problems = json.dumps(entry.problems) if entry.problems else ""
        stored = [name, str(entry.mtime_ns), entry.fingerprint, problems, row]
        before = self._added.get(name) or self._stored(name)
        if before == stored:
            return
        self.names_changed |= before is None
        self.rows_changed |= before is None or before[4] != row
        self.changed = True
        self._removed.discard(name)
        if name in self._position:
            start = self._position[name] * self._WIDTH
            self._parts[start : start + self._WIDTH] = stored
        else:
            self._added[name] = stored

    def remove(self, name: str) -> None:
        if self._added.pop(name, None) is not None or self._stored(name) is not None:
            self._removed.add(name)
            self.changed = self.names_changed = self.rows_changed = True

    def _stored(self, name: str) -> list[str] | None:
        position = self._position.get(name)
        if position is None or name in self._removed:
            return None
        return self._parts[position * self._WIDTH : (position + 1) * self._WIDTH]

    def _settle(self) -> None:
        if not (self._added or self._removed):
            return
        width = self._WIDTH
        stored = {
            self._parts[start]: self._parts[start : start + width]
            for start in range(0, len(self._parts), width)
            if self._parts[start] not in self._removed
        }
        stored.update(self._added)
        self._parts = [part for name in sorted(stored) for part in stored[name]]
        self._position = {name: n for n, name in enumerate(self._parts[::width])}
        self._added, self._removed = {}, set()


@dataclass
class Record:
    """What the index remembers of one project's files."""

    files: dict[str, DistributionFile] = field(default_factory=dict)
    documents: str = ""
    """What its JSON API documents were last written from (a fingerprint of its files, yanks
    and provenance): they depend on no template, and are not written again while it holds."""


class IndexCache:
    def __init__(self, private: Path) -> None:
        """The cache of the index in ``private``, OUTDIR's private folder."""
        self._private = private
        self.folder = private / "index"
        self.settings_file = self.folder / "settings.json"
        self.overview_file = self.folder / "overview"
        self.records = self.folder / "projects"
        self.recent_file = self.folder / "recent.json"

    def settings(self) -> Settings | None:
        data = _read_json(self.settings_file)
        if not isinstance(data, dict) or data.get("version") != VERSION:
            return None
        try:
            return Settings(str(data["signature"]), dict(data["special"]))
        except (KeyError, TypeError, ValueError):
            return None

    def save_settings(self, settings: Settings) -> None:
        self._write(self.settings_file, json.dumps({"version": VERSION, **vars(settings)}).encode())

    def overview(self) -> Overview | None:
        try:
            return Overview.from_bytes(self.overview_file.read_bytes())
        except (OSError, ValueError):
            return None

    def save_overview(self, overview: Overview) -> None:
        self._write(self.overview_file, overview.to_bytes())

    def recent(self) -> list[dict[str, str]] | None:
        """The newest releases of the index, as its feed lists them; None when not known."""
        data = _read_json(self.recent_file)
        if not isinstance(data, dict) or data.get("version") != VERSION:
            return None
        entries = data.get("entries")
        if not isinstance(entries, list):
            return None
        for entry in entries:
            if not isinstance(entry, dict) or not all(isinstance(v, str) for v in entry.values()):
                return None
        return entries

    def save_recent(self, entries: list[dict[str, str]]) -> None:
        self._write(self.recent_file, json.dumps({"version": VERSION, "entries": entries}).encode())

    def record(self, name: str) -> Record:
        data = _read_json(self.records / f"{name}.json")
        if not isinstance(data, dict) or data.get("version") != VERSION:
            return Record()
        files = data.get("files")
        documents = data.get("documents")
        return Record(
            {  # facts of another shape are read again from the file
                filename: DistributionFile(**facts)
                for filename, facts in (files.items() if isinstance(files, dict) else ())
                if isinstance(facts, dict) and set(facts) == _FACTS
            },
            documents if isinstance(documents, str) else "",
        )

    def save_record(self, name: str, record: Record) -> None:
        files = {filename: vars(facts) for filename, facts in record.files.items()}
        data = {"version": VERSION, "files": files, "documents": record.documents}
        self._write(self.records / f"{name}.json", json.dumps(data).encode())

    def forget(self, name: str) -> None:
        (self.records / f"{name}.json").unlink(missing_ok=True)

    def _write(self, path: Path, data: bytes) -> None:
        path.parent.mkdir(parents=True, exist_ok=True)
        write_atomically(path, data, self._private, durable=False)


def _read_json(path: Path) -> object:
    try:
        return json.loads(path.read_bytes())
    except (OSError, ValueError):
        return None

"""The pages: "simple" pages for installers (PEP 503 HTML, PEP 691 JSON with PEP 700's fields)
and pages for people, rendered with Jinja2 from what the index knows of a project's files."""

from __future__ import annotations

import functools
import hashlib
import json
import os
import traceback
import uuid
from collections.abc import Mapping, Sequence
from dataclasses import astuple, dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any
from urllib.parse import quote

import jinja2
import markupsafe
from packaging.version import Version

from sdistmaker.dists.distributions import DistributionFile
from sdistmaker.errors import ConfigError, TemplateError
from sdistmaker.index.about import about, readme
from sdistmaker.text import without_controls

if TYPE_CHECKING:
    from sdistmaker.index.api import Metadata

API_VERSION = "1.1"
"""PEP 629's version of what the pages hold: 1.1 is PEP 700 (versions, size, upload-time)."""
SHIPPED = Path(__file__).parent / "templates"
TEMPLATE_SUFFIXES = (".html", ".xml")
"""Pages, and feeds."""
Yanked = Mapping[str, Mapping[str, str]]
"""Normalised project name -> normalised version -> reason."""
_NAMING_TEMPLATES = (
    jinja2.nodes.Extends,
    jinja2.nodes.Include,
    jinja2.nodes.Import,
    jinja2.nodes.FromImport,
)
"""The tags that name another template: ``extends``, ``include``, ``import`` and ``from``."""


@dataclass(frozen=True)
class Project:
    name: str
    files: tuple[DistributionFile, ...]
    mirrored_from: str = ""
    """The upstream index its files are mirrored from; empty when they are built here."""
    provenance: Mapping[str, Mapping[str, str]] = field(default_factory=dict)
    """File name -> where and how it was built (the folder's record)."""


@dataclass(frozen=True)
class TagFailure:
    """A tag of the project that did not build, as the project's page shows it."""

    tag: str
    version: str
    reason: str
    when: str


class Renderer:
    def __init__(
        self, yanked: Yanked, templates: Path | None = None, compiled: Path | None = None
    ) -> None:
        """``compiled`` keeps the templates compiled between runs (Jinja2 recompiles a template
        whose source changed)."""
        self.yanked = yanked
        self.folders = [folder for folder in (templates, SHIPPED) if folder is not None]
        self.compiled = compiled
        self.signature = self._template_signature()

    def _template_signature(self) -> str:
        """Changes when any template changes, so every page is rendered again."""
        digest = hashlib.sha256(API_VERSION.encode())
        for folder in self.folders:
            for path in _templates(folder):
                digest.update(f"{path.relative_to(folder)}\0".encode() + path.read_bytes())
        return digest.hexdigest()

    @functools.cached_property
    def environment(self) -> jinja2.Environment:
        # Made on first use: a run that renders no page does not load Jinja2's machinery.
        compiled = None
        if self.compiled is not None:
            self.compiled.mkdir(parents=True, exist_ok=True)
            compiled = jinja2.FileSystemBytecodeCache(str(self.compiled))
        return jinja2.Environment(
            loader=jinja2.FileSystemLoader(self.folders),
            bytecode_cache=compiled,
            autoescape=True,
            undefined=jinja2.StrictUndefined,
            keep_trailing_newline=True,
            finalize=_printable,
        )

    def check(self, folder: Path) -> None:
        """Raise ConfigError, naming file and line, for the first template in ``folder`` (the
        user's own) that does not compile, or that names another by a name no folder holds:
        what can be found wrong before any page is rendered."""
        for path in _templates(folder):
            name = path.relative_to(folder).as_posix()
            try:
                data = path.read_bytes()
                source = data.decode("utf-8")  # as Jinja2's loader reads it
            except OSError as error:
                raise ConfigError(f"{path}: cannot read the template: {error.strerror}") from None
            except UnicodeDecodeError as error:
                line = data[: error.start].count(b"\n") + 1
                byte = data[error.start]
                raise ConfigError(f"{path}:{line}: not UTF-8 text: byte {byte:#04x}") from None
            try:
                tree = self.environment.parse(source, name, str(path))
                self.environment.compile(tree, name, str(path))
            except jinja2.TemplateSyntaxError as error:
                raise ConfigError(f"{path}:{error.lineno}: syntax error: {error.message}") from None
            for node in tree.find_all(_NAMING_TEMPLATES):
                assert isinstance(node, _NAMING_TEMPLATES)
                named = node.template
                if not isinstance(named, jinja2.nodes.Const) or (
                    isinstance(node, jinja2.nodes.Include) and node.ignore_missing
                ):
                    continue  # a name known only while rendering, or one that may be missing
                if not self._holds(named.value):
                    raise ConfigError(
                        f"{path}:{node.lineno}: no template {named.value!r} in {folder} "
                        "or among sdistmaker's own"
                    )

    def _holds(self, name: object) -> bool:
        """Whether a folder holds the template ``name``, as Jinja2's loader looks for it."""
        try:
            pieces = jinja2.loaders.split_template_path(str(name))
        except jinja2.TemplateNotFound:  # a name that climbs out of the folders
            return False
        return any(folder.joinpath(*pieces).is_file() for folder in self.folders)

    def _render(self, name: str, /, **context: object) -> str:
        """The template ``name`` rendered. What fails in a template (a name it misses, a
        division by zero, another template missing or not UTF-8) is a TemplateError naming
        the template's file and line."""
        try:
            return self.environment.get_template(name).render(**context)
        except Exception as error:
            if isinstance(error, OSError) and not isinstance(error, jinja2.TemplateNotFound):
                raise  # writing the compiled template: the disk's
            raise TemplateError(self._failure(error, name)) from None

    def _failure(self, error: Exception, name: str) -> str:
        if isinstance(error, jinja2.TemplateSyntaxError):
            return f"{error.filename}:{error.lineno}: syntax error: {error.message}"
        # Jinja2 rewrites tracebacks so that a template's frames name its file and line.
        folders = tuple(f"{folder}{os.sep}" for folder in self.folders)
        frames = traceback.extract_tb(error.__traceback__)
        where = [f"{f.filename}:{f.lineno}" for f in frames if f.filename.startswith(folders)]
        return f"{where[-1] if where else name}: {type(error).__name__}: {error}"

    def settings(self, name: str, failures: Sequence[TagFailure]) -> str:
        """Changes when what a project's pages show changes for reasons other than its files."""
        yanked = sorted(self.yanked.get(name, {}).items())
        if not yanked and not failures:
            return self.signature  # most projects, and a run over thousands asks for each
        return self._digest([self.signature, yanked, [astuple(f) for f in failures]])

    def fingerprint(self, project: Project, settings: str) -> str:
        """Changes when anything a project's pages show changes."""
        shown = [
            (
                f.filename,
                f.version,
                f.sha256,
                f.size,
                f.upload_time,
                f.requires_python,
                f.summary,
                f.metadata_sha256,
            )
            for f in project.files
        ]
        provenance = sorted(
            (name, sorted(facts.items())) for name, facts in project.provenance.items()
        )
        return self._digest([settings, shown, provenance])

    def root_fingerprint(self, shown: object) -> str:
        return self._digest([self.signature, shown])

    @staticmethod
    def _digest(data: object) -> str:
        # repr of nested lists and tuples of strings and numbers is stable, and quicker than JSON.
        return hashlib.sha256(repr(data).encode()).hexdigest()

    def overview(self, project: Project) -> dict[str, str]:
        """What the front page shows of a project: the newest release that is not yanked, its
        summary, and that as a table row (kept, so the front page of a large index is quick)."""
        yanked = self.yanked.get(project.name, {})
        current = [f for f in project.files if f.version not in yanked] or list(project.files)
        newest = current[-1] if current else None
        shown = {
            "name": project.name,
            "latest": newest.version if newest else "",
            "summary": newest.summary if newest else "",
        }
        return shown | {"row": self._render("browse/row.html", project=shown)}

    def browse_project(
        self, project: Project, failures: Sequence[TagFailure], metadata: Metadata | None = None
    ) -> str:
        """The project's page for people: the release ``overview`` shows, described from its
        ``metadata`` (when given), and every release with its files, newest first."""
        yanked = self.yanked.get(project.name, {})
        files = [
            vars(f)
            | {
                "href": f"../{project.name}/{quote(f.filename)}",
                "yanked": yanked.get(f.version),
                "provenance": project.provenance.get(f.filename, {}),
            }
            for f in reversed(project.files)
        ]
        shown = self.overview(project) | {"mirrored_from": project.mirrored_from}
        raw = metadata(shown["latest"]) if metadata and shown["latest"] else None
        facts = about(raw)
        # Without metadata to read, what the index knows of the release's files.
        newest = [f for f in files if f["version"] == shown["latest"]]
        facts["requires_python"] = facts["requires_python"] or next(
            (f["requires_python"] for f in newest if f["requires_python"]), ""
        )
        return self._render(
            "browse/project.html",
            project=shown,
            about=facts,
            readme=readme(raw, self.compiled and self.compiled.parent / "readmes"),
            releases=_releases(files),
            files=files,
            failures=failures,
        )

    def releases(self, project: Project) -> list[dict[str, str]]:
        """The project's releases as feeds list them, newest first: when each was made (its
        tag's date, else when its first file was stored), its summary, an id of its own."""
        yanked = self.yanked.get(project.name, {})
        made: dict[str, dict[str, str]] = {}
        for file in project.files:  # in version order
            when = project.provenance.get(file.filename, {}).get("tagged", file.upload_time)
            entry = made.get(file.version)
            if entry is None:
                made[file.version] = {
                    "project": project.name,
                    "version": file.version,
                    "date": when,
                    "summary": file.summary,
                    "id": _entry_id(project.name, file),
                }
            elif when < entry["date"]:
                entry["date"] = when
        order = {version: number for number, version in enumerate(made)}
        shown = [entry for version, entry in made.items() if version not in yanked]
        return sorted(shown, key=lambda e: (e["date"], order[e["version"]]), reverse=True)

    def feed(self, title: str, page: str, feed: str, entries: Sequence[dict[str, str]]) -> str:
        """An Atom feed (RFC 4287) of ``entries`` (``releases``), beside the page for people
        ``page``; its id stays the same as long as ``feed`` (its path) does."""
        return self._render(
            "browse/feed.xml",
            title=title,
            id=f"urn:uuid:{uuid.uuid5(uuid.NAMESPACE_URL, 'sdistmaker-feed:' + feed)}",
            updated=max((e["date"] for e in entries), default="1970-01-01T00:00:00Z"),
            page=page,
            feed=feed.rsplit("/", 1)[-1],
            entries=entries,
        )

    def browse_index(self, rows: str, count: int, feed: str = "") -> str:
        """The front page: ``count`` projects, their rows (``overview``) joined, and a link to
        the feed of new releases (``feed``, when there is one)."""
        rows = markupsafe.Markup(rows)
        return self._render("browse/index.html", rows=rows, count=count, feed=feed)

    def project_pages(self, project: Project) -> tuple[str, str]:
        yanked = self.yanked.get(project.name, {})
        files = [
            {
                "filename": f.filename,
                "url": quote(f.filename),
                "sha256": f.sha256,
                "requires_python": f.requires_python,
                "metadata_sha256": f.metadata_sha256,
                "yanked": yanked.get(f.version),
            }
            for f in project.files
        ]
        html = self._render(
            "simple/project.html", name=project.name, files=files, api_version=API_VERSION
        )
        data = {
            "meta": {"api-version": API_VERSION},
            "name": project.name,
            "versions": sorted({f.version for f in project.files}, key=Version),
            "files": [
                {
                    "filename": f.filename,
                    "url": quote(f.filename),
                    "hashes": {"sha256": f.sha256},
                    **({"requires-python": f.requires_python} if f.requires_python else {}),
                    "size": f.size,
                    "upload-time": f.upload_time,
                    "yanked": _json_yanked(yanked.get(f.version)),
                    "core-metadata": {"sha256": f.metadata_sha256} if f.metadata_sha256 else False,
                    **_provenance(project, f),
                }
                for f in project.files
            ],
        }
        return html, json.dumps(data, separators=(",", ":")) + "\n"

    def root_pages(self, names: list[str]) -> tuple[str, str]:
        html = self._render("simple/root.html", projects=names, api_version=API_VERSION)
        data = {"meta": {"api-version": API_VERSION}, "projects": [{"name": n} for n in names]}
        return html, json.dumps(data, separators=(",", ":")) + "\n"


def _releases(files: Sequence[dict[str, Any]]) -> list[dict[str, Any]]:
    """The files, newest first, grouped by release, each release dated by its tag (else when its
    first file was stored) and said to be built from what its sdist was."""
    releases: dict[str, dict[str, Any]] = {}
    for file in files:
        release = releases.setdefault(
            file["version"], {"version": file["version"], "yanked": file["yanked"], "files": []}
        )
        release["files"].append(file)
    for release in releases.values():
        built = [f["provenance"] for f in release["files"] if f["provenance"]]
        release["provenance"] = next((p for p in built if "built_from" not in p), {})
        stored = min(f["upload_time"] for f in release["files"])
        release["date"] = release["provenance"].get("tagged", stored)
    return list(releases.values())


def _entry_id(project: str, file: DistributionFile) -> str:
    """A release's id in feeds: the same wherever the feed is read from, and another for
    another index's release of the same name (its first file's hash differs)."""
    return f"urn:uuid:{uuid.uuid5(uuid.NAMESPACE_URL, f'sdistmaker:{project}:{file.sha256}')}"


def _templates(folder: Path) -> list[Path]:
    found = folder.rglob("*")
    return sorted(p for p in found if p.suffix in TEMPLATE_SUFFIXES and p.is_file())


def _printable(value: object) -> object:
    """Metadata may hold any character; HTML takes no control character but tab and line ends."""
    if type(value) is str and not value.isprintable():  # most are: no control character
        return without_controls(value, keep="\t\n\r")
    return value


def _provenance(project: Project, file: DistributionFile) -> dict[str, dict[str, str]]:
    """Where and how ``file`` was built, under a key PEP 691 leaves to the index's own use."""
    facts = project.provenance.get(file.filename)
    return {"_provenance": {**facts, "built": file.upload_time}} if facts else {}


def _json_yanked(reason: str | None) -> bool | str:
    if reason is None:
        return False
    return reason or True

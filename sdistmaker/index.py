"""The index stage: render OUTDIR as a "simple" repository from the files the store holds.

Every folder is a project; its ``index.html`` (PEP 503, the default for every client) and
``index.json`` (PEP 691 with PEP 700's fields) list its files with hashes computed from the files
themselves. Pages for people live apart, in ``OUTDIR/+/``, so installers never parse them.
Pages are written to a temporary name and renamed, and only rewritten when what they show changed.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import logging
import os
import tempfile
from collections.abc import Collection, Mapping, Sequence
from dataclasses import asdict, dataclass
from pathlib import Path
from urllib.parse import quote

import jinja2
from packaging.utils import canonicalize_name
from packaging.version import Version

from sdistmaker.distributions import (
    DistributionError,
    DistributionFile,
    is_distribution,
    read_distribution,
)

logger = logging.getLogger(__name__)

API_VERSION = "1.1"
"""PEP 629's version of what the pages hold: 1.1 is PEP 700 (versions, size, upload-time)."""
JSON_CONTENT_TYPE = "application/vnd.pypi.simple.v1+json"
BROWSE = "+"
"""The folder of the pages for people; no normalised project name can be "+"."""
ROOT = ""
FRONT = BROWSE
"""The keys of the fingerprints of the root pages and of the front page for people."""

Yanked = Mapping[str, Mapping[str, str]]
"""Normalised project name -> normalised version -> reason."""


@dataclass(frozen=True)
class Project:
    name: str
    files: tuple[DistributionFile, ...]


@dataclass(frozen=True)
class TagFailure:
    """A tag of the project that did not build, as the project's page shows it."""

    tag: str
    version: str
    reason: str
    when: str


@dataclass
class IndexResult:
    projects: dict[str, Project]
    rendered: list[str]
    problems: dict[str, str]
    """Distribution file (relative to OUTDIR) -> why it is left out of the index."""


def scan(
    outdir: Path, cache: dict[str, DistributionFile], placeholders: Collection[str] = ()
) -> tuple[dict[str, Project], dict[str, str]]:
    """Every project folder and its files; unchanged files come from ``cache``, which is updated.

    A folder without files is a project only when it is one of ``placeholders``.
    """
    projects: dict[str, Project] = {}
    problems: dict[str, str] = {}
    seen: set[str] = set()
    for folder in sorted(outdir.iterdir()):
        if folder.name.startswith(".") or folder.name == BROWSE or not folder.is_dir():
            continue
        if canonicalize_name(folder.name) != folder.name:
            logger.warning("%s is no normalised project name: not indexed", folder)
            continue
        files = []
        for entry in os.scandir(folder):
            if not is_distribution(entry.name) or not entry.is_file():
                continue
            relative = f"{folder.name}/{entry.name}"
            seen.add(relative)
            cached = cache.get(relative)
            stat = entry.stat()
            if cached is None or (cached.mtime_ns, cached.size) != (stat.st_mtime_ns, stat.st_size):
                try:
                    cached = cache[relative] = _read(Path(entry.path))
                except DistributionError as error:
                    problems[relative] = str(error)
                    continue
            files.append(cached)
        if files or folder.name in placeholders:
            files.sort(key=lambda f: (Version(f.version), f.filename))
            projects[folder.name] = Project(folder.name, tuple(files))
    for gone in set(cache) - seen:
        del cache[gone]
    return projects, problems


def _read(path: Path) -> DistributionFile:
    facts, metadata = read_distribution(path)
    if metadata is not None:
        target = path.with_name(path.name + ".metadata")
        if not target.exists() or target.read_bytes() != metadata:
            write_atomically(target, metadata)
    return facts


class Renderer:
    def __init__(self, yanked: Yanked, templates: Path | None = None) -> None:
        self.yanked = yanked
        loaders: list[jinja2.BaseLoader] = [jinja2.PackageLoader("sdistmaker", "templates")]
        if templates is not None:
            loaders.insert(0, jinja2.FileSystemLoader(templates))
        self.environment = jinja2.Environment(
            loader=jinja2.ChoiceLoader(loaders),
            autoescape=True,
            undefined=jinja2.StrictUndefined,
            keep_trailing_newline=True,
        )
        self.signature = self._template_signature()

    def _template_signature(self) -> str:
        """Changes when any template changes, so every page is rendered again."""
        digest = hashlib.sha256(API_VERSION.encode())
        for name in sorted(self.environment.list_templates()):
            source, _, _ = self.environment.loader.get_source(self.environment, name)  # type: ignore[union-attr]
            digest.update(name.encode() + b"\0" + source.encode())
        return digest.hexdigest()

    def fingerprint(self, project: Project, failures: Sequence[TagFailure]) -> str:
        shown = [asdict(f) | {"mtime_ns": 0} for f in project.files]
        yanked = dict(self.yanked.get(project.name, {}))
        data = [self.signature, shown, yanked, [asdict(f) for f in failures]]
        return hashlib.sha256(json.dumps(data, sort_keys=True).encode()).hexdigest()

    def root_fingerprint(self, shown: object) -> str:
        return hashlib.sha256(json.dumps([self.signature, shown]).encode()).hexdigest()

    def overview(self, project: Project) -> dict[str, str]:
        """The front page's row: the newest release that is not yanked, and its summary."""
        yanked = self.yanked.get(project.name, {})
        current = [f for f in project.files if f.version not in yanked] or list(project.files)
        if not current:
            return {"name": project.name, "latest": "", "summary": ""}
        newest = current[-1]
        return {"name": project.name, "latest": newest.version, "summary": newest.summary}

    def browse_project(self, project: Project, failures: Sequence[TagFailure]) -> str:
        yanked = self.yanked.get(project.name, {})
        files = [
            asdict(f)
            | {"href": f"../{project.name}/{quote(f.filename)}", "yanked": yanked.get(f.version)}
            for f in reversed(project.files)
        ]
        return self.environment.get_template("browse/project.html").render(
            project=self.overview(project), files=files, failures=failures
        )

    def browse_index(self, rows: list[dict[str, str]]) -> str:
        return self.environment.get_template("browse/index.html").render(projects=rows)

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
        html = self.environment.get_template("simple/project.html").render(
            name=project.name, files=files, api_version=API_VERSION
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
                }
                for f in project.files
            ],
        }
        return html, json.dumps(data, indent=1) + "\n"

    def root_pages(self, names: list[str]) -> tuple[str, str]:
        html = self.environment.get_template("simple/root.html").render(
            projects=names, api_version=API_VERSION
        )
        data = {"meta": {"api-version": API_VERSION}, "projects": [{"name": n} for n in names]}
        return html, json.dumps(data, indent=1) + "\n"


def _json_yanked(reason: str | None) -> bool | str:
    if reason is None:
        return False
    return reason or True


def update(
    outdir: Path,
    cache: dict[str, DistributionFile],
    fingerprints: dict[str, str],
    yanked: Yanked,
    templates: Path | None = None,
    failures: Mapping[str, Sequence[TagFailure]] | None = None,
    placeholders: Collection[str] = (),
) -> IndexResult:
    """Bring every page up to date with the store; ``cache`` and ``fingerprints`` are updated.

    ``failures`` lists, per project, its tags that did not build, for the pages for people.
    ``placeholders`` are names of projects with no file yet that still get a page of their own,
    so that a web server answers for them instead of asking an upstream index.
    """
    failures = failures or {}
    for name in placeholders:
        (outdir / name).mkdir(exist_ok=True)
    projects, problems = scan(outdir, cache, placeholders)
    renderer = Renderer(yanked, templates)
    browse = outdir / BROWSE
    browse.mkdir(exist_ok=True)
    rendered = []
    for name, project in projects.items():
        fingerprint = renderer.fingerprint(project, failures.get(name, ()))
        folder = outdir / name
        if fingerprints.get(name) == fingerprint and (folder / "index.html").exists():
            continue
        html, data = renderer.project_pages(project)
        write_atomically(folder / "index.json", data.encode())
        write_atomically(folder / "index.html", html.encode())
        page = renderer.browse_project(project, failures.get(name, ()))
        write_atomically(browse / f"{name}.html", page.encode())
        fingerprints[name] = fingerprint
        rendered.append(name)
        logger.debug("rendered the pages of %s (%d files)", name, len(project.files))
    names = sorted(projects)
    root = renderer.root_fingerprint(names)
    if fingerprints.get(ROOT) != root or not (outdir / "index.html").exists():
        html, data = renderer.root_pages(names)
        write_atomically(outdir / "index.json", data.encode())
        write_atomically(outdir / "index.html", html.encode())
        fingerprints[ROOT] = root
        logger.debug("rendered the root pages (%d projects)", len(names))
    rows = [renderer.overview(projects[name]) for name in names]
    front = renderer.root_fingerprint(rows)
    if fingerprints.get(FRONT) != front or not (browse / "index.html").exists():
        write_atomically(browse / "index.html", renderer.browse_index(rows).encode())
        fingerprints[FRONT] = front
    for gone in set(fingerprints) - set(projects) - {ROOT, FRONT}:
        del fingerprints[gone]
        _retire(outdir, gone)
    return IndexResult(projects, rendered, problems)


def _retire(outdir: Path, name: str) -> None:
    """Remove the pages of a project that has none any more: only pages, never a file."""
    folder = outdir / name
    for page in ("index.html", "index.json"):
        (folder / page).unlink(missing_ok=True)
    (outdir / BROWSE / f"{name}.html").unlink(missing_ok=True)
    with contextlib.suppress(OSError):  # not empty: it holds something that is not ours
        folder.rmdir()


def write_atomically(path: Path, data: bytes) -> None:
    """Replace ``path`` in one step: readers see the old content or the new, never a part."""
    descriptor, partial = tempfile.mkstemp(prefix=f".{path.name}-", dir=path.parent)
    try:
        with os.fdopen(descriptor, "wb") as file:
            file.write(data)
        os.chmod(partial, 0o644)
        os.replace(partial, path)
    except BaseException:
        Path(partial).unlink(missing_ok=True)
        raise

"""The pages: "simple" pages for installers (PEP 503 HTML, PEP 691 JSON with PEP 700's fields)
and pages for people, rendered with Jinja2 from what the index knows of a project's files."""

from __future__ import annotations

import functools
import hashlib
import json
import re
from collections.abc import Mapping, Sequence
from dataclasses import astuple, dataclass
from pathlib import Path
from urllib.parse import quote

import jinja2
import markupsafe
from packaging.version import Version

from sdistmaker.distributions import DistributionFile

API_VERSION = "1.1"
"""PEP 629's version of what the pages hold: 1.1 is PEP 700 (versions, size, upload-time)."""
SHIPPED = Path(__file__).parent / "templates"
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
            for path in sorted(folder.rglob("*.html")):
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
        return self._digest([settings, shown])

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
        return shown | {
            "row": self.environment.get_template("browse/row.html").render(project=shown)
        }

    def browse_project(self, project: Project, failures: Sequence[TagFailure]) -> str:
        yanked = self.yanked.get(project.name, {})
        files = [
            vars(f)
            | {"href": f"../{project.name}/{quote(f.filename)}", "yanked": yanked.get(f.version)}
            for f in reversed(project.files)
        ]
        return self.environment.get_template("browse/project.html").render(
            project=self.overview(project), files=files, failures=failures
        )

    def browse_index(self, rows: str, count: int) -> str:
        """The front page: ``count`` projects, their rows (``overview``) joined."""
        return self.environment.get_template("browse/index.html").render(
            rows=markupsafe.Markup(rows), count=count
        )

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
        return html, json.dumps(data, separators=(",", ":")) + "\n"

    def root_pages(self, names: list[str]) -> tuple[str, str]:
        html = self.environment.get_template("simple/root.html").render(
            projects=names, api_version=API_VERSION
        )
        data = {"meta": {"api-version": API_VERSION}, "projects": [{"name": n} for n in names]}
        return html, json.dumps(data, separators=(",", ":")) + "\n"


# Control characters (but tab and line ends) are not allowed in HTML: metadata may hold any.
_CONTROL = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f]")


def _printable(value: object) -> object:
    if isinstance(value, str) and not isinstance(value, markupsafe.Markup):
        return _CONTROL.sub("\ufffd", value)
    return value


def _json_yanked(reason: str | None) -> bool | str:
    if reason is None:
        return False
    return reason or True

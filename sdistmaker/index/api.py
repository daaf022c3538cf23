"""PyPI's JSON API, written as static files: what Renovate, scanners and scripts read at
``/pypi/<project>/json`` and ``/pypi/<project>/<version>/json`` (Warehouse's "JSON API"), in its
shape, from the files and their metadata.

The documents live in the project's folder (``pypi.json``, ``pypi-<version>.json``), where the web
server configurations serve them at PyPI's paths beside the index; a file's URL is relative to
the document, so it holds wherever the index is reached from. What sdistmaker cannot know (download
counts, vulnerabilities, an MD5 nobody should check) is left out rather than made up.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Mapping, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any
from urllib.parse import quote

from packaging.version import Version

from sdistmaker.dists.archives import ArchiveError
from sdistmaker.dists.distributions import DistributionFile, read_metadata
from sdistmaker.outdir.published import seconds

if TYPE_CHECKING:
    from packaging.metadata import RawMetadata

    from sdistmaker.index.pages import Project

PROJECT_DOCUMENT = "pypi.json"
"""The document for ``/pypi/<project>/json``, in the project's folder."""
_SIMPLE = "simple"
"""The index beside the API: /simple/ for /pypi/."""

Metadata = Callable[[str], "RawMetadata | None"]
"""A release's metadata, by its version; None when no file of it has readable metadata."""


def is_document(filename: str) -> bool:
    return filename == PROJECT_DOCUMENT or (
        filename.startswith("pypi-") and filename.endswith(".json")
    )


def version_document(version: str) -> str:
    """The document for ``/pypi/<project>/<version>/json``, in the project's folder."""
    return f"pypi-{version}.json"


def documents(project: Project, yanked: Mapping[str, str], metadata: Metadata) -> dict[str, bytes]:
    """File name in the project's folder -> its content: the project's document and one per
    version. ``yanked`` maps the project's yanked versions to their reasons."""
    releases: dict[str, list[DistributionFile]] = {}
    for file in project.files:
        releases.setdefault(file.version, []).append(file)
    if not releases:
        return {}
    infos = {
        version: _info(project.name, version, files, metadata(version), yanked.get(version))
        for version, files in releases.items()
    }
    latest = _latest(list(releases), yanked)
    # PyPI's serial moves with every change of the project; here with every file published (a
    # yank does not move it): the time of the newest, in seconds.
    serial = int(max(seconds(f.upload_time) for f in project.files))
    whole = {
        "info": infos[latest],
        "last_serial": serial,
        "releases": {
            version: [_file(project.name, f, yanked.get(version), 2) for f in files]
            for version, files in releases.items()
        },
        "urls": [_file(project.name, f, yanked.get(latest), 2) for f in releases[latest]],
    }
    written = {PROJECT_DOCUMENT: _encoded(whole)}
    for version, files in releases.items():
        one = {
            "info": infos[version],
            "last_serial": serial,
            "urls": [_file(project.name, f, yanked.get(version), 3) for f in files],
        }
        written[version_document(version)] = _encoded(one)
    return written


def _latest(versions: Sequence[str], yanked: Mapping[str, str]) -> str:
    """The release ``info`` describes, as PyPI picks it: the newest final release that is not
    yanked, else the newest not yanked, else the newest."""
    ordered = sorted(versions, key=Version)
    current = [v for v in ordered if v not in yanked]
    final = [v for v in current if not Version(v).is_prerelease]
    return (final or current or ordered)[-1]


def _info(
    name: str,
    version: str,
    files: Sequence[DistributionFile],
    raw: RawMetadata | None,
    yanked: str | None,
) -> dict[str, Any]:
    raw = raw or {}
    requires_dist = raw.get("requires_dist") or None
    return {
        "name": raw.get("name", name),
        "version": version,
        "summary": raw.get("summary", files[0].summary),
        "description": raw.get("description", ""),
        "description_content_type": raw.get("description_content_type"),
        "author": raw.get("author", ""),
        "author_email": raw.get("author_email", ""),
        "maintainer": raw.get("maintainer", ""),
        "maintainer_email": raw.get("maintainer_email", ""),
        "license": raw.get("license", ""),
        "license_expression": raw.get("license_expression"),
        "license_files": raw.get("license_files"),
        "keywords": ",".join(raw.get("keywords", [])),
        "classifiers": raw.get("classifiers", []),
        "platform": ",".join(raw.get("platforms", [])) or None,
        "home_page": raw.get("home_page"),
        "download_url": raw.get("download_url"),
        "project_urls": raw.get("project_urls") or None,
        "requires_dist": requires_dist,
        "requires_python": raw.get("requires_python", files[0].requires_python) or None,
        "provides_extra": raw.get("provides_extra") or None,
        "dynamic": raw.get("dynamic") or None,
        "yanked": yanked is not None,
        "yanked_reason": yanked or None,
    }


def _file(project: str, file: DistributionFile, yanked: str | None, depth: int) -> dict[str, Any]:
    """A file as the API lists it; its URL relative to a document ``depth`` folders below the
    API's root (``/pypi/<project>/json``: 2)."""
    wheel = file.filename.endswith(".whl")
    return {
        "filename": file.filename,
        "url": "../" * depth + f"{_SIMPLE}/{project}/{quote(file.filename)}",
        "digests": {"sha256": file.sha256},
        "size": file.size,
        "packagetype": "bdist_wheel" if wheel else "sdist",
        "python_version": file.filename.split("-")[-3] if wheel else "source",
        "requires_python": file.requires_python or None,
        "upload_time": file.upload_time.removesuffix("Z"),
        "upload_time_iso_8601": file.upload_time,
        "yanked": yanked is not None,
        "yanked_reason": yanked or None,
        "has_sig": False,
        "comment_text": "",
    }


def _encoded(document: object) -> bytes:
    return (json.dumps(document, separators=(",", ":")) + "\n").encode()


def metadata_in(folder: Path, files: Sequence[DistributionFile]) -> Metadata:
    """Each release's metadata as its files in ``folder`` give it: the ``.metadata`` published
    beside a file (a wheel's first), else what an archive holds."""

    def read(version: str) -> RawMetadata | None:
        from packaging.metadata import parse_email  # only a project rendered loads it

        candidates = [f for f in files if f.version == version]
        candidates.sort(key=lambda f: (not f.metadata_sha256, not f.filename.endswith(".whl")))
        for file in candidates:
            try:
                if file.metadata_sha256:
                    return parse_email((folder / f"{file.filename}.metadata").read_bytes())[0]
                return read_metadata(folder / file.filename).raw
            except (OSError, ArchiveError):
                continue  # gone, or unreadable now: another file may say it
        return None

    return read

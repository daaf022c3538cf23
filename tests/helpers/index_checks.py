"""What a client of an OUTDIR, or the next run, may rely on at any moment: every page complete,
every file a page lists there, complete and with the hash and size the page gives, every tag
recorded as built stored. Shared by the tests that stress runs (killed, or started together)."""

from __future__ import annotations

import contextlib
import gzip
import hashlib
import io
import json
import os
import tarfile
from pathlib import Path
from typing import Any
from urllib.parse import unquote

import html5lib
import pypi_simple

from sdistmaker.index import api

PRIVATE = ".sdistmaker"
BROWSE = "+"
PAGES = ("index.html", "index.json")
PUBLISHED = (".tar.gz", ".whl", ".metadata")
"""What may be seen in a project folder besides its pages and its record: runs write anything
else (files being written) in their own folder."""
RECORD = ".sdistmaker-published.json"


def visible(outdir: Path) -> dict[str, tuple[int, int]]:
    """What clients can see of OUTDIR (all but sdistmaker's own folder): name -> time, size."""
    seen: dict[str, tuple[int, int]] = {}
    tops = list(os.scandir(outdir)) if outdir.is_dir() else []
    for entry in [e for top in tops if top.name != PRIVATE for e in _entries(top)]:
        with contextlib.suppress(FileNotFoundError):  # a page renamed into place meanwhile
            stat = entry.stat()
            seen[entry.path] = (stat.st_mtime_ns, stat.st_size)
    return seen


def _entries(top: os.DirEntry[str]) -> list[os.DirEntry[str]]:
    if not top.is_dir():
        return [top]
    with contextlib.suppress(FileNotFoundError), os.scandir(top.path) as entries:
        return [top, *entries]
    return [top]


def state(outdir: Path) -> dict[str, Any]:
    state_file = outdir / PRIVATE / "state.json"
    if not state_file.exists():
        return {"tags": {}, "unindexed": []}
    data: dict[str, Any] = json.loads(state_file.read_text())
    return data


def sha256(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def assert_complete_sdist(path: Path) -> None:
    # gzip checks its CRC and length at the end, tarfile that every member is there whole.
    data = gzip.decompress(path.read_bytes())
    with tarfile.open(fileobj=io.BytesIO(data)) as archive:
        assert archive.getmembers(), path


def assert_valid_html(page: Path) -> None:
    html5lib.HTMLParser(strict=True).parse(page.read_bytes())


def project_folders(outdir: Path) -> list[Path]:
    """Every project folder; none while the first run has not yet made OUTDIR."""
    folders = outdir.iterdir() if outdir.is_dir() else iter(())
    return sorted(
        p for p in folders if p.is_dir() and not p.name.startswith(".") and p.name != BROWSE
    )


def listed(outdir: Path) -> dict[str, list[str]]:
    """Per project, the files its JSON page lists."""
    return {
        folder.name: [
            f["filename"] for f in json.loads((folder / "index.json").read_text())["files"]
        ]
        for folder in project_folders(outdir)
    }


def assert_consistent(outdir: Path, hashes: dict[str, str] | None = None) -> None:
    """What a client of the index, or the next run, may meet at any moment. ``hashes`` holds
    every file pages listed at earlier checks of this OUTDIR (relative to it) -> its sha256
    then: a file may never change once listed; this check adds what pages list now."""
    hashes = {} if hashes is None else hashes
    # A tag recorded as built is never built again: its file must be there, or it is lost.
    for key, record in state(outdir)["tags"].items():
        if record["status"] == "built":
            assert (outdir / record["file"]).is_file(), f"{key} is built, but not stored"
    assert_links_resolve(outdir, files=True)
    for folder in project_folders(outdir):
        _assert_consistent_project(outdir, folder, hashes)


def assert_links_resolve(outdir: Path, files: bool = False) -> None:
    """Every page a root page or a page for people links to is there (pages are written after
    the pages they link to, and removed before); with ``files``, every file they link to too."""
    if (outdir / "index.html").exists():
        assert_valid_html(outdir / "index.html")
        names = pypi_simple.IndexPage.from_html((outdir / "index.html").read_text()).projects
        data = json.loads((outdir / "index.json").read_text())
        for name in {*names, *(project["name"] for project in data["projects"])}:
            for kind in PAGES:
                assert (outdir / name / kind).is_file(), f"the root lists {name}, without {kind}"
    for page in sorted((outdir / BROWSE).glob("*.html")) if (outdir / BROWSE).is_dir() else []:
        assert_valid_html(page)
        for link in html5lib.parse(page.read_bytes(), namespaceHTMLElements=False).iter("a"):
            target = (page.parent / unquote(link.get("href", ""))).resolve()
            if files or target.suffix == ".html":
                assert target.is_file(), f"{page.name} links to {target}, which is not there"


def _assert_consistent_entry(outdir: Path, entry: Path, hashes: dict[str, str]) -> None:
    """What may be in a project's folder, each whole."""
    document = api.is_document(entry.name)
    assert entry.name in (*PAGES, RECORD) or entry.name.endswith(PUBLISHED) or document, entry
    if entry.name.endswith(".tar.gz"):
        assert_complete_sdist(entry)
    if entry.name == RECORD:  # whole, and naming who publishes
        assert json.loads(entry.read_text())["owner"], entry
    if document:
        _assert_api_document(outdir, entry, hashes)


def _assert_api_document(outdir: Path, path: Path, hashes: dict[str, str]) -> None:
    """A document of PyPI's JSON API: every file it lists is there, as listed."""
    data = json.loads(path.read_text())
    for files in [*data.get("releases", {}).values(), data["urls"]]:
        for listed in files:
            file = path.parent / unquote(listed["url"].rsplit("/", 1)[1])
            _assert_listed_file(outdir, hashes, file, listed["digests"]["sha256"], listed["size"])


def _assert_consistent_project(outdir: Path, folder: Path, hashes: dict[str, str]) -> None:
    for entry in folder.iterdir():
        _assert_consistent_entry(outdir, entry, hashes)
    if (folder / "index.json").exists():
        data = json.loads((folder / "index.json").read_text())
        assert data["name"] == folder.name
        for file in data["files"]:
            path = folder / unquote(file["url"])
            _assert_listed_file(outdir, hashes, path, file["hashes"]["sha256"], file["size"])
            if file["core-metadata"]:
                metadata = path.with_name(path.name + ".metadata")
                _assert_listed_file(outdir, hashes, metadata, file["core-metadata"]["sha256"])
    if (folder / "index.html").exists():
        assert_valid_html(folder / "index.html")
        base = f"https://index.invalid/{folder.name}/"
        page = pypi_simple.ProjectPage.from_html(
            folder.name, (folder / "index.html").read_text(), base
        )
        for package in page.packages:
            path = folder / unquote(package.url.removeprefix(base))
            _assert_listed_file(outdir, hashes, path, package.digests["sha256"])
            if package.has_metadata and package.metadata_digests is not None:
                metadata = path.with_name(path.name + ".metadata")
                _assert_listed_file(outdir, hashes, metadata, package.metadata_digests["sha256"])


def _assert_listed_file(
    outdir: Path, hashes: dict[str, str], path: Path, sha: str, size: int | None = None
) -> None:
    """A file a page lists: there, complete, as the page says, and as pages said before."""
    assert path.is_file(), f"a page lists {path}, which is not there"
    relative = str(path.relative_to(outdir))
    assert sha256(path) == sha, f"{relative} is not what its page says"
    if size is not None:
        assert path.stat().st_size == size, relative
    assert hashes.setdefault(relative, sha) == sha, f"{relative} changed after publishing"
    if path.name.endswith(".tar.gz"):
        assert_complete_sdist(path)

"""PyPI's JSON API as the index writes it, checked against the files and their metadata."""

from __future__ import annotations

import calendar
import hashlib
import json
import shutil
import time
from pathlib import Path
from typing import Any
from urllib.parse import urljoin

from helpers.projects import write_defaults
from sdistmaker.cli import sdists_from_tags
from sdistmaker.index.pages import SHIPPED

HOST = "https://pypi.example.com"


def document(index: Path, project: str, version: str = "") -> Any:
    name = f"pypi-{version}.json" if version else "pypi.json"
    return json.loads((index / project / name).read_bytes())


def served_at(project: str, version: str = "") -> str:
    """Where the web server configurations serve a document: PyPI's paths, beside /simple/."""
    return f"{HOST}/pypi/{project}/{version + '/' if version else ''}json"


def check_file(index: Path, project: str, entry: dict[str, Any], at: str) -> None:
    """A file entry says what the file is, and its URL, read from where the document is
    served, leads to the file in the index."""
    path = index / project / entry["filename"]
    assert urljoin(at, entry["url"]) == f"{HOST}/simple/{project}/{entry['filename']}"
    assert entry["digests"] == {"sha256": hashlib.sha256(path.read_bytes()).hexdigest()}
    assert entry["size"] == path.stat().st_size
    assert entry["packagetype"] == "sdist"
    assert entry["python_version"] == "source"
    published = json.loads((index / project / ".sdistmaker-published.json").read_text())
    assert entry["upload_time_iso_8601"] == published["published"][entry["filename"]]
    assert entry["upload_time"] + "Z" == entry["upload_time_iso_8601"]


def test_a_project_document_has_every_release_and_the_latest_described(index: Path) -> None:
    whole = document(index, "acme-lib")
    assert sorted(whole) == ["info", "last_serial", "releases", "urls"]
    newest = max(f["upload_time_iso_8601"] for fs in whole["releases"].values() for f in fs)
    assert whole["last_serial"] == calendar.timegm(time.strptime(newest, "%Y-%m-%dT%H:%M:%SZ"))
    assert list(whole["releases"]) == ["1.0", "1.1", "2.0"]
    for files in whole["releases"].values():
        for entry in files:
            check_file(index, "acme-lib", entry, served_at("acme-lib"))
    assert [f["filename"] for f in whole["urls"]] == ["acme_lib-2.0.tar.gz"]
    info = whole["info"]
    assert (info["name"], info["version"], info["requires_python"]) == ("acme-lib", "2.0", ">=3.99")
    assert info["summary"] == "<script>alert('owned')</script>"  # JSON holds it as it is
    assert (info["yanked"], info["yanked_reason"]) == (False, None)
    yanked = whole["releases"]["1.1"][0]
    assert (yanked["yanked"], yanked["yanked_reason"]) == (True, "broken <b>build</b>")


def test_a_version_document_describes_that_release_alone(index: Path) -> None:
    one = document(index, "acme-lib", "1.1")
    assert sorted(one) == ["info", "last_serial", "urls"]
    assert one["last_serial"] == document(index, "acme-lib")["last_serial"]
    assert (one["info"]["version"], one["info"]["requires_python"]) == ("1.1", None)
    assert (one["info"]["yanked"], one["info"]["yanked_reason"]) == (True, "broken <b>build</b>")
    [entry] = one["urls"]
    check_file(index, "acme-lib", entry, served_at("acme-lib", "1.1"))


def test_dependencies_come_from_the_metadata_trusted_or_not(index: Path) -> None:
    assert document(index, "acme-app")["info"]["requires_dist"] == ["acme-lib<3"]
    # setuptools' PKG-INFO may leave dependencies to the build: no .metadata is published,
    # and the API reads the sdist itself.
    assert not (index / "legacy" / "legacy-0.5.tar.gz.metadata").exists()
    assert document(index, "legacy")["info"]["requires_dist"] == ["acme-lib"]
    assert document(index, "legacy")["info"]["name"] == "legacy"


def test_a_version_whose_files_are_gone_loses_its_document(index: Path, tmp_path: Path) -> None:
    copy = tmp_path / "out"
    shutil.copytree(index, copy)
    (copy / "acme-lib" / "acme_lib-2.0.tar.gz").unlink()
    defaults = write_defaults(tmp_path, OUTDIR=str(copy), YANKED={"acme-lib": {"1.1": ""}})
    assert sdists_from_tags(["-q", "--render-only", "-d", str(defaults)]) == 0
    assert not (copy / "acme-lib" / "pypi-2.0.json").exists()
    assert document(copy, "acme-lib")["info"]["version"] == "1.0"
    assert document(copy, "acme-lib", "1.1")["info"]["yanked"] is True


def test_a_template_change_leaves_the_documents_as_they_are(index: Path, tmp_path: Path) -> None:
    """They depend on no template: a run after one changes writes the pages alone."""
    copy = tmp_path / "out"
    shutil.copytree(index, copy)
    documents = {p: p.stat().st_mtime_ns for p in copy.glob("*/pypi*.json")}
    page = copy / "acme-lib" / "index.html"
    before = page.stat().st_mtime_ns
    own = tmp_path / "templates" / "simple"
    own.mkdir(parents=True)
    (own / "project.html").write_text((SHIPPED / "simple" / "project.html").read_text() + "\n")
    yanked = {"acme-lib": {"1.1": "broken <b>build</b>"}}
    defaults = write_defaults(tmp_path, OUTDIR=str(copy), TEMPLATES="templates", YANKED=yanked)
    assert sdists_from_tags(["-q", "--render-only", "-d", str(defaults)]) == 0
    assert page.stat().st_mtime_ns != before
    assert {p: p.stat().st_mtime_ns for p in copy.glob("*/pypi*.json")} == documents

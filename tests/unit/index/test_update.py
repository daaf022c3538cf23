"""The rendered index, read by real clients: pip and uv in fresh venvs, and pypi-simple."""

from __future__ import annotations

import hashlib
import json
import os
import re
import shutil
import subprocess
import sys
from pathlib import Path
from xml.etree import ElementTree

import feedparser  # type: ignore[import-untyped]  # (it ships no types)
import html5lib
import pypi_simple
import pytest

from helpers.projects import sdist, write_defaults
from sdistmaker.cli import sdists_from_tags
from sdistmaker.index.pages import SHIPPED

PYTHON = f"{sys.version_info.major}.{sys.version_info.minor}"


def test_the_layout_puts_pages_beside_the_files(index: Path) -> None:
    assert sorted(p.name for p in index.iterdir()) == [
        "+",
        ".sdistmaker",
        "acme-app",
        "acme-lib",
        "index.html",
        "index.json",
        "legacy",
    ]
    assert sorted(p.name for p in (index / "acme-lib").iterdir()) == [
        ".sdistmaker-published.json",  # who publishes it, and when each file was published
        "acme_lib-1.0.tar.gz",
        "acme_lib-1.0.tar.gz.metadata",
        "acme_lib-1.1.tar.gz",
        "acme_lib-1.1.tar.gz.metadata",
        "acme_lib-2.0.tar.gz",
        "acme_lib-2.0.tar.gz.metadata",
        "index.html",
        "index.json",
        "pypi-1.0.json",  # PyPI's JSON API (index/api.py)
        "pypi-1.1.json",
        "pypi-2.0.json",
        "pypi.json",
    ]


def test_pypi_simple_reads_the_root_in_both_formats(index: Path) -> None:
    page = pypi_simple.IndexPage.from_html((index / "index.html").read_text())
    assert page.projects == ["acme-app", "acme-lib", "legacy"]
    data = json.loads((index / "index.json").read_text())
    assert data == {
        "meta": {"api-version": "1.1"},
        "projects": [{"name": "acme-app"}, {"name": "acme-lib"}, {"name": "legacy"}],
    }
    assert (
        '<meta name="pypi:repository-version" content="1.1">' in (index / "index.html").read_text()
    )


def test_pypi_simple_reads_a_project_in_both_formats_alike(index: Path) -> None:
    folder = index / "acme-lib"
    html = pypi_simple.ProjectPage.from_html(
        "acme-lib", (folder / "index.html").read_text(), "https://i/acme-lib/"
    )
    data = pypi_simple.ProjectPage.from_json_data(
        json.loads((folder / "index.json").read_text()), "https://i/acme-lib/"
    )
    for page in (html, data):
        packages = {p.filename: p for p in page.packages}
        assert sorted(packages) == [
            "acme_lib-1.0.tar.gz",
            "acme_lib-1.1.tar.gz",
            "acme_lib-2.0.tar.gz",
        ]
        for package in packages.values():
            assert package.url == f"https://i/acme-lib/{package.filename}"
            assert package.digests["sha256"] == sha256(folder / package.filename)
            assert package.has_metadata
            assert package.metadata_digests == {
                "sha256": sha256(folder / (package.filename + ".metadata"))
            }
        assert packages["acme_lib-1.1.tar.gz"].is_yanked
        assert packages["acme_lib-1.1.tar.gz"].yanked_reason == "broken <b>build</b>"
        assert not packages["acme_lib-1.0.tar.gz"].is_yanked
        assert packages["acme_lib-2.0.tar.gz"].requires_python == ">=3.99"
        assert packages["acme_lib-1.0.tar.gz"].requires_python is None
    assert data.versions == ["1.0", "1.1", "2.0"]
    one = {p.filename: p for p in data.packages}["acme_lib-1.0.tar.gz"]
    assert one.size == (folder / "acme_lib-1.0.tar.gz").stat().st_size
    assert one.upload_time is not None


def test_html_escapes_and_writes_yanked_with_a_value(index: Path) -> None:
    html = (index / "acme-lib" / "index.html").read_text()
    assert 'data-yanked="broken &lt;b&gt;build&lt;/b&gt;"' in html
    assert 'data-requires-python="&gt;=3.99"' in html
    assert html.count("data-yanked") == 1
    json_files = json.loads((index / "acme-lib" / "index.json").read_text())["files"]
    assert [f["yanked"] for f in json_files] == [False, "broken <b>build</b>", False]
    assert all("dist-info-metadata" not in f for f in json_files)


def test_setup_py_era_metadata_is_not_offered_as_core_metadata(index: Path) -> None:
    # setuptools marks install_requires from setup.py Dynamic: pip must build to learn them.
    assert not (index / "legacy" / "legacy-0.5.tar.gz.metadata").exists()
    assert "data-core-metadata" not in (index / "legacy" / "index.html").read_text()
    [entry] = json.loads((index / "legacy" / "index.json").read_text())["files"]
    assert entry["core-metadata"] is False


def sha256(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


@pytest.fixture(scope="module")
def fresh_venv(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A venv with pip and hatchling: our index serves only our projects, not their build tools."""
    venv = tmp_path_factory.mktemp("venv") / "venv"
    subprocess.run([sys.executable, "-m", "venv", venv], check=True)
    subprocess.run([venv / "bin/python", "-m", "pip", "install", "-q", "hatchling"], check=True)
    return venv


def installed(venv: Path) -> dict[str, str]:
    code = (
        "import importlib.metadata as m, json\n"
        "print(json.dumps({d.metadata['Name']: d.version for d in m.distributions()}))"
    )
    output = subprocess.run(
        [venv / "bin/python", "-c", code], check=True, capture_output=True, text=True
    ).stdout
    versions: dict[str, str] = json.loads(output)
    return versions


def install(installer: list[str | Path], index: Path, requirement: str, **options: object) -> None:
    """Install from our index alone; build tools are already in the venv."""
    command = [*installer, "install", "-q", "--no-build-isolation"]
    subprocess.run(
        [*command, "--index-url", index.as_uri() + "/", requirement], check=True, **options
    )  # type: ignore[call-overload]


def test_pip_installs_from_the_file_index_skipping_yanked_and_too_new(
    index: Path, fresh_venv: Path
) -> None:
    install([fresh_venv / "bin/python", "-m", "pip"], index, "acme.app")
    versions = installed(fresh_venv)
    assert versions["acme.app"] == "1.0"
    assert versions["acme-lib"] == "1.0"  # 1.1 is yanked, 2.0 needs Python >= 3.99


def test_uv_installs_from_the_file_index(index: Path, tmp_path: Path) -> None:
    uv = shutil.which("uv") or str(Path(sys.executable).parent / "uv")
    venv = tmp_path / "venv"
    subprocess.run([uv, "venv", "-q", "--python", sys.executable, venv], check=True)
    environment = {**os.environ, "VIRTUAL_ENV": str(venv)}
    subprocess.run([uv, "pip", "install", "-q", "hatchling"], check=True, env=environment)
    install([uv, "pip"], index, "acme.app", env=environment)
    versions = installed(venv)
    assert (versions["acme.app"], versions["acme-lib"]) == ("1.0", "1.0")


def test_a_pinned_yanked_version_still_installs(index: Path, fresh_venv: Path) -> None:
    install([fresh_venv / "bin/python", "-m", "pip"], index, "acme-lib==1.1")
    assert installed(fresh_venv)["acme-lib"] == "1.1"


def test_a_no_op_run_rewrites_no_page(index: Path, tmp_path: Path) -> None:
    pages = sorted(index.glob("**/index.*"))
    before = {p: p.stat().st_mtime_ns for p in pages}
    defaults = index.parent / "defaults.py"
    assert sdists_from_tags(["-q", "-d", str(defaults)]) == 0
    assert {p: p.stat().st_mtime_ns for p in pages} == before


def test_render_only_applies_a_changed_yanked_to_that_project_alone(
    index: Path, tmp_path: Path
) -> None:
    defaults = index.parent / "defaults.py"
    original = defaults.read_text()
    app_page = index / "acme-app" / "index.html"
    app_before = app_page.stat().st_mtime_ns
    try:
        defaults.write_text(
            original.replace(
                "YANKED = {'Acme_Lib': {'1.1': 'broken <b>build</b>'}}",
                "YANKED = {'acme-lib': {'1.0': ''}}",
            )
        )
        assert sdists_from_tags(["-q", "--render-only", "-d", str(defaults)]) == 0
        html = (index / "acme-lib" / "index.html").read_text()
        assert html.count('data-yanked=""') == 1
        assert "acme_lib-1.0.tar.gz#" in html.split('data-yanked=""')[0].rsplit("<a ", 1)[1]
        assert app_page.stat().st_mtime_ns == app_before
    finally:
        defaults.write_text(original)
        assert sdists_from_tags(["-q", "--render-only", "-d", str(defaults)]) == 0


def test_the_root_pages_leave_out_what_access_keeps_for_some_readers(index: Path) -> None:
    defaults = index.parent / "defaults.py"
    original = defaults.read_text()
    roots = [index / "index.html", index / "index.json", index / "+" / "index.html"]
    roots.append(index / "+" / "index.atom")  # the feed of new releases too
    try:
        defaults.write_text(original + "ACCESS = {'team-a': ['Acme.App']}\n")
        assert sdists_from_tags(["-q", "--render-only", "-d", str(defaults)]) == 0
        for page in roots:
            assert "acme-lib" in page.read_text()
            assert "acme-app" not in page.read_text(), page
        assert json.loads((index / "index.json").read_text())["projects"] == [
            {"name": "acme-lib"},
            {"name": "legacy"},
        ]
        assert "acme-app" in (index / "acme-app" / "index.html").read_text()  # its own page
    finally:
        defaults.write_text(original)
        assert sdists_from_tags(["-q", "--render-only", "-d", str(defaults)]) == 0
    for page in roots:
        assert "acme-app" in page.read_text(), page


def test_pages_for_people_list_projects_with_latest_release_and_summary(index: Path) -> None:
    front = (index / "+" / "index.html").read_text()
    assert '<a href="acme-lib.html">acme-lib</a></td><td>2.0</td>' in front
    assert '<input type="search" id="filter"' in front
    assert "+" not in pypi_simple.IndexPage.from_html((index / "index.html").read_text()).projects


def test_pages_for_people_show_hostile_metadata_as_text(index: Path) -> None:
    for page in (index / "+" / "index.html", index / "+" / "acme-lib.html"):
        html = page.read_text()
        assert "<script>alert" not in html
        assert "&lt;script&gt;alert(&#39;owned&#39;)&lt;/script&gt;" in html


def test_a_project_page_shows_files_yanked_and_failed_tags(index: Path) -> None:
    lib = (index / "+" / "acme-lib.html").read_text()
    assert '<a href="../acme-lib/acme_lib-1.0.tar.gz">acme_lib-1.0.tar.gz</a>' in lib
    assert '<span class="yank">yanked: broken &lt;b&gt;build&lt;/b&gt;</span>' in lib
    assert "<dt>Requires Python</dt><dd>&gt;=3.99</dd>" in lib
    app = (index / "+" / "acme-app.html").read_text()
    assert "Tags that did not build" in app
    assert (
        '<td>v1.1</td><td data-label="Version">1.1</td>'
        '<td data-label="Why">built version 1.0 but the tag is version 1.1'
    ) in app
    assert "Tags that did not build" not in lib


def test_templates_can_be_replaced_from_a_folder(index: Path, tmp_path: Path) -> None:
    defaults = index.parent / "defaults.py"
    original = defaults.read_text()
    own = index.parent / "templates" / "browse"
    own.mkdir(parents=True)
    (own / "index.html").write_text("<p>Our own front page: {{ count }} projects</p>\n")
    try:
        defaults.write_text(original + "TEMPLATES = 'templates'\n")
        assert sdists_from_tags(["-q", "--render-only", "-d", str(defaults)]) == 0
        assert (index / "+" / "index.html").read_text() == "<p>Our own front page: 3 projects</p>\n"
        assert "Links for acme-lib" in (index / "acme-lib" / "index.html").read_text()
    finally:
        defaults.write_text(original)
        assert sdists_from_tags(["-q", "--render-only", "-d", str(defaults)]) == 0
    assert "Private packages" in (index / "+" / "index.html").read_text()


def test_every_page_is_valid_html5(index: Path) -> None:
    parser = html5lib.HTMLParser(strict=True)
    for page in [*index.glob("*/index.html"), index / "index.html", *(index / "+").glob("*.html")]:
        parser.parse(page.read_bytes())


def test_a_new_release_renders_its_project_and_the_front_page_only(tmp_path: Path) -> None:
    for name in ("p", "q"):
        (tmp_path / "out" / name).mkdir(parents=True)
        sdist(
            tmp_path / "out" / name,
            f"Metadata-Version: 2.2\nName: {name}\nVersion: 1.0\n",
            f"{name}-1.0.tar.gz",
        )
    defaults = write_defaults(tmp_path, OUTDIR="out")
    assert sdists_from_tags(["-q", "--render-only", "-d", str(defaults)]) == 0
    pages = [
        "index.html",
        "index.json",
        "p/index.html",
        "q/index.html",
        "q/index.json",
        "+/index.html",
        "+/q.html",
    ]
    before = {page: (tmp_path / "out" / page).stat().st_mtime_ns for page in pages}
    sdist(tmp_path / "out" / "p", "Metadata-Version: 2.2\nName: p\nVersion: 1.1\n", "p-1.1.tar.gz")
    assert sdists_from_tags(["-q", "--render-only", "-d", str(defaults)]) == 0
    changed = [
        page for page in pages if (tmp_path / "out" / page).stat().st_mtime_ns != before[page]
    ]
    assert changed == ["p/index.html", "+/index.html"]
    assert "p-1.1.tar.gz" in (tmp_path / "out" / "p" / "index.html").read_text()


def test_a_run_indexes_what_a_killed_run_published_and_render_only_what_came_by_hand(
    tmp_path: Path,
) -> None:
    outdir = tmp_path / "out"
    (outdir / "p").mkdir(parents=True)
    sdist(outdir / "p", "Metadata-Version: 2.2\nName: p\nVersion: 1.0\n", "p-1.0.tar.gz")
    defaults = write_defaults(tmp_path, OUTDIR="out")
    assert sdists_from_tags(["-q", "--render-only", "-d", str(defaults)]) == 0

    sdist(outdir / "p", "Metadata-Version: 2.2\nName: p\nVersion: 1.1\n", "p-1.1.tar.gz")
    assert sdists_from_tags(["-q", "-d", str(defaults)]) == 0
    assert "p-1.1.tar.gz" not in (outdir / "p" / "index.html").read_text()  # not looked at
    assert sdists_from_tags(["-q", "--render-only", "-d", str(defaults)]) == 0
    assert "p-1.1.tar.gz" in (outdir / "p" / "index.html").read_text()

    # A run killed after publishing p-1.2 left p marked as not indexed yet.
    sdist(outdir / "p", "Metadata-Version: 2.2\nName: p\nVersion: 1.2\n", "p-1.2.tar.gz")
    state_file = outdir / ".sdistmaker" / "state.json"
    state = json.loads(state_file.read_text())
    state["unindexed"] = ["p"]
    state_file.write_text(json.dumps(state))
    assert sdists_from_tags(["-q", "-d", str(defaults)]) == 0
    assert "p-1.2.tar.gz" in (outdir / "p" / "index.html").read_text()
    assert json.loads(state_file.read_text())["unindexed"] == []


# Templates of one's own that are wrong: what a run says, and what it leaves.
TEMPLATE_ERRORS: dict[str, tuple[dict[str, str | bytes], int, str]] = {
    # Found before anything is built or rendered: the setting is wrong (status 2).
    "a syntax error": (
        {"simple/root.html": "<p>\n{% for x in %}\n"},
        2,
        "simple/root.html:2: syntax error: Expected an expression, got 'end of statement block'",
    ),
    "an unknown filter": (
        {"browse/project.html": "{{ project.name|no_such_filter }}\n"},
        2,
        "browse/project.html:1: syntax error: No filter named 'no_such_filter'.",
    ),
    "bytes that are not UTF-8": (
        {"browse/row.html": b"<tr>\n<td>\xff</td></tr>\n"},
        2,
        "browse/row.html:2: not UTF-8 text: byte 0xff",
    ),
    "a template that is nowhere": (
        {"browse/index.html": "<p>\n{% include 'nope.html' %}\n"},
        2,
        "browse/index.html:2: no template 'nope.html' in {templates} or among sdistmaker's own",
    ),
    # Found while rendering: the run failed (status 1).
    "a name that is not there": (
        {"browse/index.html": "<p>\n{{ undefined_thing.attr }}\n"},
        1,
        "browse/index.html:2: UndefinedError: 'undefined_thing' is undefined",
    ),
    "a division by zero": (
        {"browse/row.html": "<tr><td>{{ 1/0 }}</td></tr>\n"},
        1,
        "browse/row.html:1: ZeroDivisionError: division by zero",
    ),
    "a template named while rendering that is nowhere": (
        {"browse/row.html": "<tr>\n{% include project.name ~ '.html' %}</tr>\n"},
        1,
        "browse/row.html:2: TemplateNotFound: 'p.html' not found in search paths: "
        "'{templates}', '{shipped}'",
    ),
    "a syntax error in a template named while rendering": (
        {"browse/row.html": "{% include 'row' ~ '.txt' %}\n", "row.txt": "\n\n{% if %}\n"},
        1,
        "row.txt:3: syntax error: Expected an expression, got 'end of statement block'",
    ),
}


@pytest.mark.parametrize("error", TEMPLATE_ERRORS, ids=list(TEMPLATE_ERRORS))
def test_a_wrong_template_is_one_line_naming_its_file_and_line(
    tmp_path: Path, error: str, capsys: pytest.CaptureFixture[str]
) -> None:
    """What can be found before a run builds anything stops it with status 2, rendering
    nothing; what shows only while rendering fails the run (status 1), and the next run after
    the template is mended renders what this one could not."""
    files, code, message = TEMPLATE_ERRORS[error]
    outdir = tmp_path / "out"
    (outdir / "p").mkdir(parents=True)
    sdist(outdir / "p", "Metadata-Version: 2.2\nName: p\nVersion: 1.0\n", "p-1.0.tar.gz")
    templates = tmp_path / "templates"
    defaults = write_defaults(tmp_path, OUTDIR="out", TEMPLATES=str(templates))
    templates.mkdir()
    assert sdists_from_tags(["-q", "--render-only", "-d", str(defaults)]) == 0
    sdist(outdir / "p", "Metadata-Version: 2.2\nName: p\nVersion: 1.1\n", "p-1.1.tar.gz")
    pages = {page: page.read_bytes() for page in outdir.glob("**/index.*")}
    for name, content in files.items():
        (templates / name).parent.mkdir(parents=True, exist_ok=True)
        if isinstance(content, bytes):
            (templates / name).write_bytes(content)
        else:
            (templates / name).write_text(content)
    capsys.readouterr()

    assert sdists_from_tags(["-q", "--render-only", "-d", str(defaults)]) == code
    message = message.replace("{templates}", str(templates)).replace("{shipped}", str(SHIPPED))
    assert capsys.readouterr().err == f"{templates}/{message}\n"
    if code == 2:
        assert {page: page.read_bytes() for page in outdir.glob("**/index.*")} == pages

    shutil.rmtree(templates)
    templates.mkdir()
    assert sdists_from_tags(["-q", "--render-only", "-d", str(defaults)]) == 0
    assert "p-1.1.tar.gz" in (outdir / "p" / "index.html").read_text()
    assert "p-1.1.tar.gz" in (outdir / "+" / "p.html").read_text()


def test_every_file_says_where_and_how_it_was_built(index: Path) -> None:
    """In the PEP 691 JSON, under a key PEP 691 leaves to the index's own use."""
    repository = index.parent / "git" / "acme-lib"
    data = json.loads((index / "acme-lib" / "index.json").read_text())
    for file in data["files"]:
        version = file["filename"].removeprefix("acme_lib-").removesuffix(".tar.gz")
        commit = subprocess.run(
            ["git", "rev-parse", f"{version}^{{commit}}"],
            cwd=repository,
            capture_output=True,
            text=True,
            check=True,
        ).stdout.strip()
        provenance = file["_provenance"]
        assert provenance.pop("backend").startswith("hatchling.build (hatchling ")
        # When the tag was made (vcs/: each system's export tells), before it was built.
        assert re.fullmatch(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ", provenance["tagged"])
        assert provenance.pop("tagged") <= file["upload-time"]
        assert provenance == {
            "repository": str(repository),
            "tag": version,
            "revision": commit,
            "route": "build",
            "built": file["upload-time"],
        }


ATOM = "{http://www.w3.org/2005/Atom}"


def feed_entries(path: Path) -> list[tuple[str, str]]:
    """Title and updated of each entry of the Atom feed at ``path``, checked to be one."""
    parsed = feedparser.parse(path.read_bytes())
    assert not parsed.bozo, parsed.get("bozo_exception")
    root = ElementTree.fromstring(path.read_bytes())
    assert root.tag == f"{ATOM}feed"
    for entry in root.iter(f"{ATOM}entry"):
        assert entry.findtext(f"{ATOM}id", "").startswith("urn:uuid:")
        [link] = entry.iter(f"{ATOM}link")
        assert (path.parent / link.get("href", "")).is_file()  # the project's page for people
    return [(e.title, e.updated) for e in parsed.entries]


def test_feeds_list_new_releases_newest_first_but_those_yanked(index: Path) -> None:
    lib = feed_entries(index / "+" / "acme-lib.atom")
    assert [title for title, _ in lib] == ["acme-lib 2.0", "acme-lib 1.0"]  # 1.1 is yanked
    assert lib[0][1] >= lib[1][1]
    whole = feed_entries(index / "+" / "index.atom")
    assert sorted(title for title, _ in whole) == [
        "acme-app 1.0",
        "acme-lib 1.0",
        "acme-lib 2.0",
        "legacy 0.5",
    ]
    assert [updated for _, updated in whole] == sorted((u for _, u in whole), reverse=True)
    front = (index / "+" / "index.html").read_text()
    assert (
        '<link rel="alternate" type="application/atom+xml" title="New releases" href="index.atom">'
        in front
    )


def test_the_index_feed_takes_a_new_release_from_its_project_alone(
    index: Path, tmp_path: Path
) -> None:
    """The feed is written from what the index remembers and the one project rendered: the
    other projects' pages are not rendered again."""
    copy = tmp_path / "out"
    shutil.copytree(index, copy)
    pkg_info = "Metadata-Version: 2.1\nName: legacy\nVersion: 0.6\nSummary: newer\n"
    sdist(copy / "legacy", pkg_info, "legacy-0.6.tar.gz")
    before = {p: p.stat().st_mtime_ns for p in (copy / "+").glob("acme-*")}
    defaults = write_defaults(
        tmp_path, OUTDIR=str(copy), YANKED={"acme-lib": {"1.1": "broken <b>build</b>"}}
    )
    assert sdists_from_tags(["-q", "--render-only", "-d", str(defaults)]) == 0
    assert {p: p.stat().st_mtime_ns for p in (copy / "+").glob("acme-*")} == before
    whole = feed_entries(copy / "+" / "index.atom")
    assert whole[0][0] == "legacy 0.6"
    assert len(whole) == 5

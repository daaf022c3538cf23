"""The pages a project's files are shown in: simple pages for installers (HTML and JSON), pages
for people, rendered from the shipped templates or those TEMPLATES puts in their place."""

from __future__ import annotations

import json
from dataclasses import replace
from pathlib import Path

import html5lib
import pytest
from packaging.metadata import RawMetadata, parse_email

from sdistmaker.dists.distributions import DistributionFile
from sdistmaker.errors import ConfigError, TemplateError
from sdistmaker.index.pages import Project, Renderer, TagFailure


def stored(
    version: str, requires_python: str = "", summary: str = "", metadata_sha256: str = ""
) -> DistributionFile:
    return DistributionFile(
        f"acme_utils-{version}.tar.gz",
        version,
        sha256="a" * 64,
        size=1234,
        upload_time="2026-01-01T00:00:00Z",
        requires_python=requires_python,
        summary=summary,
        metadata_sha256=metadata_sha256,
    )


PROJECT = Project(
    "acme-utils",
    (
        stored("1.9", requires_python=">=3.9", summary="Tools <b>& more</b>"),
        stored("1.10", metadata_sha256="b" * 64),
        stored("2.0"),
    ),
)
FAILURE = TagFailure("v2.1", "2.1", "setup.py: <script>alert(1)</script>", "2026-01-02T00:00:00Z")


def test_the_simple_pages_show_hashes_metadata_and_yanked_releases() -> None:
    renderer = Renderer({"acme-utils": {"1.10": "broken <b>build</b>", "2.0": ""}})
    html, text = renderer.project_pages(PROJECT)
    assert (
        '<a href="acme_utils-1.9.tar.gz#sha256=' + "a" * 64 + '" data-requires-python="&gt;=3.9">'
    ) in html
    assert 'data-core-metadata="sha256=' + "b" * 64 + '"' in html
    assert 'data-yanked="broken &lt;b&gt;build&lt;/b&gt;">acme_utils-1.10.tar.gz' in html
    assert 'data-yanked="">acme_utils-2.0.tar.gz' in html
    data = json.loads(text)
    assert data["versions"] == ["1.9", "1.10", "2.0"]  # as versions sort, not as text does
    assert [f["yanked"] for f in data["files"]] == [False, "broken <b>build</b>", True]
    assert [f["core-metadata"] for f in data["files"]] == [False, {"sha256": "b" * 64}, False]
    assert [f.get("requires-python") for f in data["files"]] == [">=3.9", None, None]


def test_the_front_page_shows_the_newest_release_not_yanked() -> None:
    assert Renderer({}).overview(PROJECT)["latest"] == "2.0"
    shown = Renderer({"acme-utils": {"2.0": "", "1.10": ""}}).overview(PROJECT)
    assert (shown["latest"], shown["summary"]) == ("1.9", "Tools <b>& more</b>")
    assert "<td>Tools &lt;b&gt;&amp; more&lt;/b&gt;</td>" in shown["row"]
    # Every one yanked: the newest all the same.
    everything = {"acme-utils": {"1.9": "", "1.10": "", "2.0": ""}}
    assert Renderer(everything).overview(PROJECT)["latest"] == "2.0"


def test_a_project_page_for_people_shows_failed_tags_as_text() -> None:
    page = Renderer({"acme-utils": {"1.10": "broken"}}).browse_project(PROJECT, [FAILURE])
    assert (
        '<tr class="failed"><td>v2.1</td><td data-label="Version">2.1</td>'
        '<td data-label="Why">setup.py: &lt;script&gt;alert(1)&lt;/script&gt;</td>'
    ) in page
    assert '<span class="yank">yanked: broken</span>' in page
    assert "Tags that did not build" not in Renderer({}).browse_project(PROJECT, [])


def test_a_project_page_describes_its_release_and_dates_each_by_its_tag() -> None:
    built = {
        "repository": "https://git.example.com/acme-utils.git",
        "tag": "v2.0",
        "revision": "0123456789abcdef" * 2,
        "route": "build",
        "backend": "hatchling.build (hatchling 1.27.0)",
        "tagged": "2025-12-24T10:00:00Z",
    }
    wheel = replace(stored("2.0"), filename="acme_utils-2.0-py3-none-any.whl", size=2_500_000)
    project = replace(
        PROJECT,
        files=(*PROJECT.files, wheel),
        provenance={
            "acme_utils-2.0.tar.gz": built,
            wheel.filename: built | {"built_from": "acme_utils-2.0.tar.gz"},
        },
    )
    raw, _ = parse_email(
        b"Metadata-Version: 2.4\nName: acme-utils\nVersion: 2.0\nLicense-Expression: MIT\n"
        b"Requires-Dist: requests[socks]>=2; extra == 'net'\nProject-URL: Source, "
        b"https://git.example.com/acme-utils\nProject-URL: Evil, javascript:alert(1)\n"
        b"Description-Content-Type: text/markdown\n\n# Acme utils\n\n<script>alert(1)</script>\n"
    )
    asked: list[str] = []

    def metadata(version: str) -> RawMetadata:
        asked.append(version)
        return raw

    page = Renderer({"acme-utils": {"1.10": "broken"}}).browse_project(project, [], metadata)
    assert asked == ["2.0"]  # the release shown, and no other
    tree = html5lib.parse(page, namespaceHTMLElements=False)
    facts = {
        dt.text: "".join(dd.itertext())
        for dt, dd in zip(tree.iter("dt"), tree.iter("dd"), strict=True)
    }
    assert facts == {"License": "MIT"}
    assert [a.get("href") for a in tree.iter("a") if a.text == "Source"] == [
        "https://git.example.com/acme-utils"
    ]
    assert "Evil: javascript:alert(1)" in page  # shown, never a link
    assert "<code>requests[socks]&gt;=2; extra == &#39;net&#39;</code>" in page
    assert '<h1 id="user-content-acme-utils">Acme utils' in page
    assert "<script>alert" not in page
    rows = [row for row in tree.iter("tr") if row.find("th[@scope='row']") is not None]
    assert ["".join(row.findall("th")[0].itertext()) for row in rows] == [
        "2.0",
        "1.10yanked: broken",
        "1.9",
    ]
    cells = ["".join(cell.itertext()) for cell in rows[0].findall("td")]
    assert cells[0] == "2025-12-24"  # the tag's date, not when it was stored
    assert cells[1] == "acme_utils-2.0-py3-none-any.whl 2.5 MBacme_utils-2.0.tar.gz 1.2 kB"
    assert cells[2] == (
        "tag v2.0 at 0123456789ab of https://git.example.com/acme-utils.git"
        "hatchling.build (hatchling 1.27.0)"
    )
    assert ["".join(row.findall("td")[0].itertext()) for row in rows[1:]] == ["2026-01-01"] * 2


def test_control_characters_of_metadata_never_reach_a_page() -> None:
    project = Project("p", (stored("1.0", summary="tab\there\x1b[2Jgone\x00"),))
    page = Renderer({}).browse_project(project, [])
    assert '<p class="summary">tab\there\ufffd[2Jgone\ufffd</p>' in page


def write(folder: Path, files: dict[str, str]) -> Path:
    for name, text in files.items():
        (folder / name).parent.mkdir(parents=True, exist_ok=True)
        (folder / name).write_text(text)
    return folder


def test_templates_replace_the_shipped_ones_of_their_name_only(tmp_path: Path) -> None:
    own = write(
        tmp_path / "templates",
        {
            "browse/row.html": "<tr><td>{{ project.name }}: ours</td></tr>\n",
            "browse/base.html": "<main>{% block body %}{% endblock %}</main>\n",
        },
    )
    renderer = Renderer({}, own)
    assert renderer.overview(PROJECT)["row"] == "<tr><td>acme-utils: ours</td></tr>\n"
    # The shipped project page, in the base it extends, which is ours.
    page = renderer.browse_project(PROJECT, [])
    assert page.startswith('<main>\n<nav><a href="index.html">All projects</a></nav>')
    assert "Links for acme-utils" in renderer.project_pages(PROJECT)[0]


@pytest.mark.parametrize(
    ("files", "message"),
    [
        ({"simple/root.html": "<p>\n{% for %}\n"}, "simple/root.html:2: syntax error: "),
        (
            {"browse/index.html": "\n\n{% include 'browse/footer.html' %}\n"},
            "browse/index.html:3: no template 'browse/footer.html' in {templates} or among "
            "sdistmaker's own",
        ),
    ],
)
def test_a_wrong_template_is_found_before_a_page_is_rendered(
    tmp_path: Path, files: dict[str, str], message: str
) -> None:
    own = write(tmp_path / "templates", files)
    with pytest.raises(ConfigError) as error:
        Renderer({}, own).check(own)
    assert str(error.value).startswith(f"{own}/" + message.format(templates=own))


def test_a_template_failing_while_rendering_names_its_file_and_line(tmp_path: Path) -> None:
    own = write(tmp_path / "templates", {"browse/row.html": "<tr>\n{{ 1 / 0 }}</tr>\n"})
    renderer = Renderer({}, own)
    renderer.check(own)
    with pytest.raises(TemplateError) as error:
        renderer.overview(PROJECT)
    assert str(error.value) == (f"{own}/browse/row.html:2: ZeroDivisionError: division by zero")


def test_what_a_page_shows_besides_its_files_changes_its_fingerprint(tmp_path: Path) -> None:
    plain = Renderer({})
    yanked = Renderer({"acme-utils": {"2.0": ""}})
    assert yanked.settings("other", []) == plain.settings("other", [])
    assert yanked.settings("acme-utils", []) != plain.settings("acme-utils", [])
    assert plain.settings("acme-utils", [FAILURE]) != plain.settings("acme-utils", [])
    own = write(tmp_path / "templates", {"browse/row.html": "<tr></tr>\n"})
    before = Renderer({}, own).signature
    assert before != plain.signature
    write(own, {"browse/row.html": "<tr> </tr>\n"})
    assert Renderer({}, own).signature != before
    settings = plain.settings("acme-utils", [])
    fewer = Project(PROJECT.name, PROJECT.files[:2])
    assert plain.fingerprint(fewer, settings) != plain.fingerprint(PROJECT, settings)

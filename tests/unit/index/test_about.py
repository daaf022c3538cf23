"""What a page for people shows of a release from its metadata, which the tag's build wrote:
READMEs rendered and sanitised as PyPI does it, links only where they are safe."""

from __future__ import annotations

from pathlib import Path

import html5lib
import pytest
from packaging.metadata import RawMetadata, parse_email

from sdistmaker.index.about import about, readme

HOSTILE = """\
Acme
====

<script>window.owned = 1</script>

`click <javascript:window.owned=1>`_ and `fine <https://acme.example.com/>`_
"""
HOSTILE_MARKDOWN = """\
# Acme

<script>window.owned = 1</script>
<img src="x" onerror="window.owned = 1"><iframe src="https://evil.example.com/"></iframe>
<a href="javascript:window.owned=1">click</a> [also](javascript:window.owned=1)
<b style="position:fixed">raw</b> [fine](https://acme.example.com/)

```python
print("highlighted")
```
"""


def metadata(**fields: str | list[str]) -> RawMetadata:
    lines = ["Metadata-Version: 2.4", "Name: acme", "Version: 1.0"]
    body = ""
    for name, value in fields.items():
        if name == "description":
            body = str(value)
            continue
        for one in value if isinstance(value, list) else [value]:
            lines.append(f"{name.replace('_', '-').title()}: {one}")
    raw, _ = parse_email("\n".join(lines) + "\n\n" + body)
    return raw


def active_parts(rendered: str) -> list[str]:
    """What in ``rendered`` a browser would run or load from elsewhere."""
    found = []
    for element in html5lib.parse(rendered, namespaceHTMLElements=False).iter():
        if element.tag in ("script", "iframe", "object", "embed", "style"):
            found.append(element.tag)
        for name, value in element.attrib.items():
            if name.startswith("on") or name == "style":
                found.append(f"{element.tag} {name}")
            if name in ("href", "src") and value.strip().lower().startswith("javascript:"):
                found.append(f"{element.tag} {name}={value}")
    return found


@pytest.mark.parametrize(
    ("content_type", "text"),
    [("text/x-rst", HOSTILE), ("", HOSTILE), ("text/markdown", HOSTILE_MARKDOWN)],
    ids=["rst", "rst by default", "markdown"],
)
def test_a_hostile_readme_renders_without_anything_active(content_type: str, text: str) -> None:
    fields: dict[str, str] = {"description": text}
    if content_type:
        fields["description_content_type"] = content_type
    rendered = readme(metadata(**fields))
    assert active_parts(rendered) == []
    assert "Acme</h1>" in rendered or "Acme<a" in rendered
    assert 'href="https://acme.example.com/"' in rendered
    assert "window.owned" not in rendered.replace("&lt;script&gt;window.owned", "")


def test_markdown_renders_as_pypi_renders_it() -> None:
    rendered = readme(
        metadata(
            description=HOSTILE_MARKDOWN, description_content_type="text/markdown; variant=GFM"
        )
    )
    assert '<pre data-lang="python">' in rendered  # highlighted, as on PyPI
    assert "<b>raw</b>" in rendered  # harmless raw HTML stays, its style does not


def test_text_that_is_no_valid_rst_shows_as_plain_text() -> None:
    # Raw HTML is no reStructuredText PyPI renders: the whole shows as text.
    broken = 'Title\n=====\n\n.. raw:: html\n\n   <img src="x" onerror="alert(1)"><b>bold?</b>\n'
    rendered = readme(metadata(description=broken))
    assert "&lt;b&gt;bold?&lt;/b&gt;" in rendered
    assert active_parts(rendered) == []
    assert readme(metadata(description="<i>x</i>", description_content_type="text/plain")) == (
        "&lt;i&gt;x&lt;/i&gt;"
    )


def test_no_description_renders_nothing() -> None:
    assert readme(None) == ""
    assert readme(metadata(description="  \n")) == ""


def test_links_are_links_only_where_safe() -> None:
    raw = metadata(
        home_page="https://acme.example.com/",
        project_url=[
            "Source, https://git.example.com/acme",
            "Evil, javascript:alert(1)",
            "Mail, mailto:team@example.com",
            "Data, data:text/html,<script>alert(1)</script>",
        ],
    )
    assert [(link["label"], link["linked"]) for link in about(raw)["links"]] == [
        ("Homepage", True),
        ("Source", True),
        ("Evil", False),
        ("Mail", True),
        ("Data", False),
    ]


def test_dependencies_license_and_pythons_as_the_metadata_gives_them() -> None:
    raw = metadata(
        requires_dist=['requests[socks]>=2.28; python_version >= "3.9"', "click"],
        provides_extra=["cli"],
        license="MIT License\n        Permission is hereby granted...",
        classifier=[
            "Programming Language :: Python :: 3",
            "Programming Language :: Python :: 3.12",
            "License :: OSI Approved :: MIT License",
        ],
        author="Ada",
        maintainer_email="team@example.com",
    )
    facts = about(raw)
    assert facts["dependencies"] == ['requests[socks]>=2.28; python_version >= "3.9"', "click"]
    assert (facts["extras"], facts["license"], facts["pythons"]) == (
        ["cli"],
        "MIT License",
        ["3", "3.12"],
    )
    assert [person["shown"] for person in facts["people"]] == ["Ada", "<team@example.com>"]
    written = metadata(author_email="Docs Team <docs@example.com>")  # as hatchling writes it
    assert [person["shown"] for person in about(written)["people"]] == [
        "Docs Team <docs@example.com>"
    ]
    assert about(metadata(license_expression="MIT OR Apache-2.0", license="ignored"))[
        "license"
    ] == ("MIT OR Apache-2.0")


def test_a_readme_rendered_once_is_kept_by_what_it_was_rendered_from(tmp_path: Path) -> None:
    raw = metadata(description="Title\n=====\n\ntext\n")
    assert "<h1>Title" in readme(raw, tmp_path)
    [kept] = tmp_path.iterdir()
    kept.write_text("<p>as kept</p>")
    assert readme(raw, tmp_path) == "<p>as kept</p>"
    as_markdown = metadata(
        description="Title\n=====\n\ntext\n", description_content_type="text/markdown"
    )
    assert "as kept" not in readme(as_markdown, tmp_path)
    assert len(list(tmp_path.iterdir())) == 2

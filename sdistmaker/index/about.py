"""What a project's page for people shows of a release beyond its files, from its metadata: the
README rendered as PyPI renders it, dependencies, links, license, Python versions, people.

Metadata comes from the tags' own builds: it is read as untrusted. The README goes through
readme_renderer, whose sanitiser is PyPI's; every other value is text the templates escape, and
a link only where its URL is http(s) or mail (never ``javascript:``).
"""

from __future__ import annotations

import contextlib
import functools
import hashlib
import importlib.metadata
import re
from collections.abc import Mapping
from pathlib import Path
from typing import TYPE_CHECKING, Any
from urllib.parse import urlsplit

import markupsafe

from sdistmaker.outdir.atomic import write_atomically

if TYPE_CHECKING:
    from packaging.metadata import RawMetadata

_PYTHON = re.compile(r"Programming Language :: Python :: (\d+(?:\.\d+)?)$")
_LINKED_SCHEMES = frozenset({"http", "https", "mailto"})
_NAMELESS_ANCHOR = re.compile(r'<a href="#[^"]*"(?: rel="nofollow")?></a>')
_CODE_LANGUAGE = re.compile(r'<pre lang="([^"]*)">')


def about(raw: RawMetadata | None) -> dict[str, Any]:
    """The facts a page shows of the release with metadata ``raw`` (empty ones when None)."""
    raw = raw or {}
    classifiers = raw.get("classifiers", [])
    return {
        "license": raw.get("license_expression") or _first_line(raw.get("license", "")),
        "requires_python": raw.get("requires_python", ""),
        "pythons": [m.group(1) for m in map(_PYTHON.match, classifiers) if m],
        "dependencies": raw.get("requires_dist", []),
        "extras": raw.get("provides_extra", []),
        "links": _links(raw),
        "people": _people(raw),
        "keywords": raw.get("keywords", []),
        "classifiers": classifiers,
    }


def readme(raw: RawMetadata | None, kept: Path | None = None) -> markupsafe.Markup:
    """The release's long description as PyPI shows it: reStructuredText unless its content type
    says Markdown or plain text, plain text when it does not render; sanitised. Kept in the
    folder ``kept``, by what it was rendered from: a long reStructuredText README takes longer
    to render than all the rest of its page, and every page is rendered again after a
    template changes."""
    text = (raw or {}).get("description", "")
    if not text.strip():
        return markupsafe.Markup("")
    content_type = (raw or {}).get("description_content_type", "")
    if kept is None:
        return _rendered(text, content_type)
    source = "\0".join([_renderer_version(), content_type, text])
    path = kept / f"{hashlib.sha256(source.encode()).hexdigest()}.html"
    with contextlib.suppress(OSError, UnicodeDecodeError):
        return markupsafe.Markup(path.read_text("utf-8"))
    rendered = _rendered(text, content_type)
    kept.mkdir(parents=True, exist_ok=True)
    write_atomically(path, rendered.encode(), kept, durable=False)
    return rendered


@functools.cache
def _renderer_version() -> str:
    return importlib.metadata.version("readme-renderer")


def _rendered(text: str, content_type: str) -> markupsafe.Markup:
    """``text`` rendered as its ``content_type`` says, as readme_renderer renders it for PyPI."""
    # Only here: a run that renders no README does not load docutils and its kin.
    import readme_renderer.markdown
    import readme_renderer.rst
    import readme_renderer.txt

    kind, _, parameters = content_type.partition(";")
    kind = kind.strip().lower()
    rendered: str | None
    if kind == "text/markdown":
        variant = "CommonMark" if "variant=commonmark" in parameters.lower() else "GFM"
        rendered = readme_renderer.markdown.render(text, variant=variant)
    elif kind == "text/plain":
        rendered = readme_renderer.txt.render(text)
    else:
        rendered = readme_renderer.rst.render(text)
    if rendered is None:
        rendered = readme_renderer.txt.render(text)
    # A heading's anchor with no text and no title names nowhere it leads (WCAG 2.4.4), and a
    # code block's language is no human language for a screen reader to speak it in.
    rendered = _NAMELESS_ANCHOR.sub("", rendered or "")
    return markupsafe.Markup(_CODE_LANGUAGE.sub(r'<pre data-lang="\1">', rendered))


def _links(raw: RawMetadata) -> list[dict[str, Any]]:
    """Label, URL and whether it may be a link, for each URL the metadata names."""
    named: dict[str, str] = {}
    if raw.get("home_page"):
        named["Homepage"] = raw["home_page"]
    named.update(raw.get("project_urls", {}))
    if raw.get("download_url"):
        named["Download"] = raw["download_url"]
    return [
        {"label": label, "url": url, "linked": urlsplit(url.strip()).scheme in _LINKED_SCHEMES}
        for label, url in named.items()
    ]


def _people(raw: Mapping[str, Any]) -> list[dict[str, str]]:
    """Author and maintainer, as given: a name, an address, or both (``Name <address>``, as
    backends write a pyproject.toml's name and email into the email field)."""
    people = []
    for role in ("author", "maintainer"):
        name, email = raw.get(role, ""), raw.get(f"{role}_email", "")
        address = email if "<" in email or not email else f"<{email}>"
        shown = " ".join(part for part in (name, address) if part)
        if shown:
            people.append({"role": role.capitalize(), "name": name, "email": email, "shown": shown})
    return people


def _first_line(text: str) -> str:
    """A License field may hold the whole license text: its first line names it."""
    lines = text.strip().splitlines()
    return lines[0] if lines else ""

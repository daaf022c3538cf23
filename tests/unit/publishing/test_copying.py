"""How each object is served from a store: its content type and cache header."""

from __future__ import annotations

import pytest

from sdistmaker.publishing.copying import FILES, PAGES, headers


@pytest.mark.parametrize(
    ("relative", "content_type", "cache"),
    [
        ("index.html", "text/html; charset=utf-8", PAGES),
        ("index.json", "application/vnd.pypi.simple.v1+json", PAGES),
        ("acme/index.json", "application/vnd.pypi.simple.v1+json", PAGES),
        ("acme/pypi.json", "application/json", PAGES),
        ("acme/pypi-1.0.json", "application/json", PAGES),
        ("acme/acme-1.0.tar.gz", "application/gzip", FILES),
        ("acme/acme-1.0-py3-none-any.whl", "application/zip", FILES),
        ("acme/acme-1.0-py3-none-any.whl.metadata", "text/plain; charset=utf-8", FILES),
        ("+/acme.html", "text/html; charset=utf-8", PAGES),
        ("+/index.atom", "application/atom+xml; charset=utf-8", PAGES),
    ],
)
def test_each_object_gets_its_type_and_cache_header(
    relative: str, content_type: str, cache: str
) -> None:
    assert headers(relative) == (content_type, cache)

"""apache/ and nginx/ configurations, each with a real server, a real generated OUTDIR and a
local stand-in for PyPI that holds an upstream-only project and a higher-versioned rival of a
local project. Every test runs against both servers: they must behave alike."""

from __future__ import annotations

import contextlib
import hashlib
import json
import os
import random
import re
import shutil
import subprocess
import sys
import urllib.parse
from collections.abc import Callable, Iterator
from pathlib import Path

import feedparser  # type: ignore[import-untyped]  # (it ships no types)
import pypi_json
import pytest
from packaging.requirements import InvalidRequirement
from selenium import webdriver
from selenium.webdriver.common.by import By

from helpers.projects import hatchling_project, write_defaults
from helpers.repositories import GitRepository
from helpers.servers import apache, fetch, make_wheel, nginx, served_folder, upstream_index
from helpers.system import fresh_venv, installed, small_disk
from sdistmaker.cli import sdists_from_tags
from sdistmaker.index.rules import write_server_rules

PIP_ACCEPT = (
    "application/vnd.pypi.simple.v1+json, application/vnd.pypi.simple.v1+html; q=0.1, "
    "text/html; q=0.01"
)
JSON_TYPE = "application/vnd.pypi.simple.v1+json"


@pytest.fixture(scope="module")
def outdir(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Path]:
    work = tmp_path_factory.mktemp("repositories")
    lib = GitRepository(work / "acme-lib")
    lib.commit(hatchling_project("acme-lib", "1.0"))
    lib.tag("1.0")
    app = GitRepository(work / "acme-app")
    files = hatchling_project("acme.app", "1.0")
    files["pyproject.toml"] = files["pyproject.toml"].replace(
        'version = "1.0"\n', 'version = "1.0"\ndependencies = ["acme-lib"]\n'
    )
    app.commit(files)
    app.tag("1.0")
    broken = GitRepository(work / "broken-thing")
    broken.commit({"setup.py": "raise SystemExit('never builds')\n"})
    broken.tag("1.0")
    served = served_folder()
    defaults = write_defaults(
        work,
        GIT_REPOSITORIES=[lib.url, app.url, broken.url],
        OUTDIR=str(served / "pypi"),
        WHEELS=True,
        PRIVATE_NAMES=["acme-*"],
    )
    assert sdists_from_tags(["-q", "-d", str(defaults)]) == 1  # broken-thing fails
    yield served / "pypi"
    shutil.rmtree(served)


@pytest.fixture(scope="module")
def upstream(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    wheels = tmp_path_factory.mktemp("upstream-wheels")
    # zc.buildout's recipe, as PyPI has it: buildout must fetch it through the fallback.
    recipe = tmp_path_factory.mktemp("recipe")
    subprocess.run(
        [
            sys.executable,
            "-m",
            "pip",
            "download",
            "-q",
            "--no-deps",
            "--only-binary",
            ":all:",
            "-d",
            recipe,
            "zc.recipe.egg",
        ],
        check=True,
    )
    with upstream_index(
        {
            "upstream-only": [make_wheel(wheels, "upstream-only", "1.0")],
            "acme-lib": [make_wheel(wheels, "acme-lib", "99.0")],
            "broken-thing": [make_wheel(wheels, "broken-thing", "5.0")],
            "zc-recipe-egg": list(recipe.glob("*.whl")),
        }
    ) as url:
        yield url


@pytest.fixture(scope="module", params=["apache", "nginx"])
def server(request: pytest.FixtureRequest, outdir: Path, upstream: str) -> Iterator[int]:
    servers: dict[str, Callable[..., contextlib.AbstractContextManager[int]]]
    servers = {"apache": apache, "nginx": nginx}
    start = servers[request.param]
    with start(outdir, upstream) as port:
        yield port


def test_pages_are_html_by_default(server: int) -> None:
    for path in ("/simple/", "/simple/acme-lib/"):
        answer = fetch(server, path)
        assert answer.status == 200
        assert answer.header("Content-Type") == "text/html; charset=utf-8"
        assert answer.header("Vary") == "Accept"
        assert answer.header("Cache-Control") == "public, max-age=60"
        assert answer.body.startswith(b"<!DOCTYPE html>")


def test_json_when_the_accept_header_asks_for_it(server: int) -> None:
    answer = fetch(server, "/simple/acme-lib/", Accept=PIP_ACCEPT)
    assert answer.header("Content-Type") == JSON_TYPE
    assert json.loads(answer.body)["name"] == "acme-lib"
    root = fetch(server, "/simple/", Accept="application/vnd.pypi.simple.latest+json")
    assert root.header("Content-Type") == JSON_TYPE
    assert {"name": "acme-lib"} in json.loads(root.body)["projects"]


HTML_TYPE = "text/html; charset=utf-8"
V1_JSON, V1_HTML = JSON_TYPE, "application/vnd.pypi.simple.v1+html"
NEGOTIATED = [
    # What installers and browsers send.
    (None, "html"),  # zc.buildout
    (PIP_ACCEPT, "json"),
    (f"{V1_JSON}, {V1_HTML};q=0.2, text/html;q=0.01", "json"),  # uv
    ("text/html,application/xhtml+xml,application/xml;q=0.9,*/*;q=0.8", "html"),  # Firefox
    (
        "text/html,application/xhtml+xml,application/xml;q=0.9,image/avif,image/webp,"
        "image/apng,*/*;q=0.8,application/signed-exchange;v=b3;q=0.7",
        "html",
    ),  # Chromium
    ("*/*", "html"),  # curl
    ("", "html"),
    # Weights decide, whatever the order; q=0 is "not acceptable".
    (f"{V1_JSON};q=0.9, text/html;q=0.5", "json"),
    (f"text/html;q=0.5, {V1_JSON};q=0.9", "json"),
    (f"{V1_JSON};q=0.5, text/html;q=0.9", "html"),
    (f"{V1_JSON};q=0.5, text/html;q=0", "json"),
    (f"{V1_JSON};q=0.001, {V1_HTML};q=0, text/html;q=0", "json"),
    (f"text/html;q=0.001, {V1_JSON};q=0", "html"),
    (f"{V1_HTML}, {V1_JSON};q=0.5", "html"),
    (f"{V1_JSON};q=0.9, {V1_JSON};q=0.1, text/html;q=0.5", "json"),
    (f"{V1_JSON} ; Q=0.8 , text/html;q=0.7", "json"),
    (f"{V1_JSON};;q=0.8, text/html;q=0.5", "json"),
    ("APPLICATION/VND.PYPI.SIMPLE.V1+JSON", "json"),
    ("application/vnd.pypi.simple.latest+json", "json"),
    (f"application/vnd.pypi.simple.latest+html, {V1_JSON};q=0.9", "html"),
    # The more specific range decides for a type; on equal weights the page named more
    # specifically wins, then HTML.
    (f"{V1_JSON}, */*", "json"),
    (f"text/*, {V1_JSON}", "json"),
    (f"text/html, {V1_JSON}", "html"),
    (f"{V1_JSON};q=0.5, text/html;q=0.5", "html"),
    ("application/*", "html"),
    (
        f"*/*;q=0.5, {V1_HTML};q=0, text/html;q=0, application/vnd.pypi.simple.latest+html;q=0",
        "json",
    ),
    (f"text/*;q=0, {V1_JSON};q=0.1", "json"),
    # Parameters: charset=utf-8 is what the pages are; a range with any other matches nothing.
    (f"{V1_JSON};charset=utf-8", "json"),
    (f'{V1_JSON};charset="UTF-8"', "json"),
    (f'{V1_JSON};charset="utf\\-8"', "json"),
    (f"{V1_JSON};level=1", "html"),
    (f"{V1_JSON};charset=latin-1", "html"),
    (f"{V1_JSON};q=0.9;charset=utf-8, text/html;q=0.95", "html"),
    (f"text/html;charset=utf-8;q=0.1, text/html;q=0.9, {V1_JSON};q=0.5", "json"),
    # Nothing acceptable: HTML all the same.
    ("text/html;q=0", "html"),
    (f"{V1_JSON};q=0", "html"),
    ("application/json", "html"),
    # Other media types, even those holding the right one, are not it.
    (f"x{V1_JSON}", "html"),
    (f"{V1_JSON}x", "html"),
    (f"foo/text/html, {V1_JSON};q=0.5", "json"),
    (f"{V1_JSON}/x", "html"),
    ("application/vnd.pypi.simple.v2+json", "html"),
    # Malformed ranges count for nothing.
    (f"{V1_JSON};q=1.5", "html"),
    (f"{V1_JSON};q=0.0001", "html"),
    (f"{V1_JSON};q=", "html"),
    (f'{V1_JSON};q="1"', "html"),
    (f"{V1_JSON};q", "html"),
    ("*/json", "html"),
    (f"{V1_JSON}, text/html;q=0.5;q", "json"),
    (f"{V1_JSON};q=0.2, text/html;q=2", "json"),
    # A comma or semicolon inside a quoted string separates nothing.
    (f'text/plain;x=", {V1_JSON}"', "html"),
    (f'text/plain;x="a\\\\", {V1_JSON}', "json"),
    (f'text/plain;x="a\\", {V1_JSON}', "html"),
    (f'{V1_JSON};x=";q=0", text/html;q=0.1', "html"),
]


@pytest.mark.parametrize(("accept", "page"), NEGOTIATED)
def test_the_page_is_negotiated_as_http_has_it(server: int, accept: str | None, page: str) -> None:
    headers = {} if accept is None else {"Accept": accept}
    for path in ("/simple/", "/simple/acme-lib/"):
        answer = fetch(server, path, **headers)
        assert answer.status == 200
        assert answer.header("Content-Type") == {"json": JSON_TYPE, "html": HTML_TYPE}[page]
        assert answer.header("Vary") == "Accept"


@pytest.fixture(scope="module")
def both(outdir: Path, upstream: str) -> Iterator[dict[str, int]]:
    """Apache and nginx at once, on the same OUTDIR: their port by name."""
    with apache(outdir, upstream) as apache_port, nginx(outdir, upstream) as nginx_port:
        yield {"apache": apache_port, "nginx": nginx_port}


def accept_headers(count: int) -> list[str]:
    """Accept headers made of the parts negotiation must get right, in many combinations."""
    ranges = [V1_JSON, "application/vnd.pypi.simple.latest+json", V1_HTML, "text/html"]
    ranges += ["application/vnd.pypi.simple.latest+html", "TEXT/HTML", "text/*", "*/*"]
    ranges += ["application/*", "application/json", "text/plain", "*/json", f"x{V1_JSON}", ""]
    parameters = ["", "", ";q=0", ";q=0.5", ";q=1", ";q=0.001", ";q=1.000", ";q=0.10"]
    parameters += [";q=0.5000", ";q=1.5", ";q=", ";Q=0.3", " ; q=0.7", ";charset=utf-8"]
    parameters += [';charset="UTF-8"', ";level=1", ";q=0.2;charset=utf-8", ';x=","', ";;", ";q"]
    pick = random.Random(691)
    return [
        pick.choice([", ", ",", " , "]).join(
            pick.choice(ranges) + pick.choice(parameters) for _ in range(pick.randint(1, 4))
        )
        for _ in range(count)
    ]


def test_both_servers_negotiate_as_the_rules_say(both: dict[str, int]) -> None:
    """Apache negotiates in Lua, nginx in Perl: both answer every header as the rules do."""
    chosen: dict[str, list[str]] = {}
    differ = []
    for accept in accept_headers(400):
        page = negotiated(accept)
        chosen.setdefault(page, []).append(accept)
        for name, port in both.items():
            answer = fetch(port, "/simple/acme-lib/", Accept=accept).header("Content-Type")
            if answer != {"json": JSON_TYPE, "html": HTML_TYPE}[page]:
                differ.append((name, accept, answer))
    assert differ == [], "\n".join(map(str, differ))
    assert sorted(chosen) == ["html", "json"]
    assert min(len(headers) for headers in chosen.values()) > 40


PAGE_TYPES = {
    V1_JSON: "json",
    "application/vnd.pypi.simple.latest+json": "json",
    V1_HTML: "html",
    "application/vnd.pypi.simple.latest+html": "html",
    "text/html": "html",
}
QUOTED = r'"(?:[^"\\]|\\.)*"'


def negotiated(accept: str) -> str:
    """The page the rules choose (README, Serving it), for headers whose quotes are closed."""
    best = {"json": (0, -1), "html": (0, -1)}
    for media_type, page in PAGE_TYPES.items():
        kind, subtype = media_type.split("/")
        rated = [
            (specificity, weight)
            for range_kind, range_subtype, weight, specificity in media_ranges(accept)
            if range_kind in ("*", kind) and range_subtype in ("*", subtype)
        ]
        specificity, weight = max(rated, default=(-1, 0))
        best[page] = max(best[page], (weight, specificity))
    json_page, html_page = best["json"], best["html"]
    return "json" if json_page[0] > 0 and json_page > html_page else "html"


def media_ranges(accept: str) -> Iterator[tuple[str, str, int, int]]:
    """(type, subtype, weight in thousandths, specificity) of each well-formed range of
    ``accept`` with no parameter but q and charset=utf-8."""
    token = re.compile(r"[-!#$%&'*+.^_`|~0-9a-z]+")
    for element in re.findall(rf"(?:[^,\"]|{QUOTED})+", accept):
        media_range, *parameters = re.findall(rf"(?:[^;\"]|{QUOTED})+", element) or [""]
        kind, _, subtype = media_range.strip(" \t").lower().partition("/")
        if not (token.fullmatch(kind) and token.fullmatch(subtype)) or kind == "*" != subtype:
            continue
        weight, specificity = 1000, (kind != "*") * 2 + (subtype != "*") * 2
        for name, equals, value in (p.strip(" \t").partition("=") for p in parameters):
            name, value = name.strip(" \t").lower(), value.strip(" \t")
            if name == "q" and re.fullmatch(r"0(\.[0-9]{0,3})?|1(\.0{0,3})?", value):
                weight = round(float(value) * 1000)
            elif name == "charset" and value.strip('"').lower() == "utf-8":
                specificity |= 1
            elif name or equals:
                break
        else:
            yield kind, subtype, weight, specificity


URL_SHAPES = [
    "/simple",
    "/simple?format=text/html",
    "/simple/",
    "/simple/index.html",
    "/simple/index.json",
    f"/simple/index.html?format={V1_JSON}",
    "/simple/index.json/",
    "/simple/index",
    "/simple/+",
    "/simple/+?a=b",
    "/simple/+/",
    "/simple/+/index.html",
    "/simple/+/acme-lib.html",
    "/simple/+/acme-lib.atom",
    "/simple/+/index.atom",
    "/simple/+/missing.html",
    "/simple/+/x/",
    "/simple/+/../acme-lib/",
    "/simple/%2B/",
    "/simple/acme-lib",
    "/simple/acme-lib/",
    "/simple/Acme-Lib/",
    "/simple/acme-lib/index.html",
    "/simple/acme-lib/index.json",
    "/simple/acme-lib/index.json?format=text/html",
    "/simple/Acme-Lib/index.json",
    "/simple/acme-lib/index.htm",
    "/simple/acme-lib/acme_lib-1.0.tar.gz",
    "/simple/acme-lib/acme_lib-1.0.tar.gz?x=1",
    "/simple/acme-lib/acme_lib-1.0.tar.gz/",
    "/simple/acme-lib/acme_lib-1.0.tar.gz.metadata",
    "/simple/acme-lib/acme_lib-9.0.tar.gz",
    "/simple/acme-lib/notes.txt",
    "/simple/acme-lib/sub/acme_lib-1.0.tar.gz",
    "/simple/acme-lib/sub/",
    "/simple//acme-lib/",
    "/simple/acme-lib//",
    "/simple/upstream-only",
    "/simple/upstream-only/",
    "/simple/upstream-only/index.html",
    "/simple/upstream-only/upstream_only-1.0-py3-none-any.whl",
    "/simple/acme-missing/",
    "/simple/broken-thing/",
    "/simple/foo.tar.gz",
    "/simple/-/",
    "/simple/.sdistmaker/state.json",
    "/simple/acme-lib/.x.tar.gz",
    "/simple/acme-lib/pypi.json",
    "/pypi",
    "/pypi/",
    "/pypi/acme-lib/",
    "/pypi/acme-lib/json",
    "/pypi/acme-lib/json/",
    "/pypi/acme-lib/1.0/json/?x=1",
    "/pypi/Acme-Lib/json/",
    "/pypi/Acme_Lib/json",
    "/pypi/ACME..lib/1.0/json?x=1",
    "/pypi/acme-lib/1.0/json",
    "/pypi/acme-lib/1.0/../json",
    "/pypi/acme-lib/9.9/json",
    "/pypi/acme-lib/1.0/extra/json",
    "/pypi/acme-lib/a%2Fb/json",
    "/pypi/acme-lib/.x/json",
    "/pypi/acme-missing/json",
    "/pypi/upstream-only/json",
    "/pypi/broken-thing/json",
    "/pypi/-bad-/json",
    "/pypi/acme-lib/pypi.json",
]


def test_both_servers_answer_every_url_alike(both: dict[str, int], outdir: Path) -> None:
    """Status, redirect, type and caching of every shape of URL (the host left out)."""
    notes = outdir / "acme-lib" / "notes.txt"
    notes.write_text("put there by hand: not the index's\n")
    try:
        differ = []
        for path in URL_SHAPES:
            answers = {name: seen(port, path) for name, port in both.items()}
            if answers["apache"] != answers["nginx"]:
                differ.append((path, answers))
    finally:
        notes.unlink()
    assert differ == [], "\n".join(map(str, differ))


def seen(port: int, path: str) -> tuple[object, ...]:
    """What a client makes of the answer: the status, where a redirect leads (without the
    host), the caching; type and content of a page or file (not of the servers' own error
    pages)."""
    answer = fetch(port, path)
    location = answer.header("Location").replace(f"http://127.0.0.1:{port}", "")
    caching = (answer.header("Cache-Control"), answer.header("Vary"))
    if answer.status != 200:
        return (answer.status, location, *caching)
    return (answer.status, location, *caching, answer.header("Content-Type"), answer.body)


@pytest.mark.parametrize(
    ("query", "accept", "content_type"),
    [
        ("format=application/vnd.pypi.simple.v1%2Bjson", "text/html", JSON_TYPE),
        ("format=application/vnd.pypi.simple.v1+json", "", JSON_TYPE),
        ("format=application/vnd.pypi.simple.latest%2Bjson", "", JSON_TYPE),
        ("format=text/html", PIP_ACCEPT, "text/html; charset=utf-8"),
        ("format=application/vnd.pypi.simple.v1%2Bhtml", PIP_ACCEPT, "text/html; charset=utf-8"),
        ("format=APPLICATION/VND.PYPI.SIMPLE.V1%2BJSON", "", JSON_TYPE),
        ("format=application%2Fvnd.pypi.simple.v1%2bjson", "", JSON_TYPE),
        ("x=1&format=application/vnd.pypi.simple.v1%2Bjson", "", JSON_TYPE),
        ("format=text/html&format=application/vnd.pypi.simple.v1%2Bjson", "", HTML_TYPE),
        ("format=application/json", PIP_ACCEPT, JSON_TYPE),
        ("format=application/json", "", HTML_TYPE),
        ("format", PIP_ACCEPT, JSON_TYPE),
        ("xformat=text/html", PIP_ACCEPT, JSON_TYPE),
    ],
)
def test_format_in_the_query_wins_over_accept(
    server: int, query: str, accept: str, content_type: str
) -> None:
    headers = {"Accept": accept} if accept else {}
    answer = fetch(server, f"/simple/acme-lib/?{query}", **headers)
    assert (answer.status, answer.header("Content-Type")) == (200, content_type)


@pytest.mark.parametrize(
    ("path", "location"),
    [
        ("/simple", "/simple/"),
        ("/simple/acme-lib", "/simple/acme-lib/"),
        ("/simple/Acme.Lib/", "/simple/acme-lib/"),
        ("/simple/ACME__lib", "/simple/acme-lib/"),
        ("/simple/acme_-.lib/", "/simple/acme-lib/"),
        ("/simple/Upstream_Only", "/simple/upstream-only/"),
    ],
)
def test_one_301_to_the_normalised_project_url(server: int, path: str, location: str) -> None:
    answer = fetch(server, path)
    assert answer.status == 301
    assert answer.header("Location") == f"http://127.0.0.1:{server}{location}"
    assert fetch(server, location).status in (200, 302)


def test_a_name_needing_many_folds_is_one_301_or_a_404_never_an_error(server: int) -> None:
    """Apache folds one run a round, up to a limit no name in use comes near."""
    folded = fetch(server, "/simple/" + "A_" * 40 + "b/")
    assert folded.status == 301
    assert folded.header("Location") == f"http://127.0.0.1:{server}/simple/{'a-' * 40}b/"
    assert fetch(server, "/simple/" + "a_" * 100 + "b/").status in (301, 404)


@pytest.mark.parametrize(
    "path",
    [
        "/simple/x%0d%0aSet-Cookie:%20a=b/",
        "/simple/X%0aSet-Cookie:%20a=b",
        "/simple/x%0d%0aSet-Cookie:%20a=b",
        "/simple/acme-missing%3F/",
        "/simple/a%23b/",
        "/simple/a%20b/",
        "/simple/caf%C3%A9/",
        "/simple/-lib/",
        "/simple/lib_/",
        "/simple/acme-lib%0a/",
    ],
)
def test_a_name_no_distribution_can_have_is_404_never_a_redirect(server: int, path: str) -> None:
    """Such a name is no project's, here or upstream; in a Location header it could add
    headers of its own (a line end) or ask upstream for another name (a ``?``)."""
    answer = fetch(server, path)
    assert answer.status == 404
    assert answer.header("Location") == ""
    assert answer.header("Set-Cookie") == ""


def test_redirects_keep_the_query(server: int, upstream: str) -> None:
    query = "?format=application/vnd.pypi.simple.v1%2Bjson"
    normalised = fetch(server, f"/simple/Acme_Lib{query}")
    assert normalised.status == 301
    assert normalised.header("Location") == f"http://127.0.0.1:{server}/simple/acme-lib/{query}"
    assert fetch(server, f"/simple/acme-lib/{query}").header("Content-Type") == JSON_TYPE
    assert fetch(server, f"/simple/upstream-only/{query}").header("Location") == (
        f"{upstream}/upstream-only/{query}"
    )


def test_a_project_not_here_is_a_302_upstream_never_cached(server: int, upstream: str) -> None:
    answer = fetch(server, "/simple/upstream-only/")
    assert answer.status == 302
    assert answer.header("Location") == f"{upstream}/upstream-only/"
    assert answer.header("Cache-Control") == "no-store"


def test_a_local_project_never_goes_upstream(server: int) -> None:
    answer = fetch(server, "/simple/acme-lib/", Accept=PIP_ACCEPT)
    assert answer.status == 200
    assert [f["filename"] for f in json.loads(answer.body)["files"]] == [
        "acme_lib-1.0-py2.py3-none-any.whl",
        "acme_lib-1.0.tar.gz",
    ]


def test_a_crawled_project_with_nothing_built_answers_here(server: int) -> None:
    answer = fetch(server, "/simple/broken-thing/")
    assert answer.status == 200
    assert b"<a " not in answer.body


@pytest.mark.parametrize(
    ("path", "status", "location"),
    [
        ("/simple/+", 301, "/simple/+/"),
        ("/simple/+?format=text/html", 301, "/simple/+/?format=text/html"),
        ("/simple/acme-lib/index.html", 200, ""),
        ("/simple/acme-lib/index.json", 200, ""),
        ("/simple/acme-lib/notes.txt", 404, ""),
        ("/simple/acme-lib/sub/acme_lib-1.0.tar.gz", 404, ""),
    ],
)
def test_urls_of_folders_and_files(
    server: int, outdir: Path, path: str, status: int, location: str
) -> None:
    """The pages for people are a folder (one 301 to it, as for projects); a project's folder
    serves its pages and files, nothing else put there (as both servers do)."""
    notes = outdir / "acme-lib" / "notes.txt"
    notes.write_text("put there by hand: not the index's\n")
    try:
        answer = fetch(server, path)
    finally:
        notes.unlink()
    assert answer.status == status
    assert answer.header("Location").replace(f"http://127.0.0.1:{server}", "") == location


@contextlib.contextmanager
def out_of_sight(folder: Path) -> Iterator[None]:
    """``folder`` moved away meanwhile, as while it is restored from a backup."""
    away = folder.with_name(f"{folder.name}.away")
    folder.rename(away)
    try:
        yield
    finally:
        away.rename(folder)


@contextlib.contextmanager
def unreadable(folder: Path) -> Iterator[None]:
    """``folder`` closed to other users (0700) meanwhile: the web servers run as www-data."""
    mode = folder.stat().st_mode
    folder.chmod(0o700)
    try:
        yield
    finally:
        folder.chmod(mode)


def test_a_known_project_out_of_sight_is_404_never_upstream(server: int, outdir: Path) -> None:
    """broken-thing was crawled (nothing of it built) and upstream has a project of that name:
    while its folder is out of sight, installers must not be sent there. PRIVATE_NAMES does not
    match it: the rules sdistmaker writes know it from the state."""
    with out_of_sight(outdir / "broken-thing"):
        answer = fetch(server, "/simple/broken-thing/")
    assert (answer.status, answer.header("Location")) == (404, "")
    assert answer.header("Cache-Control") == "no-store"
    with unreadable(outdir / "broken-thing"):
        assert fetch(server, "/simple/broken-thing/").status == 403
    assert fetch(server, "/simple/broken-thing/").status == 200


@contextlib.contextmanager
def emptied(outdir: Path, how: str) -> Iterator[None]:
    """OUTDIR as a web server sees it when its disk is not mounted (an empty folder, an empty
    disk mounted in its place) or when it may not read it."""
    if how == "unreadable":
        with unreadable(outdir):
            yield
    elif how == "empty folder":
        with out_of_sight(outdir):
            outdir.mkdir()
            outdir.chmod(0o755)
            try:
                yield
            finally:
                outdir.rmdir()
    else:
        with small_disk(outdir, "1m"):
            outdir.chmod(0o755)
            yield


@pytest.mark.parametrize("how", ["empty folder", "empty disk", "unreadable"])
def test_without_outdir_in_sight_nothing_goes_upstream(server: int, outdir: Path, how: str) -> None:
    """Fail closed: every project looks missing then, and none may go to a public index; a
    503 says the index is not there, and is never cached."""
    with emptied(outdir, how):
        for name in ("upstream-only", "acme-lib", "broken-thing", "acme-missing"):
            answer = fetch(server, f"/simple/{name}/", Accept=PIP_ACCEPT)
            assert (answer.status, answer.header("Location")) == (503, ""), name
            assert answer.header("Cache-Control") == "no-store"
    assert fetch(server, "/simple/upstream-only/").status == 302


@pytest.fixture(scope="module")
def many_known(upstream: str) -> Iterator[tuple[Path, list[str]]]:
    """An OUTDIR whose rules know 12,000 projects (none of them here), as a large index's."""
    served = served_folder()
    private = served / "pypi" / ".sdistmaker"
    private.mkdir(parents=True)
    (served / "pypi" / "index.html").write_text("<!DOCTYPE html><title>Simple index</title>\n")
    names = [f"team{number % 40}-lib-{number}" for number in range(12_000)]
    write_server_rules(private, ["secret-*"], None, names, {})
    yield served / "pypi", names
    shutil.rmtree(served)


@pytest.mark.parametrize("start", [apache, nginx], ids=["apache", "nginx"])
def test_thousands_of_known_names_never_go_upstream(
    start: Callable[..., contextlib.AbstractContextManager[int]],
    many_known: tuple[Path, list[str]],
    upstream: str,
) -> None:
    outdir, names = many_known
    with start(outdir, upstream) as port:
        for name in [*names[::500], names[-1], "secret-x"]:
            answer = fetch(port, f"/simple/{name}/")
            assert (answer.status, answer.header("Location")) == (404, ""), name
        for name in (
            "team1-lib-120000",
            "team1-lib",
            "team1-lib-1x",
            "eam1-lib-1",
            "upstream-only",
        ):
            assert fetch(port, f"/simple/{name}/").status == 302, name


@pytest.fixture(scope="module")
def published_under_umask_077(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Path]:
    """An OUTDIR that a run under umask 077 made and published to (a hardened account's cron),
    in a folder www-data may reach."""
    work = tmp_path_factory.mktemp("umask")
    tool = GitRepository(work / "acme-tool")
    tool.commit(hatchling_project("acme-tool", "1.0"))
    tool.tag("1.0")
    served = served_folder()
    defaults = write_defaults(work, GIT_REPOSITORIES=[tool.url], OUTDIR=str(served / "pypi"))
    command = [str(Path(sys.executable).parent / "sdists_from_tags"), "-q", "-d", str(defaults)]
    run = subprocess.run(command, capture_output=True, text=True, umask=0o077)
    assert (run.returncode, run.stdout + run.stderr) == (0, "")
    yield served / "pypi"
    shutil.rmtree(served)


@pytest.mark.parametrize("start", [apache, nginx], ids=["apache", "nginx"])
def test_www_data_serves_what_a_run_under_umask_077_published(
    start: Callable[..., contextlib.AbstractContextManager[int]],
    published_under_umask_077: Path,
    upstream: str,
) -> None:
    with start(published_under_umask_077, upstream) as port:
        page = fetch(port, "/simple/acme-tool/")
        assert page.status == 200
        assert b"acme_tool-1.0.tar.gz" in page.body
        assert fetch(port, "/simple/acme-tool/acme_tool-1.0.tar.gz").status == 200
        assert fetch(port, "/simple/+/acme-tool.html").status == 200


def test_a_private_name_not_here_is_404_not_upstream(server: int) -> None:
    assert fetch(server, "/simple/acme-missing/").status == 404
    assert fetch(server, "/simple/Acme_Missing").status == 301
    assert fetch(server, "/simple/not-acme/").status == 302


@pytest.mark.parametrize(
    "path",
    [
        "/simple/.sdistmaker/",
        "/simple/.sdistmaker/state.json",
        "/simple/.sdistmaker/lock",
        "/simple/.sdistmaker/logs/broken-thing/1.0.log",
        "/simple/acme-lib/.partial-x",
        "/simple/%2esdistmaker/state.json",
    ],
)
def test_internals_are_refused(server: int, path: str) -> None:
    assert fetch(server, path).status == 403


@pytest.mark.parametrize("name", [".index.html.swp", "acme-lib/.x.tar.gz", "+/.index.html.swp"])
def test_dot_files_are_refused_in_every_folder(server: int, outdir: Path, name: str) -> None:
    """An editor's swap file, a copy tool's temporary: put there by hand, never served."""
    dot_file = outdir / name
    dot_file.write_text("draft")
    try:
        assert fetch(server, f"/simple/{name}").status == 403
    finally:
        dot_file.unlink()


def test_files_are_cached_for_good_and_support_head_and_range(server: int, outdir: Path) -> None:
    path = "/simple/acme-lib/acme_lib-1.0.tar.gz"
    size = (outdir / "acme-lib" / "acme_lib-1.0.tar.gz").stat().st_size
    head = fetch(server, path, method="HEAD")
    assert (head.status, head.header("Content-Length"), head.body) == (200, str(size), b"")
    assert head.header("Cache-Control") == "public, max-age=31536000, immutable"
    part = fetch(server, path, Range="bytes=0-9")
    assert (part.status, len(part.body)) == (206, 10)
    assert part.header("Content-Range") == f"bytes 0-9/{size}"
    metadata = fetch(server, path + ".metadata")
    assert metadata.status == 200
    assert metadata.body == (outdir / "acme-lib" / "acme_lib-1.0.tar.gz.metadata").read_bytes()


def test_the_json_api_is_served_beside_the_index(server: int, outdir: Path) -> None:
    """PyPI's paths, its shape: every file the documents list is there, with their hash."""
    for path, version in (("/pypi/acme-lib/json", "1.0"), ("/pypi/acme-lib/1.0/json", "1.0")):
        answer = fetch(server, path)
        assert (answer.status, answer.header("Content-Type")) == (200, "application/json")
        document = json.loads(answer.body)
        assert document["info"]["version"] == version
        assert {f["filename"] for f in document["urls"]} == {
            "acme_lib-1.0.tar.gz",
            "acme_lib-1.0-py2.py3-none-any.whl",
        }
        for entry in document["urls"]:
            url = urllib.parse.urljoin(f"http://127.0.0.1:{server}{path}", entry["url"])
            file = fetch(server, urllib.parse.urlsplit(url).path)
            assert file.status == 200
            assert entry["digests"]["sha256"] == hashlib.sha256(file.body).hexdigest()
            assert entry["size"] == len(file.body)
    assert json.loads(fetch(server, "/pypi/acme-app/json").body)["info"]["requires_dist"] == [
        "acme-lib"
    ]


def test_the_feeds_are_served_for_feed_readers(server: int) -> None:
    for path in ("/simple/+/index.atom", "/simple/+/acme-lib.atom"):
        answer = fetch(server, path)
        assert answer.status == 200
        assert answer.header("Content-Type") == "application/atom+xml; charset=utf-8"
        url = f"http://127.0.0.1:{server}{path}"
        served = {"content-location": url, "content-type": answer.header("Content-Type")}
        feed = feedparser.parse(answer.body, response_headers=served)
        assert not feed.bozo
        assert "acme-lib 1.0" in [entry.title for entry in feed.entries]
        for entry in feed.entries:
            page = urllib.parse.urlsplit(urllib.parse.urljoin(url, entry.link)).path
            assert fetch(server, page).status == 200


def test_a_wheel_says_the_sdist_it_was_built_from(outdir: Path) -> None:
    files = json.loads((outdir / "acme-lib" / "index.json").read_text())["files"]
    provenance = {file["filename"]: file["_provenance"] for file in files}
    sdist, wheel = "acme_lib-1.0.tar.gz", "acme_lib-1.0-py2.py3-none-any.whl"
    assert provenance[wheel].pop("built_from") == sdist
    assert provenance[wheel].pop("built") >= provenance[sdist].pop("built")
    assert provenance[wheel] == provenance[sdist]


def test_a_tool_reading_pypis_json_api_reads_it(server: int) -> None:
    """pypi-json, a client of PyPI's JSON API, pointed at the index's."""
    with pypi_json.PyPIJSON(f"http://127.0.0.1:{server}/pypi") as client:
        metadata = client.get_metadata("Acme.Lib")  # the 301 to the normalised name followed
        assert str(metadata.get_latest_version()) == "1.0"
        assert metadata.info["name"] == "acme-lib"
        digests = metadata.get_releases_with_digests()
        assert sorted(f["digest"] for f in digests["1.0"]) == sorted(
            f["digests"]["sha256"] for f in metadata.urls
        )
        with pytest.raises(InvalidRequirement, match="upstream-only"):  # its way of saying 404
            client.get_metadata("upstream-only")


def test_the_pages_for_people_are_served(server: int) -> None:
    answer = fetch(server, "/simple/+/")
    assert answer.status == 200
    assert b"acme-lib" in answer.body
    page = fetch(server, "/simple/+/acme-lib.html")
    assert page.status == 200
    assert page.header("Cache-Control") == "public, max-age=60"


def pip(python: Path, server: int, *requirements: str) -> subprocess.CompletedProcess[str]:
    index = f"http://127.0.0.1:{server}/simple/"
    command = [sys.executable, "-m", "pip", "--python", str(python), "install", "--no-cache-dir"]
    command += ["--only-binary", ":all:", "--index-url", index, *requirements]
    return subprocess.run(command, capture_output=True, text=True)


def uv(python: Path, server: int, *requirements: str) -> subprocess.CompletedProcess[str]:
    binary = shutil.which("uv") or str(Path(sys.executable).parent / "uv")
    index = f"http://127.0.0.1:{server}/simple/"
    command = [binary, "pip", "install", "--python", str(python), "--no-cache"]
    command += ["--only-binary", ":all:", "--index-url", index, *requirements]
    return subprocess.run(
        command, capture_output=True, text=True, env={**os.environ, "UV_NO_PROGRESS": "1"}
    )


@pytest.mark.parametrize("install", [pip, uv], ids=["pip", "uv"])
def test_installers_take_local_projects_here_and_others_upstream(
    server: int, tmp_path: Path, install: Callable[..., subprocess.CompletedProcess[str]]
) -> None:
    python = fresh_venv(tmp_path / "venv")
    result = install(python, server, "acme.app", "upstream-only")
    assert result.returncode == 0, result.stderr
    versions = installed(python)
    assert versions["acme.app"] == "1.0"
    assert versions["acme-lib"] == "1.0"  # never the upstream rival's 99.0
    assert versions["upstream-only"] == "1.0"
    missing = install(python, server, "acme-missing")
    assert missing.returncode != 0


def test_buildout_installs_a_local_project_through_the_index(
    server: int, buildout: Path, tmp_path: Path
) -> None:
    (tmp_path / "buildout.cfg").write_text(
        "[buildout]\n"
        "parts = app\n"
        f"index = http://127.0.0.1:{server}/simple/\n"
        "newest = false\n"
        "[app]\n"
        "recipe = zc.recipe.egg\n"
        "eggs = acme.app\n"
    )
    result = subprocess.run(
        [buildout, "-c", tmp_path / "buildout.cfg"], cwd=tmp_path, capture_output=True, text=True
    )
    assert result.returncode == 0, result.stdout + result.stderr
    eggs = sorted(p.name.split("-py")[0] for p in (tmp_path / "eggs").rglob("*.egg"))
    # Local projects from here (never the upstream rival's acme-lib 99.0), the recipe from
    # upstream through the fallback.
    assert eggs[:2] == ["acme.app-1.0", "acme_lib-1.0"]
    assert [egg.split("-")[0] for egg in eggs[2:]] == ["zc.recipe.egg"]


def test_the_front_page_works_in_a_browser(
    server: int, browser: webdriver.Chrome, tmp_path: Path
) -> None:
    browser.get(f"http://127.0.0.1:{server}/simple/+/")
    assert browser.title == "Private packages"

    def shown() -> list[str]:
        rows = browser.find_elements(By.CSS_SELECTOR, "#projects tbody tr")
        return [row.find_element(By.TAG_NAME, "a").text for row in rows if row.is_displayed()]

    assert shown() == ["acme-app", "acme-lib", "broken-thing"]
    hint = browser.find_element(By.CSS_SELECTOR, ".note code").text
    assert hint == f"pip install --index-url http://127.0.0.1:{server}/simple/ NAME"
    screenshot = tmp_path / "front-page.png"
    browser.save_screenshot(str(screenshot))
    assert screenshot.read_bytes().startswith(b"\x89PNG")

    search = browser.find_element(By.ID, "filter")
    search.send_keys("LIB")
    assert shown() == ["acme-lib"]
    search.send_keys("zzz")
    assert shown() == []
    assert browser.find_element(By.ID, "nothing").is_displayed()
    search.clear()
    search.send_keys(" ")  # an input event with no words: everything again
    assert shown() == ["acme-app", "acme-lib", "broken-thing"]

    browser.find_element(By.LINK_TEXT, "acme-lib").click()
    assert browser.title == "acme-lib 1.0"
    link = browser.find_element(By.LINK_TEXT, "acme_lib-1.0.tar.gz")
    assert (
        link.get_attribute("href")
        == f"http://127.0.0.1:{server}/simple/acme-lib/acme_lib-1.0.tar.gz"
    )

"""Properties over any tag name, project name and metadata text (hypothesis)."""

from __future__ import annotations

import os
import re
import tempfile
from pathlib import Path
from xml.etree.ElementTree import Element

import html5lib
from hypothesis import example, given, settings
from hypothesis import strategies as st
from packaging.utils import canonicalize_name
from packaging.version import Version

from sdistmaker.dists.distributions import DistributionFile
from sdistmaker.index.pages import Project, Renderer, TagFailure
from sdistmaker.index.rules import name_pattern
from sdistmaker.models import version_from_tag_name
from sdistmaker.outdir.store import Store
from sdistmaker.urls import public_url, redact

CONTROL = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f]")
text = st.text(st.characters(codec="utf-8"), max_size=60)
names = st.from_regex(r"[A-Za-z0-9]([A-Za-z0-9._-]{0,30}[A-Za-z0-9])?", fullmatch=True)


@given(text)
def test_a_tag_name_is_a_normalised_version_or_no_release(name: str) -> None:
    version = version_from_tag_name(name)
    if version is not None:
        assert str(Version(version)) == version


# Project names of words, versions with a dot: "acme-2-3" could be acme-2 3 or acme 2.post3 (a
# valid version on its own), and the whole tag name is taken as a version first.
words = st.from_regex(r"[A-Za-z][A-Za-z_.]{0,20}[A-Za-z]", fullmatch=True)


@given(st.from_regex(r"v?[0-9]{1,3}(\.[0-9]{1,3}){1,3}", fullmatch=True), words)
def test_project_prefixes_never_change_the_version(version: str, project: str) -> None:
    expected = str(Version(version))
    assert version_from_tag_name(version) == expected
    assert version_from_tag_name(f"{project}-{version}") == expected


# User names and passwords as URLs carry them: characters that would end the user information
# (: / ? # @ [ ]) are percent-encoded.
credentials = st.from_regex(r"([A-Za-z0-9._~!$&'()*+,;=-]|%[0-9A-F]{2}){1,12}", fullmatch=True)
# Query parameters that hold a secret: their names say so, in any case, as part of the name.
secret_words = ["token", "Token", "KEY", "secret", "Password", "auth", "sig", "Signature"]
affixes = st.from_regex(r"[A-Za-z_-]{0,5}", fullmatch=True)
secret_names = st.builds("{}{}{}".format, affixes, st.sampled_from(secret_words), affixes)
secret_values = st.from_regex(r"[A-Za-z0-9._~-]{1,20}", fullmatch=True)
MESSAGES = ("fatal: unable to access '{}': 403", "svn: E170013: Unable to connect to {}\n")


@given(credentials, credentials, secret_names, secret_values)
def test_credentials_never_survive_in_a_url_or_a_message(
    user: str, password: str, name: str, value: str
) -> None:
    public = "https://git.example.com/acme/repo.git"
    shown = {
        f"https://{user}:{password}@git.example.com/acme/repo.git": public,
        f"https://{user}@git.example.com/acme/repo.git": public,  # a token as the user name
        f"{public}?ref=main&{name}={value}": f"{public}?ref=main",
        # ssh takes no password in a URL; its user name is no secret.
        f"ssh://{user}:{password}@git.example.com/r.git": f"ssh://{user}@git.example.com/r.git",
    }
    for url, expected in shown.items():
        assert public_url(url) == expected
        for message in MESSAGES:
            assert redact(message.format(url)) == message.format(expected)


@given(text)
def test_any_text_as_a_url_gives_a_message_not_a_crash(url: str) -> None:
    assert isinstance(public_url(url), str)


@given(names)
def test_a_private_name_pattern_matches_every_spelling_of_its_name(name: str) -> None:
    pattern = re.compile(name_pattern([name]))
    assert pattern.match(canonicalize_name(name))
    assert pattern.match(canonicalize_name(name.upper()))


def fact(filename: str, version: str, summary: str, requires_python: str) -> DistributionFile:
    return DistributionFile(
        filename=filename,
        version=version,
        sha256="0" * 64,
        size=1,
        upload_time="2026-01-01T00:00:00Z",
        requires_python=requires_python,
        summary=summary,
    )


# Names as a VCS gives them: never empty, anything else. Besides any text, names made of the
# characters that encodings of names to paths confuse, and names too long for a file name.
vcs_names = (
    st.text(st.characters(codec="utf-8"), min_size=1, max_size=60)
    | st.text(st.sampled_from("/_.%~-aA1 \u00e9\x1b"), min_size=1, max_size=8)
    | st.text(st.sampled_from("/_\u00e9"), min_size=60, max_size=120)
)


@given(vcs_names, vcs_names)
@example("..", "../../../etc/passwd")
@example(".hidden", ".")
def test_a_log_path_stays_in_its_project_folder_in_the_logs_folder(project: str, tag: str) -> None:
    with tempfile.TemporaryDirectory() as outdir:
        store = Store(Path(outdir).resolve())
        path = store.log_path(project, tag)
        assert path.parent.parent == store.logs
        assert not [part for part in path.relative_to(store.logs).parts if part.startswith(".")]
        path.parent.mkdir(parents=True)
        path.write_text("")  # a name the file system takes
        assert os.path.realpath(path) == str(path)


@given(st.lists(vcs_names, min_size=2, max_size=6, unique=True), st.lists(vcs_names, max_size=6))
@example(["release/1.0", "release_1.0", "release%2F1.0"], ["1.0"])
@example(["p"], ["release/1.0", "release_1.0", "release%2F1.0", "%2E1.0", ".1.0"])
def test_different_names_give_different_log_paths(projects: list[str], tags: list[str]) -> None:
    store = Store(Path("/srv/pypi"))
    tags = list(dict.fromkeys([*tags, "1.0"]))
    paths = {store.log_path(project, tag) for project in projects for tag in tags}
    assert len(paths) == len(projects) * len(tags)


def parse(page: str) -> Element:
    """The page as a browser reads it; any HTML5 parse error fails."""
    document: Element = html5lib.HTMLParser(strict=True, namespaceHTMLElements=False).parse(page)
    return document


def text_of(element: Element | None) -> str:
    assert element is not None
    return "".join(element.itertext())


def shown(value: str) -> str:
    """What a reader sees of any text a page shows: control characters replaced, and line ends
    as HTML reads them."""
    return CONTROL.sub("\ufffd", value).replace("\r\n", "\n").replace("\r", "\n")


@settings(max_examples=60, deadline=None)
@given(vcs_names, vcs_names, text, text, text, text)
def test_pages_show_any_names_and_metadata_as_the_same_text_and_stay_valid_html(  # noqa: PLR0913 (a strategy each)
    name: str, tag: str, summary: str, requires_python: str, reason: str, yank: str
) -> None:
    renderer = Renderer({name: {"1.0": yank}}, None)
    project = Project(name, (fact("p-1.0.tar.gz", "1.0", summary, requires_python),))
    failures = [TagFailure(tag, "1.1", reason, "2026-01-01T00:00:00Z")]
    simple, _ = renderer.project_pages(project)
    root, _ = renderer.root_pages([name])
    person = renderer.browse_project(project, failures)
    front = renderer.browse_index(renderer.overview(project)["row"], 1)

    page = parse(simple)
    assert text_of(page.find(".//h1")) == f"Links for {shown(name)}"
    [link] = page.iter("a")
    assert link.get("data-yanked") == shown(yank)
    assert link.get("data-requires-python") == (shown(requires_python) or None)
    assert [text_of(link) for link in parse(root).iter("a")] == [shown(name)]

    page = parse(person)
    assert text_of(page.find(".//h1")) == f"{shown(name)} 1.0"
    if summary:
        assert shown(summary) in [text_of(paragraph) for paragraph in page.iter("p")]
    facts = dict(zip(map(text_of, page.iter("dt")), map(text_of, page.iter("dd")), strict=True))
    assert facts.get("Requires Python", "") == shown(requires_python)
    [row] = [row for row in page.iter("tr") if row.get("class") == "yanked"]
    assert text_of(row.find("th")) == f"1.0yanked{': ' + shown(yank) if yank else ''}"
    assert text_of(row.findall("td")[1]).startswith("p-1.0.tar.gz ")
    [row] = [row for row in page.iter("tr") if row.get("class") == "failed"]
    assert [text_of(cell) for cell in row.iter("td")] == [
        shown(tag),
        "1.1",
        shown(reason),
        "2026-01-01T00:00:00Z",
    ]

    [row] = parse(front).findall(".//tbody/tr")
    assert [text_of(cell) for cell in row.iter("td")] == [shown(name), "1.0", shown(summary)]

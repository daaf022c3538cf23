"""Properties over any tag name, project name and metadata text (hypothesis)."""

from __future__ import annotations

import re

import html5lib
from hypothesis import given, settings
from hypothesis import strategies as st
from markupsafe import escape
from packaging.utils import canonicalize_name
from packaging.version import Version

from sdistmaker.distributions import DistributionFile
from sdistmaker.pages import Project, Renderer, TagFailure
from sdistmaker.serve import name_pattern
from sdistmaker.tags import version_from_tag_name
from sdistmaker.vcs import public_url, redact

CONTROL = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f]")
text = st.text(st.characters(exclude_categories=("Cs",)), max_size=60)
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


@settings(max_examples=60, deadline=None)
@given(text, text, text, text)
def test_pages_show_any_metadata_as_text_and_stay_valid_html(
    summary: str, requires_python: str, reason: str, yank: str
) -> None:
    renderer = Renderer({"p": {"1.0": yank}}, None)
    project = Project("p", (fact("p-1.0.tar.gz", "1.0", summary, requires_python),))
    failures = [TagFailure("1.1", "1.1", reason, "2026-01-01T00:00:00Z")]
    simple, _ = renderer.project_pages(project)
    person = renderer.browse_project(project, failures)
    front = renderer.browse_index(renderer.overview(project)["row"], 1)
    parser = html5lib.HTMLParser(strict=True)
    for page in (simple, person, front):
        parser.parse(page)
        assert "<script>alert" not in page
    shown = {value: CONTROL.sub("\ufffd", value) for value in (summary, yank)}
    assert f'data-yanked="{escape(shown[yank])}"' in simple
    assert str(escape(shown[summary])) in person

"""The pages for people in a real browser: headless Chromium reads them from nginx, at a desktop
and a phone's width; axe-core (from npm, installed by scripts/test) checks them for
accessibility, and a hostile README stays inert. Screenshots go to $SDISTMAKER_SCREENSHOTS when
it names a folder, to be looked at."""

from __future__ import annotations

import os
import shutil
import textwrap
from collections.abc import Iterator
from pathlib import Path

import pytest
from selenium import webdriver
from selenium.webdriver.common.by import By

from helpers.projects import hatchling_release, write_defaults
from helpers.repositories import GitRepository
from helpers.servers import nginx, served_folder
from helpers.system import ROOT, require
from sdistmaker.cli import sdists_from_tags

AXE = ROOT / ".venv" / "axe" / "node_modules" / "axe-core" / "axe.min.js"
WIDTHS = {"desktop": (1280, 900), "phone": (390, 844)}
PAGES = {"front": "index.html", "project": "acme-docs.html", "failed": "acme-tools.html"}
"""The pages checked whole (the hostile README's own images lack the text axe asks for)."""

README = """\
# Acme docs

Helpers for **documentation** builds, used by every team.

| Option | Meaning |
| ------ | ------- |
| `strict` | fail on warnings |

```python
from acme_docs import build
build("docs/", strict=True)
```

- [Changelog](https://git.example.com/acme-docs/-/blob/main/CHANGES.md)
- A long line to wrap on a phone: `acme_docs.builders.html.StandaloneHTMLBuilderWithSearch`
"""
HOSTILE = """\
# Hostile

<script>window.owned = "script"</script>
<img src="x" onerror="window.owned = 'onerror'">
<a href="javascript:window.owned='link'">click me</a> [and me](javascript:window.owned='md')
<iframe src="javascript:parent.owned='frame'"></iframe>
"""


DOCS = textwrap.dedent("""\
    description = "Helpers for documentation builds"
    readme = "README.md"
    license = "MIT"
    requires-python = ">=3.9"
    dependencies = ["jinja2>=3", 'tomli>=1.1; python_version < "3.11"']
    classifiers = ["Programming Language :: Python :: 3.12"]
    authors = [{name = "Docs Team", email = "docs@example.com"}]
    [project.optional-dependencies]
    pdf = ["weasyprint"]
    [project.urls]
    Source = "https://git.example.com/acme-docs"
    Evil = "javascript:window.owned='url'"
    """)


@pytest.fixture(scope="module")
def site(tmp_path_factory: pytest.TempPathFactory) -> Iterator[int]:
    """An index of three projects from real tags, served by nginx; yields its port."""
    work = tmp_path_factory.mktemp("repositories")
    docs = GitRepository(work / "acme-docs")
    for version in ("1.0", "1.1", "2.0"):
        docs.commit(hatchling_release("acme-docs", version, DOCS, README))
        docs.tag(version, annotated=True)
    hostile = GitRepository(work / "acme-hostile")
    hostile.commit(hatchling_release("acme-hostile", "1.0", 'readme = "README.md"\n', HOSTILE))
    hostile.tag("1.0")
    tools = GitRepository(work / "acme-tools")
    tools.commit(hatchling_release("acme-tools", "1.0", 'description = "Small tools"\n'))
    tools.tag("1.0")
    tools.tag("v1.1")  # its metadata says 1.0: this tag fails
    served = served_folder()
    defaults = write_defaults(
        work,
        GIT_REPOSITORIES=[docs.url, hostile.url, tools.url],
        OUTDIR=str(served / "pypi"),
        WHEELS=True,
        YANKED={"acme-docs": {"1.1": "breaks strict builds"}},
    )
    assert sdists_from_tags(["-q", "-d", str(defaults)]) == 1  # acme-tools v1.1 fails
    try:
        with nginx(served / "pypi", "http://127.0.0.1:9/simple") as port:
            yield port
    finally:
        shutil.rmtree(served)


def overflow(browser: webdriver.Chrome) -> int:
    """How far the page is wider than the window: a phone would scroll it sideways."""
    script = "return document.documentElement.scrollWidth - window.innerWidth"
    return int(browser.execute_script(script))


def axe_violations(browser: webdriver.Chrome) -> list[dict[str, object]]:
    require("axe-core", AXE)
    browser.execute_script(AXE.read_text())
    result = browser.execute_async_script(
        "const done = arguments[arguments.length - 1];"
        "axe.run(document, {resultTypes: ['violations']}).then((r) => done(r.violations));"
    )
    return [{"id": v["id"], "nodes": [n["html"] for n in v["nodes"]]} for v in result]


@pytest.mark.parametrize("width", sorted(WIDTHS))
@pytest.mark.parametrize("page", sorted(PAGES))
def test_pages_fit_the_screen_and_pass_axe(
    site: int, browser: webdriver.Chrome, page: str, width: str
) -> None:
    browser.set_window_size(*WIDTHS[width])
    browser.get(f"http://127.0.0.1:{site}/simple/+/{PAGES[page]}")
    shots = os.environ.get("SDISTMAKER_SCREENSHOTS")
    if shots:
        Path(shots).mkdir(parents=True, exist_ok=True)
        height = browser.execute_script("return document.documentElement.scrollHeight")
        browser.set_window_size(WIDTHS[width][0], min(int(height) + 120, 4000))
        browser.save_screenshot(str(Path(shots) / f"{page}-{width}.png"))
        browser.set_window_size(*WIDTHS[width])
    assert overflow(browser) <= 0
    assert axe_violations(browser) == []


def test_the_project_page_shows_what_people_choosing_a_package_want(
    site: int, browser: webdriver.Chrome
) -> None:
    browser.get(f"http://127.0.0.1:{site}/simple/+/acme-docs.html")
    assert browser.title == "acme-docs 2.0"
    readme = browser.find_element(By.CSS_SELECTOR, ".rendered")
    assert readme.find_element(By.TAG_NAME, "h1").text == "Acme docs"
    assert readme.find_element(By.CSS_SELECTOR, "table td code").text == "strict"
    facts = dict(
        zip(
            [e.text for e in browser.find_elements(By.TAG_NAME, "dt")],
            [e.text for e in browser.find_elements(By.TAG_NAME, "dd")],
            strict=True,
        )
    )
    assert facts == {
        "License": "MIT",
        "Requires Python": ">=3.9",
        "Python versions": "3.12",
        "Author": "Docs Team <docs@example.com>",
    }
    dependencies = [e.text for e in browser.find_elements(By.CSS_SELECTOR, ".dependencies li")]
    # As the backend wrote them into the metadata.
    assert dependencies == [
        "jinja2>=3",
        "tomli>=1.1; python_version < '3.11'",
        "weasyprint; extra == 'pdf'",
    ]
    assert browser.find_element(By.LINK_TEXT, "Source").get_attribute("href") == (
        "https://git.example.com/acme-docs"
    )
    assert browser.find_elements(By.LINK_TEXT, "Evil") == []
    rows = browser.find_elements(By.CSS_SELECTOR, "section[aria-labelledby=releases] tbody tr")
    assert [row.find_element(By.TAG_NAME, "th").text for row in rows] == [
        "2.0",
        "1.1\nyanked: breaks strict builds",
        "1.0",
    ]
    # Dated by the tag; each file with its size; built from the tag's commit by its backend.
    first = rows[0].find_elements(By.TAG_NAME, "td")
    assert first[1].text.splitlines()[0].endswith(("kB", "Bytes"))
    assert first[2].text.startswith("tag 2.0 at ")
    assert "hatchling.build (hatchling " in first[2].text


def test_a_hostile_readme_stays_inert(site: int, browser: webdriver.Chrome) -> None:
    browser.get(f"http://127.0.0.1:{site}/simple/+/acme-hostile.html")
    readme = browser.find_element(By.CSS_SELECTOR, ".rendered")
    assert readme.find_element(By.TAG_NAME, "h1").text == "Hostile"
    for link in browser.find_elements(By.CSS_SELECTOR, ".rendered a, .rendered img"):
        link.click() if link.tag_name == "a" and link.is_displayed() else None
    assert browser.execute_script("return window.owned === undefined")
    assert browser.find_elements(By.CSS_SELECTOR, ".rendered script, .rendered iframe") == []
    hrefs = [a.get_attribute("href") or "" for a in browser.find_elements(By.TAG_NAME, "a")]
    assert [h for h in hrefs if h.lower().startswith("javascript:")] == []

"""apache/ and nginx/ configurations, each with a real server, a real generated OUTDIR and a
local stand-in for PyPI that holds an upstream-only project and a higher-versioned rival of a
local project. Every test runs against both servers: they must behave alike."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from selenium import webdriver
from selenium.webdriver.common.by import By

from conftest import GitRepository, hatchling_project, require, write_defaults
from sdistmaker.cli import sdists_from_tags
from servers import apache, fetch, make_wheel, nginx, served_folder, upstream_index

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
    start = {"apache": apache, "nginx": nginx}[request.param]
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


@pytest.mark.parametrize(
    "accept",
    [
        "text/html",
        "application/vnd.pypi.simple.v1+html, application/vnd.pypi.simple.v1+json;q=0.5",
        "application/vnd.pypi.simple.v1+json;q=0",
        "application/json",
        "*/*",
    ],
)
def test_html_for_every_other_accept_header(server: int, accept: str) -> None:
    answer = fetch(server, "/simple/acme-lib/", Accept=accept)
    assert answer.header("Content-Type") == "text/html; charset=utf-8"


@pytest.mark.parametrize(
    ("query", "accept", "content_type"),
    [
        ("format=application/vnd.pypi.simple.v1%2Bjson", "text/html", JSON_TYPE),
        ("format=application/vnd.pypi.simple.v1+json", "", JSON_TYPE),
        ("format=application/vnd.pypi.simple.latest%2Bjson", "", JSON_TYPE),
        ("format=text/html", PIP_ACCEPT, "text/html; charset=utf-8"),
        ("format=application/vnd.pypi.simple.v1%2Bhtml", PIP_ACCEPT, "text/html; charset=utf-8"),
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


def test_the_pages_for_people_are_served(server: int) -> None:
    answer = fetch(server, "/simple/+/")
    assert answer.status == 200
    assert b"acme-lib" in answer.body
    page = fetch(server, "/simple/+/acme-lib.html")
    assert page.status == 200
    assert page.header("Cache-Control") == "public, max-age=60"


def fresh_venv(folder: Path) -> Path:
    subprocess.run([sys.executable, "-m", "venv", "--without-pip", folder], check=True)
    return folder / "bin" / "python"


def installed(python: Path) -> dict[str, str]:
    code = (
        "import importlib.metadata as m, json\n"
        "print(json.dumps({d.metadata['Name']: d.version for d in m.distributions()}))"
    )
    output = subprocess.run([python, "-c", code], check=True, capture_output=True, text=True)
    versions: dict[str, str] = json.loads(output.stdout)
    return versions


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


@pytest.fixture(scope="module")
def buildout(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A venv with zc.buildout, from PyPI like any user's."""
    venv = tmp_path_factory.mktemp("buildout") / "venv"
    subprocess.run([sys.executable, "-m", "venv", venv], check=True)
    subprocess.run([venv / "bin/python", "-m", "pip", "install", "-q", "zc.buildout"], check=True)
    return venv / "bin" / "buildout"


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


@pytest.fixture(scope="module")
def browser(tmp_path_factory: pytest.TempPathFactory) -> Iterator[webdriver.Chrome]:
    """Headless Chromium, kept off every network but this machine's."""
    require("chromium")
    require("chromedriver")
    options = webdriver.ChromeOptions()
    options.binary_location = shutil.which("chromium") or ""
    for argument in (
        "--headless",
        "--no-sandbox",
        "--disable-gpu",
        "--disable-quic",
        "--no-first-run",
        "--disable-background-networking",
        "--disable-component-update",
        "--disable-sync",
        f"--user-data-dir={tmp_path_factory.mktemp('chromium')}",
        "--window-size=1100,700",
    ):
        options.add_argument(argument)
    service = webdriver.ChromeService(executable_path=shutil.which("chromedriver"))
    driver = webdriver.Chrome(options=options, service=service)
    try:
        yield driver
    finally:
        driver.quit()


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

"""Mercurial (sdistmaker/vcs/hg.py), with real repositories read over file:// and HTTP."""

import http.client
import http.server
import os
import re
import shutil
import subprocess
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from urllib.parse import urlsplit

import pytest

from helpers.projects import hatchling_project
from helpers.repositories import HgRepository
from helpers.servers import basic_credentials, hg_serve, http_server, refused_without
from helpers.system import soon
from sdistmaker import vcs
from sdistmaker.config import load_defaults
from sdistmaker.errors import ConfigError, VcsError
from sdistmaker.vcs.hg import HgProject, Mercurial
from sdistmaker.vcs.mirrors import Repository

MakeHg = Callable[[str], HgRepository]


def versions(project: HgProject) -> dict[str, tuple[str, str]]:
    return {t.name: (t.version, t.identity) for t in project.tags()}


def test_global_tags_are_releases_local_tags_and_tip_are_not(
    make_hg: MakeHg, tmp_path: Path
) -> None:
    repo = make_hg("acme.web")
    first = repo.commit(hatchling_project("acme.web", "1.0"))
    repo.tag("1.0")
    second = repo.commit(hatchling_project("acme.web", "1.1"))
    repo.tag("v1.1", "--rev", second)
    repo.tag("acme.web-1.2rc1", "--rev", second)
    repo.tag("2.0", "--local")  # the working copy's own: never pulled into a mirror
    repo.tag("latest")
    source = HgProject(Repository(repo.url), tmp_path / "cache")
    assert versions(source) == {
        "1.0": ("1.0", first),
        "v1.1": ("1.1", second),
        "acme.web-1.2rc1": ("1.2rc1", second),
    }
    assert source.name == "acme.web"
    assert source.key == f"hg:{repo.url}#"


def test_a_local_tag_in_the_mirror_is_no_release(make_hg: MakeHg, tmp_path: Path) -> None:
    repo = make_hg("p")
    repo.commit(hatchling_project("p", "1.0"))
    repo.tag("1.0")
    source = HgProject(Repository(repo.url), tmp_path / "cache")
    versions(source)
    subprocess.run(["hg", "-R", source.mirror, "tag", "--local", "--rev", "tip", "9.0"], check=True)
    assert set(versions(HgProject(Repository(repo.url), tmp_path / "cache"))) == {"1.0"}


def test_moved_and_removed_tags_follow_the_remote(make_hg: MakeHg, tmp_path: Path) -> None:
    repo = make_hg("p")
    repo.commit(hatchling_project("p", "1.0"))
    repo.tag("1.0")
    repo.tag("1.1")
    assert set(versions(HgProject(Repository(repo.url), tmp_path / "cache"))) == {"1.0", "1.1"}
    moved = repo.commit({"later.txt": "x"})
    repo.tag("1.0", "--force", "--rev", moved)
    repo.tag("1.1", "--remove")
    assert versions(HgProject(Repository(repo.url), tmp_path / "cache")) == {"1.0": ("1.0", moved)}


def test_what_tells_a_repository_on_disk_changed_changes_with_each_tag(
    make_hg: MakeHg, tmp_path: Path
) -> None:
    """A crawl skips a repository on disk while this stays the same (see test_mirrors)."""
    repo = make_hg("p")
    repo.commit(hatchling_project("p", "1.0"))
    source = HgProject(Repository(repo.url), tmp_path / "cache")
    seen = [source.activity()]
    repo.tag("1.0")
    seen.append(source.activity())
    repo.tag("1.0", "--remove")
    seen.append(source.activity())
    assert None not in seen and len(set(seen)) == 3
    assert source.activity() == seen[-1]
    assert HgProject(Repository("https://hg.example.com/p"), tmp_path).activity() is None


def test_a_tag_pattern_and_subdirectory_pick_one_project(make_hg: MakeHg, tmp_path: Path) -> None:
    repo = make_hg("mono")
    repo.commit({"web/pyproject.toml": "[project]\n", "api/pyproject.toml": "[project]\n"})
    repo.tag("web-1.0")
    repo.tag("api-1.0")
    source = HgProject(Repository(repo.url, subdirectory="web/", tags="web-*"), tmp_path / "cache")
    [tag] = source.tags()
    assert (tag.name, tag.project, source.name) == ("web-1.0", "web", "web")
    tag.export(tmp_path / "export", soon())
    assert sorted(p.name for p in (tmp_path / "export").iterdir()) == ["pyproject.toml"]
    assert tag.url == f"hg+{repo.url}@web-1.0#subdirectory=web"


def test_an_export_holds_the_tree_and_no_archive_metadata(make_hg: MakeHg, tmp_path: Path) -> None:
    repo = make_hg("p")
    repo.commit({**hatchling_project("p", "1.0"), "docs/index.txt": "x"})
    repo.tag("1.0")
    [tag] = HgProject(Repository(repo.url), tmp_path / "cache").tags()
    tag.export(tmp_path / "export", soon())
    exported = sorted(
        str(p.relative_to(tmp_path / "export")) for p in (tmp_path / "export").rglob("*")
    )
    assert exported == ["docs", "docs/index.txt", "p", "p/__init__.py", "pyproject.toml"]


@pytest.mark.parametrize("target", ["/etc/passwd", "../../somewhere"])
def test_an_export_refuses_links_out_of_the_tree(
    make_hg: MakeHg, tmp_path: Path, target: str
) -> None:
    repo = make_hg("p")
    repo.commit(hatchling_project("p", "1.0"))
    (repo.root / "escape").symlink_to(target)
    repo.commit({})
    repo.tag("1.0")
    [tag] = HgProject(Repository(repo.url), tmp_path / "cache").tags()
    message = f"link escape points out of the tag, to {target}"
    with pytest.raises(VcsError, match=f"^{re.escape(message)}$"):
        tag.export(tmp_path / "export", soon())


def test_a_tag_holding_subrepositories_fails_naming_them(make_hg: MakeHg, tmp_path: Path) -> None:
    library = make_hg("library")
    library.commit({"lib.py": ""})
    repo = make_hg("p")
    shutil.copytree(library.root, repo.root / "vendor")
    repo.commit({**hatchling_project("p", "1.0"), ".hgsub": f"vendor = {library.url}\n"})
    repo.tag("1.0")
    [tag] = HgProject(Repository(repo.url), tmp_path / "cache").tags()
    message = f"{repo.url}: tag 1.0 holds hg subrepositories, which an export does not include"
    with pytest.raises(VcsError, match=f"^{re.escape(message)}: vendor$"):
        tag.export(tmp_path / "export", soon())


def test_a_missing_repository_is_an_error_naming_it(tmp_path: Path) -> None:
    url = (tmp_path / "missing").as_uri()
    with pytest.raises(VcsError, match=rf"^{re.escape(url)}: abort: .*"):
        HgProject(Repository(url), tmp_path / "cache").tags()
    left = [p.name for p in (tmp_path / "cache").iterdir() if not p.name.endswith(".lock")]
    assert left == []  # no half-made mirror is left behind


def test_a_folder_that_is_no_repository_is_an_error_naming_it(tmp_path: Path) -> None:
    (tmp_path / "plain").mkdir()
    url = (tmp_path / "plain").as_uri()
    with pytest.raises(VcsError, match=rf"^{re.escape(url)}: abort: repository .* not found"):
        HgProject(Repository(url), tmp_path / "cache").tags()


def test_a_damaged_mirror_is_made_anew(
    make_hg: MakeHg, tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    repo = make_hg("p")
    repo.commit(hatchling_project("p", "1.0"))
    repo.tag("1.0")
    source = HgProject(Repository(repo.url), tmp_path / "cache")
    versions(source)
    shutil.rmtree(source.mirror / ".hg" / "store")
    repo.tag("1.1")
    assert set(versions(HgProject(Repository(repo.url), tmp_path / "cache"))) == {"1.0", "1.1"}
    [said] = caplog.messages
    assert said.startswith(f"damaged hg mirror {source.mirror} (")


def test_credentials_in_the_url_are_refused_without_showing_them(tmp_path: Path) -> None:
    source = HgProject(Repository("https://builder:s3cret@127.0.0.1:9/p"), tmp_path / "cache")
    with pytest.raises(VcsError) as error:
        source.tags()
    assert str(error.value).startswith("https://127.0.0.1:9/p: credentials in the URL")
    assert "s3cret" not in str(error.value)


def test_a_pip_style_url_names_one_tag(make_hg: MakeHg, tmp_path: Path) -> None:
    repo = make_hg("p")
    node = repo.commit(hatchling_project("p", "1.0"))
    repo.tag("v1.0")
    system = vcs.for_url(f"hg+{repo.url}@v1.0")
    assert isinstance(system, Mercurial)
    tag = system.tag_from_url(f"hg+{repo.url}@v1.0", tmp_path / "work")
    assert (tag.name, tag.version, tag.identity) == ("v1.0", "1.0", node)
    with pytest.raises(VcsError, match=r"tag '2\.0' does not exist"):
        system.tag_from_url(f"hg+{repo.url}@2.0", tmp_path / "work")


def test_the_hook_sees_a_push_that_changed_tags(make_hg: MakeHg) -> None:
    repo = make_hg("p")
    first = repo.commit(hatchling_project("p", "1.0"))
    repo.tag("1.0")
    tagged = repo.hg("log", "-r", ".", "-T", "{node}")
    later = repo.commit({"notes.txt": "x"})
    cwd = os.getcwd()
    os.chdir(repo.root)  # hg runs a hook in its repository
    try:
        assert Mercurial().touched([first, tagged], [])
        assert not Mercurial().touched([later, later], [])
    finally:
        os.chdir(cwd)


def test_a_repository_is_read_over_http(make_hg: MakeHg, tmp_path: Path) -> None:
    repo = make_hg("p")
    node = repo.commit(hatchling_project("p", "1.0"))
    repo.tag("1.0")
    with hg_serve("-R", repo.root) as url:
        source = HgProject(Repository(url), tmp_path / "cache")
        assert versions(source) == {"1.0": ("1.0", node)}
        [tag] = source.tags()
        tag.export(tmp_path / "export", soon())
    assert (tmp_path / "export" / "pyproject.toml").exists()


@contextmanager
def behind_a_password(upstream: str, user: str, password: str) -> Iterator[str]:
    """``upstream`` (an hg server) behind HTTP Basic authentication, as a company's hgweb is."""
    expected = basic_credentials(user, password)

    class Handler(http.server.BaseHTTPRequestHandler):
        def do_GET(self) -> None:
            if refused_without(self, expected, "hg"):
                return
            body = self.rfile.read(int(self.headers.get("Content-Length") or 0))
            headers = {k: v for k, v in self.headers.items() if k.lower() != "authorization"}
            connection = http.client.HTTPConnection(urlsplit(upstream).netloc, timeout=30)
            connection.request(self.command, self.path, body, headers)
            answer = connection.getresponse()
            payload = answer.read()
            self.send_response(answer.status)
            for name, value in answer.getheaders():
                if name.lower() not in ("transfer-encoding", "connection", "content-length"):
                    self.send_header(name, value)
            self.send_header("Content-Length", str(len(payload)))
            self.end_headers()
            self.wfile.write(payload)

        do_POST = do_GET

        def log_message(self, format: str, *args: object) -> None:
            pass

    with http_server(Handler) as address:
        yield f"http://{address}/"


def test_credentials_come_from_hgs_auth_configuration_and_none_is_never_asked_for(
    make_hg: MakeHg, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    repo = make_hg("p")
    node = repo.commit(hatchling_project("p", "1.0"))
    repo.tag("1.0")
    home = tmp_path / "home"
    home.mkdir()
    monkeypatch.setenv("HOME", str(home))
    with (
        hg_serve("-R", repo.root) as upstream,
        behind_a_password(upstream, "builder", "s3cret") as url,
    ):
        # Without credentials: one line, at once, never a prompt.
        with pytest.raises(VcsError, match=rf"^{re.escape(url)}: abort: .*authoriz"):
            HgProject(Repository(url), tmp_path / "cache", timeout=30).tags()
        (home / ".hgrc").write_text(
            f"[auth]\nindex.prefix = {url}\nindex.username = builder\nindex.password = s3cret\n"
        )
        assert versions(HgProject(Repository(url), tmp_path / "cache")) == {"1.0": ("1.0", node)}


SSH_STAND_IN = """#!/bin/sh
# Stands in for ssh: notes how hg started it, then fails as an unreachable host does.
echo "$@" > "$(dirname "$0")/arguments"
exit 255
"""


def test_ssh_is_run_in_batch_mode_and_a_failure_is_one_line(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """hg runs ssh in batch mode, as git and svn do: no password, passphrase or host-key
    question waits for an answer nobody gives."""
    tools = tmp_path / "bin"
    tools.mkdir()
    (tools / "ssh").write_text(SSH_STAND_IN)
    (tools / "ssh").chmod(0o755)
    monkeypatch.setenv("PATH", f"{tools}{os.pathsep}{os.environ['PATH']}")
    url = "ssh://builder@hg.example.invalid/acme"
    with pytest.raises(VcsError) as error:
        HgProject(Repository(url), tmp_path / "cache").tags()
    assert str(error.value).startswith(f"{url}: abort: ")
    arguments = (tools / "arguments").read_text()
    assert arguments.startswith("-o BatchMode=yes -o ConnectTimeout=60 ")
    assert "builder@hg.example.invalid" in arguments


def test_a_repository_on_this_machines_disk_is_found_and_kept_from_outdir(
    make_hg: MakeHg, tmp_path: Path
) -> None:
    """Builds must not read it (it holds every changeset), and OUTDIR may not lie in it."""
    repo = make_hg("p")
    repo.commit(hatchling_project("p", "1.0"))
    assert Mercurial().local_folder(repo.url) == repo.root
    (tmp_path / "defaults.py").write_text(
        f"HG_REPOSITORIES = [{repo.url!r}]\nOUTDIR = {str(repo.root / 'out')!r}\n"
    )
    with pytest.raises(ConfigError, match=r"lies inside .*, a repository of HG_REPOSITORIES"):
        load_defaults(tmp_path / "defaults.py")


def test_export_tells_when_the_tagged_changeset_was_made(make_hg: MakeHg, tmp_path: Path) -> None:
    repo = make_hg("p")
    repo.commit(hatchling_project("p", "1.0"))
    repo.hg("commit", "-q", "--amend", "-m", "change", "--date", "2001-02-03 04:05:06 +0000")
    repo.tag("1.0")
    [tag] = HgProject(Repository(repo.url), tmp_path / "cache").tags()
    assert tag.export(tmp_path / "export", soon()) == 981173106.0

import os
import re
import shutil
import subprocess
import sys
import uuid
from collections.abc import Callable
from pathlib import Path

import pytest

from helpers.projects import hatchling_project, write_defaults
from helpers.repositories import GitRepository as Repo
from helpers.servers import git_http_server, redirecting_server
from helpers.system import run, soon
from sdistmaker import vcs
from sdistmaker.config import Config
from sdistmaker.errors import VcsError
from sdistmaker.vcs.git import Git, GitProject
from sdistmaker.vcs.git import GitRepository as Entry
from sdistmaker.vcs.mirrors import MirroredProject, Repository, parse_pip_url

MakeGit = Callable[[str], Repo]
COMMAND = str(Path(sys.executable).parent / "sdists_from_tags")


def sources(config: Config, private: Path) -> list[MirroredProject]:
    """The repositories a run's crawl reads, their mirrors below ``private``."""
    crawl = vcs.Crawl(config, private, {}, False, lambda *_: None, lambda _: None)
    return Git().sources(crawl)


def mirrors_in(cache: Path) -> list[str]:
    """What is kept in a folder of mirrors, but for the locks held while each is changed."""
    return sorted(name for name in os.listdir(cache) if not name.endswith(".lock"))


def versions(repository: GitProject) -> dict[str, tuple[str, str]]:
    return {t.name: (t.version, t.identity) for t in repository.tags()}


def test_both_tag_kinds_are_releases_with_their_commit(make_git: MakeGit, tmp_path: Path) -> None:
    repo = make_git("acme.web.git")
    first = repo.commit(hatchling_project("acme.web", "1.0"))
    repo.tag("1.0")
    second = repo.commit(hatchling_project("acme.web", "1.1"))
    repo.tag("v1.1", annotated=True)
    repo.tag("acme.web-1.2rc1", annotated=True)
    repo.tag("latest")
    repo.tag("reinout-fixed")
    source = GitProject(Repository(repo.url), tmp_path / "cache")
    assert versions(source) == {
        "1.0": ("1.0", first),
        "v1.1": ("1.1", second),
        "acme.web-1.2rc1": ("1.2rc1", second),
    }
    assert source.name == "acme.web"
    assert source.mirror.parent == tmp_path / "cache"


def test_moved_and_deleted_tags_follow_the_remote(make_git: MakeGit, tmp_path: Path) -> None:
    repo = make_git("p")
    repo.commit(hatchling_project("p", "1.0"))
    repo.tag("1.0")
    repo.tag("2.0")
    source = GitProject(Repository(repo.url), tmp_path / "cache")
    assert set(versions(source)) == {"1.0", "2.0"}
    moved = repo.commit({"fix.txt": "x"})
    repo.tag("1.0", force=True)
    repo.git("tag", "-d", "2.0")
    again = GitProject(Repository(repo.url), tmp_path / "cache")  # a later run: fetches the mirror
    assert versions(again) == {"1.0": ("1.0", moved)}


def test_a_tag_pattern_picks_the_tags_of_one_monorepo_project(
    make_git: MakeGit, tmp_path: Path
) -> None:
    repo = make_git("mono")
    repo.commit({**{f"web/{k}": v for k, v in hatchling_project("web", "1.0").items()}})
    repo.tag("web-1.0")
    repo.tag("api-3.0")
    source = GitProject(Repository(repo.url, subdirectory="web/", tags="web-*"), tmp_path / "cache")
    assert set(versions(source)) == {"web-1.0"}
    assert source.name == "web"


def test_export_of_a_subdirectory_keeps_export_subst(make_git: MakeGit, tmp_path: Path) -> None:
    repo = make_git("mono")
    sha = repo.commit(
        {
            ".gitattributes": "web/.git_archival.txt export-subst\n",
            "web/.git_archival.txt": "node: $Format:%H$\n",
            "web/pyproject.toml": "[project]\n",
            "api/other.txt": "not exported",
        }
    )
    repo.tag("web-1.0")
    source = GitProject(Repository(repo.url, "web"), tmp_path / "cache")
    [tag] = source.tags()
    tag.export(tmp_path / "export", soon())
    exported = sorted(p.name for p in (tmp_path / "export").iterdir())
    assert exported == [".git_archival.txt", "pyproject.toml"]
    assert (tmp_path / "export" / ".git_archival.txt").read_text() == f"node: {sha}\n"


@pytest.mark.parametrize("target", ["/etc/passwd", "../../somewhere", "p/../../outside"])
def test_export_refuses_links_out_of_the_tree(
    make_git: MakeGit, tmp_path: Path, target: str
) -> None:
    repo = make_git("p")
    repo.commit(hatchling_project("p", "1.0"))
    (repo.root / "escape").symlink_to(target)
    repo.commit({})
    repo.tag("1.0")
    source = GitProject(Repository(repo.url), tmp_path / "cache")
    [tag] = source.tags()
    message = f"link escape points out of the tag, to {target}"
    with pytest.raises(VcsError, match=f"^{re.escape(message)}$"):
        tag.export(tmp_path / "export", soon())


def test_export_keeps_links_within_the_tree(make_git: MakeGit, tmp_path: Path) -> None:
    repo = make_git("p")
    repo.commit({**hatchling_project("p", "1.0"), "docs/index.txt": "x"})
    (repo.root / "README.txt").symlink_to("docs/index.txt")
    (repo.root / "docs" / "pyproject.toml").symlink_to("../pyproject.toml")
    repo.commit({})
    repo.tag("1.0")
    source = GitProject(Repository(repo.url), tmp_path / "cache")
    [tag] = source.tags()
    tag.export(tmp_path / "export", soon())
    assert (tmp_path / "export" / "README.txt").read_text() == "x"
    assert (tmp_path / "export" / "docs" / "pyproject.toml").is_symlink()


def test_a_subdirectory_export_refuses_links_out_of_the_subdirectory(
    make_git: MakeGit, tmp_path: Path
) -> None:
    repo = make_git("mono")
    repo.commit({"web/pyproject.toml": "[project]\n", "api/secret.txt": "not exported"})
    (repo.root / "web" / "secret.txt").symlink_to("../api/secret.txt")
    repo.commit({})
    repo.tag("web-1.0")
    source = GitProject(Repository(repo.url, "web"), tmp_path / "cache")
    [tag] = source.tags()
    with pytest.raises(VcsError, match=r"^link secret\.txt points out of the tag"):
        tag.export(tmp_path / "export", soon())


def test_a_missing_repository_is_an_error_naming_it(tmp_path: Path) -> None:
    url = str(tmp_path / "missing.git")
    with pytest.raises(VcsError, match=rf"^{url}: .*"):
        GitProject(Repository(url), tmp_path / "cache").tags()
    assert mirrors_in(tmp_path / "cache") == []  # no half-made mirror is left behind


def _objects_removed(mirror: Path) -> None:
    shutil.rmtree(mirror / "objects")


def _head_removed(mirror: Path) -> None:
    (mirror / "HEAD").unlink()


def _made_a_file(mirror: Path) -> None:
    shutil.rmtree(mirror)
    mirror.write_text("not a repository\n")


@pytest.mark.parametrize("damage", [_objects_removed, _head_removed, _made_a_file])
def test_a_mirror_git_no_longer_takes_for_a_repository_is_made_anew(
    make_git: MakeGit,
    tmp_path: Path,
    damage: Callable[[Path], None],
    caplog: pytest.LogCaptureFixture,
) -> None:
    """The mirror is only a copy: made anew under a temporary name, then put in place of the
    damaged one, in the same run, which lists the tags made meanwhile."""
    repo = make_git("p")
    repo.commit(hatchling_project("p", "1.0"))
    repo.tag("1.0")
    source = GitProject(Repository(repo.url), tmp_path / "cache")
    assert set(versions(source)) == {"1.0"}
    damage(source.mirror)
    second = repo.commit(hatchling_project("p", "1.1"))
    repo.tag("1.1")
    again = GitProject(Repository(repo.url), tmp_path / "cache")  # a later run
    assert versions(again)["1.1"] == ("1.1", second)
    [said] = caplog.messages
    assert said.startswith(f"damaged git mirror {source.mirror} (fatal: ")
    assert said.endswith(f"): making it anew from {repo.url}")
    assert mirrors_in(tmp_path / "cache") == [source.mirror.name]  # nothing set aside is left
    again.tags()[-1].export(tmp_path / "export", soon())
    assert (tmp_path / "export" / "pyproject.toml").exists()


def test_a_damaged_mirror_in_a_git_work_tree_leaves_that_repository_alone(
    make_git: MakeGit, tmp_path: Path
) -> None:
    """Git looks for a repository in the folders around the one it runs in: a damaged mirror
    below another repository (OUTDIR in a work tree) must not make that one fetched into."""
    repo = make_git("p")
    repo.commit(hatchling_project("p", "1.0"))
    repo.tag("1.0")
    around = make_git("around")
    around.commit({"notes.txt": "mine\n"})
    around.git("branch", "keep")
    refs = around.git("for-each-ref")
    source = GitProject(Repository(repo.url), around.root / "out" / "git")
    assert set(versions(source)) == {"1.0"}
    shutil.rmtree(source.mirror / "objects")
    again = GitProject(Repository(repo.url), around.root / "out" / "git")
    assert set(versions(again)) == {"1.0"}
    assert around.git("for-each-ref") == refs


def test_a_repository_that_cannot_be_read_keeps_its_mirror(
    make_git: MakeGit, tmp_path: Path
) -> None:
    """A mirror that is whole is not made anew when its repository cannot be read: the error
    names the repository, and the mirror waits for it to come back."""
    repo = make_git("p")
    repo.commit(hatchling_project("p", "1.0"))
    repo.tag("1.0")
    source = GitProject(Repository(repo.url), tmp_path / "cache")
    versions(source)
    kept = source.mirror.stat().st_ino
    repo.root.rename(tmp_path / "elsewhere")
    with pytest.raises(VcsError, match=rf"^{re.escape(repo.url)}: fatal: .*"):
        GitProject(Repository(repo.url), tmp_path / "cache").tags()
    assert source.mirror.stat().st_ino == kept
    assert mirrors_in(tmp_path / "cache") == [source.mirror.name]


def test_a_password_in_the_url_never_shows(tmp_path: Path) -> None:
    source = GitProject(Repository("https://user:s3cret@127.0.0.1:9/p.git"), tmp_path / "cache")
    assert source.location == "https://127.0.0.1:9/p.git"
    with pytest.raises(VcsError) as error:
        source.tags()
    assert "s3cret" not in str(error.value)
    assert str(error.value).startswith("https://127.0.0.1:9/p.git: ")


@pytest.mark.parametrize(
    ("spec", "parts"),
    [
        ("git+https://g.example/p.git@v1.0", ("https://g.example/p.git", "v1.0", "")),
        ("git+ssh://git@g.example/p.git@1.0", ("ssh://git@g.example/p.git", "1.0", "")),
        ("git+file:///srv/mono@web-1.0#subdirectory=web", ("file:///srv/mono", "web-1.0", "web")),
        ("git+https://g.example/p.git@release/1.0", ("https://g.example/p.git", "release/1.0", "")),
    ],
)
def test_pip_urls_split_into_url_tag_and_subdirectory(
    spec: str, parts: tuple[str, str, str]
) -> None:
    assert parse_pip_url(spec, "git") == parts


@pytest.mark.parametrize("spec", ["https://g.example/p.git@1.0", "git+https://g.example/p.git"])
def test_pip_urls_without_git_or_tag_are_refused(spec: str) -> None:
    with pytest.raises(VcsError):
        parse_pip_url(spec, "git")


def test_a_pip_url_names_one_tag(make_git: MakeGit, tmp_path: Path) -> None:
    repo = make_git("p")
    sha = repo.commit(hatchling_project("p", "1.0"))
    repo.tag("v1.0", annotated=True)
    tag = Git().tag_from_url(f"git+file://{repo.url}@v1.0", tmp_path / "cache")
    assert (tag.name, tag.version, tag.identity) == ("v1.0", "1.0", sha)
    with pytest.raises(VcsError, match=r"tag '2\.0' does not exist"):
        Git().tag_from_url(f"git+file://{repo.url}@2.0", tmp_path / "cache")
    repo.tag("latest")
    with pytest.raises(VcsError, match="tag 'latest' names no PEP 440 version"):
        Git().tag_from_url(f"git+file://{repo.url}@latest", tmp_path / "cache")


def test_no_stray_files_from_an_export(make_git: MakeGit, tmp_path: Path) -> None:
    repo = make_git("p")
    repo.commit(hatchling_project("p", "1.0"))
    repo.tag("1.0")
    source = GitProject(Repository(repo.url), tmp_path / "cache")
    [tag] = source.tags()
    tag.export(tmp_path / "export", soon())
    assert sorted(
        str(p.relative_to(tmp_path / "export")) for p in (tmp_path / "export").rglob("*")
    ) == ["p", "p/__init__.py", "pyproject.toml"]


def test_projects_of_one_repository_share_its_mirror_and_one_fetch_a_run(
    make_git: MakeGit, tmp_path: Path
) -> None:
    repo = make_git("mono")
    repo.commit({"web/pyproject.toml": "[project]\n", "api/pyproject.toml": "[project]\n"})
    repo.tag("web-1.0")
    repo.tag("api-1.0")
    config = Config(
        outdir=tmp_path / "out",
        vcs_settings={
            "GIT_REPOSITORIES": (Entry(repo.url, "web", "web-*"), Entry(repo.url, "api", "api-*"))
        },
    )
    cache = tmp_path / "private" / "git"
    web, api = sources(config, cache.parent)
    assert isinstance(web, GitProject)
    assert [t.name for t in web.tags()] == ["web-1.0"]
    repo.tag("api-2.0")  # pushed while the run goes on
    assert [t.name for t in api.tags()] == ["api-1.0"]  # the mirror is not fetched again
    _, api_next_run = sources(config, cache.parent)
    assert sorted(t.name for t in api_next_run.tags()) == ["api-1.0", "api-2.0"]
    assert mirrors_in(cache) == [web.mirror.name]  # one clone
    assert (web.name, api.name) == ("web", "api")


def private_repository(make_git: MakeGit, tmp_path: Path) -> tuple[Repo, Path]:
    """A repository tagged 1.0, and the folder to serve it from as ``acme/private.git``."""
    work = make_git("work")
    work.commit(hatchling_project("private", "1.0"))
    work.tag("1.0")
    served = tmp_path / "served"
    run("git", "clone", "-q", "--bare", work.root, served / "acme" / "private.git")
    return work, served


# What a company's git host takes in a URL: a password, or a token as the user name (as GitHub
# does; git sends it with an empty password), unique, so that a command line holding one can
# only have it from this test.
UNIQUE = uuid.uuid4().hex
LOGINS = {
    "password": ("builder", f"s3cret-t0ken-{UNIQUE}"),
    "token as user name": (f"ghp_T0kenAsUser{UNIQUE}", ""),
}


@pytest.mark.parametrize(("user", "password"), LOGINS.values(), ids=LOGINS)
def test_a_repository_read_with_credentials_keeps_them_out_of_sight(
    make_git: MakeGit, tmp_path: Path, user: str, password: str
) -> None:
    secret = password or user
    work, served = private_repository(make_git, tmp_path)
    # A credential helper of the user's own, which keeps what git tells it in a file.
    stored = tmp_path / "stored-credentials"
    (tmp_path / "gitconfig").write_text(f"[credential]\n\thelper = store --file {stored}\n")
    environment = {**os.environ, "GIT_CONFIG_GLOBAL": str(tmp_path / "gitconfig")}
    with git_http_server(served, user, password) as server:
        login = f"{user}:{password}" if password else user
        url = f"http://{login}@{server.address}/acme/private.git"
        defaults = write_defaults(tmp_path, GIT_REPOSITORIES=[url], OUTDIR="out")
        command = [COMMAND, "-v", "-d", str(defaults)]
        first = subprocess.run(command, capture_output=True, text=True, env=environment)
        work.commit(hatchling_project("private", "1.1"))
        work.tag("1.1")
        work.git("push", "-q", str(served / "acme" / "private.git"), "1.1")
        second = subprocess.run(command, capture_output=True, text=True, env=environment)
    assert (first.returncode, second.returncode) == (0, 0), first.stderr + second.stderr
    assert sorted(p.name for p in (tmp_path / "out" / "private").glob("*.tar.gz")) == [
        "private-1.0.tar.gz",
        "private-1.1.tar.gz",
    ]
    state = (tmp_path / "out" / ".sdistmaker" / "state.json").read_text()
    assert f'"git:http://{server.address}/acme/private.git#' in state  # named, without it
    assert secret not in first.stdout + first.stderr + second.stdout + second.stderr
    # Not in the state, the logs, the pages, nor in what sdistmaker keeps of the repository.
    written = [p for p in (tmp_path / "out").rglob("*") if p.is_file()]
    assert not [p for p in written if secret.encode() in p.read_bytes()]
    # Not on a command line, for any user of the machine to read, nor handed to the user's
    # credential helpers.
    assert server.exposures == []
    assert not stored.exists()


def test_a_redirect_to_another_host_gets_no_credentials(make_git: MakeGit, tmp_path: Path) -> None:
    _, served = private_repository(make_git, tmp_path)
    with (
        git_http_server(served, "builder", "s3cret-t0ken") as server,
        redirecting_server(server.address) as moved,
    ):
        url = f"http://builder:s3cret-t0ken@{moved}/acme/private.git"
        source = GitProject(Repository(url), tmp_path / "cache")
        # The host that asks is not the one the credentials were given for.
        with pytest.raises(VcsError, match=f"Authentication failed for 'http://{server.address}/"):
            source.tags()


def test_a_malformed_pip_url_is_an_error_without_its_password() -> None:
    with pytest.raises(VcsError, match="no valid URL") as error:
        parse_pip_url("git+http://builder:s3cret@[::1/acme.git@1.0", "git")
    assert "s3cret" not in str(error.value)


def test_a_tag_key_ignores_what_it_points_at(tmp_path: Path) -> None:
    repository = GitProject(Repository("https://h/p.git"), tmp_path)
    first, moved = repository.tag("1.0", "1.0", "a" * 40), repository.tag("1.0", "1.0", "b" * 40)
    assert first.key == moved.key == "git:https://h/p.git#@1.0"
    assert first.project_key == moved.project_key == repository.key == "git:https://h/p.git#"


def test_a_tag_url_is_what_make_sdist_takes_to_rebuild_it(tmp_path: Path) -> None:
    tag = GitProject(Repository("https://h/mono.git", "web"), tmp_path).tag("v2.0", "2.0", "a" * 40)
    assert tag.url == "git+https://h/mono.git@v2.0#subdirectory=web"
    assert parse_pip_url(tag.url, "git") == ("https://h/mono.git", "v2.0", "web")
    assert tag.culprit == "web v2.0 (git+https://h/mono.git@v2.0#subdirectory=web)"


def test_export_tells_when_the_tag_was_made(make_git: MakeGit, tmp_path: Path) -> None:
    """An annotated tag's own date, a lightweight tag's commit's: the release's date, not when
    it was built."""
    repo = make_git("p")
    committed, tagged = "2001-02-03T04:05:06+00:00", "2002-03-04T05:06:07+00:00"
    os.environ["GIT_COMMITTER_DATE"] = committed
    try:
        repo.commit(hatchling_project("p", "1.0"))
        repo.tag("1.0")
        os.environ["GIT_COMMITTER_DATE"] = tagged
        repo.tag("v1.1", annotated=True)
    finally:
        del os.environ["GIT_COMMITTER_DATE"]
    source = GitProject(Repository(repo.url), tmp_path / "cache")
    made = {tag.name: tag.export(tmp_path / tag.name, soon()) for tag in source.tags()}
    assert made == {"1.0": 981173106.0, "v1.1": 1015218367.0}

"""Commit hooks, installed in real repositories the way README.rst shows them."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

from helpers.projects import hatchling_project, setup_py_project, write_defaults
from helpers.repositories import GitRepository, SvnRepository, install_hook
from helpers.system import NETWORK, hold_lock, run, wait_for_file
from sdistmaker.vcs.git import Git
from sdistmaker.vcs.svn import Subversion

MakeGit = Callable[[str], GitRepository]


def test_which_svn_commits_touch_tags(svn_repository: SvnRepository) -> None:
    repo = svn_repository
    repo.add_project("libs/p", setup_py_project("p", "1.0"))

    def last() -> bool:
        return Subversion().touched([str(repo.root), str(repo.youngest())], ())

    repo.commit_files("libs/p/trunk", {"notes.txt": "trunk only"})
    assert not last()
    repo.tag("libs/p", "1.0")
    assert last()
    repo.commit_files("libs/p/tags/1.0", {"fix.txt": "into a tag"})
    assert last()
    repo.delete("libs/p/tags/1.0")
    assert last()
    run("svn", "copy", "-q", "-m", "move a group", f"{repo.url}/libs", f"{repo.url}/old-libs")
    assert last()
    repo.mkdir("docs")
    assert not last()


def test_which_git_pushes_touch_tags() -> None:
    zero = "0" * 40
    assert Git().touched([], [f"{zero} {'a' * 40} refs/tags/1.0\n"])
    assert Git().touched([], [f"{'a' * 40} {zero} refs/tags/1.0\n"])  # deleted
    assert not Git().touched([], [f"{zero} {'a' * 40} refs/heads/main\n"])
    assert not Git().touched([], [])


def test_an_svn_tag_is_built_in_the_background_of_its_commit(
    svn_repository: SvnRepository, tmp_path: Path
) -> None:
    repo = svn_repository
    repo.add_project("libs/p", setup_py_project("p", "1.0"))
    defaults = write_defaults(tmp_path, BASE=repo.url, OUTDIR="out", BUILD_ENVIRONMENT=NETWORK)
    install_hook(repo.root / "hooks", "post-commit", defaults, '--svn-commit "$1" "$2"')
    log = tmp_path / "out" / ".sdistmaker" / "hook.log"

    repo.commit_files("libs/p/trunk", {"notes.txt": "trunk only"})
    assert not log.exists()  # no background run for a commit that touches no tag

    repo.tag("libs/p", "1.0")
    sdist = tmp_path / "out" / "p" / "p-1.0.tar.gz"
    assert not sdist.exists()  # the commit returned before the build was done
    assert wait_for_file(sdist), log.read_text() if log.exists() else "no hook log"
    assert wait_for_file(tmp_path / "out" / "p" / "index.html")


def test_tags_made_while_a_run_holds_the_lock_are_built_after_it(
    svn_repository: SvnRepository, tmp_path: Path
) -> None:
    repo = svn_repository
    repo.add_project("p", setup_py_project("p", "1.0"))
    defaults = write_defaults(tmp_path, BASE=repo.url, OUTDIR="out", BUILD_ENVIRONMENT=NETWORK)
    install_hook(repo.root / "hooks", "post-commit", defaults, '--svn-commit "$1" "$2"')
    holder = hold_lock(tmp_path / "out", 3)
    repo.tag("p", "1.0")
    repo.tag("p", "1.1", setup_py_project("p", "1.1"))
    holder.wait()
    for version in ("1.0", "1.1"):
        assert wait_for_file(tmp_path / "out" / "p" / f"p-{version}.tar.gz")


def test_a_pushed_git_tag_is_built_in_the_background(make_git: MakeGit, tmp_path: Path) -> None:
    work = make_git("work")
    work.commit(hatchling_project("pushed", "2.0"))
    bare = tmp_path / "server" / "pushed.git"
    work.add_server(bare)
    defaults = write_defaults(
        tmp_path / "server", GIT_REPOSITORIES=[str(bare)], OUTDIR="out", BUILD_ENVIRONMENT=NETWORK
    )
    install_hook(bare / "hooks", "post-receive", defaults, "--git-push")

    work.git("push", "-q", "server", "main")
    assert not (tmp_path / "server" / "out" / ".sdistmaker" / "hook.log").exists()

    work.tag("2.0", annotated=True)
    work.git("push", "-q", "server", "2.0")
    assert wait_for_file(tmp_path / "server" / "out" / "pushed" / "pushed-2.0.tar.gz")

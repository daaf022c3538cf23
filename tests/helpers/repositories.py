"""Real repositories for the tests: svn via svnadmin and file://, git via git."""

from __future__ import annotations

import contextlib
import shutil
from collections.abc import Iterator
from pathlib import Path

from helpers.projects import (
    write_tree,
)
from helpers.system import (
    BIN,
    require,
    run,
)


class SvnRepository:
    """A real svn repository on disk, changed through ``file://`` URLs."""

    def __init__(self, root: Path) -> None:
        require("svnadmin")
        self.root = root
        run("svnadmin", "create", root)
        self.url = root.as_uri()
        self.checkouts = root.parent / f"{root.name}-checkouts"

    def mkdir(self, *paths: str) -> None:
        run("svn", "mkdir", "-q", "--parents", "-m", "mkdir", *(f"{self.url}/{p}" for p in paths))

    def add_project(self, path: str, files: dict[str, str], trunk: bool = True) -> None:
        """Import ``files`` as ``path/trunk`` (and create an empty ``path/tags``)."""
        tree = self.checkouts / "import" / path
        write_tree(tree, files)
        target = f"{self.url}/{path}/trunk" if trunk else f"{self.url}/{path}/files"
        run("svn", "import", "-q", "-m", "import", tree, target)
        shutil.rmtree(self.checkouts / "import")
        self.mkdir(f"{path}/tags")

    @contextlib.contextmanager
    def _working_copy(self, folder: str) -> Iterator[Path]:
        """A checkout of ``folder``: all that is added to it is committed."""
        checkout = self.checkouts / "wc"
        shutil.rmtree(checkout, ignore_errors=True)
        run("svn", "checkout", "-q", "--ignore-externals", f"{self.url}/{folder}", checkout)
        yield checkout
        run("svn", "add", "-q", "--force", checkout)
        run("svn", "commit", "-q", "-m", "change", checkout)
        shutil.rmtree(checkout)

    def commit_files(self, folder: str, files: dict[str, str]) -> None:
        with self._working_copy(folder) as checkout:
            write_tree(checkout, files)

    def set_externals(self, folder: str, definitions: str) -> None:
        """Give ``folder`` these svn:externals (one definition a line)."""
        value = self.checkouts / "externals.txt"
        value.parent.mkdir(parents=True, exist_ok=True)
        value.write_text(definitions)  # from a file: a value may start like an option ("-r 1")
        with self._working_copy(folder) as checkout:
            run("svn", "propset", "-q", "svn:externals", "-F", value, checkout)

    def commit_link(self, folder: str, name: str, target: str) -> None:
        """Commit a symbolic link (svn:special) ``name`` to ``target`` into ``folder``."""
        with self._working_copy(folder) as checkout:
            (checkout / name).symlink_to(target)

    def tag(self, project: str, name: str, files: dict[str, str] | None = None) -> None:
        """Copy trunk to ``tags/name``, after committing ``files`` to trunk when given."""
        if files:
            self.commit_files(f"{project}/trunk", files)
        run(
            "svn",
            "copy",
            "-q",
            "-m",
            "tag",
            f"{self.url}/{project}/trunk",
            f"{self.url}/{project}/tags/{name}",
        )

    def delete(self, path: str) -> None:
        run("svn", "delete", "-q", "-m", "delete", f"{self.url}/{path}")

    def youngest(self) -> int:
        return int(run("svnlook", "youngest", self.root))


class GitRepository:
    """A real git repository with a work tree."""

    def __init__(self, root: Path) -> None:
        self.root = root
        root.mkdir(parents=True)
        self.git("init", "-q", "-b", "main")

    def git(self, *args: str) -> str:
        return run(
            "git", "-c", "user.name=Test", "-c", "user.email=test@example.com", *args, cwd=self.root
        )

    def commit(self, files: dict[str, str], message: str = "change") -> str:
        write_tree(self.root, files)
        self.git("add", "-A")
        self.git("commit", "-q", "--allow-empty", "-m", message)
        return self.git("rev-parse", "HEAD").strip()

    def tag(self, name: str, annotated: bool = False, force: bool = False) -> None:
        options = (["-a", "-m", f"release {name}"] if annotated else []) + (["-f"] if force else [])
        self.git("tag", *options, name)

    @property
    def url(self) -> str:
        return str(self.root)

    def add_server(self, bare: Path) -> None:
        """A bare clone at ``bare``, as a git server holds the repository, to push to as
        ``server``."""
        run("git", "clone", "-q", "--bare", self.root, bare)
        self.git("remote", "add", "server", str(bare))


class HgRepository:
    """A real Mercurial repository with a working copy."""

    def __init__(self, root: Path) -> None:
        self.root = root
        root.mkdir(parents=True)
        self.hg("init")

    def hg(self, *args: str) -> str:
        return run("hg", "--config", "ui.username=Test <test@example.com>", *args, cwd=self.root)

    def commit(self, files: dict[str, str], message: str = "change") -> str:
        write_tree(self.root, files)
        self.hg("addremove", "-q")
        self.hg("commit", "-q", "-m", message)
        return self.hg("log", "-r", ".", "-T", "{node}").strip()

    def tag(self, name: str, *options: str) -> None:
        """Tag the working copy's parent (``--local``, ``--force``, ``--remove`` as hg takes)."""
        self.hg("tag", *options, name)

    @property
    def url(self) -> str:
        return self.root.as_uri()


def install_hook(hooks: Path, name: str, defaults: Path, arguments: str) -> None:
    """The hook README.rst shows, in a real repository's ``hooks`` folder."""
    hook = hooks / name
    hook.write_text(
        "#!/bin/sh\n"
        "# Hooks run with an empty environment: absolute paths only.\n"
        f"exec {BIN / 'sdists_from_tags'} -q --defaults-file={defaults} {arguments}\n"
    )
    hook.chmod(0o755)

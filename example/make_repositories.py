#!/usr/bin/env python3
"""Make the example's real Subversion and Git repositories from the trees in example/projects.

    python3 example/make_repositories.py [WORK]     (WORK defaults to example/work)

WORK is deleted and made anew:

    WORK/svn/                    an svn repository (svnadmin create), BASE in defaults.py:
                                   libs/acme.utils/{trunk,branches,tags/1.0,tags/1.1}
                                   acme.report/{trunk,branches,tags/1.0,tags/1.1,tags/2.0}
    WORK/git/acme-web.git        a bare git repository (hatchling): tags 1.0, v1.1 (annotated)
                                   and latest (no release: sdistmaker skips it)
    WORK/git/acme-cli.git        a bare git repository (setuptools-scm): tags v0.9 and
                                   acme-cli-1.0 (annotated)
    WORK/checkouts/              the working copies the releases were made in
    WORK/defaults.py             sdistmaker's settings for all of this; OUTDIR is WORK/var/private

Every release rewrites the project's version, adds a line to its CHANGES.txt, commits, and tags;
after the last release trunk (main) moves on to the next development version. Only the standard
library, svn, svnadmin and git are used; no git identity needs to be configured.
"""

from __future__ import annotations

import argparse
import re
import shutil
import subprocess
import sys
import time
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

HERE = Path(__file__).resolve().parent
PROJECTS = HERE / "projects"
DEFAULT_WORK = HERE / "work"
MARKER = ".sdistmaker-example"
"""Lives in a work folder this script made: only such a folder (or an empty one) is deleted."""

GIT = [
    "git",
    "-c",
    "user.name=ACME Release Bot",
    "-c",
    "user.email=releases@acme.example",
    "-c",
    "init.defaultBranch=main",
    "-c",
    "commit.gpgSign=false",
    "-c",
    "tag.gpgSign=false",
]
SVN = ["svn", "--non-interactive", "--quiet"]
IGNORED = shutil.ignore_patterns("__pycache__", "*.pyc", "*.egg-info", "build", "dist")


@dataclass(frozen=True)
class Release:
    version: str
    tag: str
    note: str
    annotated: bool = False
    """git only: an annotated tag (``git tag -a``) instead of a lightweight one."""


@dataclass(frozen=True)
class Project:
    name: str
    """Its folder in example/projects."""
    releases: tuple[Release, ...]
    version_file: str = ""
    """The file holding the one ``version = "..."`` line; empty when setuptools-scm decides."""
    next_version: str = ""
    """The development version trunk (main) gets after the last release."""
    path: str = ""
    """svn only: the project's folder in the repository."""
    other_tags: tuple[str, ...] = ()
    """git only: tags on the newest commit that name no release, which sdistmaker must skip."""


SVN_PROJECTS = (
    Project(
        "acme.utils",
        path="libs/acme.utils",
        version_file="setup.py",
        releases=(
            Release("1.0", "1.0", "First release."),
            Release("1.1", "1.1", "slugify() drops punctuation."),
        ),
        next_version="1.2.dev0",
    ),
    Project(
        "acme.report",
        path="acme.report",
        version_file="pyproject.toml",
        releases=(
            Release("1.0", "1.0", "First release."),
            Release("1.1", "1.1", "Months are sorted."),
            Release("2.0", "2.0", "Needs Python 3.8."),
        ),
        next_version="2.1.dev0",
    ),
)
GIT_PROJECTS = (
    Project(
        "acme-web",
        version_file="pyproject.toml",
        releases=(
            Release("1.0", "1.0", "First release."),
            Release("1.1", "v1.1", "Plain text answers are UTF-8.", annotated=True),
        ),
        next_version="1.2.dev0",
        other_tags=("latest",),
    ),
    Project(
        "acme-cli",
        releases=(
            Release("0.9", "v0.9", "First release."),
            Release("1.0", "acme-cli-1.0", "The order number is required.", annotated=True),
        ),
    ),
)


def run(command: Sequence[str], cwd: Path | None = None) -> str:
    """Run a command (an argument list, no shell); stop the script with its error if it fails."""
    result = subprocess.run(
        list(command), cwd=cwd, capture_output=True, text=True, stdin=subprocess.DEVNULL
    )
    if result.returncode:
        output = (result.stderr or result.stdout).strip()
        raise SystemExit(f"failed ({result.returncode}): {' '.join(command)}\n{output}")
    return result.stdout


def set_version(tree: Path, project: Project, version: str) -> None:
    """Rewrite the project's one ``version = "..."`` (pyproject.toml) or ``version="..."``."""
    path = tree / project.version_file
    pattern = re.compile(r"""^(\s*version\s*=\s*)(["'])[^"']*\2""", re.MULTILINE)
    text, count = pattern.subn(rf"\g<1>\g<2>{version}\g<2>", path.read_text(encoding="utf-8"))
    if count != 1:
        raise SystemExit(f"{path}: expected one version line, found {count}")
    path.write_text(text, encoding="utf-8")


def add_change(tree: Path, release: Release) -> None:
    """Put the release's note at the top of CHANGES.txt, below its title."""
    path = tree / "CHANGES.txt"
    title, _, older = path.read_text(encoding="utf-8").partition("\n\n")
    entry = f"{release.version}\n{'-' * len(release.version)}\n\n- {release.note}\n\n"
    path.write_text(f"{title}\n\n{entry}{older}", encoding="utf-8")


def prepare(tree: Path, project: Project, release: Release) -> None:
    if project.version_file:
        set_version(tree, project, release.version)
    add_change(tree, release)


def make_svn(work: Path) -> str:
    """The svn repository with every SVN_PROJECTS project; returns its file:// URL."""
    repository = work / "svn"
    run(["svnadmin", "create", str(repository)])
    root = repository.as_uri()
    layout = [f"{root}/{p.path}/{folder}" for p in SVN_PROJECTS for folder in ("branches", "tags")]
    run([*SVN, "mkdir", "--parents", "-m", "Project layout", *layout])
    for project in SVN_PROJECTS:
        trunk = f"{root}/{project.path}/trunk"
        staging = work / "staging" / project.name
        shutil.copytree(PROJECTS / project.name, staging, ignore=IGNORED)
        run([*SVN, "import", "-m", f"Import {project.name}", str(staging), trunk])
        checkout = work / "checkouts" / "svn" / project.name
        run([*SVN, "checkout", trunk, str(checkout)])
        for release in project.releases:
            prepare(checkout, project, release)
            run([*SVN, "commit", "-m", f"Preparing release {release.version}", str(checkout)])
            tag = f"{root}/{project.path}/tags/{release.tag}"
            run([*SVN, "copy", "-m", f"Tagging {release.tag}", trunk, tag])
        set_version(checkout, project, project.next_version)
        run([*SVN, "commit", "-m", "Back to development", str(checkout)])
        tags = " ".join(release.tag for release in project.releases)
        print(f"svn  {project.path}: tags {tags}")
    shutil.rmtree(work / "staging")
    return root


def make_git(work: Path, project: Project) -> Path:
    """A bare repository for ``project``, pushed from a working clone; returns its path."""
    bare = work / "git" / f"{project.name}.git"
    checkout = work / "checkouts" / "git" / project.name
    run([*GIT, "init", "--quiet", "--bare", str(bare)])
    shutil.copytree(PROJECTS / project.name, checkout, ignore=IGNORED)
    git = [*GIT, "-C", str(checkout)]
    run([*git, "init", "--quiet"])
    run([*git, "add", "--all"])
    run([*git, "commit", "--quiet", "-m", f"Start {project.name}"])
    for release in project.releases:
        prepare(checkout, project, release)
        run([*git, "commit", "--quiet", "--all", "-m", f"Preparing release {release.version}"])
        if release.annotated:
            run([*git, "tag", "--annotate", "-m", f"Release {release.version}", release.tag])
        else:
            run([*git, "tag", release.tag])
    if project.next_version:
        set_version(checkout, project, project.next_version)
        run([*git, "commit", "--quiet", "--all", "-m", "Back to development"])
    for tag in project.other_tags:
        run([*git, "tag", tag])
    run([*git, "remote", "add", "origin", str(bare)])
    run([*git, "push", "--quiet", "--tags", "origin", "main"])
    tags = [release.tag for release in project.releases] + list(project.other_tags)
    print(f"git  {project.name}: tags {' '.join(tags)}")
    return bare


def write_defaults(work: Path, base: str, repositories: list[Path]) -> Path:
    defaults = work / "defaults.py"
    lines = [
        "# sdistmaker's settings for the example, written by example/make_repositories.py.",
        f"# Run: sdists_from_tags --defaults-file={defaults}",
        "",
        "# The svn repository: libs/acme.utils and acme.report, each with trunk and tags.",
        f"BASE = {base!r}",
        "",
        "# Two git repositories (a path works as well as a URL).",
        "GIT_REPOSITORIES = [",
        *(f"    {str(path)!r}," for path in repositories),
        "]",
        "",
        "# Relative to this file: the sdists land in var/private/<project>/.",
        'OUTDIR = "var/private"',
        "",
    ]
    defaults.write_text("\n".join(lines), encoding="utf-8")
    return defaults


def fresh_folder(work: Path) -> None:
    """Delete ``work`` (if this script made it, or it is empty) and make it anew."""
    if work.exists():
        if not work.is_dir() or (any(work.iterdir()) and not (work / MARKER).exists()):
            raise SystemExit(f"{work} exists and was not made by this script; not deleting it")
        shutil.rmtree(work)
    work.mkdir(parents=True)
    (work / MARKER).write_text("Made by example/make_repositories.py; deleted by its next run.\n")


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument(
        "work",
        nargs="?",
        type=Path,
        default=DEFAULT_WORK,
        help="the folder to (re)create (default: %(default)s)",
    )
    work = parser.parse_args(argv).work.resolve()
    for tool in ("svn", "svnadmin", "git"):
        if shutil.which(tool) is None:
            raise SystemExit(f"{tool} is not installed (apt-get install subversion git)")
    started = time.monotonic()
    fresh_folder(work)
    base = make_svn(work)
    repositories = [make_git(work, project) for project in GIT_PROJECTS]
    defaults = write_defaults(work, base, repositories)
    print(f"made {work} in {time.monotonic() - started:.1f}s; settings in {defaults}")
    return 0


if __name__ == "__main__":
    sys.exit(main())

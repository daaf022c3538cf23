"""Tags that would publish the wrong thing: a version other than the built one, a release
re-tagged, tagged again under another name or claimed by two projects, a distribution renamed, a
tag deleted midway; names that could trick a path, a shell or a page (``..``, ``+``, spaces,
unicode, shell metacharacters); links out of a tag's tree."""

from __future__ import annotations

import contextlib
import json
import re
import socket
import tempfile
import threading
from pathlib import Path

from helpers.catalogue import Arranged, Case, Catalogue, Expect, World, distributions, run_and_check
from helpers.projects import setup_py_project

bad_input = Catalogue()


@bad_input
def tag_whose_version_is_not_the_built_one(world: World) -> Arranged:
    world.publish()
    world.svn.tag("libs/alpha", "1.0.1")  # trunk still says 1.0
    url = world.svn_tag_url("alpha", "1.0.1")
    reason = r"built version 1.0 but the tag is version 1.0.1 \(alpha-1.0.tar.gz\)"
    yield Expect(1, [world.fails("alpha", "1.0.1", url, reason)])
    assert not [name for name in distributions(world.outdir) if "1.0.1" in name]


@bad_input
def release_tagged_again_under_another_name(world: World) -> Arranged:
    """``v1.0``, ``1.0.0`` and ``1.0.0.0`` are release 1.0 as ``1.0`` is: a release is
    published once, else which file ``==1.0`` installs would depend on the order installers
    list them. Each later tag is refused once, as a moved tag is."""
    world.publish()
    world.svn.tag("libs/alpha", "v1.0")
    world.svn.tag("libs/alpha", "1.0.0", setup_py_project("alpha", "1.0.0"))
    world.svn.tag("libs/alpha", "1.0.0.0", setup_py_project("alpha", "1.0.0.0"))
    published = world.outdir / "alpha" / "alpha-1.0.tar.gz"
    reasons = {
        "1.0.0": "alpha 1.0.0 is published already, as alpha/alpha-1.0.tar.gz",
        "1.0.0.0": "alpha 1.0.0.0 is published already, as alpha/alpha-1.0.tar.gz",
        "v1.0": f"{published} is already published; it is kept as it is",
    }
    lines = [
        world.fails("alpha", tag, world.svn_tag_url("alpha", tag), re.escape(reason))
        for tag, reason in reasons.items()
    ]
    yield Expect(1, lines)
    assert distributions(world.outdir) == ["alpha/alpha-1.0.tar.gz", "beta/beta-1.0.tar.gz"]
    assert world.run().code == 0  # said once


@bad_input
def distribution_renamed_between_tags(world: World) -> Arranged:
    """Allowed (projects do get renamed): each name is published under its own folder, with its
    own pages, and a run says so (not a failure: a quiet run says nothing)."""
    world.publish()
    world.git.commit(setup_py_project("beta.renamed", "2.0"))
    world.git.tag("2.0")
    tag = re.escape(f"beta 2.0 (git+{world.git.url}@2.0)")
    lines = [
        rf"renamed {tag}: publishes beta-renamed, earlier tags beta; each keeps its own pages",
        r"built beta 2\.0 -> beta-renamed/beta_renamed-2\.0\.tar\.gz",
        r"built 1, up to date 2, failed 0 \(new 0\)",
    ]
    yield Expect(0, lines, quiet=False)
    assert distributions(world.outdir) == [
        "alpha/alpha-1.0.tar.gz",
        "beta-renamed/beta_renamed-2.0.tar.gz",
        "beta/beta-1.0.tar.gz",
    ]
    root = json.loads((world.outdir / "index.json").read_text())
    assert [p["name"] for p in root["projects"]] == ["alpha", "beta", "beta-renamed"]


def front_page_lists(outdir: Path) -> list[str]:
    """The projects the front page for people links to."""
    page = (outdir / "+" / "index.html").read_text()
    return sorted(set(re.findall(r'href="([^"/]+)\.html"', page)))


@bad_input
def project_folder_named_as_no_distribution_can_be(world: World) -> Arranged:
    """A project folder named ``+`` (where the pages for people are): before its first tag it
    gets no page of its own there; once it publishes (under its distribution's name), the
    front page for people stays."""
    world.svn.add_project("libs/+", setup_py_project("plus", "1.0"))
    world.publish()
    assert front_page_lists(world.outdir) == ["alpha", "beta"]
    world.svn.tag("libs/+", "1.0")
    yield Expect(0)
    assert front_page_lists(world.outdir) == ["alpha", "beta", "plus"]
    assert "plus/plus-1.0.tar.gz" in distributions(world.outdir)


@bad_input
def yanked_naming_no_project_that_can_be(world: World) -> Arranged:
    """YANKED names projects as people write them: ``+`` is none, and its folder is not one."""
    world.publish()
    yield Expect(0, defaults=world.defaults(YANKED={"+": {"1.0": "no such project"}}))
    assert front_page_lists(world.outdir) == ["alpha", "beta"]


@bad_input
def two_projects_publishing_one_distribution(world: World) -> Arranged:
    world.publish()
    world.svn.add_project("libs/fork", setup_py_project("Beta", "3.0"))
    world.svn.tag("libs/fork", "3.0")
    url = world.svn_tag_url("fork", "3.0")
    owner = re.escape(f"git:{world.git.url}#")
    reason = rf"distribution beta is already published from {owner}, not from svn:.*/libs/fork"
    yield Expect(1, [world.fails("fork", "3.0", url, reason)])
    assert distributions(world.outdir) == ["alpha/alpha-1.0.tar.gz", "beta/beta-1.0.tar.gz"]


@bad_input
def release_re_tagged_with_other_content(world: World) -> Arranged:
    world.publish()
    world.git.commit({"CHANGES.txt": "changed after the release\n"})
    world.git.tag("1.0", force=True)
    url = re.escape(f"beta 1.0 (git+{world.git.url}@1.0)")
    line = (
        rf"failed {url}: re-tagged \(was \w+, now \w+\); the published beta/beta-1.0.tar.gz is kept"
    )
    yield Expect(1, [line])
    assert world.run().code == 0  # reported once


# Tag names that could trick a path or a shell.


@bad_input
def tag_names_with_dots_climbing_out(world: World) -> Arranged:
    """svn and git refuse a ".." path element; what they let through holds no version, so it is
    no release: skipped, as every such tag is, and no path is made of it."""
    world.publish()
    for name in ("..1.1", "1.1..", "..."):
        world.svn.tag("libs/alpha", name)
    world.svn.add_project("libs/...", setup_py_project("dots", "1.0"))
    world.svn.tag("libs/...", "1.0")
    yield Expect(0)
    assert distributions(world.outdir) == [
        "alpha/alpha-1.0.tar.gz",
        "beta/beta-1.0.tar.gz",
        "dots/dots-1.0.tar.gz",
    ]
    assert sorted(p.name for p in world.root.iterdir()) == [
        "defaults.py",
        "git",
        "out",
        "svn",
        "svn-checkouts",
        "tmp",
    ]


@bad_input
def tag_names_with_spaces(world: World) -> Arranged:
    world.publish()
    world.svn.add_project("libs/my project", setup_py_project("spaced", "1.0"))
    world.svn.tag("libs/my project", "release 1.0")
    yield Expect(0)
    assert "spaced/spaced-1.0.tar.gz" in distributions(world.outdir)


@bad_input
def tag_names_and_projects_in_unicode(world: World) -> Arranged:
    world.publish()
    world.svn.add_project("libs/ünïcødé", setup_py_project("unicode-project", "1.0"))
    world.svn.tag("libs/ünïcødé", "wersja-1.0")
    world.svn.tag("libs/ünïcødé", "версия-1.1", setup_py_project("unicode-project", "1.1"))
    world.git.commit(setup_py_project("beta", "1.1"))
    world.git.tag("выпуск-1.1")
    yield Expect(0)
    assert distributions(world.outdir) == [
        "alpha/alpha-1.0.tar.gz",
        "beta/beta-1.0.tar.gz",
        "beta/beta-1.1.tar.gz",
        "unicode-project/unicode_project-1.0.tar.gz",
        "unicode-project/unicode_project-1.1.tar.gz",
    ]


# Names that would run a command if any of them reached a shell. Those that hold no version are
# skipped, as every such tag is; the last of each list holds one (1.4) and is built.
# $CANARY is set for the run: a command run in a build folder, deleted after, still shows.
SVN_TAGS = [
    "1.0;touch PWNED",
    "$(touch PWNED)",
    "`touch PWNED`",
    "1.1|touch PWNED",
    "1.2&&touch PWNED",
    '1.0\'"; touch "$CANARY"',
    "$(touch $CANARY)-1.4",
]


# Git allows no spaces in tag names; ${IFS} is a shell's space.
GIT_TAGS = [
    "1.0;touch${IFS}PWNED",
    "$(touch${IFS}PWNED)",
    "`touch${IFS}$CANARY`",
    "1.1|touch${IFS}PWNED",
    "1.2&&touch${IFS}PWNED",
    '1.0\'";touch${IFS}"$CANARY"',
    "$(touch${IFS}$CANARY)-1.4",
]


@bad_input
def tag_names_with_shell_metacharacters(world: World) -> Arranged:
    world.publish()
    for name in SVN_TAGS[:-1]:
        world.svn.tag("libs/alpha", name)
    world.svn.tag("libs/alpha", SVN_TAGS[-1], setup_py_project("alpha", "1.4"))
    for name in GIT_TAGS[:-1]:
        world.git.tag(name)
    world.git.commit(setup_py_project("beta", "1.4"))
    world.git.tag(GIT_TAGS[-1])
    canary = world.root / "PWNED"
    yield Expect(0, env={"CANARY": str(canary)})
    assert list(world.root.rglob("PWNED")) == []
    assert not (Path("/") / "PWNED").exists()  # the runs' working folder
    assert not (Path(tempfile.gettempdir()) / "PWNED").exists()
    assert distributions(world.outdir) == [
        "alpha/alpha-1.0.tar.gz",
        "alpha/alpha-1.4.tar.gz",
        "beta/beta-1.0.tar.gz",
        "beta/beta-1.4.tar.gz",
    ]
    state = json.loads((world.outdir / ".sdistmaker" / "state.json").read_text())
    recorded = sorted(record["name"] for record in state["tags"].values())
    assert recorded == sorted(["1.0", "1.0", SVN_TAGS[-1], GIT_TAGS[-1]])


@bad_input
def tags_holding_links_out_of_their_tree(world: World) -> Arranged:
    """A backend follows links: the server's files would be published in an sdist."""
    world.publish()
    world.svn.commit_files("libs/alpha/trunk", setup_py_project("alpha", "1.1"))
    world.svn.commit_link("libs/alpha/trunk", "passwords.txt", "/etc/passwd")
    world.svn.tag("libs/alpha", "1.1")
    world.git.commit(setup_py_project("beta", "1.1"))
    (world.git.root / "outside.txt").symlink_to("../../out/.sdistmaker/state.json")
    world.git.commit({})
    world.git.tag("1.1")
    svn_url = world.svn_tag_url("alpha", "1.1")
    git_url = f"git+{world.git.url}@1.1"
    svn_reason = "export failed: link passwords.txt points out of the tag, to /etc/passwd"
    git_reason = "export failed: link outside.txt points out of the tag, to ../../out/.*"
    yield Expect(
        1,
        [
            world.fails("alpha", "1.1", svn_url, re.escape(svn_reason)),
            world.fails("beta", "1.1", git_url, git_reason),
        ],
    )
    assert distributions(world.outdir) == ["alpha/alpha-1.0.tar.gz", "beta/beta-1.0.tar.gz"]


WAITING = """\
import os, socket
with socket.create_connection(("127.0.0.1", int(os.environ["MEETING"])), timeout=60) as s:
    s.sendall(b"here")
    assert s.recv(2) == b"go"
from setuptools import setup
setup(name="alpha", version="1.1")
"""


@bad_input
def tag_deleted_between_crawl_and_export(world: World) -> Arranged:
    """A tag the crawl saw is built as it was then (svn: its revision; git: its commit, in the
    mirror), though deleted meanwhile; the published files stay after it is gone."""
    world.publish()
    world.svn.tag("libs/alpha", "1.1", {"setup.py": WAITING})
    world.svn.tag("libs/alpha", "1.2", setup_py_project("alpha", "1.2"))
    world.git.commit(setup_py_project("beta", "1.2"))
    world.git.tag("1.2")
    deleted = threading.Event()

    def delete_tags_when_called() -> None:
        # Builds go one at a time (JOBS = 1) in crawl order: alpha 1.1 waits here while the
        # tags after it, already crawled, are deleted.
        with contextlib.suppress(OSError):
            while True:
                connection, _ = server.accept()
                with connection:
                    connection.recv(4)
                    if not deleted.is_set():
                        world.svn.delete("libs/alpha/tags/1.2")
                        world.git.git("tag", "-d", "1.2")
                        deleted.set()
                    connection.sendall(b"go")

    server = socket.create_server(("127.0.0.1", 0))
    thread = threading.Thread(target=delete_tags_when_called, daemon=True)
    thread.start()
    meeting = {"MEETING": str(server.getsockname()[1])}
    try:
        yield Expect(0, [], world.defaults(JOBS=1, BUILD_ENVIRONMENT=meeting))
    finally:
        server.close()
    assert deleted.is_set()
    expected = [
        "alpha/alpha-1.0.tar.gz",
        "alpha/alpha-1.1.tar.gz",
        "alpha/alpha-1.2.tar.gz",
        "beta/beta-1.0.tar.gz",
        "beta/beta-1.2.tar.gz",
    ]
    assert distributions(world.outdir) == expected
    assert world.run().code == 0
    assert distributions(world.outdir) == expected


@bad_input.each()
def test_bad_input(case: Case, world: World) -> None:
    run_and_check(case, world)

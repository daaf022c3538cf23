"""What a build hands back, crafted (a build may write any file): a distribution name that is a
path, a pipe or a link left for sdistmaker to read, an output folder replaced by a link, metadata
carrying HTML; sdists and wheels whose metadata is too large, ambiguous or no plain file, whose
file names are not plain, that are compression bombs, or that replace the checked sdist. Each is
refused in one line and never published; text is shown as text."""

from __future__ import annotations

import json
import re
import tarfile
import uuid
from pathlib import Path

from helpers.catalogue import (
    QUICK,
    SECRET,
    Arranged,
    Case,
    Catalogue,
    Expect,
    World,
    distributions,
    run_and_check,
)
from helpers.projects import crafted_project

bad_input = Catalogue()


ESCAPE = f"/tmp/sdistmaker-escape-{uuid.uuid4()}"
"""Where a hostile distribution name would have its project folder, were names paths."""


NAMING_BACKEND = f"""\
import io, os, tarfile

def get_requires_for_build_sdist(config_settings=None):
    return []

def build_sdist(sdist_directory, config_settings=None):
    data = b"Metadata-Version: 2.1\\nName: {ESCAPE}\\nVersion: 1.1\\n"
    path = os.path.join(sdist_directory, "alpha-1.1.tar.gz")
    with tarfile.open(path, "w:gz") as archive:
        member = tarfile.TarInfo("alpha-1.1/PKG-INFO")
        member.size = len(data)
        archive.addfile(member, io.BytesIO(data))
    return "alpha-1.1.tar.gz"
"""


@bad_input
def sdist_naming_a_distribution_that_is_a_path(world: World) -> Arranged:
    """A distribution name becomes a folder in OUTDIR: only a valid one is taken."""
    world.publish()
    pyproject = '[build-system]\nrequires = []\nbuild-backend = "naming"\nbackend-path = ["."]\n'
    world.svn.tag("libs/alpha", "1.1", {"pyproject.toml": pyproject, "naming.py": NAMING_BACKEND})
    url = world.svn_tag_url("alpha", "1.1")
    reason = re.escape(f"alpha-1.1.tar.gz: {ESCAPE!r} is no valid distribution name")
    yield Expect(1, [world.fails("alpha", "1.1", url, reason)])
    assert not Path(ESCAPE).exists()


def answering_backend(swap: str) -> dict[str, str]:
    """A tag whose backend, as its hook runner exits, replaces the answer it wrote for
    sdistmaker (``output`` in ``swap``, a statement)."""
    backend = f"""\
import atexit, os, sys

def get_requires_for_build_sdist(config_settings=None):
    output = os.path.join(sys.argv[-1], "output.json")
    atexit.register(lambda: (os.remove(output), {swap}))
    return []
"""
    pyproject = '[build-system]\nrequires = []\nbuild-backend = "answering"\nbackend-path = ["."]\n'
    return {"pyproject.toml": pyproject, "answering.py": backend}


@bad_input
def build_leaving_a_pipe_or_a_link_for_sdistmaker_to_read(world: World) -> Arranged:
    """PyPA build's hook runner reads the backend's answer from a folder the build writes to: a
    pipe there would hold the run for ever, a link would have it read a file of the server's
    (here one whose content would be taken for build requirements, and named in the line)."""
    world.publish()
    secret = world.root / "secret.json"
    secret.write_text(json.dumps({"return_val": [SECRET]}))
    world.svn.tag("libs/alpha", "1.1", answering_backend("os.mkfifo(output)"))
    world.svn.tag("libs/alpha", "1.2", answering_backend(f"os.symlink({str(secret)!r}, output)"))
    reason = "the build left output.json, no plain file, to be read"
    lines = [
        world.fails("alpha", tag, world.svn_tag_url("alpha", tag), re.escape(reason))
        for tag in ("1.1", "1.2")
    ]
    result = yield Expect(1, lines)
    assert result.seconds < 60


REPLACING_ITS_OUTPUT_FOLDER = """\
import os, shutil
dist = os.path.join(os.path.dirname(os.getcwd()), "dist")
shutil.rmtree(dist, ignore_errors=True)
os.symlink("/etc", dist)
raise RuntimeError("gone")
"""


@bad_input
def build_replacing_its_output_folder_with_a_link(world: World) -> Arranged:
    """Its next route gets an output folder of its own again: the tag fails as any failing
    build does, instead of stopping every run."""
    world.publish()
    world.svn.tag("libs/alpha", "1.1", {"setup.py": REPLACING_ITS_OUTPUT_FOLDER})
    url = world.svn_tag_url("alpha", "1.1")
    yield Expect(1, [world.fails("alpha", "1.1", url, r"build, setuptools<58: RuntimeError: gone")])
    assert world.run().code == 0  # reported once
    assert not Path("/etc/alpha-1.1.tar.gz").exists()


HOSTILE = '<script>alert("x")</script><img src=x onerror=alert(1)>'


@bad_input
def metadata_carrying_html_and_javascript(world: World) -> Arranged:
    """Shown as text on every page, never as markup, and never as a link to javascript:."""
    world.publish()
    setup = (
        "from setuptools import setup\n"
        f"setup(name='beta', version='1.1', description={HOSTILE!r}, author={HOSTILE!r},\n"
        f"      long_description={HOSTILE!r}, url='javascript:alert(1)')\n"
    )
    world.git.commit({"setup.py": setup})
    world.git.tag("1.1")
    yield Expect(0)
    assert "beta/beta-1.1.tar.gz" in distributions(world.outdir)
    pages = [p for p in world.outdir.rglob("*.html") if ".sdistmaker" not in p.parts]
    shown = [p for p in pages if "alert(1)" in p.read_text()]
    assert shown  # the summary is on the pages for people
    for html in pages:
        text = html.read_text()
        assert "<script>alert" not in text and "<img" not in text, html
        assert 'href="javascript:' not in text, html


# Tags whose backend writes a crafted sdist or wheel (a build may write any file): each is read
# within limits (what it decompresses, its metadata's size) and refused in one line, never
# published; the sdists of the last case are good, only their wheels are refused.


def crafted_tags(
    world: World, tags: dict[str, tuple[dict[str, str], str]], **settings: object
) -> Expect:
    """Publish, then tag alpha ``tag`` for each ``tag: (files, reason)`` in ``tags``: what the
    next run must say of each (``reason``, a regular expression)."""
    world.publish()
    lines = []
    for tag, (files, reason) in tags.items():
        world.svn.tag("libs/alpha", tag, files)
        lines.append(world.fails("alpha", tag, world.svn_tag_url("alpha", tag), reason))
    return Expect(1, lines, world.defaults(**settings))


@bad_input
def sdists_whose_pkg_info_is_no_plain_file(world: World) -> Arranged:
    """A folder, a link to the server's secrets, a file cut short (its header claims 100 kB,
    it holds 2 kB): each refused as it is; no link followed."""
    folder = 'member(TOP + "/PKG-INFO", kind=tarfile.DIRTYPE)'
    link = 'member(TOP + "/PKG-INFO", kind=tarfile.SYMTYPE, linkname="/etc/shadow")'
    cut_short = 'member(TOP + "/PKG-INFO", PKG_INFO.ljust(2048), size=100_000)'
    not_a_file = r"alpha-1\.{0}\.tar\.gz: 'alpha-1\.{0}/PKG-INFO' is not a regular file"
    yield crafted_tags(
        world,
        {
            "1.1": (crafted_project(f"sdist(directory, {folder})"), not_a_file.format(1)),
            "1.2": (crafted_project(f"sdist(directory, {link})"), not_a_file.format(2)),
            "1.3": (
                crafted_project(f"sdist(directory, {cut_short})"),
                r"alpha-1\.3\.tar\.gz: unreadable: unexpected end of data",
            ),
        },
    )
    assert distributions(world.outdir) == ["alpha/alpha-1.0.tar.gz", "beta/beta-1.0.tar.gz"]


@bad_input
def sdists_whose_file_name_is_not_plain(world: World) -> Arranged:
    """A name that is not UTF-8 could be on no page, and one that names another release would
    be misread by installers: neither is published."""
    good = 'sdist(directory, member(TOP + "/PKG-INFO", PKG_INFO), name={})'
    yield crafted_tags(
        world,
        {
            "1.1": (
                crafted_project(
                    good.format('os.fsdecode(b"\\xff\\xfe" + TOP.encode() + b".tar.gz")')
                ),
                r"'\\udcff\\udcfealpha-1\.1\.tar\.gz': no distribution file name: "
                r"ASCII letters, digits and \._\+!- only",
            ),
            "1.2": (
                crafted_project(good.format('"beta-" + VERSION + ".tar.gz"')),
                r"beta-1\.2\.tar\.gz: its name does not say alpha 1\.2, as its metadata does",
            ),
        },
    )
    assert distributions(world.outdir) == ["alpha/alpha-1.0.tar.gz", "beta/beta-1.0.tar.gz"]


@bad_input
def sdist_whose_pkg_info_is_larger_than_any_metadata(world: World) -> Arranged:
    """Refused as its header gives its size, unread: neither sdistmaker's memory nor the
    .metadata file beside the sdist grows with it."""
    large = 'sdist(directory, member(TOP + "/PKG-INFO", PKG_INFO + bytes(4 << 20)))'
    reason = r"alpha-1\.1\.tar\.gz: 'alpha-1\.1/PKG-INFO' is larger than 4 MiB"
    yield crafted_tags(world, {"1.1": (crafted_project(large), reason)})
    assert not list(world.outdir.glob("alpha/*1.1*"))


@bad_input
def sdist_that_is_a_compression_bomb(world: World) -> Arranged:
    """1 MB that unpacks to more than a gigabyte of zeros, its PKG-INFO last: refused before
    the zeros are unpacked, neither read to its end nor unpacked for a wheel (WHEELS = True)."""
    bomb = (
        "write(directory, TOP + '.tar.gz', gzip.compress(member(TOP + '/zeros', size=17 << 26)),"
        " zeros(17 << 26), gzip.compress(member(TOP + '/PKG-INFO', PKG_INFO) + bytes(1024)))"
    )
    reason = r"alpha-1\.1\.tar\.gz: unpacks to more than 1 GiB"
    result = yield crafted_tags(world, {"1.1": (crafted_project(bomb), reason)}, WHEELS=True)
    assert result.seconds < QUICK


@bad_input
def sdists_whose_metadata_is_ambiguous(world: World) -> Arranged:
    """Tools differ in which PKG-INFO or which Version they read: the version checked must be
    the version published."""
    other = 'PKG_INFO.replace(VERSION.encode(), b"2.0") + b"Requires-Dist: evil\\n"'
    two_files = (
        f'sdist(directory, member("PKG-INFO", PKG_INFO), member(TOP + "/PKG-INFO", {other}))'
    )
    two_versions = 'sdist(directory, member(TOP + "/PKG-INFO", PKG_INFO + b"Version: 2.0\\n"))'
    yield crafted_tags(
        world,
        {
            "1.1": (
                crafted_project(two_files),
                r"alpha-1\.1\.tar\.gz: holds more than one entry at the top: "
                r"\['PKG-INFO', 'alpha-1\.1'\]",
            ),
            "1.2": (
                crafted_project(two_versions),
                r"alpha-1\.2\.tar\.gz: PKG-INFO gives version more than once",
            ),
        },
    )
    assert distributions(world.outdir) == ["alpha/alpha-1.0.tar.gz", "beta/beta-1.0.tar.gz"]


@bad_input
def wheel_build_replacing_its_checked_sdist(world: World) -> Arranged:
    """WHEELS = True: the wheel's backend, the tag's code again, tries to put a link to the
    defaults file (its passwords) where the checked sdist waits to be published: it cannot
    reach it, and what is published is what was checked."""
    world.publish()
    defaults = world.defaults(WHEELS=True)
    wheel = (
        f"[tamper(directory, {str(defaults)!r}), "
        'wheel(directory, {TOP + ".dist-info/METADATA": PKG_INFO})][-1]'
    )
    world.svn.tag("libs/alpha", "1.1", crafted_project(wheel=wheel))
    yield Expect(0, [], defaults)
    published = world.outdir / "alpha" / "alpha-1.1.tar.gz"
    assert not published.is_symlink()
    with tarfile.open(published) as sdist:
        pkg_info = sdist.extractfile("alpha-1.1/PKG-INFO")
        assert pkg_info is not None and b"Version: 1.1\n" in pkg_info.read()
    assert (world.outdir / "alpha" / "alpha-1.1-py3-none-any.whl").exists()


@bad_input
def wheels_checked_as_their_sdists_are(world: World) -> Arranged:
    """WHEELS = True: a wheel whose METADATA is too large, whose name is not UTF-8 or that is
    another project's is not published; its sdist is."""
    large = 'wheel(directory, {TOP + ".dist-info/METADATA": PKG_INFO + bytes(4 << 20)})'
    misnamed = (
        'wheel(directory, {TOP + ".dist-info/METADATA": PKG_INFO}, '
        'name=os.fsdecode(b"\\xff" + TOP.encode() + b"-py3-none-any.whl"))'
    )
    other = (
        'wheel(directory, {"beta-1.3.dist-info/METADATA": PKG_INFO.replace(b"alpha", b"beta")}, '
        'name="beta-1.3-py3-none-any.whl")'
    )
    yield crafted_tags(
        world,
        {
            "1.1": (
                crafted_project(wheel=large),
                r"wheel: alpha-1\.1-py3-none-any\.whl: 'alpha-1\.1\.dist-info/METADATA' is "
                r"larger than 4 MiB",
            ),
            "1.2": (
                crafted_project(wheel=misnamed),
                r"wheel: '\\udcffalpha-1\.2-py3-none-any\.whl': no distribution file name: .*",
            ),
            "1.3": (
                crafted_project(wheel=other),
                r"wheel: beta-1\.3-py3-none-any\.whl is beta 1\.3, not alpha 1\.3",
            ),
        },
        WHEELS=True,
    )
    assert distributions(world.outdir) == [
        "alpha/alpha-1.0.tar.gz",
        "alpha/alpha-1.1.tar.gz",
        "alpha/alpha-1.2.tar.gz",
        "alpha/alpha-1.3.tar.gz",
        "beta/beta-1.0.tar.gz",
    ]


@bad_input.each()
def test_bad_input(case: Case, world: World) -> None:
    run_and_check(case, world)

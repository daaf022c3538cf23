"""OUTDIR and the disk it lies on: a full disk, a read-only mount, an OUTDIR that cannot be made,
a umask that hides everything, an OUTDIR hidden from other users (a web server)."""

from __future__ import annotations

import contextlib
import re
import shutil
from collections.abc import Iterator
from pathlib import Path

from helpers.catalogue import Arranged, Case, Catalogue, Expect, World, distributions, run_and_check
from helpers.projects import setup_py_project
from helpers.system import mount, small_disk, unmount

bad_input = Catalogue()


# OUTDIR on a disk that is full, or mounted read-only. The tests run as root in CI and mount.


@contextlib.contextmanager
def read_only(folder: Path) -> Iterator[None]:
    """``folder`` read-only for everyone, root too (who ignores permission bits)."""
    mount("--bind", str(folder), str(folder))
    try:
        mount("-o", "remount,ro,bind", str(folder))
        yield
    finally:
        unmount(folder)


def fill(path: Path) -> None:
    """Write ``path`` until its file system has not one block left."""
    with open(path, "wb", buffering=0) as file, contextlib.suppress(OSError):
        while True:
            file.write(bytes(1 << 20))


@bad_input
def outdir_that_cannot_be_made(world: World) -> Arranged:
    world.publish()
    (world.root / "taken").write_text("a file where OUTDIR's parent folder should be\n")
    outdir = world.root / "taken" / "out"
    defaults = world.defaults(OUTDIR="taken/out")
    yield Expect(1, [re.escape(f"{outdir}: cannot create OUTDIR: Not a directory")], defaults)


@bad_input
def disk_full_while_writing(world: World) -> Arranged:
    """Stops the run in one line naming the path; not the tag's failure: once there is room
    again, the next run publishes it."""
    world.outdir.mkdir()
    # Room for the build environment (kept in OUTDIR) and a few pages.
    with small_disk(world.outdir, "48m"):
        world.publish()
        world.svn.tag("libs/alpha", "1.1", setup_py_project("alpha", "1.1"))
        filler = world.outdir / ".sdistmaker" / "filler"
        fill(filler)
        assert shutil.disk_usage(world.outdir).free == 0
        yield Expect(
            1, [rf"{re.escape(str(world.outdir))}(/.*)?: cannot write: No space left on device"]
        )
        filler.unlink()
        assert world.run().code == 0
        assert "alpha/alpha-1.1.tar.gz" in distributions(world.outdir)


@bad_input
def outdir_on_a_read_only_mount(world: World) -> Arranged:
    """Status 1, as for any run that could not do its work (2 is for a wrong defaults file, and
    this one is right): the disk must be fixed, and the next run then does the work."""
    world.publish()
    world.svn.tag("libs/alpha", "1.1", setup_py_project("alpha", "1.1"))
    with read_only(world.outdir):
        yield Expect(1, [re.escape(f"{world.outdir}: cannot lock OUTDIR: Read-only file system")])
    assert world.run().code == 0
    assert "alpha/alpha-1.1.tar.gz" in distributions(world.outdir)


@bad_input
def new_outdir_on_a_read_only_mount(world: World) -> Arranged:
    world.publish()
    fresh = world.root / "fresh"
    fresh.mkdir()
    with read_only(fresh):
        line = f"{fresh}: cannot create OUTDIR: Read-only file system"
        yield Expect(1, [re.escape(line)], world.defaults(OUTDIR="fresh"))


@bad_input
def run_under_a_umask_that_hides_everything(world: World) -> Arranged:
    """umask 077 (a hardened account's cron): every folder a run makes to be served (OUTDIR, a
    project's, a placeholder's, the pages for people's) is readable and searchable by other
    users all the same, as the files are: a web server runs as a user of its own. Only
    sdistmaker's own folder stays as the umask makes it."""
    # Released, nothing built: a placeholder.
    world.svn.add_project("libs/gamma", {"setup.py": "raise RuntimeError('not yet')\n"})
    world.svn.tag("libs/gamma", "1.0")
    url = world.svn_tag_url("gamma", "1.0")
    failed = world.fails("gamma", "1.0", url, "build, setuptools<58: RuntimeError: not yet")
    yield Expect(1, [failed], umask=0o077)
    served = [world.outdir, *(world.outdir / name for name in ("alpha", "beta", "gamma", "+"))]
    assert [oct(folder.stat().st_mode & 0o777) for folder in served] == ["0o755"] * 5
    files = [path for path in world.outdir.rglob("*") if ".sdistmaker" not in path.parts]
    assert {oct(path.stat().st_mode & 0o777) for path in files if path.is_file()} == {"0o644"}
    assert (world.outdir / ".sdistmaker").stat().st_mode & 0o777 == 0o700


@bad_input
def outdir_hidden_from_other_users(world: World) -> Arranged:
    """OUTDIR's parent lets no other user through (0700): a web server, running as a user of its
    own, sees none of it. A run says so as loud as a new failure the first time, quiet or not
    (cron mails it), then only as a warning while it stays so; nothing failed: status 0. Said
    again once it happens again."""
    world.publish()
    world.root.chmod(0o700)
    line = f"{world.outdir} is hidden from other users (a web server): {world.root} lacks o+x"
    yield Expect(0, [re.escape(line)])
    assert (world.run().code, world.run().output) == (0, "")
    assert world.run(quiet=False).lines[0] == line
    world.root.chmod(0o755)
    world.outdir.chmod(0o711)
    listed = f"{world.outdir} is hidden from other users (a web server): it lacks o+r"
    assert world.run().lines == [listed]
    world.outdir.chmod(0o755)
    assert world.run().output == ""
    world.root.chmod(0o700)
    assert world.run().lines == [line]
    world.root.chmod(0o755)


@bad_input.each()
def test_bad_input(case: Case, world: World) -> None:
    run_and_check(case, world)

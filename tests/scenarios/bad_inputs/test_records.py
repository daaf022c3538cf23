"""What sdistmaker keeps, damaged, lost, old, shared or restored: the state, the folders' records
of who publishes them, the git mirrors, a whole OUTDIR restored from a backup."""

from __future__ import annotations

import io
import json
import os
import re
import shutil
import subprocess
import sys
import tarfile
import time
from pathlib import Path

from helpers.catalogue import Arranged, Case, Catalogue, Expect, World, distributions, run_and_check
from helpers.projects import setup_py_project

bad_input = Catalogue()


@bad_input
def state_file_damaged(world: World) -> Arranged:
    """What was built is no longer known for sure: the run stops before it builds anything
    twice or publishes over a file, and says which file to look at."""
    world.publish()
    state = world.outdir / ".sdistmaker" / "state.json"
    state.write_text(state.read_text()[:100])
    yield Expect(1, [rf"{re.escape(str(state))}: unreadable state: .*"], index_intact=False)


@bad_input
def state_file_of_the_wrong_shape(world: World) -> Arranged:
    """Valid JSON that is not what runs write (here a tag's record is a number) is as damaged
    as half a file: the run stops the same way, saying what is wrong, and leaves it as it is."""
    world.publish()
    world.svn.tag("libs/alpha", "1.1", setup_py_project("alpha", "1.1"))
    state = world.outdir / ".sdistmaker" / "state.json"
    data = json.loads(state.read_text())
    key = f"svn:{world.svn_tag_url('alpha', '1.0')}"
    data["tags"][key] = 5
    state.write_text(json.dumps(data))
    damaged = state.read_bytes()
    line = f"{state}: unreadable state: tags[{json.dumps(key)}] must be an object, not 5"
    yield Expect(1, [re.escape(line)], index_intact=False)
    assert state.read_bytes() == damaged
    assert "alpha/alpha-1.1.tar.gz" not in distributions(world.outdir)


@bad_input
def state_file_lost_while_another_repository_builds_a_published_name(world: World) -> Arranged:
    """Without its state, a run knows nothing it built: it builds every tag again (each
    published file is kept, and recorded anew). A repository crawled before beta's, building
    beta too, does not get the name: beta's folder says who publishes it."""
    world.publish()
    (world.outdir / ".sdistmaker" / "state.json").unlink()
    world.svn.add_project("libs/intruder", setup_py_project("beta", "9.9"))
    world.svn.tag("libs/intruder", "9.9")
    url = world.svn_tag_url("intruder", "9.9")
    reason = (
        f"distribution beta is already published from git:{world.git.url}#, "
        f"not from svn:{world.svn.url}/libs/intruder"
    )
    yield Expect(1, [world.fails("intruder", "9.9", url, re.escape(reason))])
    assert distributions(world.outdir) == ["alpha/alpha-1.0.tar.gz", "beta/beta-1.0.tar.gz"]
    world.git.commit(setup_py_project("beta", "1.1"))
    world.git.tag("1.1")
    assert world.run().code == 0
    assert "beta/beta-1.1.tar.gz" in distributions(world.outdir)


@bad_input
def folders_from_before_records_then_the_state_lost(world: World) -> Arranged:
    """An OUTDIR from a version of sdistmaker that kept no record in its folders gets them from
    its state, once, before the state can be lost; a folder whose files no record and no
    state speak for is given to no repository."""
    world.publish()
    for record in world.outdir.glob("*/.sdistmaker-published.json"):
        record.unlink()
    state = world.outdir / ".sdistmaker" / "state.json"
    data = json.loads(state.read_text())
    del data["folders_recorded"]
    state.write_text(json.dumps(data))
    assert world.run().code == 0
    state.unlink()
    (world.outdir / "gamma").mkdir()
    with tarfile.open(world.outdir / "gamma" / "gamma-1.0.tar.gz", "w:gz") as by_hand:
        metadata = b"Metadata-Version: 2.1\nName: gamma\nVersion: 1.0\n"
        member = tarfile.TarInfo("gamma-1.0/PKG-INFO")
        member.size = len(metadata)
        by_hand.addfile(member, io.BytesIO(metadata))
    world.svn.add_project("libs/intruder", setup_py_project("beta", "9.9"))
    world.svn.tag("libs/intruder", "9.9")
    world.svn.add_project("libs/gamma", setup_py_project("gamma", "2.0"))
    world.svn.tag("libs/gamma", "2.0")
    lines = []
    for project, tag, reason in [
        (
            "gamma",
            "2.0",
            f"distribution gamma is published already, but neither the state nor "
            f"{world.outdir}/gamma/.sdistmaker-published.json says from which project: "
            f"not from svn:{world.svn.url}/libs/gamma",
        ),
        (
            "intruder",
            "9.9",
            f"distribution beta is already published from git:{world.git.url}#, "
            f"not from svn:{world.svn.url}/libs/intruder",
        ),
    ]:
        url = world.svn_tag_url(project, tag)
        lines.append(world.fails(project, tag, url, re.escape(reason)))
    yield Expect(1, lines)
    assert "beta/beta-9.9.tar.gz" not in distributions(world.outdir)
    assert "gamma/gamma-2.0.tar.gz" not in distributions(world.outdir)


def upload_times(outdir: Path) -> dict[str, str]:
    """Each file's upload time, as installers read it (PEP 700)."""
    times = {}
    for page in outdir.glob("*/index.json"):
        for file in json.loads(page.read_text())["files"]:
            times[file["filename"]] = file["upload-time"]
    return times


@bad_input
def outdir_restored_from_a_backup(world: World) -> Arranged:
    """A restore gives every file a new time (as ``cp -r`` does), and drops what the index
    remembers: the upload time installers see (uv's ``--exclude-newer``) stays the time each
    file was published."""
    world.publish()
    before = upload_times(world.outdir)
    assert len(before) == 2
    restored = time.time() + 7 * 24 * 3600
    for path in world.outdir.rglob("*"):
        os.utime(path, (restored, restored), follow_symlinks=False)
    shutil.rmtree(world.outdir / ".sdistmaker" / "index")
    yield Expect(0)
    assert upload_times(world.outdir) == before


MAKING_A_MIRROR = """\
import fcntl, os, sys, time
lock, temporary, seconds, report = sys.argv[1:]
with open(lock, "a") as held:
    fcntl.flock(held, fcntl.LOCK_EX)
    os.mkdir(temporary)
    print("making", flush=True)
    time.sleep(float(seconds))
    with open(report, "w") as written:
        written.write("intact" if os.path.isdir(temporary) else "removed")
    os.rmdir(temporary)
"""


@bad_input
def git_mirrors_shared_with_a_run_for_another_outdir(world: World) -> Arranged:
    """An admin links the folder of git mirrors of two OUTDIRs together: while the run for the
    other OUTDIR makes a mirror anew, this run neither removes what it is making nor fetches
    into that mirror; it waits, then reads it."""
    world.publish()
    mirrors = world.outdir / ".sdistmaker" / "git"
    shared = world.root / "shared-mirrors"
    mirrors.rename(shared)
    mirrors.symlink_to(shared)
    [mirror] = shared.glob("*.git")
    temporary = shared / f".sdistmaker-tmp-{mirror.name}-x1y2z3"
    report = world.root / "report"
    world.git.commit(setup_py_project("beta", "1.1"))
    world.git.tag("1.1")
    arguments = [str(shared / f"{mirror.name}.lock"), str(temporary), "3", str(report)]
    other = subprocess.Popen(
        [sys.executable, "-c", MAKING_A_MIRROR, *arguments], stdout=subprocess.PIPE, text=True
    )
    assert other.stdout is not None and other.stdout.readline() == "making\n"
    yield Expect(0)
    assert other.wait(10) == 0
    assert report.read_text() == "intact"
    assert "beta/beta-1.1.tar.gz" in distributions(world.outdir)


@bad_input
def git_mirror_damaged(world: World) -> Arranged:
    """A git mirror is sdistmaker's own copy: one that git no longer takes for a repository is
    made anew in the run, which builds what is new in it (a run as cron starts it says nothing
    of that: nothing is for anyone to do), and the runs after it go on as ever."""
    world.publish()
    [mirror] = (world.outdir / ".sdistmaker" / "git").glob("*.git")
    shutil.rmtree(mirror / "objects")
    world.git.commit(setup_py_project("beta", "1.1"))
    world.git.tag("1.1")
    yield Expect(0)
    assert "beta/beta-1.1.tar.gz" in distributions(world.outdir)
    kept = (world.outdir / ".sdistmaker" / "git").iterdir()
    assert [path for path in kept if path.suffix != ".lock"] == [mirror]
    world.git.commit(setup_py_project("beta", "1.2"))
    world.git.tag("1.2")
    after = world.run()
    assert (after.code, after.output) == (0, "")
    assert "beta/beta-1.2.tar.gz" in distributions(world.outdir)


@bad_input.each()
def test_bad_input(case: Case, world: World) -> None:
    run_and_check(case, world)

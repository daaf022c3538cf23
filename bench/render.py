"""W3 and W4, rendering: a full render of a large index against dumb-pypi, and one change.

    python bench/render.py [--projects 10000] [--files 10]

Makes an OUTDIR of --projects projects with --files sdists each. sdistmaker reads every file
once (untimed: in use, each file is read once, when it is stored). Then, with the same files and
hashes, W3 times a full render by sdistmaker (every page, as after a template change) and by
dumb-pypi, with each process's peak memory. W4 adds one file to one project and times the run
that publishes it, several times (the median is shown), in that index and in one of 100
projects. Figures are measured in the same run on the same machine.
"""

from __future__ import annotations

import argparse
import io
import json
import os
import shutil
import statistics
import subprocess
import sys
import tarfile
import tempfile
import time
from pathlib import Path

from sdistmaker.index.pages import SHIPPED

BIN = Path(sys.executable).parent


def write_sdist(folder: Path, name: str, version: str) -> None:
    base = f"{name}-{version}"
    info = (
        f"Metadata-Version: 2.2\nName: {name}\nVersion: {version}\n"
        f"Summary: The {name} project\nRequires-Python: >=3.8\n"
    ).encode()
    with tarfile.open(folder / f"{base}.tar.gz", "w:gz", compresslevel=1) as archive:
        member = tarfile.TarInfo(f"{base}/PKG-INFO")
        member.size = len(info)
        archive.addfile(member, io.BytesIO(info))


def measured(command: list[str]) -> tuple[float, float]:
    """Wall seconds and peak resident memory (MB) of one command."""
    start = time.perf_counter()
    process = subprocess.Popen(command)
    _, status, usage = os.wait4(process.pid, 0)
    seconds = time.perf_counter() - start
    if os.waitstatus_to_exitcode(status):
        raise SystemExit(f"{command[0]} failed")
    return seconds, usage.ru_maxrss / 1024


def make_index(outdir: Path, projects: int, files: int) -> Path:
    """An OUTDIR of ``projects`` with ``files`` sdists each, read once; returns its defaults."""
    for number in range(projects):
        name = f"project{number:05d}"
        (outdir / name).mkdir(parents=True)
        for version in range(files):
            write_sdist(outdir / name, name, f"1.{version}")
    defaults = outdir.parent / "defaults.py"
    defaults.write_text(f"OUTDIR = {outdir.name!r}\n")
    render = [str(BIN / "sdists_from_tags"), "-q", "--render-only", "-d", str(defaults)]
    subprocess.run(render, check=True)
    return defaults


def one_change(outdir: Path, defaults: Path, projects: int, runs: int) -> tuple[float, float]:
    """Median seconds of a run that publishes one new file, and of a run with nothing new.

    What a run does after building one new file: it publishes it, notes the project in the
    state, then brings the index up to date (here without a crawl: no repositories).
    """
    run = [str(BIN / "sdists_from_tags"), "-q", "-d", str(defaults)]
    changed, unchanged = [], []
    for number in range(runs):
        name = f"project{number * projects // runs:05d}"
        write_sdist(outdir / name, name, "2.0")
        state_file = outdir / ".sdistmaker" / "state.json"
        state = json.loads(state_file.read_text())
        state_file.write_text(json.dumps({**state, "unindexed": [name]}))
        changed.append(measured(run)[0])
        if f"{name}-2.0.tar.gz" not in (outdir / name / "index.html").read_text():
            raise SystemExit("W4 FAILED: the new file is not on its project's page")
        unchanged.append(measured(run)[0])
    return statistics.median(changed), statistics.median(unchanged)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--projects", type=int, default=10_000)
    parser.add_argument("--files", type=int, default=10)
    parser.add_argument("--runs", type=int, default=9, help="W4 runs in each index")
    arguments = parser.parse_args()
    work = Path(tempfile.mkdtemp(prefix="sdistmaker-bench-render-"))
    work.chmod(0o755)  # as a served OUTDIR's: a run says when others cannot read it
    try:
        outdir = work / "large" / "out"
        defaults = make_index(outdir, arguments.projects, arguments.files)
        render = [str(BIN / "sdists_from_tags"), "-q", "--render-only", "-d", str(defaults)]

        # After a template change: every page again, from file facts already known.
        shipped = SHIPPED / "simple" / "project.html"
        changed_template = defaults.parent / "templates" / "simple" / "project.html"
        changed_template.parent.mkdir(parents=True)
        changed_template.write_text(shipped.read_text() + "\n")
        defaults.write_text("OUTDIR = 'out'\nTEMPLATES = 'templates'\n")
        ours, our_memory = measured(render)

        listing = work / "packages.json"
        known = outdir / ".sdistmaker" / "index" / "projects"
        with open(listing, "w") as packages:
            records = (json.loads(p.read_text()) for p in known.iterdir())
            for facts in (f for record in records for f in record["files"].values()):
                entry = {
                    "filename": facts["filename"],
                    "hash": f"sha256={facts['sha256']}",
                    "requires_python": facts["requires_python"],
                    "upload_timestamp": 1_700_000_000,
                }
                packages.write(json.dumps(entry) + "\n")
        dumb_pypi = [
            str(BIN / "dumb-pypi"),
            "--package-list-json",
            str(listing),
            "--packages-url",
            "../../pool/",
            "--output-dir",
            str(work / "dumb-pypi"),
        ]
        theirs, their_memory = measured(dumb_pypi)

        large = one_change(outdir, defaults, arguments.projects, arguments.runs)
        small_projects = min(100, arguments.projects)
        small_outdir = work / "small" / "out"
        small_defaults = make_index(small_outdir, small_projects, arguments.files)
        small = one_change(small_outdir, small_defaults, small_projects, arguments.runs)

        files = arguments.projects * arguments.files
        print(f"W3 full render, {arguments.projects} projects x {arguments.files} files ({files}):")
        print(f"  dumb-pypi:  {theirs:7.2f} s, peak {their_memory:6.0f} MB")
        print(f"  sdistmaker: {ours:7.2f} s, peak {our_memory:6.0f} MB (target: <= 150 MB)")
        print(f"  sdistmaker is {theirs / ours:.1f}x faster (target: 2x)")
        print(f"W4 one project changed, median of {arguments.runs} runs:")
        for projects, (changed, unchanged) in [
            (arguments.projects, large),
            (small_projects, small),
        ]:
            print(f"  {projects:6} projects: a run that publishes one new file {changed:5.2f} s,")
            print(f"  {'':6}           a run with nothing new {unchanged:5.2f} s")
        print("  (target: < 0.2 s, independent of the index's size)")
        return 0
    finally:
        shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    sys.exit(main())

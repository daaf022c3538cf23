"""W1, backfill: sdistmaker against the naive loop over the same release tags.

    python bench/backfill.py [--setuptools-tags 60] [--hatchling-tags 20]

Makes two git repositories (a setuptools project and a hatchling one, a tag per release), then
builds every tag twice, each time from nothing: the naive way (git archive of the tag, then
``python -m build --sdist`` with its default isolation) and with ``sdists_from_tags``. Checks
that both made the same files and prints the time of each and their ratio, measured in the same
run on the same machine.
"""

from __future__ import annotations

import argparse
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

GIT = ["git", "-c", "user.name=Bench", "-c", "user.email=bench@example.com"]
SETUPTOOLS = """\
[build-system]
requires = ["setuptools>=61"]
build-backend = "setuptools.build_meta"
[project]
name = "bench-setuptools"
version = "{version}"
[tool.setuptools]
packages = ["bench_setuptools"]
"""
HATCHLING = """\
[build-system]
requires = ["hatchling"]
build-backend = "hatchling.build"
[project]
name = "bench-hatchling"
version = "{version}"
[tool.hatch.build.targets.sdist]
include = ["bench_hatchling"]
"""


def make_repository(folder: Path, template: str, package: str, tags: int) -> None:
    folder.mkdir(parents=True)
    subprocess.run([*GIT, "init", "-q", "-b", "main"], cwd=folder, check=True)
    (folder / package).mkdir()
    for number in range(tags):
        version = f"1.{number}"
        (folder / "pyproject.toml").write_text(template.format(version=version))
        (folder / package / "__init__.py").write_text(f"VERSION = {version!r}\n")
        subprocess.run([*GIT, "add", "-A"], cwd=folder, check=True)
        subprocess.run([*GIT, "commit", "-q", "-m", version], cwd=folder, check=True)
        subprocess.run([*GIT, "tag", version], cwd=folder, check=True)


def naive(repositories: list[Path], outdir: Path) -> float:
    start = time.perf_counter()
    for repository in repositories:
        tags = subprocess.run(
            ["git", "tag"], cwd=repository, check=True, capture_output=True, text=True
        ).stdout.split()
        for tag in tags:
            with tempfile.TemporaryDirectory() as export:
                archive = subprocess.run(
                    ["git", "archive", tag], cwd=repository, check=True, capture_output=True
                ).stdout
                subprocess.run(["tar", "-x", "-C", export], input=archive, check=True)
                subprocess.run(
                    [sys.executable, "-m", "build", "--sdist", "-q", "-o", str(outdir), export],
                    check=True,
                    capture_output=True,
                )
    return time.perf_counter() - start


def with_sdistmaker(repositories: list[Path], work: Path) -> tuple[float, Path]:
    work.mkdir()
    defaults = work / "defaults.py"
    defaults.write_text(f"GIT_REPOSITORIES = {[str(r) for r in repositories]!r}\nOUTDIR = 'out'\n")
    command = [str(Path(sys.executable).parent / "sdists_from_tags"), "-q", "-d", str(defaults)]
    start = time.perf_counter()
    subprocess.run(command, check=True)
    return time.perf_counter() - start, work / "out"


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--setuptools-tags", type=int, default=60)
    parser.add_argument("--hatchling-tags", type=int, default=20)
    arguments = parser.parse_args()
    work = Path(tempfile.mkdtemp(prefix="sdistmaker-bench-"))
    work.chmod(0o755)  # as a served OUTDIR's: a run says when others cannot read it
    try:
        # Named as their projects: a project crawled here takes its name from PyPI, for
        # build requirements too.
        repositories = [work / "repos" / "bench-setuptools", work / "repos" / "bench-hatchling"]
        make_repository(repositories[0], SETUPTOOLS, "bench_setuptools", arguments.setuptools_tags)
        make_repository(repositories[1], HATCHLING, "bench_hatchling", arguments.hatchling_tags)
        tags = arguments.setuptools_tags + arguments.hatchling_tags
        (work / "naive").mkdir()
        baseline = naive(repositories, work / "naive")
        ours, outdir = with_sdistmaker(repositories, work / "sdistmaker")
        naive_files = sorted(p.name for p in (work / "naive").iterdir())
        our_files = sorted(p.name for p in outdir.glob("*/*.tar.gz"))
        if naive_files != our_files:
            print(f"W1 FAILED: different files\nnaive: {naive_files}\nsdistmaker: {our_files}")
            return 1
        print(f"W1 backfill, {tags} tags, same {len(our_files)} files built:")
        print(f"  naive loop (git archive + python -m build --sdist): {baseline:7.1f} s")
        print(f"  sdistmaker:                                          {ours:7.1f} s")
        print(f"  sdistmaker is {baseline / ours:.1f}x faster (target: 8x)")
        return 0
    finally:
        shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    sys.exit(main())

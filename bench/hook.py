"""W5, the svn post-commit hook: how much longer a commit takes with sdistmaker's hook.

    python bench/hook.py [--commits 20]

Makes an svn repository with a project, then times commits to trunk and tag copies without a
hook (the baseline) and with the hook README.rst shows. The hook's cost is the difference, per
commit, measured in the same run. A tag copy starts a background build that is not waited for.
"""

from __future__ import annotations

import argparse
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

SETUP = "from setuptools import setup\nsetup(name='bench-hook', version={version!r})\n"


def svn(*args: str) -> None:
    subprocess.run(["svn", "--quiet", "--non-interactive", *args], check=True)


def timed_commits(url: str, checkout: Path, count: int, first: int) -> tuple[float, float]:
    """Seconds per trunk commit and per tag copy, over ``count`` of each."""
    trunk = tag = 0.0
    for number in range(first, first + count):
        (checkout / "notes.txt").write_text(f"change {number}\n")
        start = time.perf_counter()
        svn("commit", "-m", f"change {number}", str(checkout))
        trunk += time.perf_counter() - start
        start = time.perf_counter()
        svn("copy", "-m", "tag", f"{url}/p/trunk", f"{url}/p/tags/1.{number}")
        tag += time.perf_counter() - start
    return trunk / count, tag / count


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--commits", type=int, default=20)
    arguments = parser.parse_args()
    work = Path(tempfile.mkdtemp(prefix="sdistmaker-bench-hook-"))
    work.chmod(0o755)  # as a served OUTDIR's: a run says when others cannot read it
    try:
        repository = work / "repo"
        subprocess.run(["svnadmin", "create", str(repository)], check=True)
        url = repository.as_uri()
        svn("mkdir", "--parents", "-m", "layout", f"{url}/p/trunk", f"{url}/p/tags")
        checkout = work / "trunk"
        svn("checkout", f"{url}/p/trunk", str(checkout))
        (checkout / "setup.py").write_text(SETUP.format(version="1.0"))
        (checkout / "notes.txt").write_text("\n")
        svn("add", str(checkout / "setup.py"), str(checkout / "notes.txt"))
        svn("commit", "-m", "project", str(checkout))
        baseline = timed_commits(url, checkout, arguments.commits, 0)

        defaults = work / "defaults.py"
        defaults.write_text(f"BASE = {url!r}\nOUTDIR = 'out'\n")
        hook = repository / "hooks" / "post-commit"
        command = Path(sys.executable).parent / "sdists_from_tags"
        hook.write_text(
            f'#!/bin/sh\nexec {command} -q --defaults-file={defaults} --svn-commit "$1" "$2"\n'
        )
        hook.chmod(0o755)
        hooked = timed_commits(url, checkout, arguments.commits, arguments.commits)

        print(f"W5 svn post-commit hook, {arguments.commits} commits of each kind:")
        for kind, before, after in zip(("trunk commit", "tag copy"), baseline, hooked, strict=True):
            print(
                f"  {kind:12}: {before * 1000:6.0f} ms without the hook, {after * 1000:6.0f} ms "
                f"with it: the hook adds {(after - before) * 1000:5.0f} ms (target: < 200 ms)"
            )
        wait_for_background_runs(defaults)
        return 0
    finally:
        shutil.rmtree(work, ignore_errors=True)


def wait_for_background_runs(defaults: Path, seconds: float = 600) -> None:
    """The tag copies started builds in the background: let them finish before cleaning up."""
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        running = subprocess.run(
            ["pgrep", "-f", "--", f"--defaults-file {defaults}"], capture_output=True
        )
        if running.returncode:
            return
        time.sleep(0.5)


if __name__ == "__main__":
    sys.exit(main())

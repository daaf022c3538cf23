"""W6, a run with nothing new over many git repositories found in a folder on the server.

    python bench/discover.py [--repositories 300] [--keep]

Makes --repositories bare repositories below one folder, each with a release tag of a project
using a tiny in-tree backend (as bench/noop.py's), builds them all once, then times runs that
find nothing new: with the repositories found by a folder entry of GIT_REPOSITORIES, and with
the same repositories listed one by one, in the same run on the same machine. --keep leaves
the folder (its path printed last) for a closer look, e.g. with a profiler.
"""

from __future__ import annotations

import argparse
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

from noop import BACKEND, GIT, PYPROJECT, timed


def bare_repositories(server: Path, count: int) -> list[Path]:
    """``count`` bare repositories below ``server``, in a few teams, each tagged 1.0."""
    work = server.parent / "work"
    work.mkdir()
    (work / "pyproject.toml").write_text(PYPROJECT)
    subprocess.run([*GIT, "init", "-q", "-b", "main"], cwd=work, check=True)
    made = []
    for number in range(count):
        name = f"bench-{number}"
        (work / "backend.py").write_text(BACKEND.format(name=name))
        subprocess.run([*GIT, "add", "-A"], cwd=work, check=True)
        subprocess.run([*GIT, "commit", "-q", "-m", name], cwd=work, check=True)
        bare = server / f"team-{number % 10}" / f"{name}.git"
        subprocess.run(["git", "init", "-q", "--bare", str(bare)], check=True)
        subprocess.run([*GIT, "push", "-q", str(bare), "main"], cwd=work, check=True)
        subprocess.run(["git", "tag", "1.0", "main"], cwd=bare, check=True)
        made.append(bare)
    return made


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repositories", type=int, default=300)
    parser.add_argument("--keep", action="store_true")
    arguments = parser.parse_args()
    work = Path(tempfile.mkdtemp(prefix="sdistmaker-bench-discover-"))
    work.chmod(0o755)  # as a served OUTDIR's: a run says when others cannot read it
    try:
        repositories = bare_repositories(work / "srv", arguments.repositories)
        command = [str(Path(sys.executable).parent / "sdists_from_tags"), "-q", "-d"]
        found = work / "found.py"
        entry = {"folder": f"{work}/srv/**/*.git"}
        found.write_text(f"GIT_REPOSITORIES = [{entry!r}]\nOUTDIR = 'out'\n")
        listed = work / "listed.py"
        listed.write_text(
            f"GIT_REPOSITORIES = {[str(path) for path in repositories]!r}\nOUTDIR = 'out'\n"
        )
        full = timed([*command, str(found)])
        built = len(list((work / "out").glob("*/*.tar.gz")))
        if built != arguments.repositories:
            print(f"W6 FAILED: {built} of {arguments.repositories} repositories built")
            return 1
        timed([*command, str(listed)])  # the same repositories, now listed: nothing new
        times = {}
        for name, defaults in (("found in a folder", found), ("listed one by one", listed)):
            times[name] = min(timed([*command, str(defaults)]) for _ in range(3))
        print(f"W6 no-op run over {built} git repositories on the server:")
        print(f"  first run, building everything:  {full:8.2f} s")
        for name, seconds in times.items():
            print(f"  nothing new, {name}: {seconds:8.2f} s")
        print("  (target: < 2 s found in a folder)")
        return 0
    finally:
        if "--keep" not in sys.argv:
            shutil.rmtree(work, ignore_errors=True)
        else:
            print(work)


if __name__ == "__main__":
    sys.exit(main())

"""W6, a run with nothing new over many git repositories found on the server and on a forge.

    python bench/discover.py [--repositories 300] [--keep]

Makes --repositories bare repositories (one group with subgroups), each with a release tag of
a project using a tiny in-tree backend (as bench/noop.py's), builds them all once from a folder
entry of GIT_REPOSITORIES and once from a GitLab entry (the forge stand-in of the tests, on
127.0.0.1, its clones served over HTTP by git's http-backend), then times runs that find
nothing new: found that way, and the same repositories listed one by one, in the same run on
the same machine. --keep leaves the folder (its path printed last) for a closer look.
"""

from __future__ import annotations

import argparse
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "tests"))  # the forge stand-in

from noop import BACKEND, GIT, PYPROJECT, timed

from helpers.forges import Hosted, forge


def bare_repositories(server: Path, count: int) -> list[str]:
    """``count`` bare repositories below ``server`` (``acme/team-N/bench-M.git``), each tagged
    1.0; their paths, without ``.git``."""
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
        path = f"acme/team-{number % 10}/{name}"
        bare = server / f"{path}.git"
        subprocess.run(["git", "init", "-q", "--bare", str(bare)], check=True)
        subprocess.run([*GIT, "push", "-q", str(bare), "main"], cwd=work, check=True)
        subprocess.run(["git", "tag", "1.0", "main"], cwd=bare, check=True)
        made.append(path)
    return made


def defaults(file: Path, repositories: list[object], outdir: str) -> Path:
    file.write_text(f"GIT_REPOSITORIES = {repositories!r}\nOUTDIR = {outdir!r}\n")
    return file


def no_op_runs(work: Path, count: int) -> dict[str, float] | None:
    """The first run's time, then each way's run with nothing new (the best of three); None
    when the first runs did not build every repository."""
    server = work / "srv"
    paths = bare_repositories(server, count)
    command = [str(Path(sys.executable).parent / "sdists_from_tags"), "-q", "-d"]
    hosted = [Hosted(path) for path in paths]
    with forge("gitlab", server, hosted, private=False) as gitlab:
        gitlab.page_size = 100  # GitLab's largest
        ways = {
            "found in a folder": defaults(
                work / "folder.py", [{"folder": f"{server}/**/*.git"}], "on-disk"
            ),
            "on disk, listed": defaults(
                work / "listed.py", [str(server / f"{path}.git") for path in paths], "on-disk"
            ),
            "found on GitLab": defaults(
                work / "gitlab.py", [{"gitlab": gitlab.url, "group": "acme"}], "over-http"
            ),
            "over HTTP, listed": defaults(
                work / "urls.py", [gitlab.clone_url(path) for path in paths], "over-http"
            ),
        }
        times = {"first run": timed([*command, str(ways["found in a folder"])])}
        timed([*command, str(ways["found on GitLab"])])
        for outdir in ("on-disk", "over-http"):
            if len(list((work / outdir).glob("*/*.tar.gz"))) != count:
                return None
        for way, file in ways.items():
            timed([*command, str(file)])  # what a way reads the first time
            times[way] = min(timed([*command, str(file)]) for _ in range(3))
    return times


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repositories", type=int, default=300)
    parser.add_argument("--keep", action="store_true")
    arguments = parser.parse_args()
    work = Path(tempfile.mkdtemp(prefix="sdistmaker-bench-discover-"))
    work.chmod(0o755)  # as a served OUTDIR's: a run says when others cannot read it
    try:
        times = no_op_runs(work, arguments.repositories)
        if times is None:
            print(f"W6 FAILED: not all {arguments.repositories} repositories built")
            return 1
        print(f"W6 no-op run over {arguments.repositories} git repositories:")
        print(f"  first run, building everything:  {times.pop('first run'):8.2f} s")
        for way, seconds in times.items():
            print(f"  nothing new, {way + ':':18} {seconds:8.2f} s")
        print("  (target: < 2 s found in a folder or on GitLab)")
        return 0
    finally:
        if arguments.keep:
            print(work)
        else:
            shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    sys.exit(main())

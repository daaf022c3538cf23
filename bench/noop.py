"""W2, a run with nothing new: sdistmaker over thousands of already-built tags.

    python bench/noop.py [--tags 2000]

Makes an svn repository and a git repository holding --tags release tags between them (half
each), builds them all once (the projects use a tiny in-tree backend, so that setting up takes
minutes, not hours), then times runs that find nothing new. Prints the no-op run's wall time and
its ratio to the first, full run, measured in the same run on the same machine; then the same
no-op run with MIRROR set (an upstream index on disk, its requirement mirrored by the first of
those runs), against the one without.
"""

from __future__ import annotations

import argparse
import hashlib
import shutil
import subprocess
import sys
import tempfile
import time
import zipfile
from pathlib import Path

GIT = ["git", "-c", "user.name=Bench", "-c", "user.email=bench@example.com"]
PYPROJECT = """\
[build-system]
requires = []
build-backend = "backend"
backend-path = ["."]
"""
# A backend that writes a minimal, valid sdist; its version comes from the tag, as with
# setuptools-scm.
BACKEND = """\
import io, os, tarfile

def build_sdist(directory, config_settings=None):
    name, version = "{name}", os.environ["SETUPTOOLS_SCM_PRETEND_VERSION"]
    base = f"{{name.replace('-', '_')}}-{{version}}"
    info = f"Metadata-Version: 2.2\\nName: {{name}}\\nVersion: {{version}}\\n".encode()
    with tarfile.open(os.path.join(directory, base + ".tar.gz"), "w:gz") as archive:
        member = tarfile.TarInfo(base + "/PKG-INFO")
        member.size = len(info)
        archive.addfile(member, io.BytesIO(info))
    return base + ".tar.gz"
"""


def svn_repository(folder: Path, tags: int) -> str:
    subprocess.run(["svnadmin", "create", str(folder)], check=True)
    url = folder.as_uri()
    tree = folder.parent / "svn-import"
    (tree / "trunk").mkdir(parents=True)
    (tree / "tags").mkdir()
    (tree / "trunk" / "pyproject.toml").write_text(PYPROJECT)
    (tree / "trunk" / "backend.py").write_text(BACKEND.format(name="bench-svn"))
    subprocess.run(
        ["svn", "import", "-q", "-m", "project", str(tree), f"{url}/bench-svn"], check=True
    )
    # One commit for all tags: svnmucc copies trunk to every tag at once.
    copies = []
    for number in range(tags):
        copies += ["cp", "HEAD", f"{url}/bench-svn/trunk", f"{url}/bench-svn/tags/1.{number}"]
    subprocess.run(["svnmucc", "-m", "tags", *copies], check=True, capture_output=True)
    return url


def git_repository(folder: Path, tags: int) -> None:
    folder.mkdir(parents=True)
    subprocess.run([*GIT, "init", "-q", "-b", "main"], cwd=folder, check=True)
    (folder / "pyproject.toml").write_text(PYPROJECT)
    (folder / "backend.py").write_text(BACKEND.format(name="bench-git"))
    subprocess.run([*GIT, "add", "-A"], cwd=folder, check=True)
    subprocess.run([*GIT, "commit", "-q", "-m", "project"], cwd=folder, check=True)
    refs = "".join(f"create refs/tags/2.{number} HEAD\n" for number in range(tags))
    subprocess.run(["git", "update-ref", "--stdin"], cwd=folder, input=refs.encode(), check=True)


def upstream_index(folder: Path) -> str:
    """A simple index on disk offering one pure-Python wheel, for MIRROR; its URL."""
    project = folder / "simple" / "left-pad"
    project.mkdir(parents=True)
    wheel = project / "left_pad-1.3-py3-none-any.whl"
    info = "left_pad-1.3.dist-info"
    with zipfile.ZipFile(wheel, "w") as archive:
        archive.writestr("left_pad.py", "")
        archive.writestr(
            f"{info}/METADATA", "Metadata-Version: 2.1\nName: left-pad\nVersion: 1.3\n"
        )
        archive.writestr(
            f"{info}/WHEEL", "Wheel-Version: 1.0\nRoot-Is-Purelib: true\nTag: py3-none-any\n"
        )
        archive.writestr(f"{info}/RECORD", "")
    digest = hashlib.sha256(wheel.read_bytes()).hexdigest()
    (project / "index.html").write_text(f'<a href="{wheel.name}#sha256={digest}">{wheel.name}</a>')
    return (folder / "simple").as_uri()


def timed(command: list[str]) -> float:
    start = time.perf_counter()
    subprocess.run(command, check=True)
    return time.perf_counter() - start


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--tags", type=int, default=2000)
    arguments = parser.parse_args()
    work = Path(tempfile.mkdtemp(prefix="sdistmaker-bench-noop-"))
    work.chmod(0o755)  # as a served OUTDIR's: a run says when others cannot read it
    try:
        url = svn_repository(work / "svn", arguments.tags // 2)
        git_repository(work / "git", arguments.tags - arguments.tags // 2)
        defaults = work / "defaults.py"
        defaults.write_text(
            f"BASE = {url!r}\nGIT_REPOSITORIES = [{str(work / 'git')!r}]\nOUTDIR = 'out'\n"
        )
        command = [str(Path(sys.executable).parent / "sdists_from_tags"), "-q", "-d", str(defaults)]
        full = timed(command)
        built = len(list((work / "out").glob("*/*.tar.gz")))
        if built != arguments.tags:
            print(f"W2 FAILED: {built} of {arguments.tags} tags built")
            return 1
        noop = min(timed(command) for _ in range(3))
        print(f"W2 no-op run over {built} built tags (svn and git):")
        print(f"  first run, building everything: {full:8.2f} s")
        print(f"  a run with nothing new:         {noop:8.2f} s (target: < 1 s)")
        print(f"  {full / noop:.0f}x less than the first run")
        mirror = {"index": upstream_index(work / "upstream"), "requirements": ["left-pad"]}
        with defaults.open("a") as appending:
            appending.write(f"MIRROR = {mirror!r}\n")
        timed(command)  # mirrors left-pad: the next runs within the hour ask upstream nothing
        if not (work / "out" / "left-pad" / "left_pad-1.3-py3-none-any.whl").exists():
            print("W2 FAILED: MIRROR's requirement not mirrored")
            return 1
        mirroring = min(timed(command) for _ in range(3))
        print(f"  with MIRROR set, nothing new:   {mirroring:8.2f} s ({mirroring / noop:.2f}x)")
        return 0
    finally:
        shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    sys.exit(main())

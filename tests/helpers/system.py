"""What the tests need of this machine: tools (required in CI), mounts, processes, deadlines."""

from __future__ import annotations

import contextlib
import json
import os
import shutil
import subprocess
import sys
import tempfile
import time
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
"""The checkout: sdistmaker, its README, example, bench and web-server configurations."""
IN_CI = os.environ.get("CI") == "true"


BIN = Path(sys.executable).parent


# What builds need from the network here, as an administrator puts it in BUILD_ENVIRONMENT:
# hooks run with an empty environment. Where a proxy reaches the internet, the tests' own
# servers on 127.0.0.1 are reached directly, as an administrator's NO_PROXY says for an
# index on the same machine.
NETWORK = {
    name: os.environ[name]
    for name in (
        "SSL_CERT_FILE",
        "SSL_CERT_DIR",
        "PIP_CERT",
        "REQUESTS_CA_BUNDLE",
        "HTTPS_PROXY",
        "HTTP_PROXY",
        "https_proxy",
        "http_proxy",
        "PIP_INDEX_URL",
        "UV_INDEX_URL",
        "PIP_FIND_LINKS",
    )
    if name in os.environ
}
if any("proxy" in name.lower() for name in NETWORK):
    _direct = os.environ.get("NO_PROXY", os.environ.get("no_proxy", ""))
    NETWORK["NO_PROXY"] = NETWORK["no_proxy"] = ",".join(
        [*filter(None, _direct.split(",")), "127.0.0.1", "localhost"]
    )


def soon(seconds: float = 60) -> float:
    """A deadline, as sdistmaker's functions take them (``time.monotonic()``)."""
    return time.monotonic() + seconds


def require(command: str, path: Path | None = None) -> None:
    """Skip when a tool (a command, or the file at ``path``) is missing on a developer's
    machine; in CI that is a failure."""
    present = path.exists() if path is not None else shutil.which(command) is not None
    if not present:
        if IN_CI:
            pytest.fail(f"{command} is not installed; CI must install it")
        pytest.skip(f"{command} is not installed")


def mount(*arguments: str) -> None:
    """Mount, or skip where that is not allowed (not root, no CAP_SYS_ADMIN); in CI, fail."""
    require("mount")
    result = subprocess.run(["mount", *arguments], capture_output=True, text=True)
    if result.returncode:
        reason = f"cannot mount here ({result.stderr.strip()})"
        if IN_CI:
            pytest.fail(f"{reason}; CI must run these tests as root, allowed to mount")
        pytest.skip(reason)


def unmount(folder: Path) -> None:
    subprocess.run(["umount", str(folder)], check=True, capture_output=True)


@contextlib.contextmanager
def small_disk(folder: Path, size: str) -> Iterator[None]:
    """A tmpfs of ``size`` on ``folder``: a disk that fills up in a moment (or an empty one)."""
    mount("-t", "tmpfs", "-o", f"size={size}", "tmpfs", str(folder))
    try:
        yield
    finally:
        unmount(folder)


def require_root() -> None:
    """Skip what only a run as root shows where the tests run as another user; CI runs them as
    root, and fails."""
    if os.geteuid() != 0:
        if IN_CI:
            pytest.fail("CI must run the tests as root")
        pytest.skip("the tests do not run as root")


@contextlib.contextmanager
def unhidden_folder() -> Iterator[Path]:
    """A new folder only root may enter, where servers keep their data (/srv): outside the
    temporary and home folders, which builds never see, so that only what sdistmaker hides of
    it is hidden."""
    require_root()
    folder = Path(tempfile.mkdtemp(prefix="sdistmaker-test-", dir="/srv"))
    try:
        yield folder
    finally:
        shutil.rmtree(folder, ignore_errors=True)


def tools_but_bubblewrap(folder: Path) -> str:
    """A PATH of ``folder`` alone, holding the tools runs use but bwrap: no sandbox can be made."""
    folder.mkdir(exist_ok=True)
    for tool in ("uv", "git", "svn", "svnlook"):
        found = shutil.which(tool)
        if found and not (folder / tool).exists():
            (folder / tool).symlink_to(found)
    return str(folder)


def run(*args: str | Path, cwd: Path | None = None) -> str:
    result = subprocess.run(
        [str(a) for a in args],
        cwd=cwd,
        check=True,
        capture_output=True,
        text=True,
        env={**os.environ, "LC_ALL": "C.UTF-8"},
    )
    return result.stdout


HOLD_LOCK = """\
import sys, time
from pathlib import Path
from sdistmaker.outdir.store import Store
with Store(Path(sys.argv[1])).lock():
    print("locked", flush=True)
    time.sleep(float(sys.argv[2]))
"""


def hold_lock(outdir: Path, seconds: float) -> subprocess.Popen[str]:
    """Another process holding OUTDIR's lock, as a run does, for ``seconds``; returns once held."""
    holder = subprocess.Popen(
        [sys.executable, "-c", HOLD_LOCK, str(outdir), str(seconds)],
        stdout=subprocess.PIPE,
        text=True,
    )
    assert holder.stdout is not None and holder.stdout.readline() == "locked\n"
    return holder


SLEEPER = f"sleeper-{uuid.uuid4()}"
"""Marks the processes a hanging build starts, to look for them after."""


HANGING_SETUP_PY = f"""\
import subprocess, sys, time
sleep = [sys.executable, "-c", "import time; time.sleep(600)", "{SLEEPER}"]
subprocess.Popen(sleep)
subprocess.Popen(sleep, start_new_session=True)  # a daemon, out of the build's process group
time.sleep(600)
"""


def running(marker: str) -> list[int]:
    """The live processes (zombies aside) whose command line holds ``marker``."""
    found = []
    for folder in Path("/proc").iterdir():
        try:
            if marker.encode() not in (folder / "cmdline").read_bytes():
                continue
            state = (folder / "stat").read_text().rsplit(")", 1)[1].split()[0]
        except OSError:  # not a process, or gone meanwhile
            continue
        if state != "Z" and int(folder.name) != os.getpid():
            found.append(int(folder.name))
    return found


def all_gone(marker: str, seconds: float = 10) -> bool:
    """Whether the processes holding ``marker`` are gone within a moment (a kill is
    asynchronous)."""
    deadline = time.monotonic() + seconds
    while running(marker):
        if time.monotonic() > deadline:
            return False
        time.sleep(0.05)
    return True


def fresh_venv(folder: Path) -> Path:
    """A new virtual environment without pip (pip --python installs into it); its Python."""
    subprocess.run([sys.executable, "-m", "venv", "--without-pip", folder], check=True)
    return folder / "bin" / "python"


def installed(python: Path) -> dict[str, str]:
    """What the environment of ``python`` holds: distribution name -> version."""
    code = (
        "import importlib.metadata as m, json\n"
        "print(json.dumps({d.metadata['Name']: d.version for d in m.distributions()}))"
    )
    output = subprocess.run([python, "-c", code], check=True, capture_output=True, text=True)
    versions: dict[str, str] = json.loads(output.stdout)
    return versions


def wait_for_file(path: Path, seconds: float = 60) -> bool:
    """Whether ``path`` appears within ``seconds`` (what a background run makes)."""
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if path.exists():
            return True
        time.sleep(0.2)
    return False

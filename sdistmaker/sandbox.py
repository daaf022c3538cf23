"""Builds run code from tags. Where bubblewrap works, each build process sees the system
read-only, writes only to its own build folder and the folders its command names (where PyPA
build's hooks leave their results), sees no other process (sdistmaker's environment holds what
builds must not get) and cannot read the home folder or the defaults file, where passwords and
keys live, nor reach the sockets of the temporary and runtime folders (an ssh agent would sign
for a tag as sdistmaker). Its whole process tree dies with it, daemons included."""

from __future__ import annotations

import functools
import os
import shutil
import subprocess
import sys
import tempfile
from collections.abc import Iterable, Sequence
from pathlib import Path


@functools.cache
def bubblewrap() -> str | None:
    """bwrap's path when it can make a sandbox here (it needs user namespaces, or root)."""
    path = shutil.which("bwrap")
    if path is None:
        return None
    try:
        command = [path, *_SYSTEM, *_APART, "true"]
        subprocess.run(command, check=True, capture_output=True, timeout=30)
    except (OSError, subprocess.SubprocessError):
        return None
    return path


def confined(
    command: Sequence[str], writable: Path, hidden: Iterable[Path] = ()
) -> list[str] | None:
    """``command`` made to write only below ``writable`` and the folders it names, and to read
    nothing in the home folder or in ``hidden`` but what it runs; None when no sandbox can be
    made here."""
    bwrap = bubblewrap()
    if bwrap is None:
        return None
    named = [Path(argument) for argument in command[1:] if os.path.isabs(argument)]
    # bwrap takes absolute paths only; a link's target is what must not be read.
    hide = list(dict.fromkeys(path.resolve() for path in [*_private(), *hidden] if path.exists()))
    # One mount for a folder and all it holds (a later mount over a folder would cover one made
    # inside it first).
    folders = [path for path in hide if path.is_dir()]
    covers = [
        path for path in hide if not any(path.is_relative_to(f) for f in folders if f != path)
    ]
    # Mounts apply in order: hide first, then give back what the command needs below.
    options = [*_SYSTEM]
    for path in covers:
        options += (
            ["--tmpfs", str(path)] if path.is_dir() else ["--ro-bind", "/dev/null", str(path)]
        )
    for path in _needed(command[0], [p for p in named if p.is_file()]):
        if not any(secret.is_relative_to(path) for secret in hide):
            options += ["--ro-bind", str(path), str(path)]
    for folder in [writable, *(p for p in named if p.is_dir())]:
        options += ["--bind", str(folder), str(folder)]
    # Read-only as the rest of the system (what was given back keeps its own mount).
    options += [
        option for path in covers if path.is_dir() for option in ("--remount-ro", str(path))
    ]
    return [bwrap, *options, *_APART, "--", *command]


def _private() -> list[Path]:
    """What builds must not see of the system: the home folder; the temporary folders, where
    other programs keep files and sockets (an ssh agent's among them); the runtime folder, all
    sockets (the system bus, databases that let the user in as who it is, docker's); the ssh
    agent sdistmaker was given, wherever it is."""
    temporary = [Path("/tmp"), Path("/var/tmp"), Path(tempfile.gettempdir())]
    folders = [Path.home(), *temporary, Path("/run")]
    agent = os.environ.get("SSH_AUTH_SOCK")
    found = [path for path in folders if path.is_dir() and path != Path(path.anchor)]
    return [*found, *([Path(agent)] if agent and os.path.isabs(agent) else [])]


def _needed(executable: str, files: Sequence[Path]) -> list[Path]:
    """What the command reads that may lie in a hidden folder: the interpreter's environment
    and the installation it links to, sdistmaker's own (hooks run its scripts), the files the
    command names, and where the name servers are written (often below /run): builds may
    fetch what old projects' setup.py asks for."""
    program = Path(shutil.which(executable) or executable)
    found = [
        program.parent.parent,
        Path(os.path.realpath(program)).parent.parent,
        Path(sys.prefix),
        Path(sys.base_prefix),
        Path(os.path.realpath("/etc/resolv.conf")),
        *files,
    ]
    return [path for path in dict.fromkeys(found) if path.exists() and path != Path(path.anchor)]


_SYSTEM = ["--ro-bind", "/", "/", "--dev", "/dev", "--proc", "/proc"]
# Processes of its own (the /proc it sees shows no other, and when its first process is killed
# at the deadline every other goes too), and no terminal to type into.
_APART = [
    "--unshare-pid",
    "--unshare-ipc",
    "--unshare-uts",
    "--unshare-cgroup-try",
    "--new-session",
    "--die-with-parent",
]

"""Builds run code from tags. Where bubblewrap works, each build process sees the system
read-only, writes only to its own build folder and the folders its command names (where PyPA
build's hooks leave their results), sees no other process (sdistmaker's environment holds what
builds must not get) and cannot read the home folder or the defaults file, where passwords and
keys live, nor what sdistmaker keeps of other tags and repositories, nor reach the sockets of
the temporary and runtime folders (an ssh agent would sign for a tag as sdistmaker). Its whole
process tree dies with it, daemons included. When sdistmaker runs as root, a build runs as
nobody, without privileges: root reads every file, whatever its permissions say."""

from __future__ import annotations

import functools
import os
import pwd
import shutil
import stat
import subprocess
import sys
from collections.abc import Iterable, Sequence
from pathlib import Path

from sdistmaker.outdir import temporaries

REFUSED_AS_ROOT = (
    "sdistmaker runs as root and bubblewrap (bwrap, with setpriv) cannot make a sandbox here: "
    "a tag's code never runs as root (install bubblewrap, or run sdistmaker as a user of its own)"
)


@functools.cache
def bubblewrap() -> str | None:
    """bwrap's path when it can make a sandbox here (it needs user namespaces, or root), and
    give up root in it when sdistmaker runs as root."""
    path = shutil.which("bwrap")
    if path is None:
        return None
    try:
        command = [path, *_SYSTEM, *_APART, "--", *_as_build_user(), "true"]
        subprocess.run(command, check=True, capture_output=True, timeout=30)
    except (OSError, subprocess.SubprocessError):
        return None
    return path


@functools.cache
def build_user() -> tuple[int, int] | None:
    """The user and group builds run as when sdistmaker runs as root: nobody's, who owns
    nothing and, in the sandbox, sees no other process and writes only to its build folder.
    None when sdistmaker runs as a user of its own: builds run as that user."""
    if os.geteuid() != 0:
        return None
    try:
        nobody = pwd.getpwnam("nobody")
    except KeyError:
        return _NOBODY, _NOBODY
    return nobody.pw_uid, nobody.pw_gid


def hand_over(path: Path, *, recursive: bool = False) -> None:
    """Make ``path`` (with ``recursive``, all it holds) the build user's, to write to; nothing
    when builds run as sdistmaker's user. Only for what sdistmaker made and no build process
    changes meanwhile: no link is followed, but a path's folders are."""
    user = build_user()
    if user is None:
        return
    os.chown(path, *user, follow_symlinks=False)
    if recursive:
        for folder, folders, files in os.walk(path):
            for name in [*folders, *files]:
                os.chown(os.path.join(folder, name), *user, follow_symlinks=False)


def confined(
    command: Sequence[str], writable: Path, hidden: Iterable[Path] = ()
) -> list[str] | None:
    """``command`` made to write only below ``writable`` and the folders it names (both handed
    over to the build user), and to read nothing in the home folder or in ``hidden`` but what it
    runs; None when no sandbox can be made here."""
    bwrap = bubblewrap()
    if bwrap is None:
        return None
    named = [Path(argument) for argument in command[1:] if os.path.isabs(argument)]
    needed = _needed(command[0], [p for p in named if p.is_file()])
    named_folders = [p for p in named if p.is_dir()]
    writable_folders = [writable, *named_folders]
    hand_over(writable)
    for folder in named_folders:  # with what PyPA build's hook runner wrote there for it to read
        hand_over(folder, recursive=True)
    # bwrap takes absolute paths only; a link's target is what must not be read.
    hiding = [*_private(), *hidden, *_closed([*needed, *writable_folders])]
    hide = list(dict.fromkeys(path.resolve() for path in hiding if path.exists()))
    # One mount for a folder and all it holds (a later mount over a folder would cover one made
    # inside it first).
    folders = [path for path in hide if path.is_dir()]
    covers = [
        path for path in hide if not any(path.is_relative_to(f) for f in folders if f != path)
    ]
    given = [path for path in needed if not any(s.is_relative_to(path) for s in hide)]
    # Mounts apply in order: hide first, then give back what the command needs below.
    options = [*_SYSTEM]
    for path in covers:
        options += (
            ["--tmpfs", str(path)] if path.is_dir() else ["--ro-bind", "/dev/null", str(path)]
        )
    for folder in _between([*given, *writable_folders], folders):
        options += ["--perms", "0755", "--dir", str(folder)]
    for path in given:
        options += ["--ro-bind", str(path), str(path)]
    for folder in writable_folders:
        options += ["--bind", str(folder), str(folder)]
    # Read-only as the rest of the system (what was given back keeps its own mount).
    options += [
        option for path in covers if path.is_dir() for option in ("--remount-ro", str(path))
    ]
    return [bwrap, *options, *_APART, "--", *_as_build_user(), *command]


def _closed(paths: Iterable[Path]) -> list[Path]:
    """The folders above ``paths`` that the build user, when it is not sdistmaker's, may not
    pass through (an OUTDIR only root and the web server may enter): hidden, so that what is
    needed below them is given back through folders it may pass."""
    if build_user() is None:
        return []
    closed = []
    for path in paths:
        for folder in reversed(path.resolve().parents):
            if not folder.stat().st_mode & stat.S_IXOTH:
                closed.append(folder)
                break
    return closed


def _between(paths: Iterable[Path], hidden: Sequence[Path]) -> list[Path]:
    """The folders bwrap makes in the hidden folders to mount ``paths`` on: those between a
    hidden folder and each path, outermost first. bwrap would make them for its own user only,
    and the build user must pass through them."""
    found = {
        folder
        for path in paths
        for cover in hidden
        if path.is_relative_to(cover)
        for folder in path.parents
        if folder.is_relative_to(cover) and folder != cover
    }
    return sorted(found, key=lambda folder: len(folder.parts))


def _as_build_user() -> list[str]:
    """What the sandbox runs the command with to give up root: run as the build user, with no
    capability (bwrap run by root keeps them all) and no way to gain one (no set-user-ID
    program works)."""
    user = build_user()
    if user is None:
        return []
    uid, gid = user
    drop = [f"--reuid={uid}", f"--regid={gid}", "--clear-groups", "--no-new-privs"]
    return ["setpriv", *drop, "--inh-caps=-all", "--bounding-set=-all", "--"]


def _private() -> list[Path]:
    """What builds must not see of the system: the home folder; the temporary folders, where
    other programs keep files and sockets (an ssh agent's among them); the runtime folder, all
    sockets (the system bus, databases that let the user in as who it is, docker's); the ssh
    agent sdistmaker was given, wherever it is."""
    temporary = [Path("/tmp"), Path("/var/tmp"), temporaries.shared_temporary_folder()]
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


_NOBODY = 65534
"""nobody's user and group number where the system names no such user (Linux's overflow id)."""
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

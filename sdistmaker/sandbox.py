"""Builds run code from tags. Where bubblewrap works, each build process sees the whole system
read-only except its own build folder and the folders its command names (where PyPA build's
hooks leave their results): a tag cannot change OUTDIR, the repositories, or anything else."""

from __future__ import annotations

import functools
import shutil
import subprocess
from collections.abc import Sequence
from pathlib import Path


@functools.cache
def bubblewrap() -> str | None:
    """bwrap's path when it can make a sandbox here (it needs user namespaces, or root)."""
    path = shutil.which("bwrap")
    if path is None:
        return None
    try:
        subprocess.run([path, *_READ_ONLY, "true"], check=True, capture_output=True, timeout=30)
    except (OSError, subprocess.SubprocessError):
        return None
    return path


def confined(command: Sequence[str], writable: Path) -> list[str] | None:
    """``command`` made to write only below ``writable`` and the folders it names; None when
    no sandbox can be made here."""
    bwrap = bubblewrap()
    if bwrap is None:
        return None
    folders = [writable, *(Path(argument) for argument in command[1:] if Path(argument).is_dir())]
    binds = [option for folder in folders for option in ("--bind", str(folder), str(folder))]
    return [bwrap, *_READ_ONLY, *binds, "--die-with-parent", "--", *command]


_READ_ONLY = ["--ro-bind", "/", "/", "--dev", "/dev", "--proc", "/proc"]

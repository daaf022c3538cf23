"""Build environments, made once per set of build requirements and kept between runs.

Making a fresh isolated environment is most of what a naive ``python -m build`` costs per tag;
the backend's own work is a fraction of it. Each environment here is made with uv when it is
installed (pip otherwise), byte-compiled (so no backend call compiles setuptools again), and
made again when it grows old, so that unpinned requirements still move on.

Environments are made outside the sandbox builds run in, so what goes in runs none of its code
meanwhile: wheels only, from the index, never a URL or path. Private names (PRIVATE_NAMES, and
those of the projects here) come only from this index (OUTDIR, looked in first) or the
find-links, never from another index, however high a version it offers: the requirements are
resolved first, the resolution checked, and exactly what was checked installed. Making one
counts against the deadline of the build that needs it.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import shutil
import stat
import sys
import time
from collections.abc import Collection, Mapping
from dataclasses import asdict
from pathlib import Path

import filelock
from packaging.requirements import InvalidRequirement, Requirement
from packaging.utils import canonicalize_name

from sdistmaker.building.installers import (
    Installer,
    Pinned,
    find_uv,
    installer_environment,
    pinned_line,
    recorded,
    run_installer,
)
from sdistmaker.building.private_names import PrivateNames, refuse_private_from_elsewhere
from sdistmaker.errors import BuildError
from sdistmaker.outdir import temporaries
from sdistmaker.urls import public_url

MAX_AGE = 7 * 24 * 3600
"""Seconds after which an environment is made anew with the newest matching requirements."""

_COMPILE = "import compileall, sys; compileall.compile_dir(sys.argv[1], quiet=1, workers=0)"
"""Byte-compiles an environment; a file that does not compile is left to fail where it is
imported, as pip and uv leave it."""
_ORIGINS = "sdistmaker-origins.json"
"""The record, in each environment, of where each of its requirements came from."""


class Environments:
    def __init__(
        self, folder: Path, max_age: float = MAX_AGE, private: PrivateNames | None = None
    ) -> None:
        self.folder = folder
        self.max_age = max_age
        self.private = private or PrivateNames()
        """Names only this index and the find-links may provide: one resolved from anywhere
        else is refused (BuildError), and so is a kept environment holding one."""
        self._handed_out: dict[str, Path] = {}
        """Environments given to builds of this run: never renewed under a running build."""

    def python(
        self,
        requirements: Collection[str],
        constraints: str,
        environment: Mapping[str, str],
        log: Path,
        *,
        deadline: float,
    ) -> Path:
        """The interpreter of an environment holding ``requirements`` (within ``constraints``,
        the text of a constraints file), made by ``deadline`` (``time.monotonic()``: the
        build's, which its requirements' install counts against); ``environment`` is what
        installers run with."""
        _refuse_direct_references(requirements)
        key = hashlib.sha256(
            "\n".join([sys.version, constraints, *sorted(requirements)]).encode()
        ).hexdigest()[:20]
        if key in self._handed_out:
            return self._handed_out[key]
        target = self.folder / key
        python = target / "bin" / "python"
        self.folder.mkdir(parents=True, exist_ok=True)
        lock = filelock.FileLock(self.folder / f"{key}.lock")
        try:
            # Another worker may be making it: this build waits no longer than its deadline,
            # whatever that install takes (a negative timeout would wait for ever).
            held = lock.acquire(timeout=max(deadline - time.monotonic(), 0))
        except filelock.Timeout:
            raise BuildError(
                f"build requirements {sorted(requirements)} timed out: another build was still "
                "installing them"
            ) from None
        installers = installer_environment(environment, self.private.index)
        with held:
            if key in self._handed_out:  # another worker made it while this one waited
                return python
            if self._reusable(target, installers):
                self._handed_out[key] = python
                return python
            partial = temporaries.new_folder(self.folder, key)
            try:
                installer = Installer(find_uv(), partial, requirements, constraints)
                self._make(installer, installers, log, deadline)
            except BaseException:
                shutil.rmtree(partial, ignore_errors=True)
                raise
            temporaries.put_in_place(partial, target)
            self._handed_out[key] = python
        return python

    def _reusable(self, target: Path, installers: Mapping[str, str]) -> bool:
        """Whether the environment kept at ``target`` is young enough, and still holds no
        private name from elsewhere (a name may have become private since it was made)."""
        if not (target / "bin" / "python").exists():
            return False
        if time.time() - target.stat().st_mtime >= self.max_age:
            return False
        try:
            record = json.loads((target / _ORIGINS).read_text())
            refuse_private_from_elsewhere(list(map(recorded, record)), self.private, installers)
        except (OSError, ValueError, TypeError, KeyError, BuildError):
            return False
        return True

    def _make(
        self, installer: Installer, installers: Mapping[str, str], log: Path, deadline: float
    ) -> None:
        """Install the requirements into a new environment in the installer's folder by
        ``deadline``, running no
        code of theirs: wheels only (an sdist's build runs its setup.py), byte-compiled by a Python
        that reads no ``.pth`` file (a wheel's ``.pth`` runs code at each start of the environment's
        interpreter; uv's ``--compile-bytecode`` starts it, outside the sandbox). What is installed
        is what was resolved and checked: each package at its version, from a file of a hash the
        resolution gave."""
        folder, requirements = installer.folder, installer.requirements
        pinned: list[Pinned] = []
        with open(log, "ab") as output, contextlib.ExitStack() as cleanup:

            def run(command: list[str]) -> None:
                run_installer(command, installers, output, requirements, deadline)

            run(installer.venv())
            if requirements:
                for path in installer.files.values():
                    cleanup.callback(path.unlink, missing_ok=True)
                installer.write_inputs()
                run(installer.resolve())
                pinned = installer.resolution()
                refuse_private_from_elsewhere(pinned, self.private, installers)
                installer.files["pinned"].write_text("".join(map(pinned_line, pinned)))
                run(installer.install())
                run([sys.executable, "-I", "-S", "-c", _COMPILE, str(folder / "lib")])
        record = [{**asdict(p), "files": [[public_url(u), h] for u, h in p.files]} for p in pinned]
        (folder / _ORIGINS).write_text(json.dumps(record, indent=1) + "\n")
        _readable_by_all(folder)


def installed(python: Path) -> dict[str, str]:
    """What the environment of ``python`` holds: normalised name -> version, as its record
    says (empty when it has none)."""
    try:
        record = json.loads((python.parent.parent / _ORIGINS).read_text())
        return {canonicalize_name(p["name"]): str(p["version"]) for p in record}
    except (OSError, ValueError, TypeError, KeyError):
        return {}


def _readable_by_all(folder: Path) -> None:
    """Let every user read and run what ``folder`` holds, whatever the umask it was made under:
    builds may run as another user (nobody, when sdistmaker runs as root)."""
    for path in [folder, *folder.rglob("*")]:
        if not path.is_symlink():
            readable = stat.S_IRUSR | stat.S_IRGRP | stat.S_IROTH
            searchable = stat.S_IXUSR | stat.S_IXGRP | stat.S_IXOTH if path.is_dir() else 0
            path.chmod(path.stat().st_mode | readable | searchable)


def _refuse_direct_references(requirements: Collection[str]) -> None:
    """Only names from the index, never a URL or path: an installer builds what it finds there
    (a folder, an sdist, a VCS checkout) by running its code, outside the sandbox. Nor anything
    else: a string that is no requirement (``--index-url=…``) would be an installer's option."""
    for text in sorted(requirements):
        try:
            url = Requirement(text).url
        except InvalidRequirement:
            raise BuildError(f"build requirement {text!r} is not a valid requirement") from None
        if url:
            raise BuildError(
                f"build requirement {text!r} is a direct reference (URL or path): build "
                "requirements are installed only from the index, as wheels"
            )

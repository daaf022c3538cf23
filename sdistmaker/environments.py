"""Build environments, made once per set of build requirements and kept between runs.

Making a fresh isolated environment is most of what a naive ``python -m build`` costs per tag;
the backend's own work is a fraction of it. Each environment here is made with uv when it is
installed (pip otherwise), byte-compiled (so no backend call compiles setuptools again), and
made again when it grows old, so that unpinned requirements still move on.

Environments are made outside the sandbox builds run in, so what goes in runs none of its code
meanwhile: wheels only, from the index, never a URL or path. Making one counts against the
deadline of the build that needs it.
"""

from __future__ import annotations

import contextlib
import hashlib
import importlib.util
import shutil
import sys
import threading
import time
from collections.abc import Collection, Mapping
from pathlib import Path

import filelock
from packaging.requirements import InvalidRequirement, Requirement

from sdistmaker import processes, temporaries
from sdistmaker.errors import BuildError

MAX_AGE = 7 * 24 * 3600
"""Seconds after which an environment is made anew with the newest matching requirements."""

_COMPILE = "import compileall, sys; compileall.compile_dir(sys.argv[1], quiet=1, workers=0)"
"""Byte-compiles an environment; a file that does not compile is left to fail where it is
imported, as pip and uv leave it."""


_uv_lookup = threading.Lock()


def _uv() -> str | None:
    # One worker at a time: uv asks sysconfig, whose first use in a process fills a shared dict
    # that another thread can meanwhile read half filled (before CPython 3.12: a TypeError in uv).
    with _uv_lookup:
        if importlib.util.find_spec("uv") is not None:
            import uv

            return str(uv.find_uv_bin())
        return shutil.which("uv")


class Environments:
    def __init__(self, folder: Path, max_age: float = MAX_AGE) -> None:
        self.folder = folder
        self.max_age = max_age
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
        with held:
            if key in self._handed_out:  # another worker made it while this one waited
                return python
            if python.exists() and time.time() - target.stat().st_mtime < self.max_age:
                self._handed_out[key] = python
                return python
            partial = temporaries.new_folder(self.folder, key)
            try:
                self._make(partial, requirements, constraints, environment, log, deadline)
            except BaseException:
                shutil.rmtree(partial, ignore_errors=True)
                raise
            temporaries.put_in_place(partial, target)
            self._handed_out[key] = python
        return python

    def _make(
        self,
        folder: Path,
        requirements: Collection[str],
        constraints: str,
        environment: Mapping[str, str],
        log: Path,
        deadline: float,
    ) -> None:
        """Install ``requirements`` into a new environment in ``folder`` by ``deadline``, running no
        code of theirs: wheels only (an sdist's build runs its setup.py), byte-compiled by a Python
        that reads no ``.pth`` file (a wheel's ``.pth`` runs code at each start of the environment's
        interpreter; uv's ``--compile-bytecode`` starts it, outside the sandbox)."""
        python = folder / "bin" / "python"
        uv = _uv()
        pin = folder.with_name(folder.name + ".constraints")
        pin.write_text(constraints)
        if uv:
            commands = [[uv, "venv", "--quiet", "--python", sys.executable, str(folder)]]
            install = [uv, "pip", "install", "--python", str(python), "--no-build"]
        else:
            commands = [[sys.executable, "-m", "venv", "--clear", str(folder)]]
            install = [str(python), "-m", "pip", "install", "--disable-pip-version-check"]
            install += ["--only-binary", ":all:", "--no-compile"]
        if requirements:
            commands.append([*install, "--constraint", str(pin), *sorted(requirements)])
            commands.append([sys.executable, "-I", "-S", "-c", _COMPILE, str(folder / "lib")])
        with open(log, "ab") as output, contextlib.ExitStack() as cleanup:
            cleanup.callback(pin.unlink, missing_ok=True)
            for command in commands:
                output.write(f"=== {' '.join(command)}\n".encode())
                output.flush()
                code = processes.wait(processes.start(command, environment, output), deadline)
                if code is None:
                    output.write(b"=== killed after the build timeout\n")
                    raise BuildError(
                        f"build requirements {sorted(requirements)} timed out while being "
                        "installed, process tree killed"
                    )
                if code:
                    raise BuildError(
                        f"could not install the build requirements {sorted(requirements)} "
                        "(from wheels only)"
                    )


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

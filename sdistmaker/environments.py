"""Build environments, made once per set of build requirements and kept between runs.

Making a fresh isolated environment is most of what a naive ``python -m build`` costs per tag;
the backend's own work is a fraction of it. Each environment here is made with uv when it is
installed (pip otherwise), byte-compiled (so no backend call compiles setuptools again), and
made again when it grows old, so that unpinned requirements still move on.

Making one counts against the deadline of the build that needs it.
"""

from __future__ import annotations

import contextlib
import hashlib
import importlib.util
import os
import shutil
import sys
import threading
import time
from collections.abc import Collection, Mapping
from pathlib import Path

import filelock

from sdistmaker import processes, temporaries
from sdistmaker.errors import BuildError

MAX_AGE = 7 * 24 * 3600
"""Seconds after which an environment is made anew with the newest matching requirements."""


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
            self._put_in_place(partial, target)
            self._handed_out[key] = python
        return python

    def _put_in_place(self, made: Path, target: Path) -> None:
        """Move ``made`` to ``target`` in renames, so that a kill at any moment leaves under the
        real name a whole environment or none, never a half-deleted one: the old one is moved
        aside first, under a temporary name (the next run removes it when this one cannot)."""
        old = None
        if target.exists():
            old = temporaries.new_folder(self.folder, target.name)
            os.rename(target, old)  # onto the empty folder just made there
        os.rename(made, target)
        if old is not None:
            shutil.rmtree(old, ignore_errors=True)

    def _make(
        self,
        folder: Path,
        requirements: Collection[str],
        constraints: str,
        environment: Mapping[str, str],
        log: Path,
        deadline: float,
    ) -> None:
        python = folder / "bin" / "python"
        uv = _uv()
        pin = folder.with_name(folder.name + ".constraints")
        pin.write_text(constraints)
        if uv:
            commands = [[uv, "venv", "--quiet", "--python", sys.executable, str(folder)]]
            install = [uv, "pip", "install", "--python", str(python), "--compile-bytecode"]
        else:
            commands = [[sys.executable, "-m", "venv", "--clear", str(folder)]]
            install = [str(python), "-m", "pip", "install", "--disable-pip-version-check"]
        if requirements:
            commands.append([*install, "--constraint", str(pin), *sorted(requirements)])
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
                        f"could not install the build requirements {sorted(requirements)}"
                    )

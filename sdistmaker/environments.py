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
import importlib.util
import json
import os
import posixpath
import re
import shutil
import stat
import sys
import threading
import time
from collections.abc import Collection, Mapping
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import IO, Any
from urllib.parse import unquote, urlsplit

import filelock
from packaging.requirements import InvalidRequirement, Requirement
from packaging.utils import canonicalize_name

from sdistmaker import processes, temporaries
from sdistmaker.errors import BuildError
from sdistmaker.serve import name_pattern
from sdistmaker.vcs.urls import public_url

if sys.version_info >= (3, 11):
    import tomllib
else:  # pragma: no cover
    import tomli as tomllib

MAX_AGE = 7 * 24 * 3600
"""Seconds after which an environment is made anew with the newest matching requirements."""

_COMPILE = "import compileall, sys; compileall.compile_dir(sys.argv[1], quiet=1, workers=0)"
"""Byte-compiles an environment; a file that does not compile is left to fail where it is
imported, as pip and uv leave it."""
_FOR_INSTALLERS = (
    *("UV_CACHE_DIR", "PIP_CACHE_DIR", "XDG_CACHE_HOME"),
    *("SSL_CERT_FILE", "SSL_CERT_DIR", "PIP_CERT", "REQUESTS_CA_BUNDLE"),
    *("UV_NATIVE_TLS", "UV_SYSTEM_CERTS"),
)
"""What installers get of sdistmaker's environment besides what builds get: where their caches
are and which authorities' certificates they trust (no secret: the public half). An index or a
proxy, whose URL may hold a password, comes from BUILD_ENVIRONMENT."""
_ORIGINS = "sdistmaker-origins.json"
"""The record, in each environment, of where each of its requirements came from."""


@dataclass(frozen=True)
class PrivateNames:
    """Build requirements that only this index and the find-links may provide."""

    globs: tuple[str, ...] = ()
    """PRIVATE_NAMES: globs of normalised names."""
    names: frozenset[str] = frozenset()
    """The normalised names of the projects here: those crawled, those published."""
    index: Path | None = None
    """OUTDIR, an index installers look in first."""

    def __contains__(self, name: object) -> bool:
        if not isinstance(name, str):
            return False
        normalised = canonicalize_name(name)
        if normalised in self.names:
            return True
        return bool(self.globs) and re.match(name_pattern(self.globs), normalised) is not None


@dataclass(frozen=True)
class _Pinned:
    """One package of a resolution: its name, version, and the files it may be installed from,
    by URL and sha256."""

    name: str
    version: str
    files: tuple[tuple[str, str], ...]


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
        installers = _installer_environment(environment, self.private)
        with held:
            if key in self._handed_out:  # another worker made it while this one waited
                return python
            if self._reusable(target, installers):
                self._handed_out[key] = python
                return python
            partial = temporaries.new_folder(self.folder, key)
            try:
                installer = _Installer(_uv(), partial, requirements, constraints)
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
            _refuse_private_from_elsewhere(list(map(_recorded, record)), self.private, installers)
        except (OSError, ValueError, TypeError, KeyError, BuildError):
            return False
        return True

    def _make(
        self, installer: _Installer, installers: Mapping[str, str], log: Path, deadline: float
    ) -> None:
        """Install the requirements into a new environment in the installer's folder by
        ``deadline``, running no
        code of theirs: wheels only (an sdist's build runs its setup.py), byte-compiled by a Python
        that reads no ``.pth`` file (a wheel's ``.pth`` runs code at each start of the environment's
        interpreter; uv's ``--compile-bytecode`` starts it, outside the sandbox). What is installed
        is what was resolved and checked: each package at its version, from a file of a hash the
        resolution gave."""
        folder, requirements = installer.folder, installer.requirements
        pinned: list[_Pinned] = []
        with open(log, "ab") as output, contextlib.ExitStack() as cleanup:

            def run(command: list[str]) -> None:
                _run_installer(command, installers, output, requirements, deadline)

            run(installer.venv())
            if requirements:
                for path in installer.files.values():
                    cleanup.callback(path.unlink, missing_ok=True)
                installer.write_inputs()
                run(installer.resolve())
                pinned = installer.resolution()
                _refuse_private_from_elsewhere(pinned, self.private, installers)
                installer.files["pinned"].write_text("".join(map(_pinned_line, pinned)))
                run(installer.install())
                run([sys.executable, "-I", "-S", "-c", _COMPILE, str(folder / "lib")])
        record = [{**asdict(p), "files": [[public_url(u), h] for u, h in p.files]} for p in pinned]
        (folder / _ORIGINS).write_text(json.dumps(record, indent=1) + "\n")
        _readable_by_all(folder)


def _readable_by_all(folder: Path) -> None:
    """Let every user read and run what ``folder`` holds, whatever the umask it was made under:
    builds may run as another user (nobody, when sdistmaker runs as root)."""
    for path in [folder, *folder.rglob("*")]:
        if not path.is_symlink():
            readable = stat.S_IRUSR | stat.S_IRGRP | stat.S_IROTH
            searchable = stat.S_IXUSR | stat.S_IXGRP | stat.S_IXOTH if path.is_dir() else 0
            path.chmod(path.stat().st_mode | readable | searchable)


class _Installer:
    """The commands of uv, or of pip in the environment when uv is not installed, and the files
    they work with, in the environment's folder (removed once it is made)."""

    def __init__(
        self, uv: str | None, folder: Path, requirements: Collection[str], constraints: str
    ) -> None:
        self.uv = uv
        self.folder = folder
        self.requirements = requirements
        self.constraints = constraints
        """The text of a constraints file."""
        self.python = str(folder / "bin" / "python")
        # uv writes a lock file only under a name of PEP 751's: pylock.<name>.toml.
        resolution = "pylock.sdistmaker.toml" if uv else "sdistmaker-report.json"
        self.files = {
            "requirements": folder / "sdistmaker-requirements.in",
            "constraints": folder / "sdistmaker-constraints.txt",
            "resolution": folder / resolution,
            "pinned": folder / "sdistmaker-pinned.txt",
        }

    def venv(self) -> list[str]:
        if self.uv:
            return [self.uv, "venv", "--quiet", "--python", sys.executable, str(self.folder)]
        return [sys.executable, "-m", "venv", "--clear", str(self.folder)]

    def write_inputs(self) -> None:
        # Each as packaging reads it: one requirement a line, nothing an installer takes for
        # an option.
        lines = "".join(f"{Requirement(text)}\n" for text in sorted(self.requirements))
        self.files["requirements"].write_text(lines)
        self.files["constraints"].write_text(self.constraints)

    def resolve(self) -> list[str]:
        """Resolve, from wheels only, into the resolution file: pylock.toml (uv), a report
        (pip)."""
        files = {kind: str(path) for kind, path in self.files.items()}
        if self.uv:
            lock = ["--format", "pylock.toml", "--output-file", files["resolution"]]
            options = ["--quiet", "--python", self.python, "--no-build", *lock]
            inputs = ["--constraint", files["constraints"], files["requirements"]]
            return [self.uv, "pip", "compile", *options, *inputs]
        report = ["--dry-run", "--ignore-installed", "--report", files["resolution"]]
        inputs = ["--constraint", files["constraints"], "--requirement", files["requirements"]]
        return [*self._pip(), "--quiet", "--only-binary", ":all:", *report, *inputs]

    def resolution(self) -> list[_Pinned]:
        """What the resolution file says is to be installed."""
        text = self.files["resolution"].read_text()
        try:
            if self.uv:
                return [_pinned_by_uv(p) for p in tomllib.loads(text).get("packages", [])]
            return [_pinned_by_pip(p) for p in json.loads(text)["install"]]
        except (ValueError, TypeError, KeyError, AttributeError) as error:
            raise BuildError(
                f"build requirements {sorted(self.requirements)}: unreadable resolution "
                f"{self.files['resolution'].name}: {error!r}"
            ) from None

    def install(self) -> list[str]:
        """Install exactly the pinned packages, each from a file of a hash the resolution gave."""
        exact = ["--no-deps", "--require-hashes", "--requirement", str(self.files["pinned"])]
        if self.uv:
            return [self.uv, "pip", "install", "--python", self.python, "--no-build", *exact]
        return [*self._pip(), "--only-binary", ":all:", "--no-compile", *exact]

    def _pip(self) -> list[str]:
        return [self.python, "-m", "pip", "install", "--disable-pip-version-check"]


def _pinned_by_uv(package: dict[str, Any]) -> _Pinned:
    if not package.get("wheels"):
        raise ValueError(f"no wheel for {package.get('name')}")
    files = tuple((str(w["url"]), str(w["hashes"]["sha256"])) for w in package["wheels"])
    return _Pinned(str(package["name"]), str(package["version"]), files)


def _pinned_by_pip(package: dict[str, Any]) -> _Pinned:
    download = package["download_info"]
    files = ((str(download["url"]), str(download["archive_info"]["hashes"]["sha256"])),)
    metadata = package["metadata"]
    return _Pinned(str(metadata["name"]), str(metadata["version"]), files)


def _recorded(package: dict[str, Any]) -> _Pinned:
    files = tuple((str(url), str(digest)) for url, digest in package["files"])
    return _Pinned(str(package["name"]), str(package["version"]), files)


def _pinned_line(package: _Pinned) -> str:
    hashes = " ".join(f"--hash=sha256:{digest}" for _, digest in package.files)
    return f"{package.name}=={package.version} {hashes}\n"


def _run_installer(
    command: list[str],
    installers: Mapping[str, str],
    output: IO[bytes],
    requirements: Collection[str],
    deadline: float,
) -> None:
    """Run one step of an environment's making, its output in the build's log."""
    output.write(f"=== {' '.join(command)}\n".encode())
    output.flush()
    code = processes.logged(command, installers, output, deadline)
    if code is None:
        raise BuildError(
            f"build requirements {sorted(requirements)} timed out while being installed, "
            "process tree killed"
        )
    if code:
        raise BuildError(
            f"could not install the build requirements {sorted(requirements)} (from wheels only)"
        )


def _installer_environment(environment: Mapping[str, str], private: PrivateNames) -> dict[str, str]:
    """What installers run with: the builds' variables, their caches and certificates, and
    this index first (uv takes each name from the first index that has it; pip merges them)."""
    variables = {name: os.environ[name] for name in _FOR_INSTALLERS if name in os.environ}
    variables.update(environment)
    if private.index is not None:
        for name in ("UV_INDEX", "PIP_EXTRA_INDEX_URL"):
            variables[name] = " ".join([private.index.as_uri(), variables.get(name, "")]).strip()
    return variables


def _refuse_private_from_elsewhere(
    pinned: Collection[_Pinned], private: PrivateNames, installers: Mapping[str, str]
) -> None:
    """A private name may come only from this index or a find-links location (UV_FIND_LINKS,
    PIP_FIND_LINKS): anyone may publish that name on a public index."""
    sources = _sources(private, installers)
    for package in pinned:
        if package.name not in private:
            continue
        for url, _ in package.files:
            if not any(_within(url, source) for source in sources):
                raise BuildError(
                    f"build requirement {package.name} {package.version} is a private name "
                    "(PRIVATE_NAMES, or a project of this index) but would come from "
                    f"{public_url(url)}: only OUTDIR and the find-links may provide it"
                )


def _sources(private: PrivateNames, installers: Mapping[str, str]) -> list[str]:
    """Where private names may come from, as URLs: this index and the find-links."""
    sources = [private.index.as_uri()] if private.index is not None else []
    for name in ("UV_FIND_LINKS", "PIP_FIND_LINKS"):
        for location in re.split(r"[\s,]+", installers.get(name, "")):
            if "://" in location:
                sources.append(location)
            elif location:
                sources.append(Path(location).absolute().as_uri())
    return sources


def _within(url: str, source: str) -> bool:
    """Whether the file at ``url`` lies below ``source``: the folder an index or a find-links
    location is, or the folder of a find-links page."""
    file, place = urlsplit(url), urlsplit(source)
    if (file.scheme, _host(file.netloc)) != (place.scheme, _host(place.netloc)):
        return False
    folder = unquote(place.path)
    if not folder.endswith("/") and not (place.scheme == "file" and Path(folder).is_dir()):
        folder = posixpath.dirname(folder)
    # On this machine, the folders themselves, whatever links lead there.
    normal = os.path.realpath if file.scheme == "file" else posixpath.normpath
    return normal(unquote(file.path)).startswith(normal(folder).rstrip("/") + "/")


def _host(netloc: str) -> str:
    return netloc.rpartition("@")[2].lower()


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

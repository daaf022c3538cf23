"""The installers that make build environments: uv, or pip in the environment when uv is not
installed; the commands that resolve build requirements, check the resolution and install exactly
it."""

from __future__ import annotations

import importlib.util
import json
import os
import shutil
import sys
import threading
from collections.abc import Collection, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import IO, Any

from packaging.requirements import Requirement

from sdistmaker.building import processes
from sdistmaker.errors import BuildError

if sys.version_info >= (3, 11):
    import tomllib
else:  # pragma: no cover
    import tomli as tomllib

_FOR_INSTALLERS = (
    *("UV_CACHE_DIR", "PIP_CACHE_DIR", "XDG_CACHE_HOME"),
    *("SSL_CERT_FILE", "SSL_CERT_DIR", "PIP_CERT", "REQUESTS_CA_BUNDLE"),
    *("UV_NATIVE_TLS", "UV_SYSTEM_CERTS"),
)
"""What installers get of sdistmaker's environment besides what builds get: where their caches
are and which authorities' certificates they trust (no secret: the public half). An index or a
proxy, whose URL may hold a password, comes from BUILD_ENVIRONMENT."""


@dataclass(frozen=True)
class Pinned:
    """One package of a resolution: its name, version, and the files it may be installed from,
    by URL and sha256."""

    name: str
    version: str
    files: tuple[tuple[str, str], ...]


_uv_lookup = threading.Lock()


def find_uv() -> str | None:
    # One worker at a time: uv asks sysconfig, whose first use in a process fills a shared dict
    # that another thread can meanwhile read half filled (before CPython 3.12: a TypeError in uv).
    with _uv_lookup:
        if importlib.util.find_spec("uv") is not None:
            import uv

            return str(uv.find_uv_bin())
        return shutil.which("uv")


class Installer:
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

    def resolution(self) -> list[Pinned]:
        """What the resolution file says is to be installed."""
        text = self.files["resolution"].read_text()
        try:
            if self.uv:
                return [pinned_by_uv(p) for p in tomllib.loads(text).get("packages", [])]
            return [pinned_by_pip(p) for p in json.loads(text)["install"]]
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


def pinned_by_uv(package: dict[str, Any]) -> Pinned:
    if not package.get("wheels"):
        raise ValueError(f"no wheel for {package.get('name')}")
    files = tuple((str(w["url"]), str(w["hashes"]["sha256"])) for w in package["wheels"])
    return Pinned(str(package["name"]), str(package["version"]), files)


def pinned_by_pip(package: dict[str, Any]) -> Pinned:
    download = package["download_info"]
    files = ((str(download["url"]), str(download["archive_info"]["hashes"]["sha256"])),)
    metadata = package["metadata"]
    return Pinned(str(metadata["name"]), str(metadata["version"]), files)


def recorded(package: dict[str, Any]) -> Pinned:
    files = tuple((str(url), str(digest)) for url, digest in package["files"])
    return Pinned(str(package["name"]), str(package["version"]), files)


def pinned_line(package: Pinned) -> str:
    hashes = " ".join(f"--hash=sha256:{digest}" for _, digest in package.files)
    return f"{package.name}=={package.version} {hashes}\n"


def run_installer(
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


def installer_environment(environment: Mapping[str, str], index: Path | None) -> dict[str, str]:
    """What installers run with: the builds' variables, their caches and certificates, and
    this index (``index``, OUTDIR) first (uv takes each name from the first index that has it;
    pip merges them)."""
    # The system's certificates, as pip takes them: uv trusts only its own unless told, and a
    # company's CA installed in the system store would fail every build started from a hook.
    variables = {"UV_SYSTEM_CERTS": "1"}
    variables.update({name: os.environ[name] for name in _FOR_INSTALLERS if name in os.environ})
    variables.update(environment)
    if index is not None:
        for name in ("UV_INDEX", "PIP_EXTRA_INDEX_URL"):
            variables[name] = " ".join([index.as_uri(), variables.get(name, "")]).strip()
    return variables

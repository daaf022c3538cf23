"""What the requirements need, resolved by uv against the upstream index: every file of every
package of the resolution, with upstream's hash."""

from __future__ import annotations

import re
import sys
import tempfile
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any
from urllib.parse import unquote, urlsplit

from packaging.utils import canonicalize_name

from sdistmaker.building import processes
from sdistmaker.building.installers import find_uv
from sdistmaker.errors import SdistmakerError
from sdistmaker.mirroring.setting import Environment, Mirror
from sdistmaker.repository import Distribution
from sdistmaker.urls import public_url, redact

if sys.version_info >= (3, 11):
    import tomllib
else:  # pragma: no cover
    import tomli as tomllib


class MirrorError(SdistmakerError):
    """Mirroring could not be done; the message names the index, requirement or file."""


def resolve(
    mirror: Mirror,
    requirements: Sequence[str],
    environment: Environment,
    variables: Mapping[str, str],
    deadline: float,
) -> list[Distribution]:
    """Every file of the packages ``requirements`` need in ``environment``, from wheels'
    metadata only: building an sdist to learn its dependencies would run its code here."""
    uv = find_uv()
    if uv is None:
        raise MirrorError("mirroring needs uv, which is not installed")
    with tempfile.TemporaryDirectory(prefix="sdistmaker-mirror-") as work:
        inputs = Path(work) / "requirements.in"
        inputs.write_text("".join(f"{requirement}\n" for requirement in requirements))
        lock = Path(work) / "pylock.mirror.toml"
        command = [
            *(uv, "pip", "compile", "--quiet", "--no-config", "--no-build"),
            *("--format", "pylock.toml", "--output-file", str(lock)),
            *_targets(environment),
            str(inputs),
        ]
        # The upstream index alone, given where no other user can read it (it may hold a
        # password); an index that cannot be read now is tried again by the next run.
        settings = {name: value for name, value in variables.items() if name not in _INDEXES}
        settings.update(UV_DEFAULT_INDEX=mirror.index, UV_HTTP_RETRIES="0")
        try:
            done = processes.run(command, settings, deadline)
        except processes.TimedOut:
            raise MirrorError(f"{public_url(mirror.index)}: resolving timed out") from None
        if done.code:
            raise MirrorError(f"{public_url(mirror.index)}: {_reason(done.errors)}")
        return _files(tomllib.loads(lock.read_text()))


_INDEXES = ("UV_INDEX", "UV_INDEX_URL", "UV_EXTRA_INDEX_URL", "UV_DEFAULT_INDEX", "UV_FIND_LINKS")
"""What would add other indexes to the resolution (BUILD_ENVIRONMENT may set them for builds)."""


def _targets(environment: Environment) -> list[str]:
    if not environment.python_version and not environment.platform:
        return ["--universal"]
    options = ["--python-version", environment.python_version] if environment.python_version else []
    if environment.platform:
        options += ["--python-platform", environment.platform]
    return options


def _reason(errors: bytes) -> str:
    """uv's reason in one line: its lines joined, the hints and timings left out (a problem is
    reported once while its message stays the same)."""
    lines = [line.strip() for line in errors.decode("utf-8", "replace").splitlines()]
    kept = [line for line in lines if line and not line.startswith("hint:")]
    return redact(re.sub(r" in [0-9.]+m?s\b", "", " ".join(kept)) or "uv failed")


def _files(lock: dict[str, Any]) -> list[Distribution]:
    found = []
    for package in lock.get("packages", []):
        name, version = canonicalize_name(str(package["name"])), str(package["version"])
        files = [*package.get("wheels", []), *([package["sdist"]] if "sdist" in package else [])]
        for file in files:
            url = str(file["url"])
            filename = unquote(urlsplit(url).path).rsplit("/", 1)[-1]
            found.append(Distribution(name, version, filename, url, str(file["hashes"]["sha256"])))
    return found

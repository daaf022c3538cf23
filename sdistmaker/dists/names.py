"""Names: which can be a project's (and so a folder in OUTDIR), which release a distribution
file's name says.

Every folder in OUTDIR is a project's, named by its normalised name (PEP 503), and a web
server maps ``/simple/<name>/`` to it. Only a valid distribution name (PEP 508) normalised is
taken: ``+`` (the folder of the pages for people), ``..``, a path, a name with a dot in front
would each make a folder of something that is no project's.
"""

from __future__ import annotations

import re

from packaging.utils import InvalidWheelFilename, canonicalize_name, parse_wheel_filename
from packaging.version import InvalidVersion, Version

_NORMALISED = re.compile(r"[a-z0-9]+(?:-[a-z0-9]+)*")
SUFFIXES = (".tar.gz", ".zip", ".whl")


def is_project_name(name: str) -> bool:
    """Whether ``name`` is a normalised valid distribution name: the name of a project folder."""
    return _NORMALISED.fullmatch(name) is not None


def project_name(name: str) -> str | None:
    """The project folder's name for a distribution (or a VCS project) named ``name``; None
    when no distribution can be named so."""
    normalised = canonicalize_name(name)
    return normalised if is_project_name(normalised) else None


def is_distribution(filename: str) -> bool:
    """Whether a file in a project's folder is a distribution file (not a page, not hidden)."""
    return filename.endswith(SUFFIXES) and not filename.startswith(".")


def names_release(filename: str, name: str, version: str) -> bool:
    """Whether ``filename`` may be a distribution file of release ``name`` ``version`` (a
    version written otherwise, ``1.0.0`` for ``1.0``, is the same release)."""
    try:
        return (canonicalize_name(name), Version(version)) in releases_named(filename)
    except InvalidWheelFilename:
        return False


def releases_named(filename: str) -> set[tuple[str, Version | None]]:
    """The releases a file name may say: a wheel's one; an sdist's, split at any of its
    hyphens (names and versions may hold them)."""
    if filename.endswith(".whl"):
        named, release, _, _ = parse_wheel_filename(filename)
        return {(named, release)}
    stem = filename.removesuffix(".tar.gz").removesuffix(".zip")
    return {_release(stem[:at], stem[at + 1 :]) for at, c in enumerate(stem) if c == "-"}


def _release(name: str, version: str) -> tuple[str, Version | None]:
    try:
        return canonicalize_name(name), Version(version)
    except InvalidVersion:
        return canonicalize_name(name), None

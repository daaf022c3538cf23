"""One distribution file as sdistmaker reads it: its metadata, its name, and what the index
needs to know of it.

``read_metadata`` is the one reader of a file's metadata: the check of every sdist and wheel a
tag builds uses it, and so does the index, which publishes that metadata beside the file (PEP
658); what one accepts is what the other publishes.
"""

from __future__ import annotations

import contextlib
import hashlib
import re
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

from packaging.utils import InvalidWheelFilename, canonicalize_name
from packaging.version import InvalidVersion, Version

from sdistmaker.dists.archives import ArchiveError, Entry, amount, entries
from sdistmaker.dists.names import releases_named
from sdistmaker.errors import SdistmakerError
from sdistmaker.outdir.published import timestamp

if TYPE_CHECKING:
    from packaging.metadata import RawMetadata


# PEP 643: an sdist's metadata speaks for its wheels only from Metadata-Version 2.2 on, and only
# where these fields are not left to the build. pip resolves from the .metadata file alone.
_RESOLUTION_FIELDS = {"requires-dist", "requires-python", "provides-extra"}

METADATA_LIMIT = 4 << 20
"""Bytes of an sdist's PKG-INFO or a wheel's METADATA (4 MiB); the longest descriptions take
well under one."""
_SINGLE_FIELDS = frozenset(
    {
        "metadata-version",
        "name",
        "version",
        "summary",
        "description",
        "description-content-type",
        "keywords",
        "home-page",
        "download-url",
        "author",
        "author-email",
        "maintainer",
        "maintainer-email",
        "license",
        "license-expression",
        "requires-python",
    }
)
"""Fields given once, or not at all: given twice, tools differ in which they take."""


class DistributionError(SdistmakerError):
    pass


@dataclass(frozen=True)
class DistributionFile:
    filename: str
    version: str
    sha256: str
    size: int
    upload_time: str
    """When it was first stored, as yyyy-mm-ddThh:mm:ssZ."""
    requires_python: str = ""
    summary: str = ""
    metadata_sha256: str = ""
    """Hash of the ``<file>.metadata`` beside it; empty when its metadata is not to be trusted."""
    mtime_ns: int = 0
    """The file's mtime when it was read; a changed one means it must be read again."""


@dataclass(frozen=True)
class Metadata:
    data: bytes
    """The file as the archive holds it (to publish beside it, as PEP 658 has it)."""
    raw: RawMetadata
    name: str
    """As written: not yet checked to be a valid name."""
    version: str
    """As written: not yet checked to be a PEP 440 version."""


def read_metadata(path: Path) -> Metadata:
    """The metadata of the sdist (.tar.gz, .zip) or wheel at ``path``.

    Of an sdist exactly the PKG-INFO in its one top-level folder (PEP 517 and 625 lay them out
    so), of a wheel the METADATA in its one .dist-info folder; a regular file of at most
    METADATA_LIMIT bytes, giving a name and a version, and no field that is given once twice.
    Raises ArchiveError, naming no file, for anything else, and for an archive beyond the
    limits of ``archives``.
    """
    wheel = path.name.endswith(".whl")
    wanted = "METADATA" if wheel else "PKG-INFO"
    return _parsed(_metadata_file(path, wanted, wheel), wanted)


def _metadata_file(path: Path, wanted: str, wheel: bool) -> bytes:
    """The bytes of the one ``wanted`` file in the one top-level folder (.dist-info folder)."""
    folders: set[str] = set()
    data: bytes | None = None
    with contextlib.closing(entries(path)) as found:
        for entry in found:
            parts = entry.name.split("/")
            if {"", ".", ".."} & set(parts):
                raise ArchiveError(f"holds {entry.name!r}, a path that is not plain")
            if wheel and not parts[0].endswith(".dist-info"):
                continue
            folders.add(parts[0])
            if len(folders) > 1:
                what = "folder .dist-info" if wheel else "entry at the top"
                raise ArchiveError(f"holds more than one {what}: {sorted(folders)}")
            if parts[1:] == [wanted]:
                if data is not None:
                    raise ArchiveError(f"holds {entry.name!r} twice")
                data = _small_file(entry)
    if data is None:
        raise ArchiveError("holds no metadata")
    return data


def _small_file(entry: Entry) -> bytes:
    if entry.kind != "file":
        raise ArchiveError(f"{entry.name!r} is not a regular file")
    if entry.size > METADATA_LIMIT:
        raise ArchiveError(f"{entry.name!r} is larger than {amount(METADATA_LIMIT)}")
    return entry.read()


def _parsed(data: bytes, wanted: str) -> Metadata:
    """The metadata ``data`` holds: once-only fields once, a name and a version."""
    # Only here: a run that reads no new file does not load the metadata parser.
    from packaging.metadata import parse_email

    raw, unparsed = parse_email(data)
    repeated = sorted(
        f for f, values in unparsed.items() if f in _SINGLE_FIELDS and len(values) > 1
    )
    if repeated:
        raise ArchiveError(f"{wanted} gives {', '.join(repeated)} more than once")
    name, version = raw.get("name"), raw.get("version")
    if not name or not version:
        raise ArchiveError(f"{wanted} lacks a name or version")
    return Metadata(data, raw, name, version)


_FILE_NAME = re.compile(r"[A-Za-z0-9][A-Za-z0-9._+!-]*")


def check_file_name(filename: str) -> None:
    """Refuse what cannot be the name of an sdist or wheel sdistmaker publishes: anything but
    ASCII letters, digits and ``._+!-`` (names become URLs, pages and paths), and any suffix
    but .tar.gz (PEP 625) and .whl."""
    if not _FILE_NAME.fullmatch(filename):
        raise ArchiveError("no distribution file name: ASCII letters, digits and ._+!- only")
    if not filename.endswith((".tar.gz", ".whl")):
        raise ArchiveError("no distribution file name: an sdist is a .tar.gz file")


def check_release_name(filename: str, name: str, version: str) -> None:
    """Refuse a file name that does not say the name and version its metadata says: installers
    read them from the name. An sdist's is ``<name>-<version>.tar.gz``, the name as written
    (setuptools' ``old.thing-1.0.tar.gz``) or normalised; a wheel's as PEP 427 has it."""
    try:
        says = releases_named(filename)
    except InvalidWheelFilename:
        raise ArchiveError("no wheel file name (PEP 427)") from None
    if (canonicalize_name(name), Version(version)) not in says:
        raise ArchiveError(f"its name does not say {name} {version}, as its metadata does")


def read_distribution(path: Path) -> tuple[DistributionFile, bytes | None]:
    """The file's facts, and the metadata to publish beside it (None: not trustworthy)."""
    try:
        path.name.encode()
    except UnicodeEncodeError:  # no page could name it
        raise DistributionError(f"{str(path)!r}: its name is not UTF-8") from None
    try:
        metadata = read_metadata(path)
    except ArchiveError as error:
        raise DistributionError(f"{path}: {error}") from None
    raw = metadata.raw
    try:
        version = str(Version(metadata.version))
    except InvalidVersion:
        raise DistributionError(f"{path}: no valid version in its metadata") from None
    trusted = path.name.endswith(".whl") or _reliable_sdist_metadata(raw)
    stat = path.stat()
    facts = DistributionFile(
        filename=path.name,
        version=version,
        sha256=_sha256(path),
        size=stat.st_size,
        upload_time=timestamp(stat.st_mtime),  # unless the folder's record says otherwise
        requires_python=raw.get("requires_python", ""),
        summary=raw.get("summary", ""),
        metadata_sha256=hashlib.sha256(metadata.data).hexdigest() if trusted else "",
        mtime_ns=stat.st_mtime_ns,
    )
    return facts, metadata.data if trusted else None


def _reliable_sdist_metadata(raw: RawMetadata) -> bool:
    try:
        metadata_version = Version(raw.get("metadata_version", ""))
    except InvalidVersion:
        return False
    dynamic = {field.lower() for field in raw.get("dynamic", [])}
    return metadata_version >= Version("2.2") and not dynamic & _RESOLUTION_FIELDS


def _sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as file:
        while chunk := file.read(1 << 20):
            digest.update(chunk)
    return digest.hexdigest()

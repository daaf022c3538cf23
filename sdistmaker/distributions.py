"""What the index needs to know about one distribution file, read from the file itself."""

from __future__ import annotations

import hashlib
import tarfile
import zipfile
from dataclasses import dataclass
from datetime import datetime, timezone
from pathlib import Path
from typing import TYPE_CHECKING

from packaging.version import InvalidVersion, Version

from sdistmaker.errors import SdistmakerError

if TYPE_CHECKING:
    from packaging.metadata import RawMetadata

SUFFIXES = (".tar.gz", ".zip", ".whl")

# PEP 643: an sdist's metadata speaks for its wheels only from Metadata-Version 2.2 on, and only
# where these fields are not left to the build. pip resolves from the .metadata file alone.
_RESOLUTION_FIELDS = {"requires-dist", "requires-python", "provides-extra"}


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


def is_distribution(name: str) -> bool:
    return name.endswith(SUFFIXES) and not name.startswith(".")


def read_distribution(path: Path) -> tuple[DistributionFile, bytes | None]:
    """The file's facts, and the metadata to publish beside it (None: not trustworthy)."""
    metadata = _metadata_bytes(path)
    # Only here: a run that reads no new file does not load the metadata parser.
    from packaging.metadata import parse_email

    raw, _ = parse_email(metadata)
    try:
        version = str(Version(raw.get("version", "")))
    except InvalidVersion:
        raise DistributionError(f"{path}: no valid version in its metadata") from None
    trusted = path.name.endswith(".whl") or _reliable_sdist_metadata(raw)
    stat = path.stat()
    facts = DistributionFile(
        filename=path.name,
        version=version,
        sha256=_sha256(path),
        size=stat.st_size,
        upload_time=datetime.fromtimestamp(stat.st_mtime, timezone.utc).strftime(
            "%Y-%m-%dT%H:%M:%SZ"
        ),
        requires_python=raw.get("requires_python", ""),
        summary=raw.get("summary", ""),
        metadata_sha256=hashlib.sha256(metadata).hexdigest() if trusted else "",
        mtime_ns=stat.st_mtime_ns,
    )
    return facts, metadata if trusted else None


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


def _metadata_bytes(path: Path) -> bytes:
    """PKG-INFO at the top of an sdist, or METADATA in a wheel's .dist-info."""
    try:
        if path.name.endswith(".tar.gz"):
            with tarfile.open(path) as archive:
                for member in archive:
                    if (
                        member.isfile()
                        and member.name.count("/") == 1
                        and member.name.endswith("/PKG-INFO")
                    ):
                        extracted = archive.extractfile(member)
                        if extracted is not None:
                            return extracted.read()
        else:
            with zipfile.ZipFile(path) as archive:
                for name in archive.namelist():
                    wanted = ".dist-info/METADATA" if path.name.endswith(".whl") else "/PKG-INFO"
                    if name.count("/") == 1 and name.endswith(wanted):
                        return archive.read(name)
    except (OSError, EOFError, tarfile.TarError, zipfile.BadZipFile) as error:
        raise DistributionError(f"{path}: unreadable: {error}") from None
    raise DistributionError(f"{path}: holds no metadata")

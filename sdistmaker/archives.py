"""Read the archives tags make, sdists and wheels: a tag's backend may write any file as its
sdist or wheel, so each member is given with what it is (a file, a folder, a link) and its size,
and read only when asked for. Python's own ``tarfile`` and ``zipfile`` read the files, as pip
does.
"""

from __future__ import annotations

import stat
import tarfile
import zipfile
import zlib
from collections.abc import Callable, Generator, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Literal

from sdistmaker.errors import SdistmakerError


class ArchiveError(SdistmakerError):
    """Why a distribution file is refused; the message does not name the file (callers do)."""


Kind = Literal["file", "folder", "link", "other"]


@dataclass(frozen=True)
class Entry:
    name: str
    """As in the archive, without a trailing slash."""
    kind: Kind
    size: int
    read: Callable[[], bytes]
    """The content of a file, read now: for a tar, only before the next entry is asked for."""


def entries(path: Path) -> Generator[Entry, None, None]:
    """The members of the .tar.gz, .zip or .whl at ``path``, in their order."""
    try:
        yield from _tar_entries(path) if path.name.endswith(".tar.gz") else _zip_entries(path)
    except _UNREADABLE as error:
        raise ArchiveError(f"unreadable: {error}") from None


def amount(size: int) -> str:
    """``size`` bytes for people: ``1 GiB``, ``64 KiB``, ``100 bytes``."""
    for unit, scale in (("GiB", 1 << 30), ("MiB", 1 << 20), ("KiB", 1 << 10)):
        if size >= scale and size % scale == 0:
            return f"{size // scale} {unit}"
    return f"{size} bytes"


_UNREADABLE = (
    OSError,
    EOFError,
    ValueError,
    zlib.error,
    tarfile.TarError,
    zipfile.BadZipFile,
    zipfile.LargeZipFile,
    NotImplementedError,
)
"""What Python's readers raise for a damaged or unsupported file."""


# tar


def _tar_entries(path: Path) -> Iterator[Entry]:
    with tarfile.open(path, "r|gz") as archive:
        for member in archive:
            yield Entry(member.name, _tar_kind(member), member.size, _reader(archive, member))


def _tar_kind(member: tarfile.TarInfo) -> Kind:
    if member.isreg():
        return "file"
    if member.isdir():
        return "folder"
    return "link" if member.issym() or member.islnk() else "other"


def _reader(archive: tarfile.TarFile, member: tarfile.TarInfo) -> Callable[[], bytes]:
    def read() -> bytes:
        try:
            extracted = archive.extractfile(member)
            assert extracted is not None  # a regular file
            return extracted.read()
        except _UNREADABLE as error:
            raise ArchiveError(f"unreadable: {error}") from None

    return read


# zip


def _zip_entries(path: Path) -> Iterator[Entry]:
    with zipfile.ZipFile(path) as archive:
        for info in archive.infolist():
            name = info.filename.rstrip("/")
            yield Entry(name, _zip_kind(info), info.file_size, _opener(archive, info))


def _zip_kind(info: zipfile.ZipInfo) -> Kind:
    if info.is_dir():
        return "folder"
    mode = info.external_attr >> 16
    if stat.S_ISLNK(mode):
        return "link"
    return "file" if not stat.S_IFMT(mode) or stat.S_ISREG(mode) else "other"


def _opener(archive: zipfile.ZipFile, info: zipfile.ZipInfo) -> Callable[[], bytes]:
    def read() -> bytes:
        try:
            with archive.open(info) as member:
                return member.read(info.file_size)
        except _UNREADABLE as error:
            raise ArchiveError(f"unreadable: {error}") from None

    return read

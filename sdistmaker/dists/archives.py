"""Read the archives tags make, sdists and wheels, within limits: a tag's backend may write any
file as its sdist or wheel.

Whatever a file holds, reading it decompresses at most UNPACKED_LIMIT bytes, goes through at
most MEMBER_LIMIT members and EXTENDED_HEADER_LIMIT bytes of extended tar headers, and reads a
zip's list of members only when it is at most CENTRAL_DIRECTORY_LIMIT bytes: a compression
bomb, a million empty members or a header of a gigabyte is refused in one line, in seconds,
instead of filling the disk or the memory outside any build's deadline. Python's own ``tarfile``
and ``zipfile`` read the files, as pip does; the checks run before they act on what a header
says.
"""

from __future__ import annotations

import contextlib
import gzip
import re
import stat
import tarfile
import zipfile
import zlib
from collections.abc import Callable, Generator, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Literal

from sdistmaker.errors import SdistmakerError

UNPACKED_LIMIT = 1 << 30
"""Bytes reading a .tar.gz may decompress, its members' headers included (1 GiB)."""
MEMBER_LIMIT = 100_000
"""Members an archive may hold, counting each header of a tar."""
EXTENDED_HEADER_LIMIT = 16 << 20
"""Bytes of a tar's extended headers (pax headers, GNU long names) in all, which tarfile parses
in Python, record by record: an sdist's take some tens of bytes a member."""
CENTRAL_DIRECTORY_LIMIT = 16 << 20
"""Bytes of a zip's list of members, which ``zipfile`` reads whole before anything else."""
_DEFLATE_RATIO = 1032
"""The most that deflate makes of one byte: a zip member claiming more lies about its size."""


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
    """The members of the .tar.gz, .zip or .whl at ``path``, each checked before it is given."""
    try:
        yield from _tar_entries(path) if path.name.endswith(".tar.gz") else _zip_entries(path)
    except _UNREADABLE as error:
        raise ArchiveError(f"unreadable: {error}") from None


def unpack(path: Path, destination: Path) -> None:
    """Extract the .tar.gz at ``path`` into ``destination``, within the same limits; as
    ``tarfile``'s data filter allows (no absolute paths, no links out, no special files)."""
    try:
        with _tar(path) as archive:
            archive.extractall(destination, members=_members(archive), filter="data")
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


@contextlib.contextmanager
def _tar(path: Path) -> Iterator[_Archive]:
    # Read as a stream, once from start to end: every byte decompressed passes _Bounded (a
    # seekable gzip file would decompress what tarfile skips out of its sight).
    with (
        gzip.open(path) as compressed,
        _Archive.open(fileobj=_Bounded(compressed), mode="r|") as archive,
    ):
        yield archive


def _tar_entries(path: Path) -> Iterator[Entry]:
    with _tar(path) as archive:
        for member in _members(archive):
            yield Entry(member.name, _tar_kind(member), member.size, _reader(archive, member))


def _members(archive: tarfile.TarFile) -> Iterator[tarfile.TarInfo]:
    """The archive's members; refused as soon as their sizes add up to more than the limit,
    before their content is decompressed."""
    declared = 0
    for member in archive:
        declared += member.size
        if declared > UNPACKED_LIMIT:
            raise ArchiveError(_too_large())
        yield member


def _too_large() -> str:
    return f"unpacks to more than {amount(UNPACKED_LIMIT)}"


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


class _ReadStream:
    """What tarfile may ask of a stream it reads, besides reading and telling where it is."""

    def write(self, data: bytes) -> int:
        raise OSError("read only")

    def seek(self, position: int) -> int:
        raise OSError("not seekable")

    def close(self) -> None:
        pass


class _Bounded(_ReadStream):
    """The decompressed stream of a .tar.gz, refused past UNPACKED_LIMIT bytes."""

    def __init__(self, stream: gzip.GzipFile) -> None:
        self.stream = stream
        self.total = 0

    def read(self, size: int) -> bytes:
        data = self.stream.read(size)
        self.total += len(data)
        if self.total > UNPACKED_LIMIT:
            raise ArchiveError(_too_large())
        return data

    def tell(self) -> int:
        return self.total


_EXTENDED = (
    tarfile.XHDTYPE,
    tarfile.XGLTYPE,
    tarfile.SOLARIS_XHDTYPE,
    tarfile.GNUTYPE_LONGNAME,
    tarfile.GNUTYPE_LONGLINK,
)


class _Header(tarfile.TarInfo):
    """A tar header, checked as tarfile reads it. Overrides tarfile's (undocumented, stable
    since Python 2) methods that process a header; tests/unit/dists/test_archives.py shows each
    check at work."""

    def _proc_member(self, archive: tarfile.TarFile) -> tarfile.TarInfo:
        assert isinstance(archive, _Archive)
        archive.headers += 1
        if archive.headers > MEMBER_LIMIT:
            raise ArchiveError(f"holds more than {MEMBER_LIMIT} members")
        if self.type == tarfile.GNUTYPE_SPARSE:
            # Its list of holes has no bounds but the archive's size.
            raise ArchiveError("holds a sparse file")
        if self.type in _EXTENDED:
            archive.extended += 1
            archive.extended_bytes += self.size
            if archive.extended_bytes > EXTENDED_HEADER_LIMIT:
                limit = amount(EXTENDED_HEADER_LIMIT)
                raise ArchiveError(f"holds more than {limit} of extended headers")
            if archive.extended > 4:
                raise ArchiveError("holds more than 4 extended headers in a row")
        else:
            archive.extended = 0
        member: tarfile.TarInfo = super()._proc_member(archive)  # type: ignore[misc]
        return member

    def _proc_pax(self, archive: tarfile.TarFile) -> tarfile.TarInfo:
        """A pax header is checked before tarfile parses it: Python before 3.11.10 and 3.12.6
        takes quadratic time over some (CVE-2024-6232). tarfile then reads it from memory."""
        stream = archive.fileobj
        data = stream.read(-(-self.size // tarfile.BLOCKSIZE) * tarfile.BLOCKSIZE)
        _check_pax(data[: self.size])
        archive.fileobj = _Replay(data, stream)
        try:
            member: tarfile.TarInfo = super()._proc_pax(archive)  # type: ignore[misc]
        finally:
            archive.fileobj = stream
        return member


class _Archive(tarfile.TarFile):
    """A tar read as a stream whose headers are checked before tarfile acts on them."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        self.headers = 0
        self.extended = 0
        """Extended headers in a row: each applies to the next header, in a recursive call."""
        self.extended_bytes = 0
        super().__init__(*args, **kwargs)

    tarinfo = _Header


_PAX_RECORD = re.compile(rb"([0-9]{1,20}) ([^=\n]+)=")
_LONG_NUMBER = re.compile(rb"[0-9]{33}")


def _check_pax(data: bytes) -> None:
    """Well-formed records (``<length> <key>=<value>\\n``), no number of more than 32 digits
    and no sparse file (whose map tarfile reads without bounds)."""
    if _LONG_NUMBER.search(data):
        raise ArchiveError("holds a pax header with a number of more than 32 digits")
    position = 0
    while position < len(data):
        record = _PAX_RECORD.match(data, position)
        end = position + int(record[1]) if record else 0
        if record is None or end > len(data) or end <= record.end() or data[end - 1] != 0x0A:
            raise ArchiveError("holds a malformed pax header")
        if record[2].startswith(b"GNU.sparse."):
            raise ArchiveError("holds a sparse file")
        position = end


class _Replay(_ReadStream):
    """``data``, then the rest of ``stream``: what was read from it for a look, given again."""

    def __init__(self, data: bytes, stream: Any) -> None:
        self.data = data
        self.stream = stream

    def read(self, size: int) -> bytes:
        head, self.data = self.data[:size], self.data[size:]
        return head + self.stream.read(size - len(head)) if len(head) < size else head

    def tell(self) -> int:
        position: int = self.stream.tell()
        return position - len(self.data)


# zip


def _zip_entries(path: Path) -> Iterator[Entry]:
    with zipfile.ZipFile(_checked_zip(path)) as archive:
        infos = archive.infolist()
        if len(infos) > MEMBER_LIMIT:
            raise ArchiveError(f"holds more than {MEMBER_LIMIT} members")
        for info in infos:
            name = info.filename.rstrip("/")
            yield Entry(name, _zip_kind(info), info.file_size, _opener(archive, info))


def _checked_zip(path: Path) -> Path:
    """``path``, once the size of its list of members is known to be within the limit."""
    with open(path, "rb") as file:
        # zipfile's own finder of that list (private, the same since Python 2): what it finds
        # is what ZipFile reads next.
        end = zipfile._EndRecData(file)  # type: ignore[attr-defined]
    if end is None:
        raise zipfile.BadZipFile("File is not a zip file")
    if end[5] > CENTRAL_DIRECTORY_LIMIT:  # _ECD_SIZE
        raise ArchiveError(f"lists its members in more than {amount(CENTRAL_DIRECTORY_LIMIT)}")
    return path


def _zip_kind(info: zipfile.ZipInfo) -> Kind:
    if info.is_dir():
        return "folder"
    mode = info.external_attr >> 16
    if stat.S_ISLNK(mode):
        return "link"
    return "file" if not stat.S_IFMT(mode) or stat.S_ISREG(mode) else "other"


def _opener(archive: zipfile.ZipFile, info: zipfile.ZipInfo) -> Callable[[], bytes]:
    def read() -> bytes:
        if info.compress_type not in (zipfile.ZIP_STORED, zipfile.ZIP_DEFLATED):
            # Others (bzip2, lzma) may decompress a whole bomb in one step.
            raise ArchiveError(f"{info.filename!r} is compressed with other than deflate")
        if info.file_size > _DEFLATE_RATIO * max(info.compress_size, 1):
            raise ArchiveError(f"{info.filename!r} claims a size no compression reaches")
        try:
            with archive.open(info) as member:
                return member.read(info.file_size)
        except _UNREADABLE as error:
            raise ArchiveError(f"unreadable: {error}") from None

    return read

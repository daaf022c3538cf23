"""Distribution files made byte by byte, as a tag's backend could write them: whatever
their headers claim, however their metadata is laid out."""

import gzip
import tarfile
import zipfile
from pathlib import Path

import pytest

from sdistmaker.dists.distributions import DistributionError, read_distribution

PKG_INFO = b"Metadata-Version: 2.2\nName: p\nVersion: 1.0\n"


def member(
    name: str, data: bytes = b"", kind: bytes = tarfile.REGTYPE, size: int | None = None
) -> bytes:
    """A tar member, header and content; its header claims ``size`` bytes when given."""
    info = tarfile.TarInfo(name)
    info.type = kind
    info.linkname = "/etc/shadow" if kind in (tarfile.SYMTYPE, tarfile.LNKTYPE) else ""
    info.size = len(data) if size is None else size
    return info.tobuf(tarfile.PAX_FORMAT) + data + bytes(-len(data) % 512)


def tar_gz(folder: Path, *members: bytes, name: str = "p-1.0.tar.gz") -> Path:
    path = folder / name
    path.write_bytes(gzip.compress(b"".join(members) + bytes(1024)))
    return path


def refusal(path: Path) -> str:
    """Why ``path`` is refused, as the index says it."""
    with pytest.raises(DistributionError) as error:
        read_distribution(path)
    return str(error.value).removeprefix(f"{path}: ")


def wheel(folder: Path, files: dict[str, bytes], name: str = "p-1.0-py3-none-any.whl") -> Path:
    path = folder / name
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as archive:
        for member_name, data in files.items():
            archive.writestr(member_name, data)
    return path

"""Reading the archives tags make: within limits, whatever a file holds."""

import stat
import tarfile
import time
import zipfile
from collections.abc import Callable
from pathlib import Path

import pytest

from helpers.archives import PKG_INFO, member, refusal, tar_gz, wheel
from sdistmaker.dists import archives
from sdistmaker.dists.distributions import read_distribution


def test_reading_an_sdist_decompresses_no_more_than_the_limit(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(archives, "UNPACKED_LIMIT", 64 << 10)
    pkg_info = member("p-1.0/PKG-INFO", PKG_INFO)
    # Refused as the sizes its headers give add up to more, before a byte of them is unpacked.
    declared = tar_gz(tmp_path, member("p-1.0/big", size=100 << 10), pkg_info)
    assert refusal(declared) == "unpacks to more than 64 KiB"
    # Refused as what is unpacked (headers too) goes past it.
    empty = [member(f"p-1.0/{number}") for number in range(200)]
    assert refusal(tar_gz(tmp_path, *empty, pkg_info, name="p-1.1.tar.gz")) == (
        "unpacks to more than 64 KiB"
    )


def test_an_archive_of_too_many_members_is_refused(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(archives, "MEMBER_LIMIT", 10)
    members = [member(f"p-1.0/{number}") for number in range(11)]
    assert refusal(tar_gz(tmp_path, *members)) == "holds more than 10 members"
    path = tmp_path / "p-1.0-py3-none-any.whl"
    with zipfile.ZipFile(path, "w") as archive:
        for number in range(11):
            archive.writestr(f"p/{number}.py", "")
    assert refusal(path) == "holds more than 10 members"


def pax(records: bytes) -> bytes:
    """A pax header of ``records`` as they are; it applies to the member after it."""
    header = tarfile.TarInfo("././@PaxHeader")
    header.type, header.size = tarfile.XHDTYPE, len(records)
    return header.tobuf(tarfile.USTAR_FORMAT) + records + bytes(-len(records) % 512)


PLAIN = member("p-1.0/PKG-INFO", PKG_INFO)


@pytest.mark.parametrize(
    ("members", "message"),
    [
        # Old GNU sparse files and pax ones: their map of holes is read without bounds.
        ([member("p-1.0/holes", kind=tarfile.GNUTYPE_SPARSE)], "holds a sparse file"),
        ([pax(b"22 GNU.sparse.major=1\n22 GNU.sparse.minor=0\n"), PLAIN], "holds a sparse file"),
        # Python before 3.11.10 and 3.12.6 spends minutes on these (CVE-2024-6232).
        ([pax(b"9" * 60_000), PLAIN], "holds a pax header with a number of more than 32 digits"),
        ([pax(b"3 x" * 20_000 + b"=\n"), PLAIN], "holds a malformed pax header"),
        (
            [pax(b"23 path=p-1.0/PKG-INFO\n" + b"x" * 70_000), PLAIN],
            "holds more than 64 KiB of extended headers",
        ),
        ([pax(b"15 comment=one\n")] * 5 + [PLAIN], "holds more than 4 extended headers in a row"),
    ],
)
def test_tar_headers_that_would_cost_time_or_memory_are_refused_before_tarfile_acts(
    tmp_path: Path, members: list[bytes], message: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(archives, "EXTENDED_HEADER_LIMIT", 64 << 10)
    started = time.monotonic()
    assert refusal(tar_gz(tmp_path, *members)) == message
    assert time.monotonic() - started < 1


def test_plain_pax_headers_and_long_names_are_read_as_tarfile_reads_them(tmp_path: Path) -> None:
    members = [
        member("p-1.0/" + "long" * 100, b"x"),
        member("p-1.0/ünïcødé", b"x"),
        pax(b"20 path=p-1.0/other\n"),
        member("p-1.0/renamed", b"x"),
        pax(b"30 mtime=1700000000.123456789\n"),
        PLAIN,
    ]
    assert read_distribution(tar_gz(tmp_path, *members))[0].version == "1.0"


def test_a_wheels_metadata_is_read_only_as_deflate_can_have_made_it(tmp_path: Path) -> None:
    bzip2 = tmp_path / "p-1.0-py3-none-any.whl"
    with zipfile.ZipFile(bzip2, "w", zipfile.ZIP_BZIP2) as archive:
        archive.writestr("p-1.0.dist-info/METADATA", PKG_INFO)
    assert refusal(bzip2) == "'p-1.0.dist-info/METADATA' is compressed with other than deflate"
    # A size in the list of members that no deflate stream of its length unpacks to.
    lying = wheel(tmp_path, {"p-1.0.dist-info/METADATA": PKG_INFO}, "p-1.1-py3-none-any.whl")
    data = bytearray(lying.read_bytes())
    entry = data.index(b"PK\x01\x02")  # its entry in the list; the size at offset 24
    data[entry + 24 : entry + 28] = (3 << 20).to_bytes(4, "little")
    lying.write_bytes(data)
    assert refusal(lying) == "'p-1.0.dist-info/METADATA' claims a size no compression reaches"


def test_a_zip_listing_its_members_in_too_many_bytes_is_refused_unread(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(archives, "CENTRAL_DIRECTORY_LIMIT", 1000)
    files = {f"p/{number:04}.py": b"" for number in range(20)}
    path = wheel(tmp_path, {**files, "p-1.0.dist-info/METADATA": PKG_INFO})
    assert refusal(path) == "lists its members in more than 1000 bytes"


Kinds = list[tuple[str, archives.Kind, int]]


def tar_of_every_kind(folder: Path) -> tuple[Path, Kinds]:
    """A .tar.gz holding an entry of each kind, and the entries it holds."""
    path = tar_gz(
        folder,
        member("p-1.0/", kind=tarfile.DIRTYPE),
        member("p-1.0/a.py", b"x = 1\n"),
        member("p-1.0/link", kind=tarfile.SYMTYPE),
        member("p-1.0/hard", kind=tarfile.LNKTYPE),
        member("p-1.0/pipe", kind=tarfile.FIFOTYPE),
    )
    kinds: Kinds = [
        ("p-1.0", "folder", 0),
        ("p-1.0/a.py", "file", 6),
        ("p-1.0/link", "link", 0),
        ("p-1.0/hard", "link", 0),
        ("p-1.0/pipe", "other", 0),
    ]
    return path, kinds


def zip_member(name: str, mode: int) -> zipfile.ZipInfo:
    info = zipfile.ZipInfo(name)
    info.external_attr = mode << 16
    return info


def zip_of_every_kind(folder: Path) -> tuple[Path, Kinds]:
    """A wheel holding an entry of each kind, and the entries it holds."""
    path = folder / "p-1.0-py3-none-any.whl"
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as archive:
        archive.writestr("p/", "")
        archive.writestr("p/a.py", "x = 1\n")
        archive.writestr(zip_member("p/link", stat.S_IFLNK | 0o777), "a.py")
        archive.writestr(zip_member("p/pipe", stat.S_IFIFO | 0o644), "")
    kinds: Kinds = [
        ("p", "folder", 0),
        ("p/a.py", "file", 6),
        ("p/link", "link", 4),
        ("p/pipe", "other", 0),
    ]
    return path, kinds


@pytest.mark.parametrize("make", [tar_of_every_kind, zip_of_every_kind], ids=["tar", "zip"])
def test_an_archives_entries_come_with_their_kind_size_and_content(
    tmp_path: Path, make: Callable[[Path], tuple[Path, Kinds]]
) -> None:
    path, kinds = make(tmp_path)
    assert [(entry.name, entry.kind, entry.size) for entry in archives.entries(path)] == kinds
    [content] = [entry.read() for entry in archives.entries(path) if entry.kind == "file"]
    assert content == b"x = 1\n"


@pytest.mark.parametrize("name", ["p-1.0.tar.gz", "p-1.0-py3-none-any.whl"])
def test_a_file_that_is_no_archive_is_unreadable(tmp_path: Path, name: str) -> None:
    (tmp_path / name).write_bytes(b"not an archive at all")
    with pytest.raises(archives.ArchiveError, match=r"^unreadable: "):
        list(archives.entries(tmp_path / name))


def test_unpacking_extracts_what_is_plain_and_refuses_a_link_out(tmp_path: Path) -> None:
    plain = tar_gz(tmp_path, member("p-1.0/a.py", b"x = 1\n"))
    archives.unpack(plain, tmp_path / "plain")
    assert (tmp_path / "plain" / "p-1.0" / "a.py").read_bytes() == b"x = 1\n"
    linked = tar_gz(tmp_path, member("p-1.0/link", kind=tarfile.SYMTYPE), name="p-1.1.tar.gz")
    with pytest.raises(
        archives.ArchiveError, match=r"^unreadable: 'p-1.0/link' is a link to an absolute path$"
    ):
        archives.unpack(linked, tmp_path / "linked")
    assert not (tmp_path / "linked" / "p-1.0" / "link").is_symlink()


def test_unpacking_stops_before_a_member_past_the_limit(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(archives, "UNPACKED_LIMIT", 64 << 10)
    path = tar_gz(tmp_path, member("p-1.0/a.py", b"x = 1\n"), member("p-1.0/big", bytes(100 << 10)))
    with pytest.raises(archives.ArchiveError, match=r"^unpacks to more than 64 KiB$"):
        archives.unpack(path, tmp_path / "out")
    assert (tmp_path / "out" / "p-1.0" / "a.py").exists()
    assert not (tmp_path / "out" / "p-1.0" / "big").exists()


@pytest.mark.parametrize(
    ("size", "shown"),
    [
        (1 << 30, "1 GiB"),
        (16 << 20, "16 MiB"),
        (64 << 10, "64 KiB"),
        (1536, "1536 bytes"),
        (0, "0 bytes"),
    ],
)
def test_sizes_are_shown_in_the_largest_unit_that_divides_them(size: int, shown: str) -> None:
    assert archives.amount(size) == shown

import hashlib
import json
import os
import tarfile
import zipfile
from pathlib import Path

import pytest

from helpers.archives import PKG_INFO, member, refusal, tar_gz, wheel
from helpers.projects import sdist, write_defaults
from sdistmaker.cli import sdists_from_tags
from sdistmaker.dists import distributions
from sdistmaker.dists.archives import ArchiveError
from sdistmaker.dists.distributions import (
    DistributionError,
    check_file_name,
    check_release_name,
    read_distribution,
)

HEAD = "Name: p\nVersion: 1.0\n"


@pytest.mark.parametrize(
    ("pkg_info", "trusted"),
    [
        ("Metadata-Version: 2.2\n" + HEAD + "Requires-Dist: a\n", True),
        ("Metadata-Version: 2.4\n" + HEAD + "Dynamic: Summary\n", True),
        ("Metadata-Version: 2.1\n" + HEAD + "Requires-Dist: a\n", False),
        ("Metadata-Version: 2.2\n" + HEAD + "Dynamic: Requires-Dist\n", False),
        ("Metadata-Version: 2.2\n" + HEAD + "Dynamic: requires-python\n", False),
        ("Metadata-Version: 2.2\n" + HEAD + "Dynamic: Provides-Extra\n", False),
        ("Metadata-Version: 1.0\n" + HEAD, False),
    ],
)
def test_sdist_metadata_is_offered_only_when_pep_643_makes_it_reliable(
    tmp_path: Path, pkg_info: str, trusted: bool
) -> None:
    facts, metadata = read_distribution(sdist(tmp_path, pkg_info))
    assert (metadata == pkg_info.encode()) is trusted
    assert bool(facts.metadata_sha256) is trusted
    if trusted:
        assert facts.metadata_sha256 == hashlib.sha256(pkg_info.encode()).hexdigest()


def test_a_wheels_metadata_is_always_offered(tmp_path: Path) -> None:
    path = tmp_path / "p-1.0-py3-none-any.whl"
    metadata = "Metadata-Version: 2.1\nName: p\nVersion: 1.0\nRequires-Python: >=3.9\n"
    with zipfile.ZipFile(path, "w") as archive:
        archive.writestr("p/__init__.py", "")
        archive.writestr("p-1.0.dist-info/METADATA", metadata)
    facts, offered = read_distribution(path)
    assert offered == metadata.encode()
    assert (facts.version, facts.requires_python) == ("1.0", ">=3.9")
    assert facts.size == path.stat().st_size
    assert facts.sha256 == hashlib.sha256(path.read_bytes()).hexdigest()


@pytest.mark.parametrize(
    ("content", "message"),
    [(b"\x1f\x8b\x08 cut short", "unreadable"), (None, "holds no metadata")],
)
def test_a_damaged_file_is_an_error_naming_it(
    tmp_path: Path, content: bytes | None, message: str
) -> None:
    path = tmp_path / "p-1.0.tar.gz"
    if content is None:
        with tarfile.open(path, "w:gz"):
            pass
    else:
        path.write_bytes(content)
    with pytest.raises(DistributionError, match=rf"p-1\.0\.tar\.gz: {message}"):
        read_distribution(path)


@pytest.mark.parametrize(
    ("name", "problem"),
    [
        ("p-1.1.tar.gz", "{path}: unreadable"),
        # Put there by hand, or by an earlier version: no page could name it.
        (os.fsdecode(b"\xff\xfep-1.1.tar.gz"), "{path!r}: its name is not UTF-8"),
    ],
)
def test_a_damaged_stored_file_is_reported_once_and_left_out_of_the_index(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], name: str, problem: str
) -> None:
    outdir = tmp_path / "out"
    (outdir / "p").mkdir(parents=True)
    sdist(outdir / "p", "Metadata-Version: 2.2\n" + HEAD)
    (outdir / "p" / name).write_bytes(b"not a tar file")
    defaults = write_defaults(tmp_path, OUTDIR="out")
    assert sdists_from_tags(["-q", "--render-only", "-d", str(defaults)]) == 1
    line = "failed indexing: " + problem.format(path=f"{outdir}/p/{name}")
    assert line in capsys.readouterr().err
    page = (outdir / "p" / "index.html").read_text()
    assert "p-1.0.tar.gz" in page
    assert "p-1.1.tar.gz" not in page
    assert sdists_from_tags(["-q", "--render-only", "-d", str(defaults)]) == 0
    assert sdists_from_tags(["-q", "-d", str(defaults)]) == 0  # p not looked at: still known
    assert capsys.readouterr().err == ""
    state = outdir / ".sdistmaker" / "state.json"
    assert list(json.loads(state.read_text())["problems"]) == [f"(file) p/{name}"]
    (outdir / "p" / name).unlink()
    assert sdists_from_tags(["-q", "--render-only", "-d", str(defaults)]) == 0
    assert json.loads(state.read_text())["problems"] == {}


# Whatever a file holds: its metadata is one plain file, read within limits, or it is refused.


@pytest.mark.parametrize(
    ("members", "message"),
    [
        (
            [member("p-1.0/PKG-INFO", kind=tarfile.DIRTYPE)],
            "'p-1.0/PKG-INFO' is not a regular file",
        ),
        (
            [member("p-1.0/PKG-INFO", kind=tarfile.SYMTYPE)],
            "'p-1.0/PKG-INFO' is not a regular file",
        ),
        (
            [member("p-1.0/PKG-INFO", kind=tarfile.LNKTYPE)],
            "'p-1.0/PKG-INFO' is not a regular file",
        ),
        (
            [member("p-1.0/PKG-INFO", PKG_INFO.ljust(2048), size=100_000)],
            "unreadable: unexpected end of data",
        ),
        (
            [member("PKG-INFO", PKG_INFO), member("p-1.0/PKG-INFO", PKG_INFO)],
            "holds more than one entry at the top: ['PKG-INFO', 'p-1.0']",
        ),
        (
            [member("p-1.0/PKG-INFO", PKG_INFO), member("p-1.0/PKG-INFO", PKG_INFO)],
            "holds 'p-1.0/PKG-INFO' twice",
        ),
        (
            [member("./p-1.0/PKG-INFO", PKG_INFO)],
            "holds './p-1.0/PKG-INFO', a path that is not plain",
        ),
        (
            [member("/p-1.0/PKG-INFO", PKG_INFO)],
            "holds '/p-1.0/PKG-INFO', a path that is not plain",
        ),
        (
            [member("p-1.0/../PKG-INFO", PKG_INFO)],
            "holds 'p-1.0/../PKG-INFO', a path that is not plain",
        ),
        ([member("p-1.0/sub/PKG-INFO", PKG_INFO)], "holds no metadata"),
        (
            [member("p-1.0/PKG-INFO", PKG_INFO + b"Version: 2.0\n")],
            "PKG-INFO gives version more than once",
        ),
        (
            [member("p-1.0/PKG-INFO", PKG_INFO + b"Name: q\nSummary: a\nSummary: b\n")],
            "PKG-INFO gives name, summary more than once",
        ),
        (
            [member("p-1.0/PKG-INFO", PKG_INFO + b"Description: head\n\nbody\n")],
            "PKG-INFO gives description more than once",
        ),
        (
            [member("p-1.0/PKG-INFO", b"Metadata-Version: 2.2\nName: p\n")],
            "PKG-INFO lacks a name or version",
        ),
    ],
)
def test_an_sdists_metadata_is_the_one_plain_pkg_info_of_its_one_folder(
    tmp_path: Path, members: list[bytes], message: str
) -> None:
    assert refusal(tar_gz(tmp_path, *members)) == message


def test_fields_given_more_than_once_are_refused_only_when_given_once_by_the_standard(
    tmp_path: Path,
) -> None:
    pkg_info = PKG_INFO + b"Classifier: A\nClassifier: B\nX-Custom: 1\nX-Custom: 2\n"
    facts, _ = read_distribution(tar_gz(tmp_path, member("p-1.0/PKG-INFO", pkg_info)))
    assert facts.version == "1.0"


def test_metadata_larger_than_the_limit_is_refused_unread(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(distributions, "METADATA_LIMIT", 1000)
    fits = tar_gz(tmp_path, member("p-1.0/PKG-INFO", PKG_INFO.ljust(1000)))
    assert read_distribution(fits)[0].version == "1.0"
    # Its header claims a gigabyte, and it holds a few bytes: refused for the claim.
    claims = member("p-1.0/PKG-INFO", PKG_INFO, size=1 << 30)
    message = "'p-1.0/PKG-INFO' is larger than 1000 bytes"
    assert refusal(tar_gz(tmp_path, claims, name="p-1.1.tar.gz")) == message


def test_a_wheels_metadata_is_the_one_plain_metadata_of_its_one_dist_info(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    both = {"p-1.0.dist-info/METADATA": PKG_INFO, "q-1.0.dist-info/RECORD": b""}
    assert refusal(wheel(tmp_path, both)) == (
        "holds more than one folder .dist-info: ['p-1.0.dist-info', 'q-1.0.dist-info']"
    )
    path = tmp_path / "twice-1.0-py3-none-any.whl"
    with zipfile.ZipFile(path, "w") as archive, pytest.warns(UserWarning, match="Duplicate name"):
        archive.writestr("p-1.0.dist-info/METADATA", PKG_INFO)
        archive.writestr("p-1.0.dist-info/METADATA", PKG_INFO)
    assert refusal(path) == "holds 'p-1.0.dist-info/METADATA' twice"
    monkeypatch.setattr(distributions, "METADATA_LIMIT", 100)
    large = wheel(tmp_path, {"p-1.0.dist-info/METADATA": PKG_INFO.ljust(101)})
    assert refusal(large) == "'p-1.0.dist-info/METADATA' is larger than 100 bytes"


@pytest.mark.parametrize(
    ("filename", "name", "version"),
    [
        ("old.thing-1.0.tar.gz", "old-thing", "1.0"),  # setuptools before PEP 625
        ("Acme.Utils-1.0.tar.gz", "acme-utils", "1.0"),
        ("acme_utils-1.0.tar.gz", "acme-utils", "1.0"),
        ("acme-utils-1.0-1.tar.gz", "acme-utils", "1.0.post1"),
        ("p-1!2.0+local.1.tar.gz", "p", "1!2.0+local.1"),
        ("acme_utils-1.0-py2.py3-none-any.whl", "acme-utils", "1.0"),
    ],
)
def test_a_file_named_for_its_release_passes(filename: str, name: str, version: str) -> None:
    check_file_name(filename)
    check_release_name(filename, name, version)


@pytest.mark.parametrize(
    ("filename", "message"),
    [
        ("q-1.0.tar.gz", "its name does not say p 1.0, as its metadata does"),
        ("p-1.1.tar.gz", "its name does not say p 1.0, as its metadata does"),
        ("p-1.1-py3-none-any.whl", "its name does not say p 1.0, as its metadata does"),
        ("p-1.0.whl", "no wheel file name (PEP 427)"),
    ],
)
def test_a_file_named_for_another_release_is_refused(filename: str, message: str) -> None:
    with pytest.raises(ArchiveError) as error:
        check_release_name(filename, "p", "1.0")
    assert str(error.value) == message

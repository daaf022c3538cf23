import hashlib
import json
import tarfile
import zipfile
from pathlib import Path

import pytest

from conftest import sdist, write_defaults
from sdistmaker.cli import sdists_from_tags
from sdistmaker.distributions import DistributionError, read_distribution

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


def test_a_damaged_stored_file_is_reported_once_and_left_out_of_the_index(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    outdir = tmp_path / "out"
    (outdir / "p").mkdir(parents=True)
    sdist(outdir / "p", "Metadata-Version: 2.2\n" + HEAD)
    (outdir / "p" / "p-1.1.tar.gz").write_bytes(b"not a tar file")
    defaults = write_defaults(tmp_path, OUTDIR="out")
    assert sdists_from_tags(["-q", "--render-only", "-d", str(defaults)]) == 1
    assert f"failed indexing: {outdir}/p/p-1.1.tar.gz: unreadable" in capsys.readouterr().err
    page = (outdir / "p" / "index.html").read_text()
    assert "p-1.0.tar.gz" in page
    assert "p-1.1.tar.gz" not in page
    assert sdists_from_tags(["-q", "--render-only", "-d", str(defaults)]) == 0
    assert sdists_from_tags(["-q", "-d", str(defaults)]) == 0  # p not looked at: still known
    assert capsys.readouterr().err == ""
    state = outdir / ".sdistmaker" / "state.json"
    assert list(json.loads(state.read_text())["problems"]) == ["(file) p/p-1.1.tar.gz"]
    (outdir / "p" / "p-1.1.tar.gz").unlink()
    assert sdists_from_tags(["-q", "--render-only", "-d", str(defaults)]) == 0
    assert json.loads(state.read_text())["problems"] == {}
